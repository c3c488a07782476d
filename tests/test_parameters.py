"""Derivatives in the hyperparameters, against mpmath.diff of the definitions."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact

# name, parameter, its value, the definition f(x, p) in mpmath, inputs
CASES = [
  ("softcap", "cap", 2.5, lambda x, c: c * mp.tanh(x / c), [-40.0, -3.0, -1e-3, 0.7, 6.0]),
  ("snake", "frequency", 0.3, lambda x, a: x + mp.sin(a * x) ** 2 / a, [-20.0, -2.6, 1e-3, 1.7, 300.0]),
  ("star_relu", "scale", 0.8944, lambda x, s: s * max(x, 0) ** 2 - mp.mpf("0.4472"), [-1.0, 0.3, 2.0]),
  ("star_relu", "bias", -0.4472, lambda x, b: mp.mpf("0.8944") * max(x, 0) ** 2 + b, [-1.0, 0.3, 2.0]),
  ("silu", "beta", 1.702, lambda x, b: x / (1 + mp.exp(-b * x)), [-30.0, -1.0, 0.5, 4.0]),
  ("threshold", "value", 20.0, lambda x, v: x if x > 0.5 else v, [-1.0, 0.4, 2.0]),
]


def _xielu(x, alpha_p=0.8, alpha_n=0.8, beta=0.5, eps=-1e-6):
  alpha_p, alpha_n, beta, eps = (mp.mpf(v) for v in (alpha_p, alpha_n, beta, eps))
  return alpha_p * x * x + beta * x if x > 0 else alpha_n * (mp.expm1(min(x, eps)) - x) + beta * x


_XIELU_XS = [-40.0, -2.43, -0.98, -0.3, -5e-7, 0.7, 3.0]
CASES += [
  ("xielu", p, v, lambda x, q, p=p: _xielu(x, **{p: q}), _XIELU_XS)
  for p, v in (("alpha_p", 0.8), ("alpha_n", 0.8), ("beta", 0.5), ("eps", -1e-6))
]


@pytest.mark.parametrize(
  ("name", "param", "value", "ref", "xs"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_parameter_derivative(name, param, value, ref, xs):
  fn = jaxact.get(name)
  others = {"threshold": {"threshold": 0.5, "value": 20.0}}.get(name, {})
  for x in xs:
    g = jax.grad(lambda p, x=x: fn(jnp.float64(x), **{**others, param: p}))(jnp.float64(value))
    with mp.workdps(40):
      exact = mp.diff(lambda p, x=x: ref(mp.mpf(x), p), mp.mpf(value))
    assert np.isfinite(g)
    assert abs(float(g) - float(exact)) <= 1e-13 * max(abs(float(exact)), 1e-300), (name, x, float(g), exact)


def test_snake_at_zero_frequency_is_the_limit():
  x = jnp.array([-2.0, 0.5, 3.0])
  np.testing.assert_array_equal(jaxact.snake(x, frequency=0.0), x)
  np.testing.assert_array_equal(
    jax.vmap(jax.grad(lambda x: jaxact.snake(x, frequency=0.0)))(x), [1.0, 1.0, 1.0]
  )
  da = jax.vmap(jax.grad(lambda a, x: jaxact.snake(x, frequency=a)), (None, 0))(0.0, x)
  np.testing.assert_allclose(da, x**2, rtol=1e-15)  # d/da sin^2(ax) / a -> x^2


def test_snake_per_channel_frequency():
  x = jnp.ones((4, 3))
  a = jnp.array([0.5, 1.0, 2.0])
  y = jaxact.snake(x, frequency=a)
  np.testing.assert_allclose(
    y[0], 1 + np.sin(np.array([0.5, 1.0, 2.0])) ** 2 / np.array([0.5, 1, 2]), rtol=1e-14
  )
  g = jax.grad(lambda a: jnp.sum(jaxact.snake(x, frequency=a)))(a)
  assert g.shape == (3,) and np.all(np.isfinite(g))


@pytest.mark.parametrize("param", ["alpha_p", "alpha_n", "beta", "eps"])
def test_xielu_mixed_derivatives(param):
  # d/dp of f'(x), against mpmath.diff in x and p of the definition.
  value = {"alpha_p": 0.8, "alpha_n": 0.8, "beta": 0.5, "eps": -1e-6}[param]
  for x in _XIELU_XS:
    dxdp = jax.grad(jax.grad(lambda x, p: jaxact.xielu(x, **{param: p})), argnums=1)
    g = dxdp(jnp.float64(x), jnp.float64(value))
    with mp.workdps(40):
      exact = mp.diff(lambda x_, p_: _xielu(x_, **{param: p_}), (mp.mpf(x), mp.mpf(value)), (1, 1))
    assert np.isfinite(g)
    assert abs(float(g) - float(exact)) <= 1e-12 * max(abs(float(exact)), 1e-300), (param, x, float(g), exact)


def _float_params(name):
  info = jaxact.info(name)
  required = {
    "prelu": {"alpha": 0.25},
    "threshold": {"threshold": 0.5, "value": -2.0},
    "softcap": {"cap": 3.0},
  }
  out = {p: float(d) for p, d in info.params.items() if isinstance(d, float)}
  return {**out, **required.get(name, {})}


_WITH_PARAMS = [
  (n, p)
  for n in jaxact.names(kind="elementwise", builtin=True)
  if n != "rrelu"  # lower and upper choose a slope; no derivative in them
  for p in _float_params(n)
]


@pytest.mark.parametrize(("name", "param"), _WITH_PARAMS, ids=[f"{n}-{p}" for n, p in _WITH_PARAMS])
def test_parameter_partials_of_nan_are_nan(name, param):
  # NaN in gives NaN out in the partial in each parameter and in its x-derivative. (A
  # partial that does not depend on the parameter at all, as d/dbias of star_relu',
  # is a structural zero in JAX, 0 whatever x is; not asserted.)
  fn = jaxact.get(name)
  params = _float_params(name)

  def f(x, q):
    return fn(x, **{**params, param: q})

  x, q = jnp.float64(np.nan), jnp.float64(params[param])
  partials = {
    "dp": jax.grad(f, 1),
    "dx dp": jax.grad(jax.grad(f, 1), 0),
  }
  for what, g in partials.items():
    assert np.isnan(float(g(x, q))), (name, param, what)
