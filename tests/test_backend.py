"""On an accelerator, the same results as on the CPU."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
import jaxact.testing as jt

ACCELERATOR = jax.default_backend() != "cpu"


@pytest.mark.skipif(not ACCELERATOR, reason="no accelerator: jax's default backend is the CPU")
@pytest.mark.parametrize("name", [n for n in jaxact.names() if jaxact.info(n).kind != "stochastic"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_accelerator_matches_cpu(name, dtype):
  # Both are within the bounds of the exact value; here they must also agree with
  # each other to within twice the bound (the two backends round independently).
  # Normalizers are compared normwise, as the battery measures them: an entry of
  # softmax 1e-20 below the largest carries the rounding of x - max(x) (~|x| ULP
  # of its own size) on every backend.
  fn = jaxact.get(name)
  params = jt.required_params(name)
  np_dtype = jt._ulp.DTYPES[dtype]
  # An even length: a gated unit splits its last axis in two halves.
  x = np.linspace(-30.0, 30.0, 600).astype(np_dtype)
  normwise = jaxact.info(name).kind == "normalizer"
  if normwise:
    x = x.reshape(-1, 600)
  f = lambda x: fn(x, **params)
  out_shape = jax.eval_shape(f, jnp.asarray(x)).shape
  w = np.random.default_rng(0).standard_normal(out_shape).astype(np_dtype)
  g = lambda x: jax.grad(lambda x: jnp.sum(jnp.asarray(w, x.dtype) * f(x)))(x)
  cpu = jax.devices("cpu")[0]
  for h in (f, g):
    on_acc = np.asarray(jax.jit(h)(jnp.asarray(x)), np.float64)
    with jax.default_device(cpu):
      on_cpu = np.asarray(jax.jit(h)(jnp.asarray(x)), np.float64)
    np.testing.assert_array_equal(np.isnan(on_acc), np.isnan(on_cpu))
    finite = np.isfinite(on_cpu)
    # Subnormal results are left out, as in the battery: the CPU backend flushes
    # them to 0, a GPU keeps some (gelu(-13.5) in float32 is 1e-39).
    tiny = float(jt._ulp.finfo(np_dtype).tiny)
    finite &= (np.abs(on_cpu) >= tiny) | (on_cpu == 0)
    finite &= (np.abs(on_acc) >= tiny) | (on_acc == 0)
    bound = 2 * max(jaxact.info(name).bounds[dtype][:2])
    if normwise:
      scale = np.max(np.abs(on_cpu[finite]))
      err = np.abs(on_acc - on_cpu)[finite] / jt.ulp(np.array([scale]), np_dtype)
    else:
      err = jt.ulp_error(on_acc, on_cpu, np.zeros_like(on_cpu), np_dtype)[finite]
    assert np.all(err <= bound), (name, float(err.max()))
