"""Stable building blocks: accurate elementary kernels with derivative rules.

The activations and their derivative rules are written with these, never with a
form that cancels. Each block is a :func:`~jaxact._src.core.stable_kernel`, so the
derivative of a rule written with them is again accurate.

Why not the XLA primitives: measured against mpmath on the CPU backend, XLA's
``tanh`` is off by up to 4.3 ULP (float32) and 6.5 ULP (float64), and ``expm1``
by up to 4.8 ULP (float32) near 0, and float64 ``log1p`` by up to 128 ULP on
[-0.4142, -0.3504] (``log1p_forward`` mends it); ``exp``, ``log`` and ``log1p``
elsewhere are within about 2 ULP and are used as they are.
"""

from __future__ import annotations

import decimal
import fractions
import inspect
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import _series
from jaxact._src.core import SELF, stable_kernel

_LN2 = math.log(2.0)


def zero_like(x: jax.Array) -> jax.Array:
  """0 where ``x`` is a number, NaN where ``x`` is NaN: the derivative of a constant piece."""
  return jnp.where(jnp.isnan(x), x, jnp.zeros_like(x))


def partial_by_jvp(f, argnum: int):
  """The partial derivative of an element-wise ``f(x, *params)`` in argument ``argnum``,
  by forward-mode autodiff (a jvp with unit tangent, broadcast to the output). ``f``
  must be written in kernels and plain arithmetic (a twin, see ``with_twin``): the
  tower check (``tower.py``) refuses a partial that differentiates through bits.
  """

  def partial(*args):
    def g(t):
      return f(*args[:argnum], t, *args[argnum + 1 :])

    t = jnp.broadcast_to(args[argnum], jnp.broadcast_shapes(*(jnp.shape(a) for a in args)))
    return jax.jvp(g, (t,), (jnp.ones_like(t),))[1]

  return partial


def with_twin(forward, twin, **kwargs):
  """A kernel whose value is ``forward`` and whose partial derivatives (in ``x`` and in
  every parameter) are those of ``twin``, the same function written in kernels and
  plain arithmetic.

  ``forward`` may build its result from bits and series for accuracy (it is never
  differentiated); ``twin`` is what autodiff sees, so every higher order and every
  mixed partial is right by construction, as accurate as the twin's form. Used for the
  derivative kernels at the top of a hand-written tower (the second derivatives) and
  for parameter partials. ``kwargs`` go to ``stable_kernel``.
  """
  names = list(inspect.signature(forward).parameters)[1:]
  return stable_kernel(
    forward,
    derivative=partial_by_jvp(twin, 0),
    param_derivatives={n: partial_by_jvp(twin, i) for i, n in enumerate(names, 1)},
    **kwargs,
  )


def _zero_forward(x: jax.Array) -> jax.Array:
  return zero_like(x)


zero = stable_kernel(_zero_forward, derivative=SELF)


def zero_partial(x: jax.Array, *params: jax.Array) -> jax.Array:
  """:data:`zero` as a partial derivative ``(x, *params)``: of a piece that does not
  depend on the parameters."""
  return zero(x)


def zero_like_partial(x: jax.Array, *params: jax.Array) -> jax.Array:
  """:func:`zero_like` as a partial derivative ``(x, *params)``."""
  return zero_like(x)


def _step_forward(x: jax.Array) -> jax.Array:
  # 1 for x > 0, 0 for x <= 0, NaN for NaN (both tests fail for NaN).
  return jnp.where(x > 0, jnp.ones_like(x), jnp.where(x <= 0, jnp.zeros_like(x), x))


step = stable_kernel(_step_forward, derivative=zero)
"""Heaviside step with step(0) = 0 and step(NaN) = NaN: the derivative of relu."""


def horner(t: jax.Array, coeffs) -> jax.Array:
  """The polynomial with ``coeffs`` (Python floats, highest power first) at ``t``, in
  Horner form: c0 t^n + c1 t^(n-1) + ... + cn, one multiply and one add per degree."""
  acc = jnp.full_like(t, coeffs[0])
  for c in coeffs[1:]:
    acc = acc * t + c
  return acc


def _expm1_poly(x: jax.Array) -> jax.Array:
  # Taylor series x + x^2 (1/2! + x (1/3! + ...)) in Horner form, for |x| < ln 2:
  # the truncation error is below 2^-30 (float32, degree 11) and 2^-60 (float64,
  # degree 18) relative, and x^2 (...) is at most 0.4 |x|, so rounding stays ~1 ULP.
  degree = 18 if x.dtype == np.dtype(np.float64) else 11
  acc = horner(x, [1.0 / math.factorial(k) for k in range(degree, 1, -1)])
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
  acc = horner(t, [1.0 / (2 * k + 1) for k in range(terms, 0, -1)])
  return v + v * (t * acc)


def expm1_minus_x_series(u: jax.Array) -> jax.Array:
  """e^u - 1 - u for |u| <= 1 from its series u^2 (1/2! + u/3! + ...), without the
  cancellation of the direct form; truncated below 2^-30 (float32, degree 12) and
  2^-60 (float64, degree 20) relative."""
  degree = 20 if u.dtype == np.dtype(np.float64) else 12
  return (u * u) * horner(u, [1.0 / math.factorial(k) for k in range(degree, 1, -1)])


# tanh and sech^2 from e = e^(-2|x|) = 2^k (1 + p) (exp_parts): tanh|x| = (1 - e) /
# (1 + e) with 1 - e = (1 - 2^k) - 2^k p, 1 + e = (1 + 2^k) + 2^k p, where 1 -+ 2^k and
# 2^k p are exact: each of the two sums rounds once, and neither cancels (at k = 0,
# 1 - e = -p is e^r - 1 to full relative accuracy). Clamped where tanh rounds to 1
# (float32: from 9.1, float64: 19.1).
_TANH_CLAMP = 20.0
# sech^2 = 4e / (1 + e)^2 is formed scaled by 2^c (exp_parts' offset 2 + c: the 4 goes
# into the exponent), normal wherever sech^2 is, so that it rounds once into the
# subnormal range; clamped where it rounds to 0 (float32: |x| > 52.7, float64: 373).
# (sigmoid_d1_times(2x, 4) gives the same values; its extra products and select
# measured slower on tanh's gradient.)
_SECH2 = {np.dtype(np.float32): (56.0, 64), np.dtype(np.float64): (380.0, 128)}


def _tanh_forward(x: jax.Array) -> jax.Array:
  a = jnp.abs(x)
  s, p = exp_parts(-2.0 * jnp.where(a > _TANH_CLAMP, _TANH_CLAMP, a))  # NaN stays NaN
  sp = s * p
  return with_sign_of(((1.0 - s) - sp) / ((1.0 + s) + sp), x)


def _sech2_forward(x: jax.Array) -> jax.Array:
  # Never 1 - tanh^2, which is 0 from x = 8.5 in float32 (exact 1.66e-7 there). At
  # most 1, as sech^2 is: near 0 the rounding could give 1 + ULP.
  clamp, c = _SECH2[np.dtype(x.dtype)]
  a = jnp.abs(x)
  s, p = exp_parts(-2.0 * jnp.where(a > clamp, clamp, a), offset=2 + c)
  e4 = s * (1.0 + p)  # 4 e 2^c
  d = 1.0 + e4 * 2.0 ** -(2 + c)
  return jnp.minimum((e4 / (d * d)) * 2.0**-c, 1.0)


def _tanh_d2_forward(x: jax.Array) -> jax.Array:
  # -2 tanh(x) sech^2(x) = sigma'(2x) (-8 tanh x): the factor goes into the scaled
  # product, so the result is right where sech^2 alone is subnormal and it is not
  # (float32: 44.4 < |x| < 44.7).
  return sigmoid_d1_times(2.0 * x, -8.0 * _tanh_forward(x))


def _tanh_d2_twin(x: jax.Array) -> jax.Array:
  # tanh''' and beyond: the derivatives of -8 tanh(x) sigma'(2x), written in kernels.
  return sigmoid_d1_scaled(2.0 * x, -8.0 * tanh(x))


tanh_d2 = with_twin(_tanh_d2_forward, _tanh_d2_twin)
sech2 = stable_kernel(_sech2_forward, derivative=tanh_d2)
tanh = stable_kernel(_tanh_forward, derivative=sech2)


# |x| <= 1: x - tanh x = x^3 T(x^2), T a Chebyshev fit (tools/derive_constants.py);
# the two terms of x - tanh x cancel there (by a factor of 11 at x = 0.55).
# |x| > 1: |x| - 1 + 2e / (1 + e) with e = exp(-2|x|), |x| - 1 exact and both terms
# positive.
_X_MINUS_TANH_SPLIT = 1.0


def _x_minus_tanh_forward(x: jax.Array) -> jax.Array:
  a = jnp.abs(x)
  s = jnp.minimum(a, _X_MINUS_TANH_SPLIT)
  t = s * s
  acc = horner(t, [float(c) for c in _series.TANHSHRINK[np.dtype(x.dtype).name]])
  small = s * (t * acc)
  e = jnp.exp(-2.0 * a)
  big = (a - 1.0) + 2.0 * e / (1.0 + e)
  return jnp.copysign(jnp.where(a > _X_MINUS_TANH_SPLIT, big, small), x)


# tanh^2 x, whose derivative 2 tanh x sech^2 x is -tanh''(x) (scaled: right where sech^2 x
# alone is subnormal).
def _tanh_squared_forward(x: jax.Array) -> jax.Array:
  return _tanh_forward(x) ** 2


def _tanh_squared_d1(x: jax.Array) -> jax.Array:
  return -tanh_d2(x)


tanh_squared = stable_kernel(_tanh_squared_forward, derivative=_tanh_squared_d1)
x_minus_tanh = stable_kernel(_x_minus_tanh_forward, derivative=tanh_squared)
x_minus_tanh_forward = _x_minus_tanh_forward
"""x - tanh x without cancellation (tanhshrink), to about 2 ULP."""


def _sigmoid_forward(x: jax.Array) -> jax.Array:
  # XLA's exp here: with no product to keep from flushing, the form with exp_parts
  # and its scaling measured slower.
  e = jnp.exp(-jnp.abs(x))
  return jnp.where(x >= 0, jnp.ones_like(e), e) / (1.0 + e)


def _sigmoid_d1_forward(x: jax.Array) -> jax.Array:
  # sigma'(x) = e / (1 + e)^2 with e = exp(-|x|): never sigma (1 - sigma). At most
  # 1/4, as sigma' is: near 0 the rounding could exceed it by an ULP.
  return jnp.minimum(sigmoid_d1_times(x, jnp.ones_like(x)), 0.25)


def _sigmoid_d2(x: jax.Array) -> jax.Array:
  # sigma''(x) = sigma'(x) (1 - 2 sigma(x)) = -sigma'(x) tanh(x / 2), no cancellation.
  return -sigmoid_d1(x) * tanh(0.5 * x)


sigmoid_d1 = stable_kernel(_sigmoid_d1_forward, derivative=_sigmoid_d2)
sigmoid = stable_kernel(_sigmoid_forward, derivative=sigmoid_d1)


def keep_nan(x: jax.Array, y: jax.Array) -> jax.Array:
  """``y`` where ``x`` is a number, NaN where ``x`` is NaN (``where`` chains drop NaN)."""
  return jnp.where(jnp.isnan(x), x, y)


def interval(lo: float, hi: float, *, closed: bool = False):
  """A kernel: 1 on (lo, hi) ([lo, hi] if ``closed``), 0 elsewhere, NaN on NaN; derivative 0.

  The derivatives of piecewise-linear activations, with the convention at the
  kinks made explicit.
  """

  def forward(x: jax.Array) -> jax.Array:
    inside = (x >= lo) & (x <= hi) if closed else (x > lo) & (x < hi)
    return keep_nan(x, jnp.where(inside, jnp.ones_like(x), jnp.zeros_like(x)))

  forward.__name__ = f"interval_{lo:g}_{hi:g}"
  return stable_kernel(forward, derivative=zero)


def _one_forward(x: jax.Array) -> jax.Array:
  return keep_nan(x, jnp.ones_like(x))


one = stable_kernel(_one_forward, derivative=zero)
"""1 where ``x`` is a number, NaN where it is NaN: the derivative of a linear piece."""


def one_partial(x: jax.Array, *params: jax.Array) -> jax.Array:
  """:data:`one` as a partial derivative ``(x, *params)``: of a piece linear in one
  parameter (``bias``)."""
  return one(x)


# Where sigma(z) or sigma'(z) is subnormal (flushed to zero by XLA's CPU backend)
# but its product with a large factor is not: m e^z = (m e^(z + c)) e^(-c), with
# z + c exact (Sterbenz) for z in [-2c, -c/2]. Below -2c the sum rounds, but there
# the product underflows unless |m| is beyond e^c (a tiny gate slope).
SCALE_SHIFT = {np.dtype(np.float32): 64.0, np.dtype(np.float64): 512.0}


def exp_neg_shift(dtype) -> float:
  """e^-c for the shift c of ``dtype`` (see exp_neg_abs_shifted)."""
  return math.exp(-SCALE_SHIFT[np.dtype(dtype)])


def neg_abs_shifted(z: jax.Array, below: float | None = None) -> tuple[jax.Array, jax.Array]:
  """(arg, low): the argument of exp_neg_abs_shifted's exponential, -|z|, or z + c
  below -c (``low``; ``below``: the threshold instead of -c, see there). For a caller
  that takes the exponential in another way (stable.exp_split)."""
  c = SCALE_SHIFT[np.dtype(z.dtype)]
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
  c = SCALE_SHIFT[np.dtype(u.dtype)]
  low = u < -c
  e = jnp.exp(jnp.where(low, u + c, u))
  if u_lo is not None:
    e = e * (1.0 + u_lo)
  y = m * e
  return jnp.where(low, y * exp_neg_shift(u.dtype), y)


# exp_neg_abs_scaled: e^-|z| from exp_parts scaled by 2^c (float32 64, float64 512:
# normal down to e^-|z| = 2^-(c + 126) in float32), with |z| clamped (128, 1000) where
# k + c is still a normal exponent. Beyond the clamp the sigmoid terms are taken as 0
# (m sigma(-|z|) underflows there unless |m| > 4e17 in float32, 4e126 in float64).
_SIGMOID_SCALE = {np.dtype(np.float32): (128.0, 64), np.dtype(np.float64): (1000.0, 512)}
SIGMOID_CLAMP = {k: v[0] for k, v in _SIGMOID_SCALE.items()}
"""|z| beyond which sigma'(z) is taken as 0 (``exp_neg_abs_parts``), per dtype."""


def exp_neg_abs_parts(
  z: jax.Array, about: tuple[jax.Array, jax.Array, float] | None = None
) -> tuple[jax.Array, jax.Array, float, jax.Array, jax.Array]:
  """(s, p, 2^-c, a, beyond): e^-a 2^c = s (1 + p) (``exp_parts``, s a power of two)
  for a = |z| clamped (``_SIGMOID_SCALE``); ``beyond``: |z| over the clamp (and
  +-inf). The parts, for a caller that sums e^-|z| with terms it cancels against
  (silu's 1 + z + e^z); ``exp_neg_abs_scaled`` for the plain product.

  ``about = (near, d, e0)``: where ``near``, the reduction is about another point
  z0 < 0 instead of k ln 2: r = d = z - z0 (|d| <= 0.35) and s = e0 2^c, e0 = e^z0
  (so s is not a power of two there)."""
  clamp, c = _SIGMOID_SCALE[np.dtype(z.dtype)]
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
  backend). |z| is clamped (``_SIGMOID_SCALE``); ``beyond``: |z| over the clamp (and
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


def sigmoid_times(z: jax.Array, m: jax.Array, z_lo: jax.Array | None = None) -> jax.Array:
  """m * sigmoid(z + z_lo), accurate where sigmoid(z) alone would be subnormal; 0 at z = -inf.

  From e = e^-|z| 2^c (``exp_neg_abs_scaled``): m / (1 + e 2^-c) for z >= 0 and
  (m e / (1 + e 2^-c)) 2^-c below. The scale is a selected factor of the quotient,
  not a select between two products of it: XLA's CPU backend would write the
  quotient, used twice, to memory.
  """
  e, unscale, beyond = exp_neg_abs_scaled(z, z_lo)
  pos = z >= 0
  num = jnp.where(pos, m, jnp.where(beyond, 0.0, m * e))
  return (num / (1.0 + e * unscale)) * jnp.where(pos, 1.0, unscale)


def sigmoid_d1_times(
  z: jax.Array, m: jax.Array, z_lo: jax.Array | None = None, m2: jax.Array | float | None = None
) -> jax.Array:
  """m * sigmoid'(z + z_lo) (times ``m2``), accurate where sigmoid'(z) alone would be
  subnormal; 0 at z = +-inf. ``m2`` is a second factor applied before the scaling (as
  x in x^2 sigma'(z), where x sigma'(z) may be subnormal and the product not).

  sigma'(z) = e / (1 + e)^2 with e = e^-|z| from ``exp_neg_abs_scaled``: scaled by
  2^c, and the product by 2^-c last, where sigma'(z) < 2^-100 or |m| is below
  ``_TANGENT_SCALE``'s limit (2^32 in float32), so that m e sigma'(z) m2 keeps its bits
  where m sigma'(z) alone is subnormal; unscaled for larger m, where m e 2^c could
  overflow (m = 1e30 at z = -1 in float32). 0 beyond the clamp, where sigma'(z)
  underflows. The scale is a power of two, so either way the products round alike.
  """
  e, unscale, beyond = exp_neg_abs_scaled(z, z_lo)
  d = 1.0 + e * unscale
  scaled = _scaled(z, m)
  me = (m * (e * jnp.where(scaled, 1.0, unscale))) / (d * d)
  if m2 is not None:
    me = me * m2
  return jnp.where(beyond, 0.0, me * jnp.where(scaled, unscale, 1.0))


def _scaled(z: jax.Array, m: jax.Array) -> jax.Array:
  # Where a product m e^-|z| is formed with e^-|z| scaled by 2^c: sigma'(z) < 2^-100
  # (there m e 2^c <= max 2^(c - 100) does not overflow) or |m| below the limit (there
  # m e 2^c < 2^(c + limit) does not either).
  bound, _, limit = _TANGENT_SCALE[np.dtype(z.dtype)]
  return (jnp.abs(z) > bound) | (jnp.abs(m) < limit)


def times_exp_far(z: jax.Array, m: jax.Array) -> jax.Array:
  """m e^-|z| for |z| beyond ``_TANGENT_SCALE``'s bound (69.4 in float32, 624 in
  float64, where sigma(-|z|) and sigma'(z) are e^-|z| to 2^-100 relative), for any
  finite m: normal wherever the product is, up to |z| = 176 (1418 in float64) with m
  near the largest number, where ``exp_neg_abs_scaled``'s clamp (128, 1000) gives 0.

  e^-|z| = 2^(k + w) (1 + p) 2^-w with w the dtype's largest exponent (``exp_parts``:
  2^(k + w) is normal for k down to -2w + 2), and m 2^-w/2 (1 + p) 2^(k + w) 2^-w/2: the
  factors of two are exact and no partial product overflows. 0 (NaN for infinite m)
  beyond, where the product is below the normal range. Values for |z| within the
  bound are not meaningful (the caller selects them away)."""
  dt = np.dtype(z.dtype)
  fi = np.finfo(dt)
  w = fi.maxexp
  clamp = (2 * w - 2) * math.log(2.0)
  bound = _TANGENT_SCALE[dt][0]
  a = jnp.abs(z)
  y = -jnp.clip(jnp.where(jnp.isnan(z), bound, a), bound, clamp)
  s, p = exp_parts(y, offset=w)
  half = 2.0 ** -(w // 2)
  out = (((m * half) * s) * (1.0 + p)) * half
  return jnp.where(a > clamp, m * 0.0, out)


def _sigmoid_d1_scaled_forward(z: jax.Array, m: jax.Array) -> jax.Array:
  # Beyond the bound sigma'(z) = e^-|z| to 2^-100 relative: times_exp_far, normal
  # wherever m sigma'(z) is (sigmoid_d1_times is 0 beyond its clamp, 128 in float32).
  far = jnp.abs(z) > _TANGENT_SCALE[np.dtype(z.dtype)][0]
  return jnp.where(far, times_exp_far(z, m), sigmoid_d1_times(z, m))


# Where sigma'(z) < 2^-100 (|z| > 69.4 in float32; 2^-900 and 624 in float64), the
# partials are given times 2^64 (2^512) and the rule divides the scale out of their
# products with the tangents (stable_kernel's tangent_scale): sigma'(z) alone may be
# subnormal where sigma'(z) times m's tangent is not (gelu's fourth derivative at
# x = -10.5 in float32 is 24 times the smallest normal). The partial in z carries m:
# it is scaled only for |m| < 2^32 (2^256), so that no scaled partial, and no
# product of one with a finite tangent, overflows, and the scales of nested orders
# do not compound.
_TANGENT_SCALE = {
  np.dtype(np.float32): (69.4, 2.0**64, 2.0**32),
  np.dtype(np.float64): (624.0, 2.0**512, 2.0**256),
}


def scale_beyond(z: jax.Array, m: jax.Array | None = None, table: dict = _TANGENT_SCALE) -> jax.Array:
  """The tangent scale of a partial in e^-|z| (times m): the table's power of two for
  |z| beyond its bound (and |m| below its limit), else 1; a select between constants,
  so its derivative is 0."""
  bound, scale, limit = table[np.dtype(z.dtype)]
  beyond = jnp.abs(z) > bound
  if m is not None:
    beyond = beyond & (jnp.abs(m) < limit)
  return jnp.where(beyond, scale, 1.0).astype(z.dtype)


# The partials of m sigma'(z) and of m sigma(z), each given times its tangent scale.


def _sigmoid_d1_scaled_dz(z: jax.Array, m: jax.Array) -> jax.Array:
  return sigmoid_d1_scaled(z, (-m * tanh(0.5 * z)) * scale_beyond(z, m))


def _sigmoid_d1_scaled_dm(z: jax.Array, m: jax.Array) -> jax.Array:
  return sigmoid_d1_scaled(z, jnp.ones_like(m) * scale_beyond(z))


def _scale_beyond_in_z(z: jax.Array, m: jax.Array) -> jax.Array:
  return scale_beyond(z)


sigmoid_d1_scaled = stable_kernel(
  _sigmoid_d1_scaled_forward,
  derivative=_sigmoid_d1_scaled_dz,
  param_derivatives={"m": _sigmoid_d1_scaled_dm},
  tangent_scale={"x": scale_beyond, "m": _scale_beyond_in_z},
)
"""m sigma'(z) as a kernel (``sigmoid_d1_times``: right where sigma'(z) alone is
subnormal); its partials are again such products, so every order is right. A twin
(``with_twin``) that writes a derivative as sigma'(z) times a factor keeps the scaling
at every order. m must be finite where z is +-inf (the product is 0 there)."""


def _sigmoid_product_forward(z: jax.Array, m: jax.Array) -> jax.Array:
  # m sigma(z) for any finite m: e^-|z| is scaled by 2^c (exp_neg_abs_scaled) only
  # where that cannot overflow (_scaled, as in sigmoid_d1_times); sigmoid_times
  # scales everywhere, for the bounded factors of its callers, and overflows for
  # |m| > 2^64 (float32). The scale is a power of two: the products round alike.
  # Below minus the bound, sigma(z) = e^z to 2^-100 relative: times_exp_far.
  e, unscale, _ = exp_neg_abs_scaled(z)
  scaled = _scaled(z, m)
  pos = z >= 0
  num = jnp.where(pos, m, m * (e * jnp.where(scaled, 1.0, unscale)))
  near = (num / (1.0 + e * unscale)) * jnp.where(pos | ~scaled, 1.0, unscale)
  return jnp.where(z < -_TANGENT_SCALE[np.dtype(z.dtype)][0], times_exp_far(z, m), near)


def scale_below(z: jax.Array, m: jax.Array | None = None) -> jax.Array:
  """The tangent scale of sigma(z) (times m): ``scale_beyond``'s power of two for z
  below minus its bound only (sigma(z) is near 1 above), else 1."""
  bound, scale, _ = _TANGENT_SCALE[np.dtype(z.dtype)]
  return jnp.where(z < -bound, scale, 1.0).astype(z.dtype)


def _sigmoid_product_dz(z: jax.Array, m: jax.Array) -> jax.Array:
  return sigmoid_d1_scaled(z, m * scale_beyond(z, m))


def _sigmoid_product_dm(z: jax.Array, m: jax.Array) -> jax.Array:
  return sigmoid_product(z, jnp.ones_like(m) * scale_below(z))


def _scale_below_in_z(z: jax.Array, m: jax.Array) -> jax.Array:
  return scale_below(z)


sigmoid_product = stable_kernel(
  _sigmoid_product_forward,
  derivative=_sigmoid_product_dz,
  param_derivatives={"m": _sigmoid_product_dm},
  tangent_scale={"x": scale_beyond, "m": _scale_below_in_z},
)
"""m sigma(z) as a kernel, for any finite m: right where sigma(z) alone is subnormal
(flushed to 0 on XLA's CPU backend) and the product is not, as glu's a sigma(b) for
a = 1.2e11, b = -95.6 in float32 (3.7e-31). Its partials are m sigma'(z)
(``sigmoid_d1_scaled``) and sigma(z), again such products, scaled where they are
below 2^-100 (``tangent_scale``), so every order is right."""

# Error-free transformations (double-word arithmetic), for arguments whose rounding
# error is amplified, as that of z in exp(z) for large |z|. split() keeps the high
# half of the significand by masking bits, so no step can be folded away by the
# compiler (Veltkamp's splitting by a multiply-subtract could be).
_SPLIT: dict[np.dtype, tuple[type, Any]] = {
  np.dtype(np.float32): (np.uint32, np.uint32(0xFFFFF000)),  # 12 of 24 bits
  np.dtype(np.float64): (np.uint64, np.uint64(0xFFFFFFFFF8000000)),  # 26 of 53 bits
}


def _int_type(dtype) -> type:
  """The signed integer type of the width of the float ``dtype`` (for bit operations)."""
  return np.int32 if np.dtype(dtype) == np.dtype(np.float32) else np.int64


def split(a: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(hi, lo) with hi + lo = a exactly and hi holding the high half of the significand."""
  utype, mask = _SPLIT[np.dtype(a.dtype)]
  bits = jax.lax.bitcast_convert_type(a, utype)
  hi = jax.lax.bitcast_convert_type(bits & mask, a.dtype)
  return hi, a - hi


def two_prod(a: jax.Array, b: jax.Array, *, guard: bool = True) -> tuple[jax.Array, jax.Array]:
  """(p, e) with p = fl(a b) and p + e = a b (to 2^-100 or so relative; Dekker).

  ``guard=False`` leaves out the select that zeroes e where p is inf or NaN, for a
  caller that bounds a and b so that p is finite for finite input (a NaN input gives
  a NaN e, which leaves a NaN result NaN); two operations less per product.
  """
  p = a * b
  ah, al = split(a)
  bh, bl = split(b)
  e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
  if not guard:
    return p, e
  # At inf, NaN or overflow the error term is meaningless (inf - inf): 0.
  return p, jnp.where(jnp.isfinite(p), e, jnp.zeros_like(e))


def two_sum(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
  # The barrier keeps XLA from folding (c + b) - c into b for a constant c.
  s = jax.lax.optimization_barrier(a + b)
  bb = s - a
  return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(s, e) with s = fl(a + b) and s + e = a + b exactly, for |a| >= |b| (Dekker)."""
  s = jax.lax.optimization_barrier(a + b)
  return s, b - (s - a)


def times_dw(a: jax.Array, b_hi: jax.Array, b_lo: jax.Array) -> tuple[jax.Array, jax.Array]:
  """a (b_hi + b_lo) as an unnormalised pair (p, e): p = fl(a b_hi), e its error plus
  a b_lo. Cheaper than :func:`_dw_times` (no renormalisation), for a sum that
  :func:`sum_dw` ends."""
  p, e = two_prod(a, b_hi)
  return p, e + a * b_lo


def sum_dw(*terms: tuple[jax.Array, jax.Array]) -> jax.Array:
  """The sum of the pairs (hi, lo), rounded once at the end: the his summed by
  :func:`two_sum`, their errors and the los in working precision (where the first
  sum is not finite, that sum)."""
  (s, e), *rest = terms
  for hi, lo in rest:
    s, e2 = two_sum(s, hi)
    e = e + (e2 + lo)
  y = s + e
  return jnp.where(jnp.isfinite(s), y, s)


def _dw_times(a_hi, a_lo, b_hi, b_lo):
  # (a_hi + a_lo)(b_hi + b_lo) to about 2^-2p relative, renormalised.
  p, e = two_prod(a_hi, b_hi)
  return fast_two_sum(p, e + (a_hi * b_lo + a_lo * b_hi))


def _dw_plus(a_hi, a_lo, b_hi, b_lo):
  s, e = two_sum(a_hi, b_hi)
  return fast_two_sum(s, e + (a_lo + b_lo))


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
  kl2, kl2_lo = two_prod(k, jnp.full_like(k, l2))
  r_hi, r_lo = two_sum(x - k * l1, -kl2)  # x - k l1 is exact
  r_lo = r_lo - (kl2_lo + k * l3)
  r_hi, r_lo = fast_two_sum(r_hi, r_lo)
  # Horner on sum_{n>=2} r^(n-2) / n!.
  acc = horner(r_hi, [_inverse_factorial(n, dt)[0] for n in range(degree, dw_from, -1)])
  hi, lo = acc, jnp.zeros_like(acc)
  for n in range(dw_from, 1, -1):
    hi, lo = _dw_times(hi, lo, r_hi, r_lo)
    f_hi, f_lo = _inverse_factorial(n, dt)
    hi, lo = _dw_plus(hi, lo, jnp.full_like(hi, f_hi), jnp.full_like(hi, f_lo))
  hi, lo = _dw_times(hi, lo, r_hi, r_lo)
  hi, lo = _dw_times(hi, lo, r_hi, r_lo)  # P = r^2 (...)
  m_hi, m_lo = _dw_plus(r_hi, r_lo, hi, lo)  # e^r - 1
  # 2^k (1 + m) - 1 = 2^k m + (2^k - 1): the products by 2^k are exact, and 2^k - 1
  # is kept as a double word (it rounds for k < -p).
  scale = jnp.ldexp(jnp.ones_like(x), k.astype(jnp.int32))
  c_hi, c_lo = two_sum(scale, -jnp.ones_like(x))
  return _dw_plus(m_hi * scale, m_lo * scale, c_hi, c_lo)


def quotient(x: jax.Array, d: jax.Array) -> jax.Array:
  """x / d, the same under any jit: the barrier keeps XLA from turning a division by
  a constant d into a multiplication by its (rounded) reciprocal."""
  return x / jax.lax.optimization_barrier(d)


def quotient_dw(x: jax.Array, d: jax.Array) -> tuple[jax.Array, jax.Array]:
  """x / d as a double word (u, u_lo): u = fl(x / d) and u_lo its rounding error to
  about 2^-p relative, from the exact residual x - u d. For an exponential of the
  quotient, whose rounding error its tail amplifies |u| times. u_lo = 0 where u or
  u d is not finite.

  The residual is x minus the four products of the halves of u and d (Dekker), each
  exact in one multiply: the same value whether or not XLA contracts a multiply and
  an add into an FMA (its CPU backend does), where x - fl(u d) - (its error) would
  count the error twice.
  """
  u = quotient(x, d)
  d = jnp.broadcast_to(d, u.shape)
  uh, ul = split(u)
  dh, dl = split(d)
  r = (((x - uh * dh) - uh * dl) - ul * dh) - ul * dl
  return u, jnp.where(jnp.isfinite(u) & jnp.isfinite(u * d), r / d, jnp.zeros_like(u))


# exp_split: reduction y = k ln 2 + r (ln 2 in three parts, k ln2_1 exact), r as a
# double word, e^r = 1 + r + r^2 P(r) (Taylor, degree 7 in float32: truncated below
# 2^-27; 13 in float64) summed once, scaled by 2^k from the exponent bits.
_EXP_SPLIT = {np.dtype(np.float32): (16, 7), np.dtype(np.float64): (42, 13)}


def exp_split(y: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(e, rel) with e^y = e (1 + rel): e within 0.65 ULP of e^y (XLA's exp: 0.9 in
  float32) and rel its relative rounding error: e (1 + rel) is e^y to eps / 6 (float32:
  r^2 P(r) rounds once), for a product that takes the factor (1 + rel) into another
  one at no extra rounding.
  For y down to log(tiny) (e normal); below, e = 0, as where XLA's exp flushes a
  subnormal result. NaN gives NaN."""
  dt = np.dtype(y.dtype)
  bits, degree = _EXP_SPLIT[dt]
  fi = np.finfo(dt)
  log_tiny = math.log(float(fi.tiny))
  under = y < log_tiny
  y = jnp.maximum(y, log_tiny)
  l1, l2, l3 = _ln2_parts(dt, bits)
  k = jnp.round(y * (1.0 / _LN2))
  r1 = y - k * l1  # exact: k has at most 11 bits, l1 the rest
  kl2 = k * l2
  # r = r1 - k l2 as a double word (Fast2Sum; where |r1| < |k l2| both are below 2^-9
  # and the error of r_lo is beneath notice). The barrier keeps XLA from folding it.
  r = jax.lax.optimization_barrier(r1 - kl2)
  r_lo = ((r1 - r) - kl2) - k * l3
  q = (r * r) * horner(r, [1.0 / math.factorial(n) for n in range(degree, 1, -1)]) + r_lo
  # 1 + r + q: 1 + r as a double word (Fast2Sum), then one rounding; lo is what it
  # dropped, and lo / e = lo (1 - r) to a few per cent.
  t = jax.lax.optimization_barrier(1.0 + r)
  u = (r - (t - 1.0)) + q
  e = t + u
  lo = u - (e - t)
  itype = _int_type(dt)
  scale = jax.lax.bitcast_convert_type((k.astype(itype) + (fi.maxexp - 1)) << fi.nmant, dt)
  return jnp.where(under, 0.0, e * scale), lo * (1.0 - r)


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
  itype = _int_type(dt)
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
  h = horner(r, [float(c) for c in _series.EXPM1_REDUCED[np.dtype(r.dtype).name]])
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


def with_sign_of(t: jax.Array, x: jax.Array) -> jax.Array:
  """|t| with the sign bit of ``x``, for t >= 0 (or NaN), by bit operations: an and
  and an or, where ``jnp.copysign`` compiles to an abs, a negation, a compare and a
  select."""
  dt = np.dtype(t.dtype)
  itype = _int_type(dt)
  sign = itype(np.array(-0.0, dt).view(itype))
  bits = jax.lax.bitcast_convert_type(t, itype) | (jax.lax.bitcast_convert_type(x, itype) & sign)
  return jax.lax.bitcast_convert_type(bits, dt)


def split_constant(c: str, dtype, parts: int = 2) -> tuple[float, ...]:
  """A decimal constant as a sum of ``parts`` floats of ``dtype``: each the nearest
  to what the ones before leave (hi, lo for two)."""
  dt = np.dtype(dtype)
  out = []
  with decimal.localcontext() as ctx:
    ctx.prec = 100
    rest = decimal.Decimal(c)
    for _ in range(parts):
      v = dt.type(float(rest))
      out.append(float(v))
      rest -= decimal.Decimal(float(v))
  return tuple(out)


def constant_pieces(c: str, bits: int, n: int) -> tuple[float, ...]:
  """A decimal constant as a sum of ``n`` floats of ``bits`` significant bits each,
  each the nearest to what the ones before leave (Cody and Waite's constants: a
  product of a piece with an integer of 53 - ``bits`` bits, or 24 - ``bits`` in
  float32, is exact)."""
  rest = fractions.Fraction(decimal.Decimal(c))
  out = []
  for _ in range(n):
    _, e = math.frexp(float(rest))
    piece = fractions.Fraction(round(rest * fractions.Fraction(2) ** (bits - e))) * fractions.Fraction(2) ** (
      e - bits
    )
    out.append(float(piece))
    rest -= piece
  return tuple(out)


def _zero_split(name: str, dtype: np.dtype) -> tuple[float, float]:
  """The zero z0 of the factor ``name`` as two floats of ``dtype``, hi + lo."""
  z0 = decimal.Decimal(_series.SERIES[name][0])
  hi = dtype.type(float(z0))
  return hi, dtype.type(float(z0 - decimal.Decimal(float(hi))))


def _series_coefficients(name: str, dtype: np.dtype) -> list[float]:
  """The Taylor coefficients of the factor ``name``, up to a relative size of 2^-30
  (float32) or 2^-60 (float64) of the first at |d| = _series.RADIUS."""
  coeffs = _series.SERIES[name][1]
  tol = 2.0**-30 if dtype == np.dtype(np.float32) else 2.0**-60
  first = abs(float(coeffs[0])) * _series.RADIUS
  n = max(k for k, c in enumerate(coeffs, 1) if abs(float(c)) * _series.RADIUS**k >= tol * first)
  return [float(c) for c in coeffs[:n]]


def from_zero(name: str, z: jax.Array) -> jax.Array:
  """d = z - z0 for the zero z0 of the factor ``name`` (``_series.py``), to one
  rounding: z0 is split into two floats, hi + lo."""
  hi, lo = _zero_split(name, np.dtype(z.dtype))
  # The barrier keeps XLA from folding (z - hi) - lo into z - (hi + lo), which
  # rounds lo away (it reassociates constants under jit).
  return jax.lax.optimization_barrier(z - hi) - lo


def near_zero(name: str, z: jax.Array, z_lo: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
  """(near, g): whether z is within the series' radius (0.5) of the zero of the
  factor ``name`` (see ``_series.py``), and the factor there from its Taylor series
  in d = z - z0 (``from_zero``: one rounding). ``z_lo`` is the rounding error of
  ``z`` where it was computed as a double word.
  """
  coeffs = _series_coefficients(name, np.dtype(z.dtype))
  d = from_zero(name, z)
  if z_lo is not None:
    d = d + z_lo
  near = jnp.abs(d) < _series.RADIUS
  d = jnp.clip(d, -_series.RADIUS, _series.RADIUS)
  return near, d * horner(d, coeffs[::-1])
