"""Periodic units: snake, x + sin^2(a x) / a.

The derivatives 1 + sin(2ax) and 2a cos(2ax) vanish at infinitely many points,
where their textbook forms cancel: 1 + sin t is written cos^2 t / (1 - sin t)
where sin t < 0, and u = a x is carried as a double word, and 2u is reduced by
pi/2 as a double word (Cody and Waite, with pieces of pi/2 whose products with
the quotient are exact), so sin and cos of 2u are accurate relative to their own
size next to their zeros, for any a, up to |ax| = 2^23 (float32) and 2^52
(float64). Beyond, where the quotient is no longer an exact integer of the dtype,
they come from angle addition and are accurate only absolutely: the one known
miss, at frequencies that are not powers of two (a power of two makes a x exact).
The value adds x and the term as a double word, as they cancel for x < 0. XLA's
sin and cos reduce their argument exactly (measured: within 0.55 ULP up to the
largest float32 and float64).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import stable
from jaxact._src.core import activation, stable_kernel


def _u(x: jax.Array, a: jax.Array) -> tuple[jax.Array, jax.Array]:
  # u = a x as a double word (p, e): sin(u) = sin(p) + cos(p) e to full accuracy.
  p, e = stable.two_prod(jnp.broadcast_to(a, x.shape), x)
  return p, jnp.where(jnp.isfinite(p), e, 0.0)


def _add_angle(s: jax.Array, c: jax.Array, e: jax.Array) -> tuple[jax.Array, jax.Array]:
  # sin and cos of (t + e) from those of t: the angle addition formulas, exact in
  # form. e is the low part of a double word; beyond 2^24 (float32) it is not small.
  se, ce = jnp.sin(e), jnp.cos(e)
  return s * ce + c * se, c * ce - s * se


def _sin_cos_u(x: jax.Array, a: jax.Array) -> tuple[jax.Array, jax.Array]:
  p, e = _u(x, a)
  return _add_angle(jnp.sin(p), jnp.cos(p), e)


def _sin_cos_2u_far(x: jax.Array, a: jax.Array) -> tuple[jax.Array, jax.Array]:
  """sin(2u) and cos(2u) by angle addition from those of 2p and 2e: accurate only
  absolutely next to their zeros, by about |e| (used beyond the limit of _REDUCTION)."""
  p, e = _u(x, a)
  big = jnp.abs(p) > float(jnp.finfo(p.dtype).max) / 2  # 2p would overflow
  t = 2.0 * jnp.where(big, 0.0, p)
  s2, c2 = jnp.sin(t), jnp.cos(t)
  # Beyond max / 2: from sin p and cos p (the double angle formulas).
  s, c = jnp.sin(p), jnp.cos(p)
  s2 = jnp.where(big, 2.0 * s * c, s2)
  c2 = jnp.where(big, (c - s) * (c + s), c2)
  return _add_angle(s2, c2, 2.0 * e)


_PI_2 = "1.570796326794896619231321691639751442098584699687552910487472296153908203143104499314"
_TWO_OVER_PI = "0.6366197723675813430755350534900574481378"
# |2u| up to which 2u is reduced by pi/2 (Cody and Waite): the quotient k is then an
# exact integer of the dtype. pi/2 in pieces of as many bits as the high half of a
# split k (12 of 24, 26 of 53) has, so every k_i P_j is exact in one multiply: the
# same value whether or not XLA contracts it with an add into an FMA (its CPU
# backend does); 6 and 5 pieces carry pi/2 to 2^-72 and 2^-130.
_REDUCTION = {
  np.dtype(np.float32): (2.0**24, 12, 6),
  np.dtype(np.float64): (2.0**53, 26, 5),
}


def _reduce_2u(x: jax.Array, a: jax.Array):
  """2u = k pi/2 + d, u = a x, with d as a double word: (k mod 4, d, d_lo, inside).

  k is the integer nearest to the rounded 2p (2 / pi), so |d| < 3 pi / 4. The exact
  products k_i P_j are subtracted from 2p largest first, each by two_sum: the leading
  differences are exact, and once the rest is of the size of d its rounding errors
  are gathered in d_lo, so d is accurate to about 2^-2p absolute; sin d and cos d,
  and with them sin 2u and cos 2u, are accurate relative to their own size next to
  their zeros. ``inside``: |2u| within the limit, where this holds.
  """
  dt = np.dtype(x.dtype)
  limit, bits, n = _REDUCTION[dt]
  p, e = _u(x, a)
  t, t_lo = 2.0 * p, 2.0 * e
  inside = jnp.abs(t) <= limit
  t = jnp.where(inside, t, 0.0)
  t_lo = jnp.where(inside, t_lo, 0.0)
  k = jnp.round(t * float(dt.type(float(_TWO_OVER_PI))))
  k_hi, k_lo = stable.split(k)
  pieces = stable.constant_pieces(_PI_2, bits, n)
  terms = [-(kk * c) for c in pieces[:2] for kk in (k_hi, k_lo)]
  terms += [t_lo] + [-(kk * c) for c in pieces[2:] for kk in (k_hi, k_lo)]
  hi, lo = t, jnp.zeros_like(t)
  for term in terms:
    hi, err = stable.two_sum(hi, term)
    lo = lo + err
  d, d_lo = stable.fast_two_sum(hi, lo)
  q = k - 4.0 * jnp.floor(0.25 * k)
  return q, d, d_lo, inside


def _sin_cos_2u(x: jax.Array, a: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """sin(2u), cos(2u) and 1 + sin(2u), u = a x, each accurate next to its zeros up
  to the limit of _REDUCTION; beyond, by angle addition (see _sin_cos_2u_far)."""
  q, d, d_lo, inside = _reduce_2u(x, a)
  sd, cd = jnp.sin(d), jnp.cos(d)
  sin_d, cos_d = sd + cd * d_lo, cd - sd * d_lo
  # sin(d + q pi/2) and cos(d + q pi/2) by quadrant.
  s2 = jnp.select([q == 0, q == 1, q == 2], [sin_d, cos_d, -sin_d], -cos_d)
  c2 = jnp.select([q == 0, q == 1, q == 2], [cos_d, -sin_d, -cos_d], sin_d)
  s_far, c_far = _sin_cos_2u_far(x, a)
  s2, c2 = jnp.where(inside, s2, s_far), jnp.where(inside, c2, c_far)
  # 1 + sin t; where sin t < 0, cos^2 t / (1 - sin t): no cancellation at its zeros
  # (sin t = -1), where cos t is accurate relative to itself.
  return s2, c2, jnp.where(s2 >= 0.0, 1.0 + s2, (c2 * c2) / (1.0 - s2))


def _snake_d2(x: jax.Array, a: jax.Array) -> jax.Array:
  _, c2, _ = _sin_cos_2u(x, a)
  return 2.0 * a * c2


snake_d2 = stable_kernel(
  _snake_d2,
  derivative=stable.partial_by_jvp(_snake_d2, 0),
  param_derivatives={"a": stable.partial_by_jvp(_snake_d2, 1)},
)


def _snake_d1(x: jax.Array, a: jax.Array) -> jax.Array:
  return _sin_cos_2u(x, a)[2]


snake_d1 = stable_kernel(
  _snake_d1,
  derivative=lambda x, a: snake_d2(x, a),
  param_derivatives={"a": stable.partial_by_jvp(_snake_d1, 1)},
)

# g'(u) for g(u) = sin^2(u) / u: sum_k (-1)^(k+1) 2^(2k-1) (2k-1) u^(2k-2) / (2k)!, in u^2.
_DA_TERMS = 11
_DA_COEFFS = [
  (-1) ** (k + 1) * 2 ** (2 * k - 1) * (2 * k - 1) / math.factorial(2 * k) for k in range(1, _DA_TERMS)
]


def _snake_da(x: jax.Array, a: jax.Array) -> jax.Array:
  # d/da sin^2(ax) / a = x^2 g'(u), u = a x: for |u| < 1/2 from its series (the
  # textbook (x sin 2u - sin^2(u) / a) / a cancels to x^2 as a -> 0, the limit
  # at a = 0); above, from that form.
  p, _ = _u(x, a)
  small = jnp.abs(p) < 0.5
  w = jnp.where(small, p, 0.0)
  w2 = w * w
  series = (x * x) * stable.horner(w2, _DA_COEFFS[::-1])
  s2, _, _ = _sin_cos_2u(x, a)
  sin_u, _ = _sin_cos_u(x, a)
  a_safe = jnp.where(small, 1.0, a)
  direct = (x * s2 - sin_u * sin_u / a_safe) / a_safe
  return jnp.where(small, series, direct)


def _snake_forward(x: jax.Array, a: jax.Array) -> jax.Array:
  # For x < 0, x and sin^2(u) / a (u = a x) have opposite signs and cancel, by up to
  # a factor of 3.6 (near u = -1.2); so the term is formed as a double word and added
  # with one rounding. sin u = s + d, s = sin p, d = c sin e - 2 s sin^2(e / 2) (angle
  # addition, exact in form); sin^2 u = s^2 + d (2 s + d), with s^2 exact (two_prod).
  # Only the rounding of sin p itself (0.55 ULP) is left, as at a = 1.
  p, e = _u(x, a)
  s, c = jnp.sin(p), jnp.cos(p)
  h = jnp.sin(0.5 * e)
  d = c * jnp.sin(e) - 2.0 * s * (h * h)
  q, q_lo = stable.two_prod(s, s)
  zero = a == 0.0
  a_safe = jnp.where(zero, 1.0, a)
  t, t_lo = stable.quotient_dw(q, a_safe)
  y, y_lo = stable.two_sum(x, t)
  y = y + (y_lo + (t_lo + (q_lo + d * (2.0 * s + d)) / a_safe))
  # a -> 0: sin^2(ax) / a -> 0 (the limit). At +-inf, or where a x overflows, the
  # bounded term is below half an ULP of x (sin(inf) is NaN): f = x.
  return jnp.where(zero | jnp.isinf(p), x, y)


@activation(
  derivative=lambda x, frequency: snake_d1(x, frequency),
  param_derivatives={"frequency": _snake_da},
  family="periodic",
  formula="x + sin(a x)^2 / a, a = frequency",
  output_range="(-inf, inf)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=True,
  bounded=False,
  conventions=(
    "frequency a is keyword-only, differentiable, one per channel by broadcasting; at a = 0 "
    "the value is the limit x, f' = 1, and d/da = x^2 (the limits). f(+-inf) = +-inf; "
    "f'(+-inf) is NaN (1 + sin has no limit)."
  ),
  references=(
    "Ziyin, Hartwig, Ueda 2020, Neural Networks Fail to Learn Periodic Functions, arXiv:2006.08195",
  ),
)
def snake(x: jax.Array, *, frequency: jax.Array = 1.0) -> jax.Array:
  r"""Snake: a monotonic activation with a periodic component.

  .. math::
    \mathrm{snake}_a(x) = x + \frac{\sin^2(a x)}{a}, \qquad f'(x) = 1 + \sin(2ax), \qquad
    f''(x) = 2a\cos(2ax)

  :math:`u = ax` is carried as a double word, :math:`2u` is reduced by :math:`\pi/2`
  as a double word, and :math:`1 + \sin t` is written :math:`\cos^2 t / (1 - \sin t)`
  where :math:`\sin t < 0`, so the derivatives keep their relative accuracy next to
  their zeros (:math:`ax = -\pi/4 + k\pi`) at any frequency up to
  :math:`|ax| = 2^{23}` (float32) and :math:`2^{52}` (float64), and at every magnitude
  where the frequency is a power of two. Beyond that, at other frequencies, they are
  accurate only absolutely there (the known miss: the tests mark it, with its
  figures). The value is within its bound everywhere. At :math:`a = 0` the value is
  its limit :math:`x`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    frequency: keyword-only :math:`a`, differentiable, broadcasts to ``x`` (one per
      channel: shape ``(C,)``).

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 (float32,
  float64; the derivatives within the range above); 1, 1, 2 ULP in
  float16/bfloat16.

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.snake(jnp.array([-1.0, 0.0, 2.0], dtype=jnp.float32), frequency=0.5)
    Array([-0.5403023,  0.       ,  3.4161468], dtype=float32)
  """
  return _snake_forward(x, frequency)
