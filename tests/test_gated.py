"""What is special about the gated units: the split, the axis, the parameters passed on."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
import jaxact.testing as jt

GATED = jaxact.names(kind="gated")
DTYPES = [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64]


@pytest.mark.parametrize("name", GATED)
@pytest.mark.parametrize("dtype", DTYPES)
def test_shape_dtype_and_split_order(name, dtype):
  fn = jaxact.get(name)
  x = jnp.asarray(np.linspace(-3.0, 3.0, 24).reshape(2, 3, 4), dtype)
  for axis, shape in ((-1, (2, 3, 2)), (0, (1, 3, 4)), (2, (2, 3, 2))):
    y = fn(x, axis=axis)
    assert y.shape == shape and y.dtype == dtype
  # First half linear, second half through the activation (jax.nn.glu's order).
  ref = jt.ELEMENTWISE[jaxact.info(fn.activation).name]
  params = {k: mp.mpf(v) for k, v in jt._battery._default_params(fn.activation).items()}
  x64 = np.asarray(x, np.float64)
  a, b = x64[..., :2], x64[..., 2:]
  with mp.workdps(30):
    want = np.vectorize(lambda a, b: float(mp.mpf(a) * ref.f(mp.mpf(b), **params)))(a, b)
  np.testing.assert_allclose(
    np.asarray(fn(x), np.float64), want, rtol=4 * float(jnp.finfo(dtype).eps), atol=0
  )


@pytest.mark.parametrize("name", GATED)
def test_odd_axis_and_bad_input(name):
  fn = jaxact.get(name)
  with pytest.raises(ValueError, match=rf"^jaxact\.{name}: the size of axis -1 must be even"):
    fn(jnp.ones((2, 3)))
  with pytest.raises(ValueError, match=rf"^jaxact\.{name}: "):
    fn(jnp.ones((2, 4)), axis=2)
  with pytest.raises(TypeError, match=rf"^jaxact\.{name}: "):
    fn("1.0")
  with pytest.raises(TypeError, match=rf"^jaxact\.{name}: axis must be an int"):
    fn(jnp.ones(4), axis=1.5)
  with pytest.raises(TypeError, match=rf"^jaxact\.{name}: unexpected keyword"):
    fn(jnp.ones(4), nonsense=1.0)


@pytest.mark.parametrize("name", GATED)
def test_composes(name):
  fn = jaxact.get(name)
  x = jnp.asarray(np.random.default_rng(0).standard_normal((3, 8)))
  eager = fn(x)
  np.testing.assert_array_equal(jax.jit(fn)(x), eager)
  np.testing.assert_array_equal(jax.vmap(fn)(x), eager)
  np.testing.assert_array_equal(jax.checkpoint(fn)(x), eager)
  loss = lambda x: jnp.sum(fn(x) ** 2)
  np.testing.assert_allclose(jax.jacfwd(loss)(x), jax.jacrev(loss)(x), rtol=1e-13, atol=1e-300)
  h = jax.hessian(lambda r: jnp.sum(fn(r)))(x[0])
  assert h.shape == (8, 8) and np.all(np.isfinite(h))
  np.testing.assert_allclose(h, h.T, rtol=1e-13, atol=1e-300)


def test_parameters_are_passed_on():
  x = jnp.array([1.5, -0.5, 2.0, 1.25])
  a, b = x[:2], x[2:]
  np.testing.assert_array_equal(jaxact.swiglu(x, beta=1.702), a * jaxact.silu(b, beta=1.702))
  np.testing.assert_array_equal(jaxact.geglu(x, approximate=False), a * jaxact.gelu_erf(b))
  np.testing.assert_array_equal(jaxact.geglu(x), a * jaxact.gelu_tanh(b))
  g = jax.grad(lambda beta: jnp.sum(jaxact.swiglu(x, beta=beta)))(1.0)
  assert np.isfinite(g) and g != 0


def test_gated_of_a_user_activation():
  square = jaxact.activation(derivative=lambda x: 2.0 * x, register=False)(lambda x: x * x)
  fn = jaxact.gated(square)
  np.testing.assert_array_equal(fn(jnp.array([3.0, 2.0])), [12.0])
  assert jaxact.gated("silu")(jnp.array([2.0, 1.0])) == jaxact.swiglu(jnp.array([2.0, 1.0]))
  with pytest.raises(ValueError, match="unknown activation"):
    jaxact.gated("nonsense")


def test_second_derivative_in_the_tail():
  # jax.nn.glu's d^2/db^2 = a sigmoid''(b) underflows to 0 from b ~ 17 (float32).
  d2 = jax.grad(jax.grad(lambda b: jaxact.glu(jnp.stack([jnp.float32(2.0), b]))[0]))(jnp.float32(20.0))
  exact = float(2 * mp.diff(lambda t: 1 / (1 + mp.exp(-t)), 20, 2))
  assert abs(float(d2) - exact) <= 4 * abs(exact) * 2.0**-23


def test_half_precision_keeps_the_input_bytes():
  # The backward pass keeps the two halves in the input's dtype (not float32 copies).
  for dtype in (jnp.float32, jnp.bfloat16):
    x = jnp.ones((8, 16), dtype)
    _, vjp = jax.vjp(jaxact.swiglu, x)
    residuals = [(r.shape, r.dtype) for r in jax.tree_util.tree_leaves(vjp) if r.size > 1]
    assert residuals == [((8, 8), np.dtype(dtype))] * 2, residuals


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_glu_where_the_gate_alone_is_subnormal(dtype):
  # sigmoid(b) is subnormal (flushed to 0 on XLA's CPU backend) and a sigmoid(b) is
  # not: the value, d/da, d/db, d^2/db^2 and d^3/db^3 are products a sigma^(k)(b).
  # a = 1e30 at b = -1 checks that no scaled intermediate overflows; a near the largest
  # number, that sigma(b) is formed down to where the product leaves the normal range.
  if dtype == jnp.float32:
    cases = [(1.2e11, -95.588), (-3e25, -98.6), (1e30, -1.0), (2.0, -95.588)]
    cases += [(1.8e19, -130.0), (-3e38, -175.0), (3e38, -131.5)]
  else:
    cases = [(1.2e11, -720.5), (-3e25, -723.5), (1e300, -1.0), (2.0, -720.5)]
    cases += [(1e154, -1020.0), (-1e300, -1200.0), (1.7e308, -1410.0)]

  def glu(a, b):
    return jaxact.glu(jnp.stack([a, b]))[0]

  d_b = jax.grad(glu, argnums=1)
  quantities = [  # jitted: compiled once, then evaluated at every case
    (jax.jit(glu), 0),
    (jax.jit(d_b), 1),
    (jax.jit(jax.grad(d_b, argnums=1)), 2),
    (jax.jit(jax.grad(jax.grad(d_b, argnums=1), argnums=1)), 3),
    (jax.jit(jax.jacfwd(jax.jacrev(d_b, argnums=1), argnums=1)), 3),
  ]
  eps = float(jnp.finfo(dtype).eps)
  tiny = float(jnp.finfo(dtype).tiny)
  for a, b in cases:
    a_, b_ = jnp.asarray(a, dtype), jnp.asarray(b, dtype)
    for f, k in quantities:
      got = float(f(a_, b_))
      with mp.workdps(60):
        exact = mp.mpf(float(a_)) * mp.diff(lambda t: 1 / (1 + mp.exp(-t)), mp.mpf(float(b_)), k)
      if abs(exact) < tiny:
        continue
      assert np.isfinite(got), (a, b, k, got)
      assert abs(got - float(exact)) <= 16 * eps * abs(float(exact)), (a, b, k, got, float(exact))
  # And in a: d/da = sigma(b), d^2/da db = sigma'(b), normal where the products above are.
  da = jax.grad(glu, argnums=0)(jnp.asarray(1e30, dtype), jnp.asarray(-1.0, dtype))
  assert abs(float(da) - 1 / (1 + np.exp(1.0))) <= 4 * eps
