"""Sigmoidal activations: bounded, smooth, S-shaped."""

from __future__ import annotations

import fractions
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxact._src import checks, stable
from jaxact._src.core import activation, stable_kernel
from jaxact._src.exact import Reference, mp, sig, sig1


@activation(
  derivative=stable.sigmoid_d1,
  family="sigmoidal",
  aliases=("logistic",),
  formula="1 / (1 + exp(-x))",
  output_range="(0, 1)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=False,
  bounded=True,
  conventions="sigmoid(-inf) = 0, sigmoid(+inf) = 1; derivatives 0 at +-inf.",
  references=("Verhulst 1838; the logistic function",),
  exact=Reference(
    f=sig,
    d1=sig1,
    d2=lambda x: -sig1(x) * mp.tanh(x / 2),
  ),
)
def sigmoid(x: ArrayLike) -> jax.Array:
  r"""Logistic sigmoid, drop-in for ``jax.nn.sigmoid``.

  .. math::
    \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad
    \sigma'(x) = \frac{e^{-|x|}}{(1 + e^{-|x|})^2}, \qquad
    \sigma''(x) = -\sigma'(x) \tanh(x/2).

  The derivatives are computed in these forms, never as :math:`\sigma(1-\sigma)`,
  so they keep full relative accuracy in both tails (``jax.nn.sigmoid``'s gradient
  is 0 from x = 16.6 in float32; the exact value at 20 is 2.06e-9).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.sigmoid(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([0.26894143, 0.5       , 0.7310586 ], dtype=float32)
  """
  x = checks.received(x)
  return stable.sigmoid(x)


@activation(
  derivative=stable.sech2,
  family="sigmoidal",
  formula="(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
  output_range="(-1, 1)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=True,
  bounded=True,
  conventions="tanh(+-inf) = +-1; derivatives 0 at +-inf.",
  exact=Reference(
    f=lambda x: mp.tanh(x),
    d1=lambda x: mp.sech(x) ** 2,
    d2=lambda x: -2 * mp.tanh(x) * mp.sech(x) ** 2,
  ),
)
def tanh(x: ArrayLike) -> jax.Array:
  r"""Hyperbolic tangent, drop-in for ``jax.nn.tanh`` (``jnp.tanh``).

  .. math::
    \tanh x = \operatorname{sign}(x) \frac{1 - e^{-2|x|}}{1 + e^{-2|x|}}, \qquad
    \tanh' x = \operatorname{sech}^2 x = \frac{4 e^{-2|x|}}{(1 + e^{-2|x|})^2}, \qquad
    \tanh'' x = -2 \tanh x \operatorname{sech}^2 x.

  Both are computed from :math:`e = e^{-2|x|} = 2^k (1 + p)`, with :math:`p = e^r - 1`
  of the reduced argument (``stable.exp_parts``): :math:`1 - e = (1 - 2^k) - 2^k p`
  and :math:`1 + e = (1 + 2^k) + 2^k p` sum exact parts, so neither cancels, and near
  0 (k = 0) :math:`1 - e = -p` keeps full relative accuracy. The value is within 2 ULP
  (``tools/dense_sweep.py``: 1.82 in float32, 1.96 in float64; XLA's own ``tanh``, a
  rational fit, is up to 4.3 ULP off in float32), at about the cost of XLA's
  (``docs/benchmarks.md``). The derivative is never :math:`1 - \tanh^2 x`, which is 0
  from x = 8.5 in float32 (exact 1.66e-7 there).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.tanh(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.7615942,  0.       ,  0.7615942], dtype=float32)
  """
  x = checks.received(x)
  return stable.tanh(x)


def _r4x6(x: jax.Array) -> jax.Array:
  r = 1.0 / (1.0 + jnp.abs(x))
  return (((6.0 * r) * r) * r) * r


def _soft_sign_d1(x: jax.Array) -> jax.Array:
  r = 1.0 / (1.0 + jnp.abs(x))
  return r * r


def _soft_sign_d2(x: jax.Array) -> jax.Array:
  # -2 sign(x) / (1 + |x|)^3, 0 at x = 0 (the mean of the one-sided limits +-2).
  r = 1.0 / (1.0 + jnp.abs(x))
  # (2r) r r: r^3 alone is subnormal where the result is not (|x| ~ 5e12 in float32).
  return -jnp.sign(x) * (((2.0 * r) * r) * r)


def _soft_sign_d3(x: jax.Array) -> jax.Array:
  # 6 / (1 + |x|)^4, 0 at x = 0 (f'' jumps there); NaN stays NaN.
  return jnp.where(x == 0, 0.0, _r4x6(x))


soft_sign_d2 = stable_kernel(_soft_sign_d2, derivative=_soft_sign_d3)
soft_sign_d1 = stable_kernel(_soft_sign_d1, derivative=soft_sign_d2)


@activation(
  derivative=soft_sign_d1,
  family="sigmoidal",
  formula="x / (1 + |x|)",
  output_range="(-1, 1)",
  monotonic=True,
  smoothness="C^1",
  zero_centred=True,
  bounded=True,
  conventions=(
    "soft_sign(+-inf) = +-1 (jax.nn: NaN). soft_sign'' jumps at 0 (from +2 to -2): "
    "soft_sign''(0) = 0, the mean."
  ),
  references=("Turian, Bergstra, Bengio 2009",),
  exact=Reference(
    f=lambda x: x / (1 + abs(x)) if not mp.isinf(x) else mp.sign(x),
    d1=lambda x: 1 / (1 + abs(x)) ** 2,
    d2=lambda x: -2 * mp.sign(x) / (1 + abs(x)) ** 3,
  ),
)
def soft_sign(x: ArrayLike) -> jax.Array:
  r"""Soft sign, drop-in for ``jax.nn.soft_sign``.

  .. math::
    \mathrm{soft\_sign}(x) = \frac{x}{1 + |x|}, \qquad
    \mathrm{soft\_sign}'(x) = \frac{1}{(1 + |x|)^2}

  For :math:`|x| > 1` the value is :math:`\operatorname{sign}(x)/(1 + 1/|x|)`, so
  :math:`\pm\infty` gives :math:`\pm 1` (``jax.nn``: NaN), and the derivative is
  computed directly (``jax.nn``'s is 0 at 1e8 in float32, exact 1e-16).
  Convention: :math:`\mathrm{soft\_sign}''(0) = 0`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.soft_sign(jnp.array([-1.0, 0.0, jnp.inf], dtype=jnp.float32))
    Array([-0.5,  0. ,  1. ], dtype=float32)
  """
  x = checks.received(x)
  # One division; at +-inf (inf / inf) the limit +-1.
  return jnp.where(jnp.isinf(x), jnp.sign(x), x / (1.0 + jnp.abs(x)))


# Below this |u| the odd factors are taken from their series in u, times x: u = x / cap
# may be subnormal (flushed) where cap tanh(u) ~ x is not. The first omitted terms
# are 2u^4 / 15 and 17u^4 / 15 relative: below 2^-55.
_SOFTCAP_SMALL = 2.0**-14


def _tanh_over_u_series(n: int) -> tuple[float, ...]:
  # c_1 .. c_n of tanh(u) / u = 1 + sum_k c_k u^(2k): c_k = 4^(k+1) (4^(k+1) - 1)
  # B_(2k+2) / (2k+2)!, the Bernoulli numbers exact (Akiyama-Tanigawa).
  m = 2 * n + 2
  a = [fractions.Fraction(0)] * (m + 1)
  bernoulli = []
  for i in range(m + 1):
    a[i] = fractions.Fraction(1, i + 1)
    for j in range(i, 0, -1):
      a[j - 1] = j * (a[j - 1] - a[j])
    bernoulli.append(a[0])
  return tuple(
    float(4 ** (k + 1) * (4 ** (k + 1) - 1) * bernoulli[2 * k + 2] / math.factorial(2 * k + 2))
    for k in range(1, n + 1)
  )


# Below |u| = 3/4 the value is x (1 + u^2 q(u^2)) from the series of tanh(u) / u
# (its terms shrink by (2u / pi)^2 <= 0.23): the correction is under 0.16 x, so its
# rounding errors count 0.16 times, where cap tanh(u) rounds tanh(u) and then the
# product, up to 4.08 ULP in float32 (x = -3.87 at cap = 30, tools/dense_sweep.py).
# Terms to below 2^-26 (float32) and 2^-55 (float64) relative at |u| = 3/4.
_SOFTCAP_SERIES_BELOW = 0.75
_SOFTCAP_SERIES = {
  np.dtype(np.float32): _tanh_over_u_series(13),
  np.dtype(np.float64): _tanh_over_u_series(27),
}


def _softcap_forward(x: jax.Array, cap: jax.Array) -> jax.Array:
  u = stable.quotient(x, cap)
  s = u * u  # 0 where u is flushed: the value is x there
  q = jnp.zeros_like(s)
  for c in reversed(_SOFTCAP_SERIES[np.dtype(x.dtype)]):
    q = q * s + c
  return jnp.where(jnp.abs(u) < _SOFTCAP_SERIES_BELOW, x + x * (s * q), cap * stable.tanh(u))


def _softcap_d2(x: jax.Array, cap: jax.Array) -> jax.Array:
  # -2 tanh(u) sech^2(u) / cap, sech^2 u = 4 sigma'(2u); near 0, -2 x / cap^2 (1 - 4u^2 / 3).
  u, u_lo = stable.quotient_dw(x, cap)
  y = stable.sigmoid_d1_times(2.0 * u, (-8.0 * stable.tanh(u)) / cap, 2.0 * u_lo)
  # By the reciprocal, not (x / cap) / cap, which XLA reassociates into x / cap^2 (inf
  # for cap > 1.8e19 in float32).
  rc = 1.0 / cap
  small = (((-2.0 * x) * rc) * rc) * (1.0 - (4.0 / 3.0) * (u * u))
  return jnp.where(jnp.abs(u) < _SOFTCAP_SMALL, small, y)


def _softcap_d2_twin(x: jax.Array, cap: jax.Array) -> jax.Array:
  return stable.sigmoid_d1_scaled(2.0 * (x / cap), (-8.0 * stable.tanh(x / cap)) / cap)


softcap_d2 = stable.with_twin(_softcap_d2, _softcap_d2_twin)


def _softcap_d1(x: jax.Array, cap: jax.Array) -> jax.Array:
  u, u_lo = stable.quotient_dw(x, cap)
  # The 4 goes into the scaled product: 4 sigma'(2u) is normal where sigma'(2u) may not be.
  return stable.sigmoid_d1_times(2.0 * u, jnp.full_like(u, 4.0), 2.0 * u_lo)


def _softcap_dcap(x: jax.Array, cap: jax.Array) -> jax.Array:
  # tanh u - u sech^2 u. For |u| < 1, u tanh^2 u - (u - tanh u), the difference
  # of terms near u^3 and u^3 / 3 (x - tanh x from tanhshrink's series).
  u = stable.quotient(x, cap)
  t = stable.tanh(u)
  shrink = stable.x_minus_tanh_forward(jnp.clip(u, -1.0, 1.0))
  small = u * (t * t) - shrink
  big = t - 4.0 * stable.sigmoid_d1_times(2.0 * u, u)
  return jnp.where(jnp.abs(u) < 1.0, small, big)


# d/dcap of tanh u - u sech^2 u (u = x / cap, du = dx / cap - u dcap / cap) is
# 2 u tanh u sech^2 u du = -u tanh''(u) du: written so, the partials do not cancel.
def _softcap_d1_dcap(x: jax.Array, cap: jax.Array) -> jax.Array:
  # -(u / cap) tanh''(u): d/dcap sech^2(u) = tanh''(u) du/dcap, and the x-derivative of
  # the cap-partial (d/dx (tanh u - u sech^2 u) = -u tanh''(u) / cap).
  return -((x / cap) / cap) * stable.tanh_d2(x / cap)


def _softcap_dcap_dcap(x: jax.Array, cap: jax.Array) -> jax.Array:
  return (((x / cap) * (x / cap)) / cap) * stable.tanh_d2(x / cap)


softcap_dcap = stable_kernel(
  _softcap_dcap, derivative=_softcap_d1_dcap, param_derivatives={"cap": _softcap_dcap_dcap}
)
softcap_d1 = stable_kernel(_softcap_d1, derivative=softcap_d2, param_derivatives={"cap": _softcap_d1_dcap})


@activation(
  derivative=softcap_d1,
  param_derivatives={"cap": softcap_dcap},
  family="sigmoidal",
  formula="cap * tanh(x / cap)",
  output_range="(-cap, cap)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=True,
  bounded=True,
  conventions=(
    "softcap(+-inf) = +-cap; derivatives 0 at +-inf. cap is required, keyword-only, "
    "must be > 0 (not checked under jit), and differentiable."
  ),
  references=("Bello et al. 2016, arXiv:1611.09940; Gemma 2 (logit soft-capping), arXiv:2408.00118",),
  exact=Reference(
    f=lambda x, cap: cap * mp.tanh(x / cap),
    d1=lambda x, cap: mp.sech(x / cap) ** 2,
    d2=lambda x, cap: -2 * mp.tanh(x / cap) * mp.sech(x / cap) ** 2 / cap,
    params={"cap": 30.0},
    also=({"cap": 2.5},),
  ),
)
def softcap(x: ArrayLike, *, cap: ArrayLike) -> jax.Array:
  r"""Soft capping: a smooth clip of ``x`` to ``(-cap, cap)`` (logit soft-capping).

  .. math::
    \mathrm{softcap}(x) = c \tanh(x / c), \qquad f'(x) = \mathrm{sech}^2(x / c)

  For :math:`|u| < 3/4`, :math:`u = x / c`, the value is :math:`x (1 + u^2 q(u^2))` from
  the series of :math:`\tanh(u) / u`, whose correction term is small, so that its
  rounding barely counts; :math:`c \tanh(u)` beyond. :math:`u` is carried as a double
  word into the derivatives, whose tail :math:`e^{-2|u|}` would otherwise amplify its
  rounding :math:`|u|` times.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    cap: keyword-only and required, > 0, differentiable; broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.softcap(jnp.array([-100.0, 1.0, 100.0], dtype=jnp.float32), cap=30.0)
    Array([-29.923738 ,   0.9996298,  29.923738 ], dtype=float32)
  """
  x, cap = checks.received(x, cap)
  return _softcap_forward(x, cap)
