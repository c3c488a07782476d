"""Test configuration: float64 is measured too, so the tests (only they) enable x64."""

import os

import hypothesis
import jax

jax.config.update("jax_enable_x64", True)

hypothesis.settings.register_profile(
  "jaxact", deadline=None, max_examples=int(os.environ.get("JAXACT_HYPOTHESIS_EXAMPLES", "60"))
)
hypothesis.settings.load_profile("jaxact")


def pytest_report_header(config):
  return f"jax {jax.__version__}, backend {jax.default_backend()}: {jax.devices()}"
