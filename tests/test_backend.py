"""On an accelerator, the same results as on the CPU."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
import jaxact.testing as jt

ACCELERATOR = jax.default_backend() != "cpu"


@pytest.mark.skipif(not ACCELERATOR, reason="no accelerator: jax's default backend is the CPU")
@pytest.mark.parametrize("name", jaxact.names())
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_accelerator_matches_cpu(name, dtype):
  # Both are within the bounds of the exact value; here they must also agree with
  # each other to within twice the bound (the two backends round independently).
  fn = jaxact.get(name)
  params = {"alpha": 0.25} if name == "prelu" else {}
  x = np.linspace(-30.0, 30.0, 601).astype(jt._ulp.DTYPES[dtype])
  if jaxact.info(name).kind == "normalizer":
    x = x.reshape(-1, 601)
  f = lambda x: fn(x, **params)
  g = lambda x: jax.grad(lambda x: jnp.sum(f(x)))(x)
  cpu = jax.devices("cpu")[0]
  for h in (f, g):
    on_acc = np.asarray(jax.jit(h)(jnp.asarray(x)), np.float64)
    with jax.default_device(cpu):
      on_cpu = np.asarray(jax.jit(h)(jnp.asarray(x)), np.float64)
    bound = 2 * max(jaxact.info(name).bounds[dtype][:2])
    err = jt.ulp_error(on_acc, on_cpu, np.zeros_like(on_cpu), jt._ulp.DTYPES[dtype])
    finite = np.isfinite(on_cpu)
    assert np.all(err[finite] <= bound), (name, float(err[finite].max()))
    np.testing.assert_array_equal(np.isnan(on_acc), np.isnan(on_cpu))
