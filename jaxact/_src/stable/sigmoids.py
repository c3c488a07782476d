"""tanh, sech^2, sigma and sigma' as kernels, and the products m sigma(z), m sigma'(z)
right where sigma(z) or sigma'(z) alone is subnormal (flushed to 0 on XLA's CPU
backend) and the product is not."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import _series
from jaxact._src.core import stable_kernel
from jaxact._src.stable import eft, exps, pieces, scaling, series

# tanh and sech^2 from e = e^(-2|x|) = 2^k (1 + p) (exp_parts): tanh|x| = (1 - e) /
# (1 + e) with 1 - e = (1 - 2^k) - 2^k p, 1 + e = (1 + 2^k) + 2^k p, where 1 -+ 2^k and
# 2^k p are exact: each of the two sums rounds once, and neither cancels (at k = 0,
# 1 - e = -p is e^r - 1 to full relative accuracy). Clamped where tanh rounds to 1
# (float32: from 9.1, float64: 19.1).
_TANH_CLAMP = 20.0
# sech^2 = 4e / (1 + e)^2 is formed scaled by 2^c (scaling.power; exp_parts' offset
# 2 + c: the 4 goes into the exponent), normal wherever sech^2 is, so that it rounds
# once into the subnormal range; clamped where it rounds to 0 (float32: |x| > 52.7,
# float64: 373). (sigmoid_d1_times(2x, 4) gives the same values; its extra products
# and select measured slower on tanh's gradient.)
_SECH2_CLAMP = {np.dtype(np.float32): 56.0, np.dtype(np.float64): 380.0}


def _tanh_forward(x: jax.Array) -> jax.Array:
  a = jnp.abs(x)
  s, p = exps.exp_parts(-2.0 * jnp.where(a > _TANH_CLAMP, _TANH_CLAMP, a))  # NaN stays NaN
  sp = s * p
  return eft.with_sign_of(((1.0 - s) - sp) / ((1.0 + s) + sp), x)


def _sech2_forward(x: jax.Array) -> jax.Array:
  # Never 1 - tanh^2, which is 0 from x = 8.5 in float32 (exact 1.66e-7 there). At
  # most 1, as sech^2 is: near 0 the rounding could give 1 + ULP.
  clamp, c = _SECH2_CLAMP[np.dtype(x.dtype)], scaling.EXPONENT[np.dtype(x.dtype)]
  a = jnp.abs(x)
  s, p = exps.exp_parts(-2.0 * jnp.where(a > clamp, clamp, a), offset=2 + c)
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


tanh_d2 = pieces.with_twin(_tanh_d2_forward, _tanh_d2_twin)
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
  acc = series.horner(t, [float(c) for c in _series.TANHSHRINK[np.dtype(x.dtype).name]])
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


def sigmoid_times(z: jax.Array, m: jax.Array, z_lo: jax.Array | None = None) -> jax.Array:
  """m * sigmoid(z + z_lo), accurate where sigmoid(z) alone would be subnormal; 0 at z = -inf.

  From e = e^-|z| 2^c (``exp_neg_abs_scaled``): m / (1 + e 2^-c) for z >= 0 and
  (m e / (1 + e 2^-c)) 2^-c below. The scale is a selected factor of the quotient,
  not a select between two products of it: XLA's CPU backend would write the
  quotient, used twice, to memory.
  """
  e, unscale, beyond = exps.exp_neg_abs_scaled(z, z_lo)
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
  ``scaling.limit`` (2^32 in float32), so that m e sigma'(z) m2 keeps its bits
  where m sigma'(z) alone is subnormal; unscaled for larger m, where m e 2^c could
  overflow (m = 1e30 at z = -1 in float32). 0 beyond the clamp, where sigma'(z)
  underflows. The scale is a power of two, so either way the products round alike.
  """
  e, unscale, beyond = exps.exp_neg_abs_scaled(z, z_lo)
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
  dt = np.dtype(z.dtype)
  return (jnp.abs(z) > _TANGENT_BOUND[dt]) | (jnp.abs(m) < scaling.limit(dt))


def times_exp_far(z: jax.Array, m: jax.Array) -> jax.Array:
  """m e^-|z| for |z| beyond ``_TANGENT_BOUND`` (69.4 in float32, 624 in
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
  bound = _TANGENT_BOUND[dt]
  a = jnp.abs(z)
  y = -jnp.clip(jnp.where(jnp.isnan(z), bound, a), bound, clamp)
  s, p = exps.exp_parts(y, offset=w)
  half = 2.0 ** -(w // 2)
  out = (((m * half) * s) * (1.0 + p)) * half
  return jnp.where(a > clamp, m * 0.0, out)


def _sigmoid_d1_scaled_forward(z: jax.Array, m: jax.Array) -> jax.Array:
  # Beyond the bound sigma'(z) = e^-|z| to 2^-100 relative: times_exp_far, normal
  # wherever m sigma'(z) is (sigmoid_d1_times is 0 beyond its clamp, 128 in float32).
  far = jnp.abs(z) > _TANGENT_BOUND[np.dtype(z.dtype)]
  return jnp.where(far, times_exp_far(z, m), sigmoid_d1_times(z, m))


# Where sigma'(z) < 2^-100 (|z| > 69.4 in float32; 2^-900 and 624 in float64), the
# partials are given times 2^c (scaling.power: 2^64, 2^512) and the rule divides the
# scale out of their products with the tangents (stable_kernel's tangent_scale):
# sigma'(z) alone may be subnormal where sigma'(z) times m's tangent is not (gelu's
# fourth derivative at x = -10.5 in float32 is 24 times the smallest normal). The
# partial in z carries m: it is scaled only for |m| below scaling.limit (2^32, 2^256).
_TANGENT_BOUND: dict[np.dtype, float] = {np.dtype(np.float32): 69.4, np.dtype(np.float64): 624.0}


def _tangent_scale(z: jax.Array, m: jax.Array | None = None) -> jax.Array:
  return scaling.scale_beyond(z, m, _TANGENT_BOUND)


# The partials of m sigma'(z) and of m sigma(z), each given times its tangent scale.


def _sigmoid_d1_scaled_dz(z: jax.Array, m: jax.Array) -> jax.Array:
  return sigmoid_d1_scaled(z, (-m * tanh(0.5 * z)) * _tangent_scale(z, m))


sigmoid_d1_scaled = pieces.scaled_product_kernel(
  _sigmoid_d1_scaled_forward, dz=_sigmoid_d1_scaled_dz, scale=_tangent_scale, m_scale=_tangent_scale
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
  e, unscale, _ = exps.exp_neg_abs_scaled(z)
  scaled = _scaled(z, m)
  pos = z >= 0
  num = jnp.where(pos, m, m * (e * jnp.where(scaled, 1.0, unscale)))
  near = (num / (1.0 + e * unscale)) * jnp.where(pos | ~scaled, 1.0, unscale)
  return jnp.where(z < -_TANGENT_BOUND[np.dtype(z.dtype)], times_exp_far(z, m), near)


def scale_below(z: jax.Array, m: jax.Array | None = None) -> jax.Array:
  """The tangent scale of sigma(z) (times m): ``scaling.power`` for z below minus the
  bound only (sigma(z) is near 1 above), else 1."""
  dt = np.dtype(z.dtype)
  return jnp.where(z < -_TANGENT_BOUND[dt], scaling.power(dt), 1.0).astype(z.dtype)


def _sigmoid_product_dz(z: jax.Array, m: jax.Array) -> jax.Array:
  return sigmoid_d1_scaled(z, m * _tangent_scale(z, m))


sigmoid_product = pieces.scaled_product_kernel(
  _sigmoid_product_forward, dz=_sigmoid_product_dz, scale=_tangent_scale, m_scale=scale_below
)
"""m sigma(z) as a kernel, for any finite m: right where sigma(z) alone is subnormal
(flushed to 0 on XLA's CPU backend) and the product is not, as glu's a sigma(b) for
a = 1.2e11, b = -95.6 in float32 (3.7e-31). Its partials are m sigma'(z)
(``sigmoid_d1_scaled``) and sigma(z), again such products, scaled where they are
below 2^-100 (``tangent_scale``), so every order is right."""
