"""Periodic units: snake, x + sin^2(a x) / a.

The derivatives 1 + sin(2ax) and 2a cos(2ax) vanish at infinitely many points,
where their textbook forms cancel: 1 + sin t is written cos^2 t / (1 - sin t)
where sin t < 0, and u = a x is carried as a double word, so sin and cos of 2u
are accurate relative to their own size next to their zeros, for any a. XLA's
sin and cos reduce their argument exactly (measured: within 0.55 ULP up to the
largest float32 and float64).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

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


def _sin_cos_2u(x: jax.Array, a: jax.Array) -> tuple[jax.Array, jax.Array]:
  """sin(2u) and cos(2u), u = a x, each accurate next to its zeros."""
  p, e = _u(x, a)
  big = jnp.abs(p) > float(jnp.finfo(p.dtype).max) / 2  # 2p would overflow
  t = 2.0 * jnp.where(big, 0.0, p)
  s2, c2 = jnp.sin(t), jnp.cos(t)
  # Beyond max / 2: from sin p and cos p (the double angle formulas).
  s, c = jnp.sin(p), jnp.cos(p)
  s2 = jnp.where(big, 2.0 * s * c, s2)
  c2 = jnp.where(big, (c - s) * (c + s), c2)
  return _add_angle(s2, c2, 2.0 * e)


def _snake_d2(x: jax.Array, a: jax.Array) -> jax.Array:
  _, c2 = _sin_cos_2u(x, a)
  return 2.0 * a * c2


snake_d2 = stable_kernel(
  _snake_d2,
  derivative=stable.partial_by_jvp(_snake_d2, 0),
  param_derivatives={"a": stable.partial_by_jvp(_snake_d2, 1)},
)


def _snake_d1(x: jax.Array, a: jax.Array) -> jax.Array:
  # 1 + sin t, t = 2u; where sin t < 0, cos^2 t / (1 - sin t): no cancellation at
  # its zeros (sin t = -1), where cos t is accurate relative to itself.
  s2, c2 = _sin_cos_2u(x, a)
  return jnp.where(s2 >= 0.0, 1.0 + s2, (c2 * c2) / (1.0 - s2))


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
  s2, _ = _sin_cos_2u(x, a)
  sin_u, _ = _sin_cos_u(x, a)
  a_safe = jnp.where(small, 1.0, a)
  direct = (x * s2 - sin_u * sin_u / a_safe) / a_safe
  return jnp.where(small, series, direct)


def _snake_forward(x: jax.Array, a: jax.Array) -> jax.Array:
  sin_u, _ = _sin_cos_u(x, a)
  zero = a == 0.0
  # a -> 0: sin^2(ax) / a -> 0 (the limit); the branch is guarded (no 0 / 0).
  term = jnp.where(zero, 0.0, sin_u * sin_u / jnp.where(zero, 1.0, a))
  # At +-inf the bounded term is dropped (sin(inf) is NaN): f(+-inf) = +-inf.
  return x + jnp.where(jnp.isinf(x), 0.0, term)


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

  :math:`u = ax` is carried as a double word and :math:`1 + \sin t` is written
  :math:`\cos^2 t / (1 - \sin t)` where :math:`\sin t < 0`, so the derivatives keep
  their relative accuracy next to their zeros (:math:`ax = -\pi/4 + k\pi`) at any
  frequency and magnitude. At :math:`a = 0` the value is its limit :math:`x`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    frequency: keyword-only :math:`a`, differentiable, broadcasts to ``x`` (one per
      channel: shape ``(C,)``).

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 (float32,
  float64); 1, 1, 2 ULP in float16/bfloat16.

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.snake(jnp.array([-1.0, 0.0, 2.0], dtype=jnp.float32), frequency=0.5)
    Array([-0.5403023,  0.       ,  3.4161468], dtype=float32)
  """
  return _snake_forward(x, frequency)
