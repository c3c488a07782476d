"""One test per measured defect of jax.nn that jaxact must not have (issue reproducers).

Exact values come from mpmath at 50 digits, computed in the test.
"""

import functools

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
import jaxact.testing as jt

mp.mp.dps = 50


def _rel(computed, exact):
  computed = float(computed)
  exact = float(exact)
  return abs(computed - exact) / abs(exact)


def _sig(x):
  return 1 / (1 + mp.exp(-x))


def test_sigmoid_grad_in_the_tail():
  # jax.nn: 0 from x = 16.6 in float32.
  for x in (16.6, 20.0, 50.0, 87.0):
    xm = mp.mpf(float(np.float32(x)))  # the float32 input, exactly
    exact = _sig(xm) * _sig(-xm)
    g = jax.grad(jaxact.sigmoid)(jnp.float32(x))
    assert g.dtype == jnp.float32
    assert _rel(g, exact) < 4e-7, x
  assert _rel(jax.grad(jaxact.sigmoid)(jnp.float32(20.0)), mp.mpf("2.0611536181902e-9")) < 1e-6


def test_tanh_grad_in_the_tail():
  # jax.grad(jnp.tanh)(8.5) = 0 in float32.
  g = jax.grad(jaxact.tanh)(jnp.float32(8.5))
  assert _rel(g, mp.sech(8.5) ** 2) < 4e-7
  assert abs(float(g) - 1.656e-7) < 1e-10
  # Where exp(-2x) is subnormal but sech^2 x is not (x in (43.7, 44.4) in float32).
  for x in (43.9, 44.0, 44.3):
    xm = mp.mpf(float(np.float32(x)))
    g = jax.grad(jaxact.tanh)(jnp.float32(x))
    assert _rel(g, mp.sech(xm) ** 2) < 4e-7, x


def test_tanh_where_xla_is_least_accurate():
  # jnp.tanh(5.8254166) is 4.32 ULP off in float32 (its worst point in a sweep).
  x = np.float32(5.8254166)
  exact = float(mp.tanh(mp.mpf(float(x))))
  y = float(jaxact.tanh(jnp.float32(x)))
  assert abs(y - exact) <= 1.0 * float(np.spacing(np.float32(exact)))


def test_elu_grad_in_the_tail():
  g = jax.grad(jaxact.elu)(jnp.float32(-20.0))
  assert _rel(g, mp.exp(-20)) < 4e-7


def test_sigmoid_second_derivative_near_zero():
  # sigma''(x) = -sigma'(x) tanh(x/2) ~ -x/8: jax.nn gives 0 at 1e-9.
  x = mp.mpf(float(np.float32(1e-9)))
  exact = -_sig(x) * _sig(-x) * mp.tanh(x / 2)
  g2 = jax.grad(jax.grad(jaxact.sigmoid))(jnp.float32(1e-9))
  assert _rel(g2, exact) < 1e-6
  assert abs(float(g2) + 1.25e-10) < 1e-15


@pytest.mark.parametrize("fn", [jaxact.logsumexp, lambda x: jaxact.log_softmax(x)[0]])
def test_small_terms_are_not_rounded_away(fn):
  x = jnp.array([0.0, -20.0], jnp.float32)
  exact = mp.log1p(mp.exp(-20))
  out = fn(x)
  assert _rel(abs(out), exact) < 4e-7


def test_logsumexp_grad_of_an_all_minus_inf_row_is_zero():
  # JAX issue 6811: NaN.
  x = jnp.full((4,), -jnp.inf, jnp.float32)
  assert jaxact.logsumexp(x) == -jnp.inf
  g = jax.grad(jaxact.logsumexp)(x)
  np.testing.assert_array_equal(g, np.zeros(4, np.float32))
  h = jax.hessian(jaxact.logsumexp)(x)
  np.testing.assert_array_equal(h, np.zeros((4, 4), np.float32))


def test_float16_log_softmax_over_65536_entries():
  # JAX issue 40409: NaN gradients (the float16 sum overflows).
  x = jnp.asarray(np.random.default_rng(0).standard_normal(65536), jnp.float16)
  y, vjp = jax.vjp(jaxact.log_softmax, x)
  (g,) = vjp(jnp.ones_like(y))
  assert y.dtype == g.dtype == jnp.float16
  assert np.all(np.isfinite(np.asarray(y, np.float32)))
  assert np.all(np.isfinite(np.asarray(g, np.float32)))
  # Exact: g_i = 1 - n softmax_i, with softmax_i ~ exp(x_i)/sum.
  xs = np.asarray(x, np.float64)
  s = np.exp(xs - xs.max())
  s /= s.sum()
  np.testing.assert_allclose(np.asarray(g, np.float64), 1 - xs.size * s, atol=2e-3, rtol=2e-3)


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e4, -1e4, np.nan])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_masked_entries_get_exactly_zero_gradient(name, value):
  # JAX issue 19490.
  fn = jaxact.get(name)
  x = jnp.array([0.5, value, -1.0, 2.0], jnp.float32)
  where = jnp.array([True, False, True, True])
  w = jnp.array([0.3, -1.2, 0.7, 1.1], jnp.float32)
  loss = lambda x: jnp.sum(w * fn(x, where=where)) if name != "logsumexp" else fn(x, where=where)
  g = jax.grad(loss)(x)
  assert g[1] == 0.0
  assert np.all(np.isfinite(g)), g
  # The unmasked entries see exactly the row without the masked entry.
  ref = jax.grad(lambda x: loss(x.at[1].set(0.0)))(x.at[1].set(0.0))
  # (with entry 1 masked its value does not matter)
  np.testing.assert_array_equal(g, ref)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float16, jnp.bfloat16, jnp.float64])
def test_fully_masked_row(dtype):
  x = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype)
  where = jnp.array([[True, True, False], [False, False, False]])
  s = jaxact.softmax(x, where=where)
  ls = jaxact.log_softmax(x, where=where)
  lse = jaxact.logsumexp(x, axis=-1, where=where)
  np.testing.assert_array_equal(s[1], np.zeros(3))
  assert s.dtype == ls.dtype == lse.dtype == dtype
  assert np.all(np.asarray(ls[1], np.float64) == -np.inf)
  assert float(lse[1]) == -np.inf
  assert float(s[0, 2]) == 0.0 and float(ls[0, 2]) == -np.inf
  for fn in (
    lambda x: jnp.sum(jaxact.softmax(x, where=where)[1] * 3.0),
    lambda x: jnp.sum(jnp.where(where, jaxact.log_softmax(x, where=where), 0.0)),
    lambda x: jnp.sum(jnp.where(jnp.isfinite(lse), jaxact.logsumexp(x, axis=-1, where=where), 0.0)),
  ):
    g = np.asarray(jax.grad(fn)(x), np.float64)
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[1], np.zeros(3))


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "sigmoid", "tanh"])
def test_nan_in_nan_out(name):
  fn = jaxact.get(name)
  x = jnp.float32(np.nan)
  assert np.isnan(fn(x))
  assert np.isnan(jax.grad(fn)(x))  # jax.nn.relu: 0
  assert np.isnan(jax.grad(jax.grad(fn))(x))


def test_prelu_nan_and_alpha_gradient():
  g = jax.grad(jaxact.prelu, argnums=(0, 1))(jnp.float32(np.nan), jnp.float32(0.25))
  assert np.isnan(g[0])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_nan_makes_the_row_nan(name):
  x = jnp.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]], jnp.float32)
  y = jaxact.get(name)(x)
  assert np.all(np.isnan(y[0])) and np.all(np.isfinite(y[1]))


@pytest.mark.parametrize(
  ("name", "x", "value", "d1"),
  [
    ("sigmoid", -np.inf, 0.0, 0.0),
    ("sigmoid", np.inf, 1.0, 0.0),
    ("tanh", -np.inf, -1.0, 0.0),
    ("tanh", np.inf, 1.0, 0.0),
    ("elu", -np.inf, -1.0, 0.0),
    ("elu", np.inf, np.inf, 1.0),
    ("relu", np.inf, np.inf, 1.0),
    ("relu", -np.inf, 0.0, 0.0),
    ("leaky_relu", -np.inf, -np.inf, 0.01),
  ],
)
def test_limits_at_infinity(name, x, value, d1):
  fn = jaxact.get(name)
  for dtype in (jnp.float32, jnp.float64, jnp.float16, jnp.bfloat16):
    xv = jnp.asarray(x, dtype)
    assert float(fn(xv)) == value
    assert float(jax.grad(fn)(xv)) == pytest.approx(d1, rel=1e-2)
    assert float(jax.grad(jax.grad(fn))(xv)) == 0.0


def test_plus_inf_entries():
  # logsumexp has a limit (+inf); softmax of a row with +inf entries has none
  # (with two, the limit depends on how they grow): NaN, as jax.nn.
  x = jnp.array([[np.inf, 0.0, np.inf], [np.inf, 1.0, 2.0], [0.0, 1.0, 2.0]], jnp.float32)
  np.testing.assert_array_equal(jaxact.logsumexp(x, axis=-1)[:2], [np.inf, np.inf])
  assert np.all(np.isnan(jaxact.softmax(x)[:2])) and np.all(np.isfinite(jaxact.softmax(x)[2]))
  assert np.all(np.isnan(jaxact.log_softmax(x)[:2]))


# The catalogue's reproducers (jax.nn's defects measured in float32 unless noted).


def test_squareplus_tails():
  x = mp.mpf(float(np.float32(-1e20)))
  exact = 4 / (2 * (mp.sqrt(x * x + 4) - x))
  assert _rel(jaxact.squareplus(jnp.float32(-1e20)), exact) < 4e-7  # jax.nn: inf
  x = mp.mpf(-4000)
  assert _rel(jaxact.squareplus(jnp.float32(-4000.0)), 4 / (2 * (mp.sqrt(x * x + 4) - x))) < 4e-7
  y = jaxact.squareplus(jnp.float16(257.0))  # jax.nn: inf
  assert y.dtype == jnp.float16 and float(y) == float(np.float16(257.0 + 4 / (2 * 257.0)))


@pytest.mark.parametrize("b", [4.0, 1e-20, 3e38])
def test_squareplus_over_the_whole_range_of_x_and_b(b):
  # max(x, 0) + b / (2 (h + |x|)) and its one-division derivative, where x^2 + b
  # overflows (|x| or b large) and where the result is the tail b / (4 |x|).
  xs = [-3e38, -1e30, -1e20, -4000.0, -1.0, -1e-20, 0.0, 1e-20, 1.0, 4000.0, 1e20, 1e30, 3e38]
  f, d1 = jax.vmap(jaxact.squareplus, (0, None)), jax.vmap(jax.grad(jaxact.squareplus), (0, None))
  x32 = jnp.asarray(xs, jnp.float32)
  y, g = np.asarray(f(x32, jnp.float32(b)), np.float64), np.asarray(d1(x32, jnp.float32(b)), np.float64)
  tiny = float(np.finfo(np.float32).tiny)
  with mp.workdps(60):
    bb = mp.mpf(float(np.float32(b)))
    for i, xv in enumerate(np.asarray(x32, np.float64)):
      x = mp.mpf(xv)
      h = mp.sqrt(x * x + bb)
      exact_y = bb / (2 * (h + abs(x))) + max(x, 0)
      exact_g = 1 - bb / (2 * h * (h + abs(x))) if x >= 0 else bb / (2 * h * (h + abs(x)))
      assert np.isfinite(y[i]) and np.isfinite(g[i]), (b, xv)
      if exact_y > tiny:
        assert _rel(y[i], exact_y) < 4 * 2.0**-23, (b, xv, y[i])
      if exact_g > tiny:
        assert _rel(g[i], exact_g) < 8 * 2.0**-23, (b, xv, g[i])


def test_sparse_plus_grad_in_float16():
  g = jax.grad(jaxact.sparse_plus)(jnp.float16(40000.0))  # jax.nn: NaN
  assert g.dtype == jnp.float16 and float(g) == 1.0


def test_sparse_sigmoid_grad_from_the_input():
  assert float(jax.grad(jaxact.sparse_sigmoid)(jnp.bfloat16(1.0078125))) == 0.0  # jax.nn: 0.25


def test_log1mexp_second_derivative_tail():
  d2 = jax.grad(jax.grad(jaxact.log1mexp))
  exact = -1 / (mp.expm1(50) * (-mp.expm1(-50)))
  assert _rel(d2(jnp.float32(50.0)), exact) < 1e-6  # jax.nn: -0
  assert np.isfinite(d2(jnp.float32(100.0)))  # jax.nn: NaN


def test_soft_sign_limits_and_tail():
  assert float(jaxact.soft_sign(jnp.float32(np.inf))) == 1.0  # jax.nn: NaN
  assert float(jaxact.soft_sign(jnp.float32(-np.inf))) == -1.0
  g = jax.grad(jaxact.soft_sign)(jnp.float32(1e8))  # jax.nn: 0
  assert _rel(g, 1 / (1 + mp.mpf(1e8)) ** 2) < 4e-7


def test_hard_silu_grad_near_its_zero():
  x = -1.5 + 2.0**-20
  g = jax.grad(jaxact.hard_silu)(jnp.float32(x))  # jax.nn: 3 % off
  assert float(g) == float(np.float32((2 * x + 3) / 6))  # exact, then rounded once
  assert float(jaxact.hard_silu(jnp.float32(-np.inf))) == 0.0  # jax.nn: NaN


def test_softplus_second_derivative_tail():
  d2 = jax.grad(jax.grad(jaxact.softplus))(jnp.float32(20.0))  # jax.nn: 0
  assert _rel(d2, _sig(20) * _sig(-20)) < 1e-6


def test_softplus_beta_is_differentiable():
  x = np.array([-3.0, -0.5, 0.25, 2.0, 30.0])
  g = jax.grad(lambda b: jnp.sum(jaxact.softplus(jnp.asarray(x), beta=b)))(1.7)
  exact = sum(mp.diff(lambda b, v=v: mp.log1p(mp.exp(b * v)) / b, mp.mpf("1.7")) for v in x)
  assert _rel(g, exact) < 1e-14
  np.testing.assert_allclose(jaxact.softplus(jnp.asarray(x), beta=1.0), np.logaddexp(x, 0.0), rtol=1e-15)


def test_silu_limits_and_subnormal_intermediates():
  assert float(jaxact.silu(jnp.float32(-np.inf))) == 0.0  # jax.nn: NaN
  assert float(jax.grad(jaxact.silu)(jnp.float32(np.inf))) == 1.0  # jax.nn: NaN
  x = mp.mpf(-89)
  assert _rel(jaxact.silu(jnp.float32(-89.0)), x * _sig(x)) < 4e-7  # jax.nn: -0
  y = jaxact.silu(jnp.float16(-12.0))  # jax.nn: -0
  assert y.dtype == jnp.float16 and float(y) == float(np.float16(float(-12 * _sig(-12))))
  assert jaxact.swish is jaxact.silu and jaxact.get("swish") is jaxact.silu


def test_silu_derivatives_through_their_zeros():
  # silu' vanishes at -1.2785, silu'' at +-2.3994: relative accuracy is kept there.
  for x in (-1.2784645, -1.28, 2.3993573, -2.4):
    xm = mp.mpf(float(np.float32(x)))
    d1 = _sig(xm) * (1 + xm * _sig(-xm))
    d2 = _sig(xm) * _sig(-xm) * (2 - xm * mp.tanh(xm / 2))
    assert _rel(jax.grad(jaxact.silu)(jnp.float32(x)), d1) < 8 * 2**-23
    assert _rel(jax.grad(jax.grad(jaxact.silu))(jnp.float32(x)), d2) < 16 * 2**-23


def test_silu_beta_is_differentiable():
  x = np.array([-3.0, -0.5, 0.25, 2.0, 30.0])
  g = jax.grad(lambda b: jnp.sum(jaxact.silu(jnp.asarray(x), beta=b)))(1.7)
  exact = sum(mp.diff(lambda b, v=v: v * _sig(b * v), mp.mpf("1.7")) for v in x)
  assert _rel(g, exact) < 1e-14


# GELU (both forms), mish, quick_gelu: issue reproducers.


def _gelu_tanh_exact(x):
  a = 2 * mp.sqrt(2 / mp.pi)
  return x * _sig(a * (x + mp.mpf("0.044715") * x**3))


def test_gelu_float16_gradient_is_finite_at_148():
  # jax.nn: NaN (x^3 overflows float16 inside the derivative).
  for approximate in (True, False):
    for x in (148.0, 300.0, 60000.0):
      g = jax.grad(lambda t, a=approximate: jaxact.gelu(t, approximate=a))(jnp.float16(x))
      assert g.dtype == jnp.float16 and float(g) == 1.0, (approximate, x, g)
      h = jax.grad(jax.grad(lambda t, a=approximate: jaxact.gelu(t, approximate=a)))(jnp.float16(x))
      assert np.isfinite(float(h)) and float(h) == 0.0


def test_gelu_float32_gradient_is_finite_where_x_cubed_overflows():
  for x in (1.07e19, 1e30, -1e30):
    g = jax.grad(jaxact.gelu)(jnp.float32(x))
    assert float(g) == (1.0 if x > 0 else 0.0), x


def test_gelu_tanh_no_cancellation_in_the_left_tail():
  # jax.nn.gelu(-3.) is 208 ULP off; below -4.87 it returns -0.
  for x in (-3.0, -5.0, -9.0):
    y = jaxact.gelu(jnp.float32(x))
    assert _rel(y, _gelu_tanh_exact(mp.mpf(x))) < 4 * 2.0**-23, x
  assert float(jaxact.gelu(jnp.float32(-9.0))) < 0


def test_gelu_erf_left_tail():
  # jax.nn.gelu(-6., approximate=False) is 27 ULP off (180 ULP on [-12.5, -1]).
  for x in (-1.0, -6.0, -12.0, -13.0):
    y = jaxact.gelu(jnp.float32(x), approximate=False)
    assert _rel(y, mp.mpf(x) * mp.ncdf(x)) < 4 * 2.0**-23, x


@pytest.mark.parametrize("fn", ["silu", "gelu", "gelu_erf", "mish", "hard_silu", "quick_gelu"])
def test_self_gated_units_at_minus_inf(fn):
  # jax.nn: NaN for silu, gelu, mish, hard_silu at -inf (limit 0).
  f = jaxact.get(fn)
  assert float(f(jnp.float32(-jnp.inf))) == 0.0
  assert float(jax.grad(f)(jnp.float32(-jnp.inf))) == 0.0
  assert float(jax.grad(f)(jnp.float32(jnp.inf))) == 1.0


def test_mish_second_derivative_float16_at_40000():
  # jax.nn: NaN.
  h = jax.grad(jax.grad(jaxact.mish))(jnp.float16(40000.0))
  assert float(h) == 0.0


def test_mish_left_tail_keeps_normal_results():
  # mish(-89) = -89 e^-89 (2 + ...)/2 ~ -1.8e-37: normal, though e^-89 is not.
  x = mp.mpf(-89)
  exact = x * mp.tanh(mp.log1p(mp.exp(x)))
  assert _rel(jaxact.mish(jnp.float32(-89.0)), exact) < 4 * 2.0**-23


_EXACT = {
  "gelu": _gelu_tanh_exact,
  "gelu_erf": lambda t: t * mp.ncdf(t),
  "mish": lambda t: t * mp.tanh(mp.log1p(mp.exp(t))),
}


@pytest.mark.parametrize("fn", sorted(_EXACT))
def test_second_derivatives_in_the_right_tail(fn):
  # jax.nn: 0 or digits lost in the tails for softplus, silu, mish, both gelus.
  f = jaxact.get(fn)
  for x in (6.0, 9.0):
    h = jax.grad(jax.grad(f))(jnp.float32(x))
    exact = mp.diff(_EXACT[fn], mp.mpf(x), 2)
    assert _rel(h, exact) < 16 * 2.0**-23, (fn, x, float(h), float(exact))


# Dense sweeps (float32) where the battery's grid is sparse: the cancellation zones
# of the derivatives, on both sides of each series radius, and gelu_erf's tail.


def _dense_ulp(name, which, xs, params=None):
  # The numeric defaults (silu's beta = 1) updated with params, rounded to the dtype of
  # xs as the function sees them: the reference takes every parameter.
  defaults = {k: v for k, v in jaxact.info(name).params.items() if isinstance(v, (int, float))}
  params = {k: float(np.asarray(v, xs.dtype)) for k, v in {**defaults, **(params or {})}.items()}
  f = functools.partial(jaxact.get(name), **params)
  fn = {"f": f, "d1": jax.grad(f), "d2": jax.grad(jax.grad(f))}[which]
  hi, lo = jt.reference_values(jt.ELEMENTWISE[name], xs.astype(np.float64), params)[which]
  computed = np.asarray(jax.jit(jax.vmap(fn))(jnp.asarray(xs)), np.float64)
  err = jt.ulp_error(computed, hi, lo, xs.dtype)
  dname = np.dtype(xs.dtype).name
  if jt.flushes_subnormals(dname):  # as the battery: a subnormal exact result computed as 0
    from jaxact.testing._battery import _below_normal

    err = np.where(_below_normal(hi, lo, float(np.finfo(xs.dtype).tiny)) & (computed == 0), 0.0, err)
  assert np.all(np.isfinite(computed))
  i = int(np.argmax(err))
  return float(err[i]), float(xs[i])


# (name, which, sweep, points the old radius 0.35 got wrong: silu' vanishes at
# -1.2785 and was 8.56 ULP off at -1.63965, just outside the radius; gelu_tanh' at
# -0.7525, 7.14 ULP at -1.22929)
@pytest.mark.parametrize(
  ("name", "which", "lo", "hi", "extra", "bound"),
  [
    ("silu", "d1", -2.2, -0.4, [-1.6396454572677612, -1.649693250656128], 8),
    ("silu", "d2", -3.2, 3.2, [], 16),
    ("gelu_tanh", "d1", -1.6, 0.1, [-1.229293704032898, -1.175268292427063], 8),
    ("gelu_tanh", "d2", -2.4, 2.4, [], 16),
    ("gelu_erf", "d1", -1.6, 0.1, [], 8),
    ("mish", "d1", -2.0, -0.4, [], 8),
  ],
)
def test_derivatives_through_their_zeros_on_a_dense_sweep(name, which, lo, hi, extra, bound):
  xs = np.unique(np.concatenate([np.linspace(lo, hi, 4001), extra]).astype(np.float32))
  err, worst = _dense_ulp(name, which, xs)
  assert err <= bound, f"{name} {which}: {err:.2f} ULP at x = {worst}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [1.0, 0.7, 1.9])
def test_silu_first_derivative_around_its_zero_on_a_fine_sweep(dtype, beta):
  # silu' = sigma(z) (1 + z + e^z) / (1 + e^z): 1 + z + e^z vanishes at z0 = -1.2785,
  # where it is summed from exact parts, with e^z reduced about z0 itself within 1/4
  # of it. Steps of 1/20000 in z over z0 +- 0.35, both sides of that radius, and
  # closer steps next to z0 (without the reduction about z0, 1 + z + e^z is 6 ULP
  # off at 1/64 from z0 and more closer in: 11.2 ULP here with a radius of 1/512).
  # Measured: 5.9 ULP at most (float32, beta = 1.9).
  z0 = -1.2784645427610738
  zs = z0 + np.concatenate([np.linspace(-0.35, 0.35, 14001), [-1 / 4, 1 / 4], np.linspace(-1e-4, 1e-4, 201)])
  xs = np.unique((zs / beta).astype(dtype))
  err, worst = _dense_ulp("silu", "d1", xs, {"beta": beta})
  assert err <= 8.0, f"{err:.2f} ULP at x = {worst}"


@pytest.mark.parametrize(("dtype", "lo"), [(np.float32, -14.0), (np.float64, -40.0)])
def test_gelu_erf_value_on_a_dense_sweep(dtype, lo):
  # Steps of about 1/1000 over the tail. Earlier forms: 4.86 ULP at -11.643 (XLA's
  # erfcx-based tail), then 4.10 at -6.518 in float32 and 4.15 at -37.248 in float64
  # (XLA's exp rounded E by up to 0.9 ULP; stable.exp_split now rounds it once and
  # carries the error). Measured now: 3.32 and 3.48.
  xs = np.unique(np.concatenate([np.linspace(lo, 0.0, 14001), [-6.518, -11.643, -37.248]]).astype(dtype))
  err, worst = _dense_ulp("gelu_erf", "f", xs[xs >= lo])
  assert err <= 4.0, f"{err:.2f} ULP at x = {worst}"


def test_gelu_erf_float64_value_where_three_roundings_met():
  # e (num x / den) rounded three times (a product, a quotient, a product) reached 4.21
  # ULP at x = -12.881999999999998 (a point of tools/dense_sweep.py --dtype float64);
  # float64 now forms it as double words and rounds once: 3.21 there. Steps of 1/2000
  # over [-14, -11] around it.
  xs = np.unique(np.concatenate([np.linspace(-14.0, -11.0, 6001), [-12.881999999999998]]))
  err, worst = _dense_ulp("gelu_erf", "f", xs)
  assert err <= 4.0, f"{err:.2f} ULP at x = {worst}"


# Where a factor such as e^x or sigma'(z) is subnormal (flushed to 0 by XLA's CPU
# backend) but its product with a factor above 1 is a normal number: selu's
# 1.758 e^x, elu's alpha e^x (alpha > 1), e^(x/alpha) / alpha of celu, e^(beta x) /
# beta of softplus (beta < 1), 4 sigma'(2u) of sech^2 in tanh'' and softcap, beta
# sigma'(beta x) of swish''. Each window is a few tenths wide; the battery's grid
# (about five points per binade) fell beside them. The first figure after each case is
# the error the earlier code had there (it returned 0, or a rounded quotient x / alpha
# amplified |x / alpha| times in celu's tail).
_BOUND = {"f": 4, "d1": 8, "d2": 16}


@pytest.mark.parametrize(
  ("name", "params", "which", "lo", "hi"),
  [
    ("selu", {}, "d1", -89.0, -86.0),  # 1.1e7 ULP at -87.629
    ("selu", {}, "d2", -89.0, -86.0),
    ("elu", {"alpha": 2.5}, "d1", -89.0, -86.0),  # 1.6e7 ULP at -87.629
    ("elu", {"alpha": 2.5}, "d2", -89.0, -86.0),
    ("celu", {"alpha": 0.3}, "d1", -27.0, -20.0),  # 78 ULP at -25.996
    ("celu", {"alpha": 0.3}, "d2", -27.0, -20.0),  # 1.7e7 ULP at -26.356
    ("celu", {"alpha": 2.5}, "d1", -220.0, -150.0),  # 71 ULP at -197.74
    ("celu", {"alpha": 2.5}, "d2", -220.0, -150.0),  # 78 ULP at -183.13
    ("softplus", {"beta": 0.3}, "f", -300.0, -285.0),  # 9.3e6 ULP at -294.77
    ("silu", {"beta": 5.0}, "d2", -19.0, -18.0),  # 1.7e7 ULP at -18.554
    ("quick_gelu", {}, "d2", -55.0, -53.0),  # 1.3e7 ULP at -54.023
    ("tanh", {}, "d2", -45.0, -44.0),  # 1.1e7 ULP at -44.588
    ("tanhshrink", {}, "d2", -45.0, -44.0),  # 1.1e7 ULP at -44.588
    ("lisht", {}, "d2", -47.0, -44.0),  # 1.5e7 ULP at -45.978
    ("softcap", {"cap": 30.0}, "d1", -1340.0, -1310.0),  # 1.0e7 ULP at -1327.5
    ("softcap", {"cap": 30.0}, "d2", 1280.0, 1340.0),  # 1.0e7 ULP at -1287.4 (odd)
    ("softcap", {"cap": 0.1}, "d1", -4.5, -4.3),  # 1.7e7 ULP at -4.4019
    ("xielu", {"alpha_n": 1.7, "eps": -1e-4}, "d2", -89.0, -86.0),  # 1.1e7 ULP at -87.629
  ],
)
def test_no_flushed_factor_where_the_result_is_normal(name, params, which, lo, hi):
  params = {**jt.required_params(name), **params}
  xs = np.unique(np.linspace(lo, hi, 3001).astype(np.float32))
  err, worst = _dense_ulp(name, which, xs, params)
  assert err <= _BOUND[which], f"{name} {params} {which}: {err:.3g} ULP at x = {worst}"


@pytest.mark.parametrize(
  ("name", "params", "which", "lo", "hi"),
  [
    ("selu", {}, "d1", -709.5, -707.0),
    ("elu", {"alpha": 2.5}, "d2", -709.5, -707.0),
    ("tanh", {}, "d2", -355.0, -354.0),
    ("celu", {"alpha": 0.3}, "d2", -213.0, -212.0),
  ],
)
def test_no_flushed_factor_where_the_result_is_normal_float64(name, params, which, lo, hi):
  params = {**jt.required_params(name), **params}
  xs = np.unique(np.linspace(lo, hi, 3001))
  err, worst = _dense_ulp(name, which, xs, params)
  assert err <= _BOUND[which], f"{name} {params} {which}: {err:.3g} ULP at x = {worst}"


def _d_param(fn, param, value, x):
  return jax.grad(lambda p: fn(jnp.float32(x), **{param: p}))(jnp.float32(value))


def test_parameter_derivatives_where_the_exponential_is_subnormal():
  # d/dbeta of x sigma(beta x) is x^2 sigma'(beta x); the earlier code formed x
  # sigma'(beta x) first, subnormal (0) at x = -94 where the product is 3.7e-37.
  # d/dbeta of softplus at beta = 0.3: -(a + 1) e^-a / beta^2 (a = |beta x| > 87.3).
  beta = float(np.float32(0.3))
  cases = [
    (jaxact.silu, "beta", 1.0, -94.0, lambda x, b: x / (1 + mp.exp(-b * x))),
    (jaxact.softplus, "beta", beta, -300.0, lambda x, b: mp.log1p(mp.exp(b * x)) / b),
  ]
  for fn, param, value, x, ref in cases:
    g = _d_param(fn, param, value, x)
    exact = mp.diff(lambda b, x=x, ref=ref: ref(mp.mpf(x), b), mp.mpf(value))
    assert abs(exact) > np.finfo(np.float32).tiny
    assert _rel(g, exact) < 8 * 2.0**-23, (fn.__name__, x, float(g), exact)


def test_mish_float64_value_on_a_dense_sweep():
  # 4.23 ULP at x = -5.0973 with XLA's float64 exp (and three or four more roundings
  # after it); the rounding error of e (stable.exp_split) now goes into the factor
  # 2 + e of the numerator. Measured: 3.22.
  xs = np.unique(np.concatenate([np.linspace(-40.0, 40.0, 8001), [-5.097269432348234]]))
  err, worst = _dense_ulp("mish", "f", xs)
  assert err <= 4.0, f"{err:.2f} ULP at x = {worst}"


@pytest.mark.parametrize(
  ("dtype", "xs"), [(np.float32, [7.5e12, 1e13, -1.2e13]), (np.float64, [1.15221e103, -2e102])]
)
def test_squareplus_second_derivative_where_h_cubed_overflows(dtype, xs):
  # b / (2 h^3) with b = 100: XLA reassociated ((b / 2 / h) / h) / h into one quotient
  # by h^3, inf from h = 7e12 in float32 (1.7e102 in float64), and returned 0 where the
  # result is normal (9.8e-38 at 8e12).
  d2 = jax.vmap(jax.grad(jax.grad(lambda x: jaxact.squareplus(x, b=100.0))))
  got = d2(jnp.asarray(xs, dtype))
  for x, g in zip(xs, got):
    exact = 50 / (mp.mpf(float(dtype(x))) ** 2 + 100) ** 1.5
    assert _rel(g, exact) < 4 * float(np.finfo(dtype).eps), (x, float(g), exact)


def test_softcap_second_derivative_near_zero_with_a_huge_cap():
  # -2 x / cap^2 near 0: XLA reassociated (x / cap) / cap into x / cap^2, inf for
  # cap > 1.8e19 in float32, and returned -0 (exact -2e-30 at x = 1e10, cap = 1e20).
  g = jax.grad(jax.grad(lambda x: jaxact.softcap(x, cap=1e20)))(jnp.float32(1e10))
  exact = -2 * mp.mpf(float(np.float32(1e10))) / mp.mpf(float(np.float32(1e20))) ** 2
  assert _rel(g, exact) < 4 * 2.0**-23


def test_squareplus_third_derivative_at_infinity_is_zero():
  # -3 b x / (2 h^5) -> 0; x / h is taken as its limit +-1 at +-inf (inf * 0 otherwise).
  d3 = jax.vmap(jax.grad(jax.grad(jax.grad(jaxact.squareplus))))
  got = d3(jnp.array([-jnp.inf, jnp.inf, -1.0], jnp.float32))
  np.testing.assert_array_equal(got[:2], [0.0, 0.0])
  assert _rel(got[2], mp.mpf(12) / (2 * mp.mpf(5) ** 2.5)) < 8 * 2.0**-23


def test_softplus_beta_float64_value_on_a_dense_sweep():
  # beta = 0.3: 4.58 ULP at x = -31.836 with XLA's exp (and the quotient by beta and
  # log1p after it); stable.exp_split's rounding error now goes into the factor that
  # carries beta x's low part. Measured: 3.54.
  xs = np.unique(np.concatenate([np.linspace(-40.0, 0.0, 8001), [-31.836199999999998, -31.856]]))
  err, worst = _dense_ulp("softplus", "f", xs, {"beta": 0.3})
  assert err <= 4.0, f"{err:.2f} ULP at x = {worst}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_snake_value_where_x_and_the_sine_term_cancel(dtype):
  # At frequency 0.3, x and sin^2(ax)/a cancel by up to 3.6 for ax near -1.2. The term
  # rounded once gave 8.15 ULP at x = -3.405 (float32, dense sweep), 6.6 at -3.5 (float64).
  xs = np.linspace(-12.0, 0.0, 6001).astype(dtype)
  err, worst = _dense_ulp("snake", "f", xs, {"frequency": 0.3})
  assert err <= 4, f"snake: {err:.2f} ULP at x = {worst}"


@pytest.mark.parametrize(
  ("dtype", "lo", "hi", "per"),
  [
    (np.float32, 10, 22, 400),
    (np.float32, 22, 128, 40),
    (np.float64, 39, 51, 400),
    (np.float64, 51, 1024, 6),
  ],
)
@pytest.mark.parametrize("which", ["d1", "d2"])
def test_snake_derivatives_at_large_ax(dtype, lo, hi, per, which):
  # 2ax is reduced by pi/2 as a double word (Cody and Waite to 2^p, Payne and Hanek
  # beyond). By angle addition from 2p and 2e, u = a x = p + e, f' and f'' were
  # accurate only absolutely, by about |e|, next to their zeros: this test measured
  # 50.5 ULP (f', float32, x = 2.38e6) and 37.4 (float64, x = 1.21e16) on the two
  # moderate ranges, and the battery's grid 638 ULP (f', float32).
  rng = np.random.default_rng(7)
  a = float(np.asarray(0.3, dtype))
  mags = np.concatenate([2.0**k * (1 + rng.random(per)) for k in range(lo, hi)])
  mags = mags[mags < float(np.finfo(dtype).max) * a] / a  # |x| up to the largest float
  xs = (mags * rng.choice([-1.0, 1.0], mags.size)).astype(dtype)
  err, worst = _dense_ulp("snake", which, xs, {"frequency": 0.3})
  assert err <= {"d1": 8, "d2": 16}[which], f"snake {which}: {err:.2f} ULP at x = {worst}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_snake_derivatives_where_ax_overflows(dtype):
  # a x beyond the largest float (x finite): reduced from x times the mantissa of a.
  # By angle addition from sin(inf) they were NaN.
  top = float(np.finfo(dtype).max)
  xs = np.array([top, -top / 1.5, top / 2.9, -top / 2.5], dtype)
  for which in ("d1", "d2"):
    err, worst = _dense_ulp("snake", which, xs, {"frequency": 3.0})
    assert err <= {"d1": 8, "d2": 16}[which], f"snake {which}: {err:.2f} ULP at x = {worst}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softcap_value_on_a_dense_sweep(dtype):
  # cap tanh(x / cap) rounded tanh(u) (up to 1.8 ULP) and then the product: 4.08 ULP at
  # x = -3.8746 (float32, cap 30, tools/dense_sweep.py), where tanh(u) sits at the
  # bottom of its binade and the product near the top of its own. Below |u| = 3/4 the
  # value is now x (1 + u^2 q(u^2)). Measured: 2.16 (float32), 1.94 (float64).
  xs = np.unique(np.concatenate([np.linspace(-40.0, 40.0, 16001), [-3.87464094, -16.326]])).astype(dtype)
  for cap in (30.0, 2.5):
    err, worst = _dense_ulp("softcap", "f", xs * (cap / 30.0), {"cap": cap})
    assert err <= 3.0, f"softcap (cap {cap}): {err:.2f} ULP at x = {worst}"


@pytest.mark.parametrize(("dtype", "x"), [(np.float32, -0.9), (np.float64, -7.15)])
def test_celu_alpha_partials_where_exp_alone_is_subnormal(dtype, x):
  # alpha = 0.01: e^(x / alpha) is subnormal (flushed to 0 on the CPU) and its products
  # with 1 / alpha, u / alpha, u^2 / alpha are not; they were 0 (plain jnp.exp).
  alpha = 0.01
  xa, aa = jnp.asarray(x, dtype), jnp.asarray(alpha, dtype)
  xm, am = mp.mpf(float(xa)), mp.mpf(float(aa))
  u = xm / am
  e = mp.exp(u)
  f = jaxact.celu
  cases = [
    (jax.grad(jax.grad(f, 0), 1), -(u / am) * e),  # d2 / dx dalpha
    (jax.grad(jax.grad(f, 1), 1), (u * u / am) * e),  # d2 / dalpha2
    (jax.grad(jax.grad(jax.grad(f, 0), 0), 1), -(u + 1) * e / (am * am)),  # d3 / dx2 dalpha
    (jax.jacfwd(jax.grad(jax.grad(f, 0), 0), 1), -(u + 1) * e / (am * am)),
  ]
  # The rounding of u = x / alpha counts |u| times in e^u (the error of evaluating at
  # once-rounded arguments).
  bound = 4 * np.finfo(dtype).eps * (2 + abs(float(u)))
  for g, exact in cases:
    got = g(xa, aa)
    assert np.isfinite(float(got))
    assert _rel(got, exact) < bound, (float(got), float(exact))
