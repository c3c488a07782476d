"""Periodic units: snake, x + sin^2(a x) / a.

The derivatives 1 + sin(2ax) and 2a cos(2ax) vanish at infinitely many points,
where their textbook forms cancel: 1 + sin t is written cos^2 t / (1 - sin t)
where sin t < 0, u = a x is carried as a double word, and 2u is reduced by pi/2
as a double word (Cody and Waite up to 2^p, Payne and Hanek beyond), so sin and
cos of 2u are accurate relative to their own size next to their zeros, for any a
and any x (a x beyond the largest float included). The value adds x and the term
as a double word, as they cancel for x < 0. XLA's sin and cos reduce their
argument exactly (measured: within 0.55 ULP up to the largest float32 and float64).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxact._src import checks, sharding, stable
from jaxact._src.core import activation, stable_kernel
from jaxact._src.exact import Reference, mp


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


_PI_2 = "1.570796326794896619231321691639751442098584699687552910487472296153908203143104499314"
_TWO_OVER_PI = "0.6366197723675813430755350534900574481378"
# Two reductions by pi/2 of a float v, to k pi/2 + d with d a double word accurate to
# about 2^-2p absolute, so that sin and cos of the result are accurate relative to
# their own size next to their zeros:
# * Cody and Waite for |v| <= 2^p (the quotient k an exact integer of the dtype): pi/2
#   in n pieces of as many bits as the high half of a split k (12 of 24, 26 of 53)
#   has, so every k_i P_j is exact in one multiply, the same value whether or not XLA
#   contracts it with an add into an FMA (its CPU backend does);
# * Payne and Hanek beyond: v = m 2^s with m an integer of p bits, and v (2 / pi) mod
#   4 = m C(s) mod 4, C(s) = 2^s (2 / pi) mod 4 tabulated per exponent s in n pieces
#   of the same size, so every m_i C_j is exact too.
# dtype -> (p, bits per piece, pieces)
_REDUCTION = {np.dtype(np.float32): (24, 12, 7), np.dtype(np.float64): (53, 26, 7)}


def _cody_waite(v: jax.Array, v_lo: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """v + v_lo = k pi/2 + d for |v| <= 2^p, |v_lo| <= ulp(v): (k, d, d_lo).

  k is the integer nearest to the rounded v (2 / pi), so |d| < 3 pi / 4. The exact
  products k_i P_j are subtracted from v largest first, each by two_sum: the leading
  differences are exact, and once the rest is of the size of d its rounding errors
  are gathered in d_lo.
  """
  dt = np.dtype(v.dtype)
  _, bits, n = _REDUCTION[dt]
  k = jnp.round(v * float(dt.type(float(_TWO_OVER_PI))))
  k_hi, k_lo = stable.split(k)
  pieces = stable.constant_pieces(_PI_2, bits, n - 1)
  terms = [-(kk * c) for c in pieces[:2] for kk in (k_hi, k_lo)]
  terms += [v_lo] + [-(kk * c) for c in pieces[2:] for kk in (k_hi, k_lo)]
  hi, lo = v, jnp.zeros_like(v)
  for term in terms:
    hi, err = stable.two_sum(hi, term)
    lo = lo + err
  d, d_lo = stable.fast_two_sum(hi, lo)
  return k, d, d_lo


@functools.cache
def _two_over_pi_table(dtype: np.dtype) -> np.ndarray:
  """C(s) = 2^s (2 / pi) mod 4 in pieces (truncated), for s = -1 .. 2 max_exp."""
  _, bits, n = _REDUCTION[dtype]
  fi = np.finfo(dtype)
  top = 2 * int(fi.maxexp) + 1
  frac_bits = top + 2 + bits * n + 16
  # 2 / pi to frac_bits bits, in integers: pi by Machin's formula with guard bits.
  g = frac_bits + 32

  def atan_inv(x: int) -> int:
    total, term, k, x2 = 0, (1 << g) // x, 1, x * x
    while term:
      total += term // k if k % 4 == 1 else -(term // k)
      term //= x2
      k += 2
    return total

  pi = 16 * atan_inv(5) - 4 * atan_inv(239)  # pi 2^g
  two_over_pi = (1 << (g + frac_bits + 1)) // pi  # (2 / pi) 2^frac_bits
  rows = []
  for s in range(-1, top + 1):
    x = ((two_over_pi << (s + 1)) >> 1) % (4 << frac_bits)  # (2^s 2/pi mod 4) 2^frac_bits
    rows.append(
      [
        float(((x >> (frac_bits + 2 - bits * (j + 1))) & ((1 << bits) - 1)) * 2.0 ** (2 - bits * (j + 1)))
        for j in range(n)
      ]
    )
  return np.asarray(rows, dtype)


def _mod4(v: jax.Array) -> jax.Array:
  # v - 4 round(v / 4), exact: |result| <= 2 is a multiple of ulp(v).
  return v - 4.0 * jnp.round(0.25 * v)


def _payne_hanek(v: jax.Array, shift: jax.Array, table: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """v 2^shift = k pi/2 + d (mod 2 pi) for |v 2^shift| >= 2^(p - 1): (k, d, d_lo), |d| <= pi/4.
  ``table``: _two_over_pi_table of v's dtype."""
  dt = np.dtype(v.dtype)
  prec, _, n = _REDUCTION[dt]
  mant, ex = jnp.frexp(v)
  m = mant * float(2.0**prec)
  row = jnp.clip(ex.astype(jnp.int32) - prec + shift + 1, 0, table.shape[0] - 1)
  # (a gather that explicit sharding cannot infer the sharding of: snake reaches it
  # per shard, in shard_map, or with a replicated row, see _reduce_2u)
  c = table[row]
  m_hi, m_lo = stable.split(m)
  hi, lo = jnp.zeros_like(v), jnp.zeros_like(v)
  for j in range(n):
    for mm in (m_hi, m_lo):
      hi, err = stable.two_sum(hi, _mod4(mm * c[..., j]))
      lo = lo + err
      hi = _mod4(hi)
  k = jnp.round(hi)
  f, f_lo = stable.fast_two_sum(hi - k, lo)
  pi_hi, pi_lo = stable.split_constant(_PI_2, dt)
  d, d_lo = stable.two_prod(f, jnp.full_like(f, pi_hi), guard=False)
  return (k, *stable.fast_two_sum(d, d_lo + (f * pi_lo + f_lo * pi_hi)))


def _reduce_far(x: jax.Array, a: jax.Array, inside: jax.Array, table: jax.Array):
  """2u = k pi/2 + d beyond 2^p: u reduced, p by Payne and Hanek and e by either, from
  a x scaled by the exponent of a (so that a x may exceed the largest float), and
  doubled. (k, d, d_lo); arbitrary where ``inside``. ``table``: _two_over_pi_table."""
  limit = 2.0 ** _REDUCTION[np.dtype(x.dtype)][0]
  a_m, a_e = jnp.frexp(jnp.broadcast_to(a, x.shape))  # a = a_m 2^a_e, a_m in [1/2, 1)
  a_e = a_e.astype(jnp.int32)
  p_s, e_s = stable.two_prod(a_m, x)  # u = (p_s + e_s) 2^a_e
  k_p, d_p, d_p_lo = _payne_hanek(jnp.where(inside, limit, p_s), jnp.where(inside, 0, a_e), table)
  e_true = jnp.ldexp(e_s, a_e)
  e_small = jnp.abs(e_true) <= limit
  k_c, d_c, d_c_lo = _cody_waite(jnp.where(e_small, e_true, 0.0), jnp.zeros_like(e_true))
  k_h, d_h, d_h_lo = _payne_hanek(jnp.where(e_small, limit, e_s), jnp.where(e_small, 0, a_e), table)
  k_e = jnp.where(e_small, k_c, k_h)
  d_e, d_e_lo = jnp.where(e_small, d_c, d_h), jnp.where(e_small, d_c_lo, d_h_lo)
  s, s_lo = stable.two_sum(d_p, d_e)
  s, s_lo = stable.fast_two_sum(s, s_lo + (d_p_lo + d_e_lo))
  return 2.0 * (k_p + k_e), 2.0 * s, 2.0 * s_lo


def _reduce_2u(x: jax.Array, a: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """2u = q pi/2 + d (mod 2 pi), u = a x, with d as a double word: (q in 0..3, d, d_lo).

  Up to |2u| = 2^p, Cody and Waite on 2p + 2e (u = p + e); beyond, _reduce_far,
  computed only where some element needs it (a branch on the whole array; under
  vmap, where both are computed, a select): computed always, _reduce_far would cost
  every call what only such arguments need. Under explicit sharding the branch
  is taken per shard (no all-reduce of its predicate); under automatic sharding
  XLA all-reduces it, one scalar per call (a shard's own decision cannot be
  expressed there without a custom partitioning, which jax.export cannot serialize).
  """
  return sharding.per_shard(_reduce_2u_here, x, a)


# Under jit, traced once per shapes and dtypes: each kernel's forward is traced once
# (stable_kernel), but five kernels of snake's tower (sin_2u, cos_2u, snake_d1,
# snake_d2, snake_da) reduce the same argument, the far branch (Payne and Hanek,
# twice) included. XLA inlines the call and merges the copies.
@jax.jit
def _reduce_2u_here(x: jax.Array, a: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  limit = 2.0 ** _REDUCTION[np.dtype(x.dtype)][0]
  p, e = _u(x, a)
  inside = jnp.abs(2.0 * p) <= limit
  k, d, d_lo = _cody_waite(jnp.where(inside, 2.0 * p, 0.0), jnp.where(inside, 2.0 * e, 0.0))
  # x or a not finite needs no far branch: its result is NaN (see _sin_cos_2u).
  far = ~inside & jnp.isfinite(x) & jnp.isfinite(jnp.broadcast_to(a, x.shape))
  # The table enters the branch as an operand, on x's mesh (see sharding.constant).
  table = sharding.constant(_two_over_pi_table(np.dtype(x.dtype)), x)
  k_f, d_f, d_f_lo = jax.lax.cond(
    jnp.any(far),
    lambda: _reduce_far(x, a, inside, table),
    lambda: (jnp.zeros_like(d), jnp.zeros_like(d), jnp.zeros_like(d)),
  )
  k = jnp.where(inside, k, k_f)
  d, d_lo = jnp.where(inside, d, d_f), jnp.where(inside, d_lo, d_f_lo)
  return k - 4.0 * jnp.floor(0.25 * k), d, d_lo


def _sin_cos_2u(x: jax.Array, a: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """sin(2u), cos(2u) and 1 + sin(2u), u = a x, each accurate relative to its own
  size next to its zeros, at every magnitude; NaN where a x is (x = +-inf)."""
  q, d, d_lo = _reduce_2u(x, a)
  sd, cd = jnp.sin(d), jnp.cos(d)
  sin_d, cos_d = sd + cd * d_lo, cd - sd * d_lo
  # sin(d + q pi/2) and cos(d + q pi/2) by quadrant.
  # (nested where, not jnp.select: its stack of choices fails to batch under vmap
  # over an explicitly sharded axis, JAX 0.10)
  s2 = jnp.where(q == 0, sin_d, jnp.where(q == 1, cos_d, jnp.where(q == 2, -sin_d, -cos_d)))
  c2 = jnp.where(q == 0, cos_d, jnp.where(q == 1, -sin_d, jnp.where(q == 2, -cos_d, sin_d)))
  bad = ~(jnp.isfinite(x) & jnp.isfinite(a))
  s2, c2 = jnp.where(bad, jnp.nan, s2), jnp.where(bad, jnp.nan, c2)
  # 1 + sin t; where sin t < 0, cos^2 t / (1 - sin t): no cancellation at its zeros
  # (sin t = -1), where cos t is accurate relative to itself.
  return s2, c2, jnp.where(s2 >= 0.0, 1.0 + s2, (c2 * c2) / (1.0 - s2))


def _snake_d2(x: jax.Array, a: jax.Array) -> jax.Array:
  _, c2, _ = _sin_cos_2u(x, a)
  return 2.0 * a * c2


# sin(2ax) and cos(2ax) as a pair of kernels (each the other's partial, times 2a in x
# and 2x in a), reduced as the values are: XLA's sin and cos of 2ax itself are wrong
# beyond |2ax| ~ 1e38 (float32), and 2ax overflows before ax does.
def _sin_2u(x: jax.Array, a: jax.Array) -> jax.Array:
  return _sin_cos_2u(x, a)[0]


def _cos_2u(x: jax.Array, a: jax.Array) -> jax.Array:
  return _sin_cos_2u(x, a)[1]


# The partials of sin(2ax) and cos(2ax): 2a cos(2ax) and 2x cos(2ax) for the sine,
# -2a sin(2ax) and -2x sin(2ax) for the cosine. 2a cos(2ax) is also snake''s twin, and
# 2x cos(2ax) the partial of snake' = 1 + sin(2ax) in a.


def _sin_2u_dx(x: jax.Array, a: jax.Array) -> jax.Array:
  return (2.0 * a) * cos_2u(x, a)


def _sin_2u_da(x: jax.Array, a: jax.Array) -> jax.Array:
  return (2.0 * x) * cos_2u(x, a)


def _cos_2u_dx(x: jax.Array, a: jax.Array) -> jax.Array:
  return (-2.0 * a) * sin_2u(x, a)


def _cos_2u_da(x: jax.Array, a: jax.Array) -> jax.Array:
  return (-2.0 * x) * sin_2u(x, a)


sin_2u = stable_kernel(_sin_2u, derivative=_sin_2u_dx, param_derivatives={"a": _sin_2u_da})
cos_2u = stable_kernel(_cos_2u, derivative=_cos_2u_dx, param_derivatives={"a": _cos_2u_da})

# The twin of snake'' = 2a cos(2ax), for the third and higher derivatives and the
# partials in a.
snake_d2 = stable.with_twin(_snake_d2, _sin_2u_dx)


def _snake_d1(x: jax.Array, a: jax.Array) -> jax.Array:
  return _sin_cos_2u(x, a)[2]


snake_d1 = stable_kernel(_snake_d1, derivative=snake_d2, param_derivatives={"a": _sin_2u_da})

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


def _snake_da_twin(x: jax.Array, a: jax.Array) -> jax.Array:
  # The same two forms in plain arithmetic (the unused branch guarded).
  u = a * x
  small = jnp.abs(u) < 0.5
  w = jnp.where(small, u, 0.0)
  series = (x * x) * stable.horner(w * w, _DA_COEFFS[::-1])
  a_safe = jnp.where(small, 1.0, a)
  ud = jnp.where(small, 1.0, u)
  direct = (x * jnp.sin(2.0 * ud) - jnp.sin(ud) ** 2 / a_safe) / a_safe
  return jnp.where(small, series, direct)


snake_da = stable.with_twin(_snake_da, _snake_da_twin)


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
  derivative=snake_d1,
  param_derivatives={"frequency": snake_da},
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
  exact=Reference(
    f=lambda x, frequency: x if mp.isinf(x) else x + mp.sin(frequency * x) ** 2 / frequency,
    d1=lambda x, frequency: mp.nan if mp.isinf(x) else 1 + mp.sin(2 * frequency * x),
    d2=lambda x, frequency: mp.nan if mp.isinf(x) else 2 * frequency * mp.cos(2 * frequency * x),
    kinks=(0.0, -0.78539816, 2.35619449),
    periodic=True,
    also=({"frequency": 0.3},),
  ),
)
def snake(x: ArrayLike, *, frequency: ArrayLike = 1.0) -> jax.Array:
  r"""Snake: a monotonic activation with a periodic component.

  .. math::
    \mathrm{snake}_a(x) = x + \frac{\sin^2(a x)}{a}, \qquad f'(x) = 1 + \sin(2ax), \qquad
    f''(x) = 2a\cos(2ax)

  :math:`u = ax` is carried as a double word, :math:`2u` is reduced by :math:`\pi/2`
  as a double word, and :math:`1 + \sin t` is written :math:`\cos^2 t / (1 - \sin t)`
  where :math:`\sin t < 0`, so the derivatives keep their relative accuracy next to
  their zeros (:math:`ax = -\pi/4 + k\pi`) at any frequency and magnitude. At
  :math:`a = 0` the value is its limit :math:`x`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    frequency: keyword-only :math:`a`, differentiable, broadcasts to ``x`` (one per
      channel: shape ``(C,)``).

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.snake(jnp.array([-1.0, 0.0, 2.0], dtype=jnp.float32), frequency=0.5)
    Array([-0.5403023,  0.       ,  3.4161468], dtype=float32)
  """
  x, frequency = checks.received(x, frequency)
  return _snake_forward(x, frequency)
