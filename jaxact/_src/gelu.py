"""GELU in both forms: x Phi(x) (``gelu_erf``) and its tanh approximation
(``gelu_tanh``), and ``gelu``, which picks one as ``jax.nn.gelu`` does."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxact._src import _series, checks, gate, stable
from jaxact._src.core import activation, registered, stable_kernel
from jaxact._src.exact import Reference, mp, sig, sig1

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
  return gate.d1_general(z, z_lo, xc * zp, ("gelu_tanh_d1", xc))


gelu_tanh_d1 = stable_kernel(_gelu_tanh_d1, derivative=gelu_tanh_d2)


# Without the barrier on the derivative (see stable_kernel): value and derivative
# share the double word z, and XLA keeps no more for that in a training step
# (benchmarks/derivative_barrier.py: same memory, value and vjp 1.4x the time with it).
def _exact_gelu_tanh_parts(x):
  a = 2 * mp.sqrt(2 / mp.pi)
  b = mp.mpf("0.044715") * a
  return x * (a + b * x * x), a + 3 * b * x * x, 6 * b * x


def _exact_gelu_tanh(x):
  if mp.isinf(x):
    return x if x > 0 else mp.mpf(0)
  return x * sig(_exact_gelu_tanh_parts(x)[0])


def _exact_gelu_tanh_d1(x):
  if mp.isinf(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)
  z, zp, _ = _exact_gelu_tanh_parts(x)
  return sig(z) + x * zp * sig1(z)


def _exact_gelu_tanh_d2(x):
  if mp.isinf(x):
    return mp.mpf(0)
  z, zp, zpp = _exact_gelu_tanh_parts(x)
  return sig1(z) * (2 * zp + x * zpp - x * zp * zp * mp.tanh(z / 2))


_EXACT_GELU_TANH = Reference(f=_exact_gelu_tanh, d1=_exact_gelu_tanh_d1, d2=_exact_gelu_tanh_d2)


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
  exact=_EXACT_GELU_TANH,
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

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.gelu_tanh(jnp.array([-3.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.00363739,  0.        ,  0.841192  ], dtype=float32)
  """
  x = checks.received(x)
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


_HALF_SQUARE_DEGREE = {np.dtype(np.float32): 5, np.dtype(np.float64): 3}


def _exp_half_square(x: jax.Array, split: bool = False) -> tuple[jax.Array, jax.Array, jax.Array]:
  """(E, m, low): exp(-x^2/2) = E (1 + m), E times e^c where it is below e^-c (``low``).
  ``split``: E from stable.exp_split, whose rounding error goes into m (the value's
  product then rounds E once, not XLA's exp's 0.9 ULP)."""
  a = jnp.minimum(jnp.abs(x), _NORMAL_CLAMP)
  h, rest_of_a = stable.split(a)
  half_h2 = 0.5 * (h * h)  # exact: h has half the significand
  # The shift past the subnormal range: c = k ln 2 in two parts, e^-c = 2^-k exact.
  c_hi, c_lo, _ = stable.scaling.exact_shift(x.dtype)
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
  return jnp.where(low, y * stable.scaling.exact_shift(y.dtype)[2], y)


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
# partials are given times scaling.power, the one in x for |m| below scaling.limit.
_PDF_TANGENT_BOUND: dict[np.dtype, float] = {np.dtype(np.float32): 11.7, np.dtype(np.float64): 35.3}


def _pdf_scale(x: jax.Array, m: jax.Array | None = None) -> jax.Array:
  return stable.scaling.scale_beyond(x, m, _PDF_TANGENT_BOUND)


def _pdf_scaled_dx(x: jax.Array, m: jax.Array) -> jax.Array:
  return pdf_scaled(x, (-_inside(x) * m) * _pdf_scale(x, m))


pdf_scaled = stable.scaled_product_kernel(_pdf_times, dz=_pdf_scaled_dx, scale=_pdf_scale, m_scale=_pdf_scale)
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


def _exact_ncdf(x):
  # mpmath's erfc overflows a float conversion below about -1e150 with its pure-Python
  # backend (not with gmpy2); there the asymptotic series, truncated after x^-8, is exact
  # to far more than 50 digits.
  if x < -1e10:
    t = 1 / (x * x)
    return mp.npdf(x) / -x * (1 - t * (1 - 3 * t * (1 - 5 * t * (1 - 7 * t))))
  return mp.ncdf(x)


def _exact_gelu_erf(x):
  if mp.isinf(x):
    return x if x > 0 else mp.mpf(0)
  return x * _exact_ncdf(x)


def _exact_gelu_erf_d1(x):
  if mp.isinf(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)
  return _exact_ncdf(x) + x * mp.npdf(x)


def _exact_gelu_erf_d2(x):
  if mp.isinf(x):
    return mp.mpf(0)
  return mp.npdf(x) * (2 - x * x)


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
  exact=Reference(f=_exact_gelu_erf, d1=_exact_gelu_erf_d1, d2=_exact_gelu_erf_d2),
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

  Accuracy: On dense sweeps of the tail: 3.32 ULP in float32, 3.48 in float64. The
  value's Gaussian factor comes from ``stable.exp_split``, whose rounding error is
  carried into the tail's numerator (with XLA's exp instead the value is 4.10 ULP off at
  x = -6.518).

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.gelu_erf(jnp.array([-6.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-5.919526e-09,  0.000000e+00,  8.413447e-01], dtype=float32)
  """
  x = checks.received(x)
  e, m, low = _exp_half_square(x, split=True)
  xc = jnp.clip(x, -_NORMAL_CLAMP, _NORMAL_CLAMP)
  num, den = _normal_tail(jnp.abs(xc), m)  # num / den = Phi(-|x|) / E
  if x.dtype == np.dtype(np.float64):
    # e (num x / den) in one rounding, not three: num x and its quotient by den as
    # double words (3.21 ULP at x = -12.882, 4.21 with three roundings; tools/dense_sweep.py; float32 is
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


@registered(
  kind="elementwise",
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
  exact=_EXACT_GELU_TANH,
)
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

  Accuracy: that of the form chosen, :func:`gelu_tanh` or :func:`gelu_erf`.

  Examples:
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
