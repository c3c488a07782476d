"""Test configuration: float64 is measured too, so the tests (only they) enable x64."""

import os

import hypothesis
import jax

jax.config.update("jax_enable_x64", True)
# Eight host devices, so that test_transforms.py's test_sharded_input splits its array
# over devices in this process too (the 8-device runs of every function, in
# test_sharding.py and test_collectives.py, are subprocesses of their own).
jax.config.update("jax_num_cpu_devices", 8)

hypothesis.settings.register_profile(
  "jaxact", deadline=None, max_examples=int(os.environ.get("JAXACT_HYPOTHESIS_EXAMPLES", "60"))
)
hypothesis.settings.load_profile("jaxact")


def pytest_report_header(config):
  return f"jax {jax.__version__}, backend {jax.default_backend()}: {jax.devices()}"


# The longest tests first, so that the two xdist workers finish together: the sharded
# run (one process over every function, about a minute), check_grads at order 4 (up to
# a minute each), the notebooks (tens of seconds each), the documentation build, then
# the battery.
_FIRST = (
  "tests/test_sharding.py",
  "tests/test_tower.py::test_check_grads",
  "tests/test_notebooks.py",
  "tests/test_docs.py",
  "tests/test_battery.py",
)


def pytest_collection_modifyitems(config, items):
  def rank(item):
    return next((i for i, p in enumerate(_FIRST) if item.nodeid.startswith(p)), len(_FIRST))

  items.sort(key=rank)  # stable: the order within each group is kept
