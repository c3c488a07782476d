"""Self-gated units: x times a sigmoid-like gate of x (silu/swish).

Their derivatives have interior zeros (silu' at x = -1.2785, silu'' at +-2.3994),
where the textbook forms cancel; there the cancelling factor is evaluated from
its Taylor series around the zero (``stable.near_zero``), or, for silu', summed from
exact parts of e^z (reduced about the zero itself next to it), so the derivatives keep
their relative accuracy through the zeros. Factors of sigmoid(z) that would be
subnormal are scaled (``stable.sigmoid_times``), so silu(-89) is -1.98e-37 in
float32, not -0.
"""

from __future__ import annotations

import decimal

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxact._src import _series, checks, registry, smooth, stable
from jaxact._src.core import activation, stable_kernel


def _beta_z(x: jax.Array, beta: jax.Array) -> tuple[jax.Array, jax.Array]:
  # z = beta x as a double word: in the tail sigma(z) = e^z, and a z rounded once
  # would cost |z| / 2 ULP there.
  return stable.two_prod(beta, x)


def _const_z(x: jax.Array, k: str) -> tuple[jax.Array, jax.Array]:
  # z = k x for a decimal constant k (quick_gelu's 1.702), as a double word.
  hi, lo = stable.split_constant(k, x.dtype)
  z, e = stable.two_prod(jnp.full_like(x, hi), x)
  return z, jnp.where(jnp.isfinite(z), e + lo * x, 0.0)


def _gate_g2(z: jax.Array, z_lo: jax.Array) -> jax.Array:
  # 2 - z tanh(z / 2): silu''(z) / sigma'(z); even, with zeros at +-2.3994.
  formula = 2.0 - z * stable.tanh(0.5 * z)
  near_pos, series_pos = stable.near_zero("silu_d2_pos", z, z_lo)
  near_neg, series_neg = stable.near_zero("silu_d2_neg", z, z_lo)
  return jnp.where(near_pos, series_pos, jnp.where(near_neg, series_neg, formula))


def _finite(z: jax.Array) -> jax.Array:
  """z, with +-inf taken as 0: a guarded argument for a factor thrown away there (so
  that no inf or NaN reaches a derivative)."""
  return jnp.where(jnp.isinf(z), 0.0, z)


def _gate_d2_twin(z: jax.Array, k) -> jax.Array:
  # k sigma'(z) (2 - z tanh(z / 2)) in kernels: the third and higher derivatives of
  # x sigma(k x) (z = k x) and its partials in k are this one's (stable.with_twin).
  # Beyond the clamp of sigma' (where it and every derivative of it times a power
  # of z is 0, and z tanh(z / 2) may overflow: z = 2.9e38 for lisht at x = 1.5e38 in
  # float32) the factor is 0.
  beyond = jnp.abs(z) > stable.SIGMOID_CLAMP[np.dtype(z.dtype)]
  zs = jnp.where(beyond, 0.0, z)
  return stable.sigmoid_d1_scaled(z, k * jnp.where(beyond, 0.0, 2.0 - zs * stable.tanh(0.5 * zs)))


def _gate_d2(z: jax.Array, z_lo: jax.Array, k: jax.Array) -> jax.Array:
  # d^2/dx^2 of x sigma(k x) = k sigma'(z) (2 - z tanh(z / 2)). k goes into the
  # scaled product (m2, after g sigma'(z), which is 0 where k g would overflow): k
  # sigma'(z) g is normal where sigma'(z) g alone may not be.
  g = _gate_g2(z, z_lo)
  # At +-inf, sigma'(z) = 0 and g = -inf: the limit is 0.
  return stable.sigmoid_d1_times(z, jnp.where(jnp.isinf(z), 0.0, g), z_lo, m2=k)


# Within this distance of the zero z0 of silu' the exponential is reduced about z0
# (below); at most _series.EXPM1_REDUCED_RADIUS, the interval of exp_parts' fit.
_SILU_D1_RADIUS = 0.25
assert _SILU_D1_RADIUS <= _series.EXPM1_REDUCED_RADIUS
# e^z0 = -(1 + z0), as 1 + z0 + e^z0 = 0.
_SILU_D1_E0 = float(-(1 + decimal.Decimal(_series.SERIES["silu_d1"][0])))


def _gate_d1(z: jax.Array, z_lo: jax.Array | None) -> jax.Array:
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


def _gate_d1_general(z: jax.Array, z_lo: jax.Array, m: jax.Array, series: tuple[str, jax.Array]) -> jax.Array:
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
  # The constant scale last, as in _gate_d1.
  return jnp.where(pos, g * r, ((g * jnp.where(beyond, 0.0, e)) * r) * unscale)


def _silu_d2(x: jax.Array, beta: jax.Array) -> jax.Array:
  return _gate_d2(*_beta_z(x, beta), beta)


def _silu_d2_twin(x: jax.Array, beta: jax.Array) -> jax.Array:
  return _gate_d2_twin(beta * x, beta)


silu_d2 = stable.with_twin(_silu_d2, _silu_d2_twin)


def _silu_d1(x: jax.Array, beta: jax.Array) -> jax.Array:
  return _gate_d1(*_beta_z(x, beta))


def _silu_d1_dbeta(x: jax.Array, beta: jax.Array) -> jax.Array:
  # d/dbeta sigma(z) (1 + z sigma(-z)) = x sigma'(z) (2 - z tanh(z / 2)) = silu'' x / beta.
  return _gate_d2_twin(beta * x, _finite(x))


silu_d1 = stable_kernel(_silu_d1, derivative=silu_d2, param_derivatives={"beta": _silu_d1_dbeta})


def _silu_dbeta(x: jax.Array, beta: jax.Array) -> jax.Array:
  # d/dbeta x sigma(beta x) = x^2 sigma'(beta x), both factors x inside the scaling.
  z, z_lo = _beta_z(x, beta)
  return stable.sigmoid_d1_times(z, x, z_lo, m2=x)


def _silu_dbeta_twin(x: jax.Array, beta: jax.Array) -> jax.Array:
  return stable.sigmoid_d1_scaled(beta * x, _finite(x) * _finite(x))


silu_dbeta = stable.with_twin(_silu_dbeta, _silu_dbeta_twin)


# beta = 1 (silu proper; also swish's default): z = x is exact, no double word.
def _silu1_d2(x: jax.Array) -> jax.Array:
  return _gate_d2(x, None, 1.0)


def _silu1_d2_twin(x: jax.Array) -> jax.Array:
  return _gate_d2_twin(x, 1.0)


def _silu1_d1(x: jax.Array) -> jax.Array:
  return _gate_d1(x, None)


def _silu1(x: jax.Array) -> jax.Array:
  return stable.sigmoid_times(x, x)


silu1_d2 = stable.with_twin(_silu1_d2, _silu1_d2_twin)
silu1_d1 = stable_kernel(_silu1_d1, derivative=silu1_d2)
silu1 = stable_kernel(_silu1, derivative=silu1_d1)


@activation(
  derivative=silu_d1,
  param_derivatives={"beta": silu_dbeta},
  constant_kernels={"beta": (1.0, silu1)},
  family="gates",
  aliases=("swish",),
  formula="x * sigmoid(beta x)",
  output_range="[-0.2785, inf) for beta = 1",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "silu(-inf) = 0 (jax.nn: NaN), silu'(-inf) = 0, silu'(+inf) = 1 (jax.nn: NaN). "
    "beta is keyword-only and differentiable (Swish-beta); beta = 1 is SiLU."
  ),
  references=(
    "Hendrycks, Gimpel 2016, arXiv:1606.08415; Elfwing et al. 2017, arXiv:1702.03118; "
    "Ramachandran, Zoph, Le 2017, arXiv:1710.05941",
  ),
)
def silu(x: ArrayLike, *, beta: ArrayLike = 1.0) -> jax.Array:
  r"""SiLU / swish, drop-in for ``jax.nn.silu`` and ``jax.nn.swish``, with a gate slope.

  .. math::
    \mathrm{silu}(x) = x\,\sigma(\beta x), \qquad
    \mathrm{silu}'(x) = \sigma(z)\,(1 + z\,\sigma(-z)), \qquad
    \mathrm{silu}''(x) = \beta\,\sigma'(z)\,(2 - z \tanh(z/2)), \quad z = \beta x

  The factors :math:`1 + z\sigma(-z)` and :math:`2 - z\tanh(z/2)` vanish at
  :math:`z = -1.2785` and :math:`z = \pm 2.3994`, so the derivatives keep their
  relative accuracy there: the first as :math:`(1 + z + e^z)\,\sigma(-z)` with
  :math:`1 + z + e^z` summed from exact parts of :math:`e^z` (within 1/4 of the
  zero :math:`z_0`, :math:`e^z = e^{z_0} e^{z - z_0}`, so that it is
  :math:`(z - z_0) + e^{z_0}(e^{z - z_0} - 1)`, two terms of one sign); the second
  from its Taylor series within 0.5 of its zeros. :math:`z` is computed as a double word (its rounding
  error would be amplified :math:`|z|` times in the tail, where
  :math:`\sigma(z) = e^z`), so any ``beta`` keeps the bounds; where ``beta`` is the
  Python number 1 (the default), :math:`z = x` is exact and a kernel without the
  double word runs (same values). ``silu(-inf)`` is 0 and ``silu'(inf)`` is 1
  (``jax.nn``: NaN); ``silu(-89.)`` is -1.98e-37 in float32 (``jax.nn``: -0).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    beta: keyword-only gate slope, differentiable, broadcasts to ``x`` (one per
      channel: shape ``(C,)``).

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in
  float32/float64; 1, 1, 2 ULP in float16/bfloat16 (the tests assert it at beta = 1
  and, in float32/float64, at beta = 1.702 and 0.3).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.silu(jnp.array([-89.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-1.9823535e-37,  0.0000000e+00,  7.3105860e-01], dtype=float32)
  """
  z, z_lo = _beta_z(x, beta)
  return stable.sigmoid_times(z, x, z_lo)


_QUICK_GELU_K = "1.702"


def _quick_gelu_d2(x: jax.Array) -> jax.Array:
  return _gate_d2(*_const_z(x, _QUICK_GELU_K), float(_QUICK_GELU_K))


def _quick_gelu_d2_twin(x: jax.Array) -> jax.Array:
  return _gate_d2_twin(float(_QUICK_GELU_K) * x, float(_QUICK_GELU_K))


quick_gelu_d2 = stable.with_twin(_quick_gelu_d2, _quick_gelu_d2_twin)


def _quick_gelu_d1(x: jax.Array) -> jax.Array:
  return _gate_d1(*_const_z(x, _QUICK_GELU_K))


quick_gelu_d1 = stable_kernel(_quick_gelu_d1, derivative=quick_gelu_d2)


@activation(
  derivative=quick_gelu_d1,
  family="gates",
  formula="x * sigmoid(1.702 x)",
  output_range="[-0.1637, inf)",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "The constant is 1.702 exactly (carried as two floats), as in CLIP and OpenAI's GPT-2 "
    "code; quick_gelu(-inf) = 0, quick_gelu'(+inf) = 1."
  ),
  references=("Hendrycks, Gimpel 2016, arXiv:1606.08415 (sigmoid approximation of GELU)",),
)
def quick_gelu(x: ArrayLike) -> jax.Array:
  r"""Quick GELU: the sigmoid approximation of GELU used by CLIP.

  .. math::
    \mathrm{quick\_gelu}(x) = x\,\sigma(1.702\,x)

  It is ``silu`` with gate slope 1.702; the slope is carried as two floats and
  :math:`1.702\,x` as a double word, so the value is that of the formula with the
  decimal constant, to a few ULP, down to the underflow of the result.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32/float64;
  1, 1, 2 ULP in float16/bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.quick_gelu(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.15420423,  0.        ,  0.8457958 ], dtype=float32)
  """
  z, z_lo = _const_z(x, _QUICK_GELU_K)
  return stable.sigmoid_times(z, x, z_lo)


# gelu, tanh form: x sigma(z), z = x (a + b x^2), a = 2 sqrt(2/pi), b = 0.044715 a
# (as 1 + tanh(w) = 2 sigma(2 w)). z is computed as a double word: sigma(z) = e^z in
# the tail, where a z rounded three times would cost |z| ULP.
_GELU_A = "1.5957691216057307117597842397375275"
_GELU_B = "0.071354816272600248776338752279863541"
# Beyond this |x| everything has saturated (sigma(z) is 0 or 1 in every dtype);
# clamping keeps x^3 and its products finite.
_GELU_CLAMP = 1e4


def _gelu_tanh_z(x: jax.Array):
  """(xc, z, z_lo, z'): x clamped, z(xc) as a double word, and z'(xc) = a + 3 b xc^2."""
  xc = jnp.clip(x, -_GELU_CLAMP, _GELU_CLAMP)
  a_hi, a_lo = stable.split_constant(_GELU_A, x.dtype)
  b_hi, b_lo = stable.split_constant(_GELU_B, x.dtype)
  # |xc| <= 1e4 keeps every product finite (|z| <= 7.2e10): no guards.
  s, s_lo = stable.two_prod(xc, xc, guard=False)
  t, t_lo = stable.two_prod(jnp.full_like(xc, b_hi), s, guard=False)
  t_lo = t_lo + b_hi * s_lo + b_lo * s
  q, q_lo = stable.two_sum(jnp.full_like(xc, a_hi), t)
  q_lo = q_lo + t_lo + a_lo
  z, z_lo = stable.two_prod(xc, q, guard=False)
  z_lo = z_lo + xc * q_lo
  zp = a_hi + (3.0 * b_hi) * s
  return xc, z, z_lo, zp


def _gelu_tanh_g2(xc: jax.Array, z: jax.Array, zp: jax.Array) -> jax.Array:
  # gelu''/sigma'(z) = 2 z' + x z'' - x z'^2 tanh(z / 2), z'' = 6 b x; even in x,
  # with zeros at +-1.4185, evaluated there from its Taylor series.
  b = float(_GELU_B)
  formula = 2.0 * zp + (6.0 * b) * (xc * xc) - (xc * zp) * (zp * stable.tanh(0.5 * z))
  near_pos, series_pos = stable.near_zero("gelu_tanh_d2_pos", xc)
  near_neg, series_neg = stable.near_zero("gelu_tanh_d2_neg", xc)
  return jnp.where(near_pos, series_pos, jnp.where(near_neg, series_neg, formula))


def _gelu_tanh_d2(x: jax.Array) -> jax.Array:
  xc, z, z_lo, zp = _gelu_tanh_z(x)
  return stable.sigmoid_d1_times(z, _gelu_tanh_g2(xc, z, zp), z_lo)


def _gelu_tanh_d2_twin(x: jax.Array) -> jax.Array:
  # sigma'(z) (2 z' + x z'' - x z'^2 tanh(z / 2)) in kernels (x clamped as in the value).
  a, b = float(_GELU_A), float(_GELU_B)
  xc = jnp.clip(x, -_GELU_CLAMP, _GELU_CLAMP)
  s = xc * xc
  z = xc * (a + b * s)
  zp = a + (3.0 * b) * s
  return stable.sigmoid_d1_scaled(z, 2.0 * zp + (6.0 * b) * s - (xc * zp) * (zp * stable.tanh(0.5 * z)))


gelu_tanh_d2 = stable.with_twin(_gelu_tanh_d2, _gelu_tanh_d2_twin)


def _gelu_tanh_d1(x: jax.Array) -> jax.Array:
  xc, z, z_lo, zp = _gelu_tanh_z(x)
  return _gate_d1_general(z, z_lo, xc * zp, ("gelu_tanh_d1", xc))


gelu_tanh_d1 = stable_kernel(_gelu_tanh_d1, derivative=gelu_tanh_d2)


# Without the barrier on the derivative (see stable_kernel): value and derivative
# share the double word z, and XLA keeps no more for that in a training step
# (benchmarks/derivative_barrier.py: same memory, value and vjp 1.4x the time with it).
@activation(
  derivative=gelu_tanh_d1,
  separate_derivative=False,
  family="gates",
  formula="x / 2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
  output_range="[-0.1700, inf)",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "The exact value of the tanh formula (not of the erf GELU it approximates), computed "
    "as x sigma(2 w) without cancellation; gelu_tanh(-inf) = 0 (jax.nn: NaN), "
    "gelu_tanh'(+inf) = 1; finite derivatives at every finite x in every dtype "
    "(jax.nn: NaN in float16 from |x| = 148 and in float32 from 1.07e19, where x^3 overflows)."
  ),
  references=("Hendrycks, Gimpel 2016, arXiv:1606.08415",),
)
def gelu_tanh(x: ArrayLike) -> jax.Array:
  r"""GELU, tanh approximation: ``jax.nn.gelu(x, approximate=True)``, PyTorch's ``approximate='tanh'``.

  .. math::
    \mathrm{gelu\_tanh}(x) = \tfrac{x}{2}\bigl(1 + \tanh w\bigr) = x\,\sigma(2w), \quad
    w = \sqrt{2/\pi}\,(x + 0.044715\,x^3)

  With :math:`z = 2w`, :math:`f' = \sigma(z)(1 + x z' \sigma(-z))` and
  :math:`f'' = \sigma'(z)(2z' + x z'' - x z'^2 \tanh(z/2))`. :math:`z` is computed as
  a double word (its rounding error is amplified :math:`|z|` times in the tail, where
  :math:`\sigma(z) = e^z`); the factors of the derivatives vanish at
  :math:`x = -0.7525` and :math:`\pm 1.4185`, where they come from Taylor series about
  the zeros. ``jax.nn.gelu`` computes :math:`1 + \tanh w`, which cancels: at -3 it
  is 208 ULP off, and below -4.87 it returns -0.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32/float64;
  1, 1, 2 ULP in float16/bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.gelu_tanh(jnp.array([-3.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.00363739,  0.        ,  0.841192  ], dtype=float32)
  """
  xc, z, z_lo, _ = _gelu_tanh_z(x)
  y = stable.sigmoid_times(z, xc, z_lo)
  return jnp.where(x > _GELU_CLAMP, x, y)


# gelu, erf form: x Phi(x). Phi(-a), a = |x|, is exp(-a^2/2) T(a) with the tail
# T(a) = Phi(-a) e^(a^2/2) = H(Z) / (a + K), Z = (a - K) / (a + K), H a polynomial
# fit (tools/derive_constants.py), and exp(-a^2/2) = E (1 + m) from an exactly
# squared high part of a (a = h + l, h^2 exact: E = exp(-h^2/2), 1 + m =
# exp(-l (a + h)/2)), E shifted by e^c where it would be subnormal. The factor 1 + m
# is taken into the tail's numerator (H + H m, one rounding). For x > 0,
# Phi(x) = 1 - Phi(-x), which does not cancel (Phi(-x) < 1/2). XLA's erfc computes
# exp(-t^2) from a rounded t^2: 60 ULP off at t = 8 in float32.
_SQRT2 = "1.4142135623730950488016887242096981"
_INV_SQRT2PI = 0.39894228040143267794
_NORMAL_CLAMP = 1e3  # exp(-x^2/2) is 0 in every dtype beyond


# The shift of the subnormal range is c = k ln 2, so that e^-c = 2^-k is exact; c
# is carried as two floats.
_SHIFT_K = {np.dtype(np.float32): 92, np.dtype(np.float64): 738}


def _shift(dtype) -> tuple[float, float, float]:
  k = _SHIFT_K[np.dtype(dtype)]
  with decimal.localcontext() as ctx:
    ctx.prec = 40
    c = decimal.Decimal(2).ln() * k
  return (*stable.split_constant(str(c), dtype), 2.0**-k)


_HALF_SQUARE_DEGREE = {np.dtype(np.float32): 5, np.dtype(np.float64): 3}


def _exp_half_square(x: jax.Array, split: bool = False) -> tuple[jax.Array, jax.Array, jax.Array]:
  """(E, m, low): exp(-x^2/2) = E (1 + m), E times e^c where it is below e^-c (``low``).
  ``split``: E from stable.exp_split, whose rounding error goes into m (the value's
  product then rounds E once, not XLA's exp's 0.9 ULP)."""
  a = jnp.minimum(jnp.abs(x), _NORMAL_CLAMP)
  h, rest_of_a = stable.split(a)
  half_h2 = 0.5 * (h * h)  # exact: h has half the significand
  c_hi, c_lo, _ = _shift(x.dtype)
  low = half_h2 > c_hi
  arg = jnp.where(low, c_hi - half_h2, -half_h2)  # exact
  e, e_rel = stable.exp_split(arg) if split else (jnp.exp(arg), None)
  rest = -0.5 * (rest_of_a * (a + h)) + jnp.where(low, c_lo, 0.0)
  # |rest| < 2^-11 a^2 (float32) or 2^-25 a^2 (float64), below 0.09 or 4.5e-5 where
  # the results are normal (a < 13.5, 38.5): m = exp(rest) - 1 from its Taylor
  # series to degree 5 or 3 (the first term left out is below 2^-30 or 2^-62),
  # which rounds once (a GPU's exp is less accurate).
  acc = jnp.ones_like(rest)
  for k in range(_HALF_SQUARE_DEGREE[np.dtype(x.dtype)], 1, -1):
    acc = 1.0 + (rest / k) * acc
  m = rest * acc if e_rel is None else rest * acc + e_rel
  # The barrier keeps XLA from merging the factors into one exponential, which
  # would round the exact argument again.
  return jax.lax.optimization_barrier(e), m, low


def _normal_tail(a: jax.Array, m: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
  """(N, D), N / D = Phi(-a) e^(a^2/2) (1 + m) for a >= 0: N = H(Z) + H(Z) m (m = 0 if
  None), D = a + K."""
  k = float(_series.PHI_TAIL_K)
  d = a + k
  rec = 1.0 / d
  # Z from a product by the reciprocal: a quotient with the polynomial's many uses is
  # written out by XLA's CPU backend (a second pass over memory). Below K/2, where
  # a - K would round, Z = 2a / (a + K) - 1, which rounds once near -1.
  zed = jnp.where(a < 0.5 * k, (2.0 * a) * rec - 1.0, (a - k) * rec)
  p = stable.horner(zed, [float(c) for c in _series.PHI_TAIL[np.dtype(a.dtype).name]])
  return (p if m is None else p + p * m), d


def _unshift(y: jax.Array, low: jax.Array) -> jax.Array:
  return jnp.where(low, y * _shift(y.dtype)[2], y)


def _gelu_erf_d2(x: jax.Array) -> jax.Array:
  # phi(x) (2 - x^2) = phi(x) (sqrt2 - x)(sqrt2 + x), sqrt2 in two parts: no
  # cancellation at +-sqrt2.
  e, m, low = _exp_half_square(x)
  e = e + e * m
  xc = jnp.clip(x, -_NORMAL_CLAMP, _NORMAL_CLAMP)
  r_hi, r_lo = stable.split_constant(_SQRT2, x.dtype)
  # The barriers keep XLA from folding r_hi and r_lo into one (rounded) constant.
  lo = jax.lax.optimization_barrier(r_hi - xc)
  hi = jax.lax.optimization_barrier(r_hi + xc)
  q = (lo + r_lo) * (hi + r_lo)
  return _unshift((_INV_SQRT2PI * e) * q, low)


def _pdf_times(x: jax.Array, m: jax.Array) -> jax.Array:
  # m phi(x), scaled where phi(x) alone would be subnormal and the product is not.
  e, em, low = _exp_half_square(x)
  return _unshift(((_INV_SQRT2PI * (e + e * em)) * m), low)


def _inside(x: jax.Array) -> jax.Array:
  """x, or 0 beyond the clamp of phi (where phi(x) and every product of it with a
  power of x is 0, and x^2 may overflow): a guarded factor of m phi(x)."""
  return jnp.where(jnp.abs(x) > _NORMAL_CLAMP, 0.0, x)


# As stable.sigmoid_d1_scaled: where phi(x) < 2^-100 (2^-900 in float64) the
# partials are given times 2^64 (2^512), the one in x for |m| < 2^32 (2^256).
_PDF_TANGENT_SCALE = {
  np.dtype(np.float32): (11.7, 2.0**64, 2.0**32),
  np.dtype(np.float64): (35.3, 2.0**512, 2.0**256),
}


def _pdf_scale(x: jax.Array, m: jax.Array | None = None) -> jax.Array:
  return stable.scale_beyond(x, m, _PDF_TANGENT_SCALE)


def _pdf_scaled_dx(x: jax.Array, m: jax.Array) -> jax.Array:
  return pdf_scaled(x, (-_inside(x) * m) * _pdf_scale(x, m))


def _pdf_scaled_dm(x: jax.Array, m: jax.Array) -> jax.Array:
  return pdf_scaled(x, jnp.ones_like(m) * _pdf_scale(x))


def _pdf_scale_in_x(x: jax.Array, m: jax.Array) -> jax.Array:
  return _pdf_scale(x)


pdf_scaled = stable_kernel(
  _pdf_times,
  derivative=_pdf_scaled_dx,
  param_derivatives={"m": _pdf_scaled_dm},
  tangent_scale={"x": _pdf_scale, "m": _pdf_scale_in_x},
)
"""m phi(x) (phi the normal density) as a kernel: its partials are again such products."""


def _gelu_erf_d2_twin(x: jax.Array) -> jax.Array:
  return pdf_scaled(x, 2.0 - _inside(x) * _inside(x))


gelu_erf_d2 = stable.with_twin(_gelu_erf_d2, _gelu_erf_d2_twin)


def _gelu_erf_d1(x: jax.Array) -> jax.Array:
  # x <= 0: exp(-x^2/2) (T(|x|) + x/sqrt(2 pi)), the factor vanishing at -0.7518
  # (Taylor series there); x > 0: 1 - Phi(-x) + x phi(x), no cancellation.
  e, m, low = _exp_half_square(x)
  e = e + e * m
  xc = jnp.clip(x, -_NORMAL_CLAMP, _NORMAL_CLAMP)
  num, den = _normal_tail(jnp.abs(xc))
  # A product by the reciprocal (the one Z is formed with): the quotient, with its
  # two uses, would be written out by XLA's CPU backend.
  tail = num * (1.0 / den)
  g = tail + _INV_SQRT2PI * xc
  near, series = stable.near_zero("gelu_d1", xc)
  g = jnp.where(near, series, g)
  neg = _unshift(e * g, low)
  pos = (1.0 - _unshift(e * tail, low)) + xc * (_INV_SQRT2PI * _unshift(e, low))
  return jnp.where(x > 0, pos, neg)


gelu_erf_d1 = stable_kernel(_gelu_erf_d1, derivative=gelu_erf_d2)


@activation(
  derivative=gelu_erf_d1,
  family="gates",
  aliases=("gelu_exact",),
  formula="x Phi(x) = x / 2 (1 + erf(x / sqrt 2))",
  output_range="[-0.1700, inf)",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "The exact GELU: jax.nn.gelu(x, approximate=False), PyTorch's default "
    "(approximate='none'). gelu_erf(-inf) = 0 (jax.nn: NaN), gelu_erf'(+inf) = 1."
  ),
  references=("Hendrycks, Gimpel 2016, arXiv:1606.08415",),
)
def gelu_erf(x: ArrayLike) -> jax.Array:
  r"""GELU, exact (erf) form: ``jax.nn.gelu(x, approximate=False)``, PyTorch's default.

  .. math::
    \mathrm{gelu\_erf}(x) = x\,\Phi(x), \qquad
    f' = \Phi(x) + x\,\varphi(x), \qquad f'' = \varphi(x)\,(2 - x^2)

  With :math:`a = |x|`, :math:`\Phi(-a) = e^{-a^2/2}\,T(a)`: the Gaussian factor from
  an exactly squared high part of :math:`a`, scaled where it would be subnormal, and
  the tail :math:`T(a) = \Phi(-a)e^{a^2/2}` from a polynomial fit in
  :math:`(a - 4)/(a + 4)`; for :math:`x > 0`, :math:`\Phi(x) = 1 - \Phi(-x)`.
  ``jax.nn`` uses XLA's ``erfc``, which rounds :math:`t^2` before the exponential
  (about 180 ULP off on [-12.5, -1] in float32). :math:`f'` vanishes at
  :math:`x = -0.7518` (Taylor series there);
  :math:`2 - x^2` is :math:`(\sqrt2 - x)(\sqrt2 + x)` with :math:`\sqrt2` in two parts.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32/float64;
  1, 1, 2 ULP in float16/bfloat16 (the tests assert it, and on dense sweeps of the
  tail: 3.32 ULP in float32, 3.48 in float64). The value's Gaussian factor comes from
  ``stable.exp_split``, whose rounding error is carried into the tail's numerator
  (with XLA's exp it was 4.10 ULP off at x = -6.518).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.gelu_erf(jnp.array([-6.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-5.919526e-09,  0.000000e+00,  8.413447e-01], dtype=float32)
  """
  e, m, low = _exp_half_square(x, split=True)
  xc = jnp.clip(x, -_NORMAL_CLAMP, _NORMAL_CLAMP)
  num, den = _normal_tail(jnp.abs(xc), m)  # num / den = Phi(-|x|) / E
  if x.dtype == np.dtype(np.float64):
    # e (num x / den) in one rounding, not three: num x and its quotient by den as
    # double words (4.21 -> 3.21 ULP at x = -12.882, tools/dense_sweep.py; float32 is
    # within its bound without, and keeps the operations).
    t, t_lo = stable.two_prod(num, xc)
    u, u_lo = stable.quotient_dw(t, den)
    u_lo = u_lo + t_lo / den
    w, w_lo = stable.two_prod(e, u)
    neg = _unshift(w + (w_lo + e * u_lo), low)
  else:
    neg = _unshift(e * ((num * xc) / den), low)
  pos = x * (1.0 - _unshift(e * (num / den), low))
  return jnp.where(x > 0, pos, neg)


def gelu(x: ArrayLike, approximate: bool | str = True) -> jax.Array:
  r"""GELU, drop-in for ``jax.nn.gelu``: the tanh form by default, the erf form otherwise.

  ``approximate=True`` (the default of ``jax.nn`` and Keras) is :func:`gelu_tanh`;
  ``approximate=False`` is :func:`gelu_erf`, the exact GELU, which is PyTorch's
  default (``approximate='none'``). Porting PyTorch code: pass ``approximate=False``,
  or PyTorch's own strings: ``'tanh'`` is the tanh form, ``'none'`` the erf form
  (``jax.nn`` would take any string as true, ``'none'`` too).

  .. math::
    \mathrm{gelu}(x) = x\,\Phi(x) \approx x\,\sigma\bigl(2\sqrt{2/\pi}\,(x + 0.044715\,x^3)\bigr)

  Args:
    x: input array.
    approximate: static: the tanh form if true (any value's truth, as ``jax.nn``),
      or ``'tanh'``/``'none'``, as PyTorch. A traced array raises ``TypeError``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: that of the form chosen (value <= 4 ULP, first derivative <= 8, second
  <= 16 in float32/float64; 1, 1, 2 ULP in float16/bfloat16).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> x = jnp.array([-1.0, 1.0], dtype=jnp.float32)
    >>> jaxact.gelu(x), jaxact.gelu(x, approximate=False)
    (Array([-0.15880802,  0.841192  ], dtype=float32), Array([-0.15865526,  0.8413447 ], dtype=float32))
  """
  checks.check_input("gelu", x)
  return gelu_tanh(x) if _tanh_form(approximate) else gelu_erf(x)


def _tanh_form(approximate: object) -> bool:
  """gelu's ``approximate`` as a bool: any value's truth, as ``jax.nn``, except
  PyTorch's strings, which mean what they mean there ("none" is the erf form)."""
  if isinstance(approximate, str):
    if approximate not in ("tanh", "none"):
      raise ValueError(
        f"jaxact.gelu: approximate must be a bool, 'tanh' or 'none' (PyTorch's spelling), got {approximate!r}"
      )
    return approximate == "tanh"
  if isinstance(approximate, jax.core.Tracer):
    raise TypeError(
      "jaxact.gelu: approximate chooses the formula and must be a static value (a Python bool), "
      "not a traced array; mark it static (jax.jit(..., static_argnames=...))"
    )
  try:
    return bool(approximate)
  except (TypeError, ValueError) as e:
    raise TypeError(f"jaxact.gelu: approximate must be a bool, got {approximate!r}") from e


registry.register(
  registry.Info(
    name="gelu",
    fn=gelu,
    family="gates",
    formula="gelu_tanh(x) if approximate else gelu_erf(x)",
    output_range="[-0.1700, inf)",
    monotonic=False,
    smoothness="C^inf",
    zero_centred=False,
    bounded=False,
    conventions=(
      "approximate=True by default, as jax.nn and Keras; PyTorch's default is the exact "
      "form (approximate='none'), here approximate=False or 'none'; 'tanh' is the tanh form "
      "(jax.nn takes any string as true). Any other value counts by its truth, as jax.nn. "
      "gelu(-inf) = 0 (jax.nn: NaN)."
    ),
    references=("Hendrycks, Gimpel 2016, arXiv:1606.08415",),
    builtin=True,
  )
)


# mish = x tanh(softplus(x)). With e = exp(-|x|): for x <= 0, tanh(softplus x) =
# e (2 + e) / D, D = 2 + 2e + e^2; for x > 0, (1 + 2e) / D', D' = 1 + 2e + 2e^2.
# Below -c the factor e is shifted by e^c (it would be subnormal while x e is not),
# and e's higher powers, negligible there, are dropped.
_MISH_CLAMP = 1e4


def _mish_parts(x: jax.Array, split: bool = False):
  # split (the value, float64): e from stable.exp_split, and its relative rounding
  # error rel (else None), for the factor e of the numerator.
  xc = jnp.clip(x, -_MISH_CLAMP, _MISH_CLAMP)
  if split and xc.dtype == np.dtype(np.float64):
    arg, low = stable.neg_abs_shifted(xc)
    e, rel = stable.exp_split(arg)  # shifted where low
  else:
    e, low = stable.exp_neg_abs_shifted(xc)  # shifted where low
    rel = None
  ed = jnp.where(low, 0.0, e)  # e, where it is not negligible next to 1
  d_neg = 2.0 + ed * (2.0 + ed)
  d_pos = 1.0 + 2.0 * ed * (1.0 + ed)
  return xc, e, ed, low, d_neg, d_pos, rel


def _mish_d2(x: jax.Array) -> jax.Array:
  # mish'' = sech^2(softplus x) sigma(x) g, g = 2 + x (sigma(-x) - 2 tanh(softplus x) sigma(x)),
  # g vanishing at 1.4906 and -2.2564 (Taylor series there). The prefactor is
  # 4 e (1 + e) / D^2 (x <= 0) and 4 e^2 (1 + e) / D'^2 (x > 0).
  xc, e, ed, low, d_neg, d_pos, _ = _mish_parts(x)
  neg = xc <= 0
  inv = 1.0 / (1.0 + ed)
  s_pos = jnp.where(neg, ed * inv, inv)
  s_neg = jnp.where(neg, inv, ed * inv)
  t = jnp.where(neg, ed * (2.0 + ed) / d_neg, (1.0 + 2.0 * ed) / d_pos)
  g = 2.0 + xc * (s_neg - 2.0 * t * s_pos)
  near_pos, series_pos = stable.near_zero("mish_d2_pos", xc)
  near_neg, series_neg = stable.near_zero("mish_d2_neg", xc)
  g = jnp.where(near_pos, series_pos, jnp.where(near_neg, series_neg, g))
  c = stable.SCALE_SHIFT[x.dtype]
  low2 = 2.0 * xc > c
  e2 = jnp.exp(jnp.where(low2, c - 2.0 * xc, -2.0 * xc))  # e^2 for x > 0, shifted
  p_neg = 4.0 * e * (1.0 + ed) / (d_neg * d_neg)
  p_pos = 4.0 * e2 * (1.0 + ed) / (d_pos * d_pos)
  y = jnp.where(neg, p_neg, p_pos) * g
  return jnp.where(low | (low2 & ~neg), y * stable.exp_neg_shift(x.dtype), y)


def _mish_d2_twin(x: jax.Array) -> jax.Array:
  # mish = x t, t = tanh(softplus x), t' = sech^2(softplus x) sigma(x):
  # mish'' = 2 t' + x t'', t'' = tanh''(softplus x) sigma^2 + sech^2(softplus x) sigma'.
  sp, sig = smooth.softplus1(x), stable.sigmoid(x)
  t1 = stable.sech2(sp) * sig
  t2 = stable.tanh_d2(sp) * (sig * sig) + stable.sech2(sp) * stable.sigmoid_d1(x)
  return 2.0 * t1 + _finite(x) * t2


mish_d2 = stable.with_twin(_mish_d2, _mish_d2_twin)


def _mish_d1(x: jax.Array) -> jax.Array:
  # x <= 0: e / D^2 ((2 + e) D + 4 x (1 + e)), the factor vanishing at -1.1924
  # (Taylor series there); x > 0: ((1 + 2e) D' + 4 x e^2 (1 + e)) / D'^2, no cancellation.
  xc, e, ed, low, d_neg, d_pos, _ = _mish_parts(x)
  g = (2.0 + ed) * d_neg + 4.0 * xc * (1.0 + ed)
  near, series = stable.near_zero("mish_d1", xc)
  g = jnp.where(near, series, g)
  y_neg = e / (d_neg * d_neg) * g
  y_neg = jnp.where(low, y_neg * stable.exp_neg_shift(x.dtype), y_neg)
  y_pos = ((1.0 + 2.0 * ed) * d_pos + 4.0 * xc * (ed * ed) * (1.0 + ed)) / (d_pos * d_pos)
  return jnp.where(xc <= 0, y_neg, y_pos)


mish_d1 = stable_kernel(_mish_d1, derivative=mish_d2)


@activation(
  derivative=mish_d1,
  family="gates",
  formula="x * tanh(softplus(x))",
  output_range="[-0.3088, inf)",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions="mish(-inf) = 0 (jax.nn: NaN), mish'(+inf) = 1, mish''(+-inf) = 0.",
  references=("Misra 2019, arXiv:1908.08681",),
)
def mish(x: ArrayLike) -> jax.Array:
  r"""Mish, drop-in for ``jax.nn.mish``.

  .. math::
    \mathrm{mish}(x) = x \tanh(\operatorname{softplus}(x)) =
    \begin{cases} x\,\dfrac{e(2 + e)}{2 + 2e + e^2} & x \le 0 \\[1ex]
    x\,\dfrac{1 + 2e}{1 + 2e + 2e^2} & x > 0 \end{cases}, \quad e = e^{-|x|}

  One exponential, no ``tanh`` of a ``softplus``; the derivatives are rational in
  :math:`e` with their factors' zeros (:math:`x = -1.1924` for mish′, 1.4906 and
  -2.2564 for mish″) evaluated from Taylor series. Results that are normal numbers
  are computed without subnormal intermediates (``mish(-89.)`` in float32).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32/float64;
  1, 1, 2 ULP in float16/bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.mish(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.30340147,  0.        ,  0.8650984 ], dtype=float32)
  """
  xc, e, ed, low, d_neg, d_pos, rel = _mish_parts(x, split=True)
  # One quotient of selected parts, scaled before the division: with a quotient per
  # branch, or the scaling after it, XLA's CPU backend writes the exponential and the
  # quotient out (three passes over memory instead of one; 2x the time). In float64
  # the rounding error of e goes into the factor 2 + e (XLA's exp left the value 4.23
  # ULP off at x = -5.0973 there).
  neg = xc <= 0
  f = 2.0 + ed
  if rel is not None:
    f = f + f * rel
  num = jnp.where(neg, e * f, 1.0 + 2.0 * ed)
  scale = jnp.where(low, stable.exp_neg_shift(x.dtype), 1.0)
  return ((jnp.where(neg, xc, x) * num) * scale) / jnp.where(neg, d_neg, d_pos)


def _lisht_d2(x: jax.Array) -> jax.Array:
  # d^2/dx^2 x tanh x = 2 sech^2 x (1 - x tanh x) = 4 sigma'(z) (2 - z tanh(z / 2))
  # with z = 2x (exact): sech^2 x = 4 sigma'(2x), and 2 (1 - x tanh x) is silu's
  # factor 2 - z tanh(z / 2), with its root series at z = +-2.3994 (x = +-1.1997).
  z = 2.0 * x
  g = _gate_g2(z, jnp.zeros_like(z))
  return stable.sigmoid_d1_times(z, jnp.where(jnp.isinf(z), 0.0, g), m2=4.0)


def _lisht_d2_twin(x: jax.Array) -> jax.Array:
  return _gate_d2_twin(2.0 * x, 4.0)


lisht_d2 = stable.with_twin(_lisht_d2, _lisht_d2_twin)


def _lisht_d1(x: jax.Array) -> jax.Array:
  # tanh x + x sech^2 x: two terms of the same sign. In the tail x sech^2 x =
  # 4 x sigma'(2x), scaled where sigma'(2x) alone would be subnormal; near 0 as
  # x sech^2 x, with no intermediate (x sigma'(2x) ~ x / 4) flushed below x.
  tail = stable.sigmoid_d1_times(2.0 * x, x, m2=4.0)
  return stable.tanh(x) + jnp.where(jnp.abs(x) < 1.0, x * stable.sech2(x), tail)


lisht_d1 = stable_kernel(_lisht_d1, derivative=lisht_d2)


@activation(
  derivative=lisht_d1,
  family="gates",
  formula="x * tanh(x)",
  output_range="[0, inf)",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions="lisht(+-inf) = inf; lisht'(+-inf) = +-1, lisht''(+-inf) = 0.",
  references=("Roy et al. 2019, LiSHT, arXiv:1901.05894",),
)
def lisht(x: ArrayLike) -> jax.Array:
  r"""LiSHT: the linearly scaled hyperbolic tangent.

  .. math::
    \mathrm{lisht}(x) = x \tanh x, \qquad f'(x) = \tanh x + x\,\mathrm{sech}^2 x, \qquad
    f''(x) = 2\,\mathrm{sech}^2 x\,(1 - x \tanh x)

  The factor :math:`1 - x\tanh x` vanishes at :math:`x = \pm 1.1997`; near there it
  is evaluated from its Taylor series about the zero.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 (float32,
  float64); 1, 1, 2 ULP in float16/bfloat16.

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.lisht(jnp.array([-2.0, 0.0, 1.0], dtype=jnp.float32))
    Array([1.9280552, 0.       , 0.7615942], dtype=float32)
  """
  return x * stable.tanh(x)
