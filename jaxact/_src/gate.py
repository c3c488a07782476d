"""The gate x sigma(k x): the derivative kernels that silu, quick_gelu and lisht share.

Their derivatives have interior zeros (silu' at x = -1.2785, silu'' at +-2.3994),
where the textbook forms cancel; there the cancelling factor is evaluated from
its Taylor series around the zero (``stable.near_zero``), or, for silu', summed from
exact parts of e^z (reduced about the zero itself next to it), so the derivatives keep
their relative accuracy through the zeros. Factors of sigmoid(z) that would be
subnormal are scaled (``stable.sigmoid_times``).

``z`` is ``k x`` (a double word ``z + z_lo`` where ``k x`` rounds); ``d1(z, z_lo)``
is d/dx x sigma(k x) and ``d2(z, z_lo, k)`` the second derivative.
"""

from __future__ import annotations

import decimal

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import _series, stable


def beta_z(x: jax.Array, beta: jax.Array) -> tuple[jax.Array, jax.Array]:
  # z = beta x as a double word: in the tail sigma(z) = e^z, and a z rounded once
  # would cost |z| / 2 ULP there.
  return stable.two_prod(beta, x)


def const_z(x: jax.Array, k: str) -> tuple[jax.Array, jax.Array]:
  # z = k x for a decimal constant k (quick_gelu's 1.702), as a double word.
  hi, lo = stable.split_constant(k, x.dtype)
  z, e = stable.two_prod(jnp.full_like(x, hi), x)
  return z, jnp.where(jnp.isfinite(z), e + lo * x, 0.0)


def g2(z: jax.Array, z_lo: jax.Array | None) -> jax.Array:
  # 2 - z tanh(z / 2): silu''(z) / sigma'(z); even, with zeros at +-2.3994.
  formula = 2.0 - z * stable.tanh(0.5 * z)
  near_pos, series_pos = stable.near_zero("silu_d2_pos", z, z_lo)
  near_neg, series_neg = stable.near_zero("silu_d2_neg", z, z_lo)
  return jnp.where(near_pos, series_pos, jnp.where(near_neg, series_neg, formula))


def finite(z: jax.Array) -> jax.Array:
  """z, with +-inf taken as 0: a guarded argument for a factor thrown away there (so
  that no inf or NaN reaches a derivative)."""
  return jnp.where(jnp.isinf(z), 0.0, z)


def d2_twin(z: jax.Array, k) -> jax.Array:
  # k sigma'(z) (2 - z tanh(z / 2)) in kernels: the third and higher derivatives of
  # x sigma(k x) (z = k x) and its partials in k are this one's (stable.with_twin).
  # Beyond the clamp of sigma' (where it and every derivative of it times a power
  # of z is 0, and z tanh(z / 2) may overflow: z = 2.9e38 for lisht at x = 1.5e38 in
  # float32) the factor is 0.
  beyond = jnp.abs(z) > stable.SIGMOID_CLAMP[np.dtype(z.dtype)]
  zs = jnp.where(beyond, 0.0, z)
  return stable.sigmoid_d1_scaled(z, k * jnp.where(beyond, 0.0, 2.0 - zs * stable.tanh(0.5 * zs)))


def d2(z: jax.Array, z_lo: jax.Array | None, k: jax.Array | float) -> jax.Array:
  # d^2/dx^2 of x sigma(k x) = k sigma'(z) (2 - z tanh(z / 2)). k goes into the
  # scaled product (m2, after g sigma'(z), which is 0 where k g would overflow): k
  # sigma'(z) g is normal where sigma'(z) g alone may not be.
  g = g2(z, z_lo)
  # At +-inf, sigma'(z) = 0 and g = -inf: the limit is 0.
  return stable.sigmoid_d1_times(z, jnp.where(jnp.isinf(z), 0.0, g), z_lo, m2=k)


# Within this distance of the zero z0 of silu' the exponential is reduced about z0
# (below); at most _series.EXPM1_REDUCED_RADIUS, the interval of exp_parts' fit.
_SILU_D1_RADIUS = 0.25
assert _SILU_D1_RADIUS <= _series.EXPM1_REDUCED_RADIUS
# e^z0 = -(1 + z0), as 1 + z0 + e^z0 = 0.
_SILU_D1_E0 = float(-(1 + decimal.Decimal(_series.SERIES["silu_d1"][0])))


def d1(z: jax.Array, z_lo: jax.Array | None) -> jax.Array:
  # d/dx of x sigma(k x) in z = k x: sigma(z) (1 + z sigma(-z)). With e^-|z| =
  # 2^-c s (1 + p) (stable.exp_neg_abs_parts; e = s + s p, r = 1 / (1 + e 2^-c)):
  # r (1 + z e 2^-c r) for z >= 0, and below e r^2 N 2^-c with N = 1 + z + e^z =
  # ((1 + z) + s 2^-c) + s 2^-c p. N vanishes at z0 = -1.2785, where 1 + z + s 2^-c
  # is exact (Sterbenz): N is then wrong by s 2^-c times p's absolute error, 2^-25,
  # not by 2^-24 of the terms of 0.28 that cancel. Within _SILU_D1_RADIUS of z0 the
  # exponential is reduced about z0 itself: e^z = e0 (1 + p), e0 = e^z0 = -(1 + z0)
  # and p = e^d - 1, d = z - z0 (one rounding, z0 split in two), so that N = d + e0 p,
  # a sum of two terms of d's sign, with no cancellation left.
  d = stable.from_zero("silu_d1", z)
  near = jnp.abs(d) < _SILU_D1_RADIUS
  s, p, unscale, a, beyond = stable.exp_neg_abs_parts(z, about=(near, d, _SILU_D1_E0))
  e = s + s * p
  su = s * unscale
  n = jnp.where(near, d, (1.0 - a) + su) + su * p  # a = -z where z < 0
  if z_lo is not None:
    factor = stable.z_lo_factor(z, z_lo, beyond)
    e = e * factor
    n = n + z_lo * (1.0 + e * unscale)
  r = 1.0 / (1.0 + e * unscale)
  f = n * r  # 1 + z sigma(-z), z < 0
  # z >= 0; z e^-z is 0 beyond the clamp (and at +inf, where z e would be NaN).
  g_pos = 1.0 + jnp.where(beyond, 0.0, z * ((e * unscale) * r))
  # The scale is the constant 2^-c on the last product: XLA then sums a GLU's
  # g'(b) + a g''(b) before scaling (A k + B k -> (A + B) k), which keeps that sum
  # right where a g''(b) alone is subnormal (the gated battery measures it).
  return jnp.where(z >= 0, g_pos * r, ((f * jnp.where(beyond, 0.0, e)) * r) * unscale)


def d1_general(z: jax.Array, z_lo: jax.Array, m: jax.Array, series: tuple[str, jax.Array]) -> jax.Array:
  # d/dx of x sigma(z(x)): sigma(z) (1 + m sigma(-z)) with m = x z'(x), from e =
  # e^-|z| 2^c (stable.exp_neg_abs_scaled): with r = 1 / (1 + e 2^-c), sigma(z) is r
  # (z >= 0) or (e r) 2^-c, where e 2^-c alone may be subnormal and the product not;
  # sigma(-z) is e 2^-c r or r. The factor's zero comes from its series (name, its
  # variable): m carries a rounding of its own, so 1 + m + e^z would not help.
  name, var = series
  e, unscale, beyond = stable.exp_neg_abs_scaled(z, z_lo)
  pos = z >= 0
  r = 1.0 / (1.0 + e * unscale)
  s_neg = jnp.where(pos, e * unscale, 1.0) * r  # sigma(-z); 0 only where m sigma(-z) is
  # (Beyond the clamp, and at z = +-inf, m sigma(-z) is 0 or sigma(z) underflows: g
  # is kept finite there.)
  g = 1.0 + jnp.where((s_neg == 0) | beyond, 0.0, m * s_neg)
  near, g_near = stable.near_zero(name, var)
  g = jnp.where(near, g_near, g)
  # The constant scale last, as in d1.
  return jnp.where(pos, g * r, ((g * jnp.where(beyond, 0.0, e)) * r) * unscale)
