"""Building blocks of jaxact._src.stable that several activations share, against mpmath
where their docstrings promise an accuracy of their own."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import _series, stable

mp.mp.dps = 40


@pytest.mark.parametrize(("dtype", "bound"), [(np.float32, 2.0), (np.float64, 2.5)])
def test_log1p_unit(dtype, bound):
  # log(1 + u) on [0, 1] (softplus and log_sigmoid pass u = exp(-|x|)): a dense grid,
  # the ends, and small normal u down to the smallest normal number.
  tiny = np.finfo(dtype).tiny
  u = np.concatenate(
    [
      np.linspace(0.0, 1.0, 4001),
      np.geomspace(tiny, 1.0, 2000),
    ]
  ).astype(dtype)
  got = np.asarray(stable.log1p_unit(jnp.asarray(u)), np.float64)
  exact = np.array([float(mp.log1p(mp.mpf(float(v)))) for v in u])
  spacing = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
  ulp = np.abs(got - exact) / np.where(exact == 0, np.finfo(dtype).smallest_subnormal, spacing)
  assert np.all(np.isfinite(got))
  assert ulp.max() <= bound, (ulp.max(), u[np.argmax(ulp)])
  assert stable.log1p_unit(jnp.asarray(0.0, dtype)) == 0.0
  assert np.isnan(stable.log1p_unit(jnp.asarray(np.nan, dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_split(dtype):
  # e^y = e (1 + rel) for y from log(tiny) to 0: e within 0.65 ULP of e^y (XLA's exp is
  # 0.9 ULP off in float32), and e (1 + rel) within eps / 6 relative.
  tiny = float(np.finfo(dtype).tiny)
  y = np.concatenate([np.linspace(np.log(tiny), 0.0, 3001), -np.geomspace(1e-8, 1.0, 500), [0.0]]).astype(
    dtype
  )
  y = y[[mp.exp(mp.mpf(float(v))) >= tiny for v in y]]  # e^y normal
  e, rel = (np.asarray(v, np.float64) for v in jax.jit(stable.exp_split)(jnp.asarray(y)))
  exact = [mp.exp(mp.mpf(float(v))) for v in y]
  eps = float(np.finfo(dtype).eps)
  ulp = np.spacing(np.array([float(v) for v in exact]).astype(dtype)).astype(np.float64)
  err_e = max(abs(float((mp.mpf(float(a)) - b) / mp.mpf(float(u)))) for a, b, u in zip(e, exact, ulp))
  err_split = max(
    abs(float(mp.mpf(float(a)) * (1 + mp.mpf(float(r))) / b - 1)) for a, r, b in zip(e, rel, exact)
  )
  assert err_e <= 0.65, err_e
  assert err_split <= eps / 6, (err_split, eps)
  assert np.isnan(stable.exp_split(jnp.asarray(np.nan, dtype))[0])


@pytest.mark.parametrize(("dtype", "offset"), [(np.float32, 0), (np.float32, 66), (np.float64, 130)])
def test_exp_parts(dtype, offset):
  # e^y = 2^-offset s (1 + p): s a power of two, 2^(k + offset) with |y - k ln 2| <=
  # 0.35, 1 + p within eps / 2 of e^r, and where k = 0 (r = y) p within eps of e^y - 1
  # relative, over the clamped ranges tanh and sech^2 use.
  low = -112.0 if offset else -40.0
  if dtype == np.float64 and offset:
    low = -760.0
  y = np.concatenate([np.linspace(low, 0.0, 4001), -np.geomspace(1e-30, 1.0, 400), [0.0]]).astype(dtype)
  parts = jax.jit(stable.exp_parts, static_argnums=1)(jnp.asarray(y), offset)
  s, p = (np.asarray(v, np.float64) for v in parts)
  mant, exponent = np.frexp(s)
  assert np.all(mant == 0.5), "s is not a power of two"
  k = exponent - 1 - offset
  eps = float(np.finfo(dtype).eps)
  for yi, ki, pi in zip(y, k, p):
    r = mp.mpf(float(yi)) - int(ki) * mp.log(2)
    assert abs(r) <= _series.EXPM1_REDUCED_RADIUS, (yi, ki)  # the interval H was fitted on
    assert abs(float((1 + mp.mpf(float(pi))) / mp.exp(r) - 1)) <= eps / 2, (yi, pi)
    if ki == 0 and yi != 0:
      assert abs(float(mp.mpf(float(pi)) / mp.expm1(r) - 1)) <= eps, (yi, pi)
  assert stable.exp_parts(jnp.asarray(0.0, dtype))[1] == 0.0
  assert np.isnan(stable.exp_parts(jnp.asarray(np.nan, dtype))[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_and_sech2_dense(dtype):
  # Between the battery's grid points: every 1/1000 on [-10, 10] and small |x|, the
  # value within 2.5 ULP and sech^2 within 5 (the bounds are 4 and 8).
  x = np.concatenate([np.linspace(-10.0, 10.0, 20001), np.geomspace(1e-12, 0.5, 2000)]).astype(dtype)
  t, d = (np.asarray(f(jnp.asarray(x)), np.float64) for f in (jax.jit(stable.tanh), jax.jit(stable.sech2)))
  for got, exact_of, bound in ((t, mp.tanh, 2.5), (d, lambda v: mp.sech(v) ** 2, 5.0)):
    exact = np.array([float(exact_of(mp.mpf(float(v)))) for v in x])
    ulp = np.abs(got - exact) / np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    assert np.all(np.isfinite(got))
    assert ulp.max() <= bound, (exact_of, ulp.max(), x[np.argmax(ulp)])


@pytest.mark.parametrize(("bits", "n"), [(12, 6), (26, 5)])
def test_constant_pieces_are_short_and_sum_to_the_constant(bits, n):
  with mp.workdps(90):
    pieces = stable.constant_pieces(mp.nstr(mp.pi / 2, 85), bits, n)
  for c in pieces:
    m, _ = np.frexp(c)
    assert float(m * 2**bits).is_integer(), (c, bits)  # at most `bits` significant bits
  with mp.workdps(90):
    rest = abs(sum(mp.mpf(c) for c in pieces) - mp.pi / 2)
  assert rest <= mp.mpf(2) ** (-bits * n + 1), rest


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_over_pi_table(dtype):
  # Row s + 1 holds 2^s (2 / pi) mod 4 in pieces of 12 (26) bits, truncated after 7.
  from jaxact._src import periodic

  table = periodic._two_over_pi_table(np.dtype(dtype))
  _, bits, n = periodic._REDUCTION[np.dtype(dtype)]
  with mp.workdps(800):
    for s in [-1, 0, 1, 17, 100, table.shape[0] - 2]:
      exact = mp.fmod(mp.ldexp(2 / mp.pi, s), 4)
      got = sum(mp.mpf(float(c)) for c in table[s + 1])
      assert 0 <= exact - got < mp.ldexp(1, 2 - bits * n), (s, exact - got)
      for c in table[s + 1]:
        assert float(np.frexp(c)[0] * 2**bits).is_integer()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [0.3, -7.1, 1e-3])
def test_quotient_dw_against_exact_fractions(dtype, d):
  # u + u_lo = x / d, u_lo to 2^-20 of its own size, jitted: XLA's CPU backend contracts
  # a * b - c into an FMA, and a residual formed as x - fl(u d) - (its error) would then
  # count the error twice. The residual from split halves is the same either way.
  from fractions import Fraction

  x = np.random.default_rng(3).standard_normal(1000).astype(dtype) * 10
  d = dtype(d)
  u, u_lo = (np.asarray(v) for v in jax.jit(stable.quotient_dw)(jnp.asarray(x), jnp.asarray(d)))
  for xi, ui, li in zip(x, u, u_lo):
    r = Fraction(float(xi)) / Fraction(float(d)) - Fraction(float(ui))  # exact residual
    assert abs(Fraction(float(li)) - r) <= abs(r) * Fraction(1, 2**20), (xi, ui, li, float(r))
  assert np.isnan(stable.quotient_dw(jnp.asarray(np.nan, dtype), jnp.asarray(d))[0])
