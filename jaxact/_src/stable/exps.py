"""Exponentials and logarithms: expm1 and log1p accurate over the whole range, e^y
reduced or split into parts with their rounding errors, and e^-|z| scaled where it
alone would be subnormal while its product with a large factor is not."""

from __future__ import annotations

import decimal
import fractions
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import _series
from jaxact._src.core import stable_kernel
from jaxact._src.stable import eft, scaling, series

_LN2 = math.log(2.0)


def _expm1_poly(x: jax.Array) -> jax.Array:
  # Taylor series x + x^2 (1/2! + x (1/3! + ...)) in Horner form, for |x| < ln 2:
  # the truncation error is below 2^-30 (float32, degree 11) and 2^-60 (float64,
  # degree 18) relative, and x^2 (...) is at most 0.4 |x|, so rounding stays ~1 ULP.
  degree = 18 if x.dtype == np.dtype(np.float64) else 11
  acc = series.horner(x, [1.0 / math.factorial(k) for k in range(degree, 1, -1)])
  return x + (x * x) * acc


def _expm1_forward(x: jax.Array) -> jax.Array:
  small = jnp.abs(x) < _LN2
  # exp(x) - 1 is exact in floating point for |x| >= ln 2 (Sterbenz / exact
  # alignment), so its error is exp's; below ln 2 the polynomial is used.
  return jnp.where(small, _expm1_poly(jnp.where(small, x, 0.0)), jnp.exp(x) - 1.0)


expm1 = stable_kernel(_expm1_forward, derivative=jnp.exp)
expm1_forward = _expm1_forward  # the same without a derivative rule, for forward passes
"""exp(x) - 1 to about 2 ULP over the whole range (XLA's expm1: 4.8 ULP)."""


def log1p_forward(x: jax.Array) -> jax.Array:
  """log(1 + x): XLA's, except in float64 on [-0.45, -0.29], where XLA's (CPU backend)
  is up to 128 ULP off (on [-0.4142, -0.3504]): there log(u) + (x - (u - 1)) / u with
  u = fl(1 + x), whose second term is the rounding error of u (u - 1 is exact), to 2 ULP."""
  y = jnp.log1p(x)
  if x.dtype != np.dtype(np.float64):
    return y
  u = 1.0 + x
  return jnp.where((x > -0.45) & (x < -0.29), jnp.log(u) + (x - (u - 1.0)) / u, y)


def log1p_unit(u: jax.Array) -> jax.Array:
  """log(1 + u) for 0 <= u <= 1 (as u = exp(-|x|) in softplus), from the series of
  2 atanh(u / (2 + u)) written in v = 2u / (2 + u) <= 2/3: v (1 + sum_k (v^2/4)^k /
  (2k + 1)), whose terms fall 9 times per degree. Truncated below 2^-28 (float32,
  7 terms) and 2^-56 (float64, 16 terms) relative. No intermediate is smaller than u,
  so a normal u gives a normal result. About 2 ULP; cheaper than XLA's general log1p
  (a division and a polynomial, no logarithm). NaN gives NaN."""
  terms = 16 if u.dtype == np.dtype(np.float64) else 7
  v = u / (1.0 + 0.5 * u)
  t = 0.25 * (v * v)
  acc = series.horner(t, [1.0 / (2 * k + 1) for k in range(terms, 0, -1)])
  return v + v * (t * acc)


def expm1_minus_x_series(u: jax.Array) -> jax.Array:
  """e^u - 1 - u for |u| <= 1 from its series u^2 (1/2! + u/3! + ...), without the
  cancellation of the direct form; truncated below 2^-30 (float32, degree 12) and
  2^-60 (float64, degree 20) relative."""
  degree = 20 if u.dtype == np.dtype(np.float64) else 12
  return (u * u) * series.horner(u, [1.0 / math.factorial(k) for k in range(degree, 1, -1)])


# Where sigma(z) or sigma'(z) is subnormal (flushed to zero by XLA's CPU backend)
# but its product with a large factor is not: m e^z = (m e^(z + c)) e^(-c), with
# z + c exact (Sterbenz) for z in [-2c, -c/2] (c: scaling.shift). Below -2c the sum
# rounds, but there the product underflows unless |m| is beyond e^c (a tiny gate slope).


def neg_abs_shifted(z: jax.Array, below: float | None = None) -> tuple[jax.Array, jax.Array]:
  """(arg, low): the argument of exp_neg_abs_shifted's exponential, -|z|, or z + c
  below -c (``low``; ``below``: the threshold instead of -c, see there). For a caller
  that takes the exponential in another way (stable.exp_split)."""
  c = scaling.shift(z.dtype)
  low = z < (-c if below is None else below)
  return jnp.where(low, z + c, -jnp.abs(z)), low


def exp_neg_abs_shifted(
  z: jax.Array, z_lo: jax.Array | None = None, below: float | None = None
) -> tuple[jax.Array, jax.Array]:
  """(e, low): e = exp(-|z + z_lo|), except below -c (``low``), where it is
  exp(z + z_lo + c), that is e^z scaled by e^c (e^z would be subnormal there).
  ``below``: the threshold instead of -c, in [-2c, -c/2] (where z + c is exact);
  log(tiny) scales only where e^z itself would be subnormal.

  ``z_lo`` is the rounding error of ``z`` when it was computed in two parts (see
  ``two_prod``): in the tail e^z has a relative error of |z| times that of z, so a
  z of 80 rounded once costs 40 ULP; with z_lo it costs none.
  """
  arg, low = neg_abs_shifted(z, below)
  e = jnp.exp(arg)
  if z_lo is not None:
    e = e * (1.0 + jnp.where(low | (z < 0), z_lo, -z_lo))
  return e, low


def exp_times(u: jax.Array, m: jax.Array | float, u_lo: jax.Array | None = None) -> jax.Array:
  """m * exp(u + u_lo), accurate where exp(u) alone would be subnormal (flushed to
  zero by XLA's CPU backend) but the product is not, as alpha e^x of elu with
  alpha > 1: below -c it is (m exp(u + c)) e^-c (see exp_neg_abs_shifted)."""
  c = scaling.shift(u.dtype)
  low = u < -c
  e = jnp.exp(jnp.where(low, u + c, u))
  if u_lo is not None:
    e = e * (1.0 + u_lo)
  y = m * e
  return jnp.where(low, y * scaling.exp_neg_shift(u.dtype), y)


# exp_neg_abs_scaled: e^-|z| from exp_parts scaled by 2^c (scaling.power: normal down
# to e^-|z| = 2^-(c + 126) in float32), with |z| clamped (128, 1000) where k + c is
# still a normal exponent. Beyond the clamp the sigmoid terms are taken as 0
# (m sigma(-|z|) underflows there unless |m| > 4e17 in float32, 4e126 in float64).
SIGMOID_CLAMP: dict[np.dtype, float] = {np.dtype(np.float32): 128.0, np.dtype(np.float64): 1000.0}
"""|z| beyond which sigma'(z) is taken as 0 (``exp_neg_abs_parts``), per dtype."""


def exp_neg_abs_parts(
  z: jax.Array, about: tuple[jax.Array, jax.Array, float] | None = None
) -> tuple[jax.Array, jax.Array, float, jax.Array, jax.Array]:
  """(s, p, 2^-c, a, beyond): e^-a 2^c = s (1 + p) (``exp_parts``, s a power of two)
  for a = |z| clamped (``SIGMOID_CLAMP``); ``beyond``: |z| over the clamp (and
  +-inf). The parts, for a caller that sums e^-|z| with terms it cancels against
  (silu's 1 + z + e^z); ``exp_neg_abs_scaled`` for the plain product.

  ``about = (near, d, e0)``: where ``near``, the reduction is about another point
  z0 < 0 instead of k ln 2: r = d = z - z0 (|d| <= 0.35) and s = e0 2^c, e0 = e^z0
  (so s is not a power of two there)."""
  clamp, c = SIGMOID_CLAMP[np.dtype(z.dtype)], scaling.EXPONENT[np.dtype(z.dtype)]
  a = jnp.abs(z)
  beyond = a > clamp
  a = jnp.where(beyond, clamp, a)
  s, r = exp_reduce(-a, offset=c)
  if about is not None:
    near, d, e0 = about
    s = jnp.where(near, e0 * 2.0**c, s)
    r = jnp.where(near, d, r)
  return s, expm1_reduced(r), 2.0**-c, a, beyond


def exp_neg_abs_scaled(z: jax.Array, z_lo: jax.Array | None = None) -> tuple[jax.Array, float, jax.Array]:
  """(e, 2^-c, beyond): e = e^-|z + z_lo| 2^c from one reduced exponential
  (``exp_parts``), normal down to e^-|z| = 2^-(c + 126) (float32), so that a product
  m e 2^-c is normal where e 2^-c alone is subnormal (flushed to zero by XLA's CPU
  backend). |z| is clamped (``SIGMOID_CLAMP``); ``beyond``: |z| over the clamp (and
  +-inf), where the caller makes terms in e^-|z| 0."""
  s, p, unscale, _, beyond = exp_neg_abs_parts(z)
  e = s + s * p
  if z_lo is not None:
    e = e * z_lo_factor(z, z_lo, beyond)
  return e, unscale, beyond


def z_lo_factor(z: jax.Array, z_lo: jax.Array, beyond: jax.Array) -> jax.Array:
  """1 -+ z_lo: the factor that takes e^-|z| to e^-|z + z_lo|; 0 beyond the clamp,
  where e^-|z| is below every product of it with m (e is not, being e^-clamp
  there) and z_lo may be huge."""
  return jnp.where(beyond, 0.0, 1.0 + jnp.where(z < 0, z_lo, -z_lo))


# Double-word e^x - 1 for x <= 0: reduction x = k ln 2 + r, |r| <= ln(2)/2, with ln 2
# in three parts (k ln2_1 exact); sum_{n>=2} r^n / n! by Horner, the terms below
# 2^-p of the sum in working precision and the rest in double words; then
# 2^k (1 + r + P) - 1. Below -_EXPM1_DW_FLOOR, e^x is under 2^-2p and is left out.
_EXPM1_DW = {
  # dtype: (floor, bits of ln2_1, Horner degree, first degree done in double words)
  np.dtype(np.float32): (40.0, 16, 13, 7),
  np.dtype(np.float64): (80.0, 44, 23, 13),
}


def _ln2_parts(dtype: np.dtype, bits: int) -> tuple[float, float, float]:
  ln2 = decimal.Decimal("0.693147180559945309417232121458176568075500134360255254120680009")
  m, e = math.frexp(float(ln2))
  l1 = math.ldexp(math.floor(math.ldexp(m, bits)), e - bits)
  l2 = float(dtype.type(float(ln2 - decimal.Decimal(l1))))
  l3 = float(dtype.type(float(ln2 - decimal.Decimal(l1) - decimal.Decimal(l2))))
  return l1, l2, l3


def _inverse_factorial(n: int, dtype: np.dtype) -> tuple[float, float]:
  q = fractions.Fraction(1, math.factorial(n))
  hi = dtype.type(float(q))
  return float(hi), float(dtype.type(float(q - fractions.Fraction(float(hi)))))


def expm1_dw(x: jax.Array) -> tuple[jax.Array, jax.Array]:
  """e^x - 1 as a double word (hi, lo) for finite x <= 0, to about 2^-2p relative
  (p the precision of the dtype: 24 or 53): for sums in which it cancels, as
  alpha (e^x - 1) + beta at its zero. Positive x is clamped to 0."""
  dt = np.dtype(x.dtype)
  floor, bits, degree, dw_from = _EXPM1_DW[dt]
  x = jnp.clip(x, -floor, 0.0)
  l1, l2, l3 = _ln2_parts(dt, bits)
  k = jnp.round(x * (1.0 / _LN2))
  kl2, kl2_lo = eft.two_prod(k, jnp.full_like(k, l2))
  r_hi, r_lo = eft.two_sum(x - k * l1, -kl2)  # x - k l1 is exact
  r_lo = r_lo - (kl2_lo + k * l3)
  r_hi, r_lo = eft.fast_two_sum(r_hi, r_lo)
  # Horner on sum_{n>=2} r^(n-2) / n!.
  acc = series.horner(r_hi, [_inverse_factorial(n, dt)[0] for n in range(degree, dw_from, -1)])
  hi, lo = acc, jnp.zeros_like(acc)
  for n in range(dw_from, 1, -1):
    hi, lo = eft._dw_times(hi, lo, r_hi, r_lo)
    f_hi, f_lo = _inverse_factorial(n, dt)
    hi, lo = eft._dw_plus(hi, lo, jnp.full_like(hi, f_hi), jnp.full_like(hi, f_lo))
  hi, lo = eft._dw_times(hi, lo, r_hi, r_lo)
  hi, lo = eft._dw_times(hi, lo, r_hi, r_lo)  # P = r^2 (...)
  m_hi, m_lo = eft._dw_plus(r_hi, r_lo, hi, lo)  # e^r - 1
  # 2^k (1 + m) - 1 = 2^k m + (2^k - 1): the products by 2^k are exact, and 2^k - 1
  # is kept as a double word (it rounds for k < -p).
  scale = jnp.ldexp(jnp.ones_like(x), k.astype(jnp.int32))
  c_hi, c_lo = eft.two_sum(scale, -jnp.ones_like(x))
  return eft._dw_plus(m_hi * scale, m_lo * scale, c_hi, c_lo)


# exp_split: reduction y = k ln 2 + r (ln 2 in three parts, k ln2_1 exact), r as a
# double word, e^r = 1 + r + r^2 P(r) (Taylor, degree 7 in float32: truncated below
# 2^-27; 13 in float64) summed once, scaled by 2^k from the exponent bits.
_EXP_SPLIT = {np.dtype(np.float32): (16, 7), np.dtype(np.float64): (42, 13)}


def _exp_reduced(y: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
  """(e, lo, r, k) with e^y = (e + lo) 2^k, e = e^r rounded once, |r| <= ln 2 / 2,
  for y whose k = round(y / ln 2) fits beside ln2_1 (8 bits in float32, 11 in float64)."""
  dt = np.dtype(y.dtype)
  bits, degree = _EXP_SPLIT[dt]
  l1, l2, l3 = _ln2_parts(dt, bits)
  k = jnp.round(y * (1.0 / _LN2))
  r1 = y - k * l1  # exact: l1 has `bits` bits, k at most the rest of the significand
  kl2 = k * l2
  # r = r1 - k l2 as a double word (Fast2Sum; where |r1| < |k l2| both are below 2^-9
  # and the error of r_lo is beneath notice). The barrier keeps XLA from folding it.
  r = jax.lax.optimization_barrier(r1 - kl2)
  r_lo = ((r1 - r) - kl2) - k * l3
  q = (r * r) * series.horner(r, [1.0 / math.factorial(n) for n in range(degree, 1, -1)]) + r_lo
  # 1 + r + q: 1 + r as a double word (Fast2Sum), then one rounding; lo is what it
  # dropped.
  t = jax.lax.optimization_barrier(1.0 + r)
  u = (r - (t - 1.0)) + q
  e = t + u
  lo = u - (e - t)
  return e, lo, r, k


def _power_of_two(k: jax.Array, dt: np.dtype) -> jax.Array:
  """2^k from the exponent bits, for integral k (a float) in the normal range."""
  fi = np.finfo(dt)
  itype = eft._int_type(dt)
  return jax.lax.bitcast_convert_type((k.astype(itype) + (fi.maxexp - 1)) << fi.nmant, dt)


def exp_split(y: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(e, rel) with e^y = e (1 + rel): e within 0.65 ULP of e^y (XLA's exp: 0.9 in
  float32) and rel its relative rounding error: e (1 + rel) is e^y to eps / 6 (float32:
  r^2 P(r) rounds once), for a product that takes the factor (1 + rel) into another
  one at no extra rounding.
  For y down to log(tiny) (e normal); below, e = 0, as where XLA's exp flushes a
  subnormal result. NaN gives NaN."""
  dt = np.dtype(y.dtype)
  log_tiny = math.log(float(np.finfo(dt).tiny))
  under = y < log_tiny
  e, lo, r, k = _exp_reduced(jnp.maximum(y, log_tiny))
  # lo / e = lo (1 - r) to a few per cent.
  return jnp.where(under, 0.0, e * _power_of_two(k, dt)), lo * (1.0 - r)


def exp(y: jax.Array) -> jax.Array:
  """e^y from arithmetic alone (within 0.75 ULP; measured 0.73 in float32, at -59.95,
  and 0.66 in float64), so that it does not depend on how XLA compiles its exp, which
  differs between programs (a vectorised and a scalar loop differ by 1 ULP at e^0.3 in
  float32). XLA may still contract a product and a sum into one FMA; it did so alike in
  every jitted program measured (eager, jit, vmap, grad, jvp, lax.map, fused with a
  product), while the same operations run one by one, unjitted, can differ.
  Over the whole range: 2^k is applied as two factors 2^floor(k/2) 2^ceil(k/2), the
  first product exact, so that a result just below the overflow threshold is finite; a
  subnormal result is what the second product gives on the backend (the CPU flushes it
  to 0, as its exp does). Beyond the range y is clamped, which gives 0 and inf as the
  exact values round. NaN gives NaN. Its bit operations have no derivative: use it
  inside a kernel with a rule."""
  dt = np.dtype(y.dtype)
  fi = np.finfo(dt)
  low = (fi.minexp - fi.nmant - 2) * _LN2  # e^low rounds to 0
  high = (fi.maxexp + 1) * _LN2  # e^high rounds to inf
  e, _, _, k = _exp_reduced(jnp.clip(y, low, high))
  k1 = jnp.floor(k * 0.5)
  return (e * _power_of_two(k1, dt)) * _power_of_two(k - k1, dt)


# exp_parts: y = k ln 2 + r, ln 2 in two parts (k ln2_1 exact); 2^k from the low bits
# of k + 1.5 2^p (p the mantissa bits: k sits there exactly) with two integer
# operations, not from a float-to-int conversion, whose saturating selects cost as
# much again. (Rounding y / ln 2 by adding and subtracting 1.5 2^p would save the
# round, but XLA folds (a + c) - c to a.)
_EXP_PARTS_LN2_BITS = {np.dtype(np.float32): 16, np.dtype(np.float64): 42}


def exp_reduce(y: jax.Array, offset: int = 0) -> tuple[jax.Array, jax.Array]:
  """(s, r) with e^y = 2^-offset s e^r: s = 2^(k + offset) exactly, k = round(y / ln 2),
  and the reduced r = y - k ln 2 (|r| <= 0.35), for ``expm1_reduced``. For finite
  y <= 0 with k + offset in the normal exponents of the dtype (the caller clamps y);
  NaN gives r = NaN. ``exp_parts`` is the two together; a caller may reduce some
  elements about another point (the same r, a constant s) before the polynomial."""
  dt = np.dtype(y.dtype)
  fi = np.finfo(dt)
  itype = eft._int_type(dt)
  magic = 1.5 * 2.0**fi.nmant
  l1, l2, _ = _ln2_parts(dt, _EXP_PARTS_LN2_BITS[dt])
  k = jnp.round(y * (1.0 / _LN2))
  kb = k + magic  # exact: k in the low bits
  r = (y - k * l1) - k * l2  # y - k l1 is exact
  # The exponent field of 2^(k + offset): the low bits of kb shifted into place, the
  # constant (bias + offset - bits of magic) wrapping modulo the word size.
  width = 8 * dt.itemsize
  bias = ((fi.maxexp - 1 + offset - int(np.array(magic, dt).view(itype))) << fi.nmant) % (1 << width)
  bias -= (bias >> (width - 1)) << width  # as a signed word
  bits = jax.lax.shift_left(jax.lax.bitcast_convert_type(kb, itype), itype(fi.nmant)) + itype(bias)
  return jax.lax.bitcast_convert_type(bits, dt), r


def expm1_reduced(r: jax.Array) -> jax.Array:
  """e^r - 1 for |r| <= 0.35 (``_series.EXPM1_REDUCED_RADIUS``), as r + r^2 H(r) (H a
  Chebyshev fit, 0.44 ULP in float32; tools/derive_constants.py)."""
  h = series.horner(r, [float(c) for c in _series.EXPM1_REDUCED[np.dtype(r.dtype).name]])
  return r + (r * r) * h


def exp_parts(y: jax.Array, offset: int = 0) -> tuple[jax.Array, jax.Array]:
  """(s, p) with e^y = 2^-offset s (1 + p): s = 2^(k + offset) exactly, k = round(y /
  ln 2), and p = e^r - 1 for the reduced r = y - k ln 2 (``exp_reduce``,
  ``expm1_reduced``). 1 + p is within eps / 2 of e^r, and where k = 0 (|y| <= 0.35,
  r = y exactly) p is within eps of e^y - 1 relative (tests/test_stable.py asserts
  both), so that e^y - 1 and 1 + e^y can be summed from exact parts. For finite
  y <= 0 with k + offset in the normal exponents of the dtype (the caller clamps y);
  NaN gives p = NaN. A cheap core for bounded arguments, as tanh's -2|x|."""
  s, r = exp_reduce(y, offset)
  return s, expm1_reduced(r)
