"""Smooth rectifiers and log-probabilities: softplus, log_sigmoid, squareplus, log1mexp.

Each is written so that no branch cancels: softplus as max(z, 0) + log1p(exp(-|z|)),
squareplus with sqrt(x^2 + b) scaled where it would overflow and, for x < 0, as
b / (2 (sqrt(x^2 + b) - x)), log1mexp with
``expm1`` below ln 2 and ``log1p`` above.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxact._src import checks, stable
from jaxact._src.core import activation, stable_kernel
from jaxact._src.exact import Reference, mp, sig, sig1, sp

_LN2 = math.log(2.0)


def _exp_for_softplus(y: jax.Array) -> tuple[jax.Array, jax.Array]:
  # (e, rel), e^y = e (1 + rel): stable.exp_split in float64, XLA's exp (rel = 0) in float32.
  if y.dtype == np.dtype(np.float64):
    return stable.exp_split(y)
  return jnp.exp(y), jnp.zeros_like(y)


def _softplus_z(z: jax.Array, z_lo: jax.Array, beta: jax.Array | None = None) -> jax.Array:
  # softplus(z + z_lo) / beta: below 0 the function is e^z (1 + ...) and the error of
  # z is amplified |z| times, so it is carried into the exponential. Below log(tiny),
  # softplus(z) = e^z to full precision, and e^z / beta is formed as e^(z + c) / beta
  # times e^-c: for beta < 1 it is normal where e^z is not.
  # (beta = None: the value itself, which is subnormal where e^z is; no scaling.)
  # In float64, e^z from stable.exp_split, its rounding error carried with z_lo into
  # one factor (with XLA's exp, softplus at beta = 0.3 is 4.58 ULP off there); float32
  # meets its bound with XLA's exp, which is cheaper.
  if beta is None:
    e, rel = _exp_for_softplus(-jnp.abs(z))
    e = e * (1.0 + (jnp.where(z < 0, z_lo, -z_lo) + rel))
    return jnp.maximum(z, 0.0) + jnp.where(z >= 0, z_lo, 0.0) + stable.log1p_unit(e)
  # Scaled only where e^z is subnormal, so that beta = 1 (as an array) gives the
  # values of the beta = 1 kernel wherever they are normal.
  arg, low = stable.neg_abs_shifted(z, below=math.log(float(np.finfo(z.dtype).tiny)))
  e, rel = _exp_for_softplus(arg)
  e = e * (1.0 + (jnp.where(low | (z < 0), z_lo, -z_lo) + rel))
  y = jnp.maximum(z, 0.0) + jnp.where(z >= 0, z_lo, 0.0) + stable.log1p_unit(jnp.where(low, 0.0, e))
  return jnp.where(low, (e / beta) * stable.scaling.exp_neg_shift(z.dtype), y / beta)


def _softplus_d2(x: jax.Array, beta: jax.Array) -> jax.Array:
  z, z_lo = stable.two_prod(beta, x)
  return stable.sigmoid_d1_times(z, beta, z_lo)


def _softplus_d2_twin(x: jax.Array, beta: jax.Array) -> jax.Array:
  return stable.sigmoid_d1_scaled(beta * x, beta)


softplus_d2 = stable.with_twin(_softplus_d2, _softplus_d2_twin)


def _softplus_d1(x: jax.Array, beta: jax.Array) -> jax.Array:
  z, z_lo = stable.two_prod(beta, x)
  return stable.sigmoid_times(z, jnp.ones_like(z), z_lo)


def _softplus_d1_dbeta(x: jax.Array, beta: jax.Array) -> jax.Array:
  # d/dbeta sigma(beta x) = x sigma'(beta x).
  z, z_lo = stable.two_prod(beta, x)
  return stable.sigmoid_d1_times(z, x, z_lo)


def _softplus_d1_dbeta_twin(x: jax.Array, beta: jax.Array) -> jax.Array:
  return stable.sigmoid_d1_scaled(beta * x, jnp.where(jnp.isinf(x), 0.0, x))


softplus_d1 = stable_kernel(
  _softplus_d1,
  derivative=softplus_d2,
  param_derivatives={"beta": stable.with_twin(_softplus_d1_dbeta, _softplus_d1_dbeta_twin)},
)


def _softplus_dbeta(x: jax.Array, beta: jax.Array) -> jax.Array:
  # d/dbeta softplus(beta x)/beta = (z sigma(z) - softplus(z)) / beta^2, z = beta x,
  # = -(|z| sigma(-|z|) + log1p(exp(-|z|))) / beta^2: a sum of two terms of one sign.
  # a = |beta x| as a double word (its rounding is amplified a times in e^-a); below
  # -c (e^-a subnormal), the sum is (a + 1) e^-a to full precision, scaled.
  z, z_lo = stable.two_prod(beta, x)
  a = jnp.abs(z)
  e, low = stable.exp_neg_abs_shifted(-a, jnp.where(z < 0, z_lo, -z_lo))
  t = jnp.where(e == 0, 0.0, a * e / (1.0 + e))
  b2 = beta * beta
  tail = (((a + 1.0) * e) / b2) * stable.scaling.exp_neg_shift(a.dtype)
  return -jnp.where(low, tail, (t + stable.log1p_unit(e)) / b2)


def _softplus_dbeta_twin(x: jax.Array, beta: jax.Array) -> jax.Array:
  # -(a sigma(-a) + softplus(-a)) / beta^2, a = |beta x|, in kernels (even in z).
  a = jnp.abs(beta * x)
  a_safe = jnp.where(jnp.isinf(a), 0.0, a)
  return -(jnp.where(jnp.isinf(a), 0.0, a_safe * stable.sigmoid(-a_safe)) + softplus1(-a)) / (beta * beta)


# beta = 1: z = x exactly, no double word (the same forms with z_lo = 0).
def _softplus1_d2(x: jax.Array) -> jax.Array:
  return stable.sigmoid_d1_times(x, jnp.ones_like(x))


def _softplus1_d2_twin(x: jax.Array) -> jax.Array:
  return stable.sigmoid_d1_scaled(x, jnp.ones_like(x))


def _softplus1_d1(x: jax.Array) -> jax.Array:
  return stable.sigmoid_times(x, jnp.ones_like(x))


def _softplus1(x: jax.Array) -> jax.Array:
  return _softplus_z(x, jnp.zeros_like(x))


softplus1_d2 = stable.with_twin(_softplus1_d2, _softplus1_d2_twin)
softplus1_d1 = stable_kernel(_softplus1_d1, derivative=softplus1_d2)
softplus1 = stable_kernel(_softplus1, derivative=softplus1_d1)


@activation(
  derivative=softplus_d1,
  param_derivatives={"beta": stable.with_twin(_softplus_dbeta, _softplus_dbeta_twin)},
  constant_kernels={"beta": (1.0, softplus1)},
  family="smooth",
  formula="log(1 + exp(beta x)) / beta",
  output_range="(0, inf)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "No threshold: continuous everywhere (PyTorch's Softplus switches to x above "
    "threshold=20). softplus(-inf) = 0, softplus'(+inf) = 1. beta is differentiable."
  ),
  references=("Dugas et al. 2001",),
  exact=Reference(
    f=lambda x, beta: sp(beta * x) / beta,
    d1=lambda x, beta: sig(beta * x),
    d2=lambda x, beta: beta * sig1(beta * x),
    also=({"beta": 0.3},),
  ),
)
def softplus(x: ArrayLike, *, beta: ArrayLike = 1.0) -> jax.Array:
  r"""Softplus, drop-in for ``jax.nn.softplus``, with an optional temperature.

  .. math::
    \mathrm{softplus}(x) = \frac{\log(1 + e^{\beta x})}{\beta}
    = \frac{\max(z, 0) + \operatorname{log1p}(e^{-|z|})}{\beta},\ z = \beta x, \qquad
    \mathrm{softplus}' = \sigma(\beta x), \quad \mathrm{softplus}'' = \beta\,\sigma'(\beta x)

  The derivatives are the stable sigmoid and its stable derivative
  (``jax.nn``'s second derivative is 0 from x = 17 in float32; exact at 20: 2.06e-9).
  No threshold as PyTorch's (``threshold=20``): the function is continuous.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    beta: keyword-only temperature (> 0), differentiable, broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: Measured at beta = 1 and, in float32/float64, at beta = 0.3. :math:`\beta x`
  is computed as a double word: in the tail the function is :math:`e^{\beta x}/\beta`
  and the rounding error of :math:`\beta x` would be amplified :math:`|\beta x|` times.
  Where ``beta`` is the Python number 1 (the default), :math:`z = x` is exact and a
  kernel without the double word runs (same values).

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.softplus(jnp.array([-20.0, 0.0, 20.0], dtype=jnp.float32))
    Array([2.0611537e-09, 6.9314718e-01, 2.0000000e+01], dtype=float32)
  """
  x, beta = checks.received(x, beta)
  return _softplus_z(*stable.two_prod(beta, x), beta)


def _log_sigmoid_d1(x: jax.Array) -> jax.Array:
  return stable.sigmoid(-x)


@activation(
  derivative=_log_sigmoid_d1,
  family="smooth",
  formula="log(sigmoid(x)) = -softplus(-x)",
  output_range="(-inf, 0)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions="log_sigmoid(-inf) = -inf, log_sigmoid(inf) = 0; log_sigmoid'(-inf) = 1.",
  exact=Reference(
    f=lambda x: -sp(-x),
    d1=lambda x: sig(-x),
    d2=lambda x: -sig1(x),
  ),
)
def log_sigmoid(x: ArrayLike) -> jax.Array:
  r"""Log-sigmoid, drop-in for ``jax.nn.log_sigmoid``.

  .. math::
    \log\sigma(x) = \min(x, 0) - \operatorname{log1p}(e^{-|x|}), \qquad
    (\log\sigma)' = \sigma(-x), \quad (\log\sigma)'' = -\sigma'(x)

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.log_sigmoid(jnp.array([-20.0, 0.0, 20.0], dtype=jnp.float32))
    Array([-2.0000000e+01, -6.9314718e-01, -2.0611537e-09], dtype=float32)
  """
  x = checks.received(x)
  return jnp.minimum(x, 0.0) - stable.log1p_unit(jnp.exp(-jnp.abs(x)))


def _log1mexp_m(x: jax.Array) -> jax.Array:
  # m = 1 - exp(-x) = -expm1(-x), accurate for small x too; +0 at x = +-0 (so that
  # the derivatives take their limits from the right there, log1mexp'(0) = +inf),
  # NaN below 0, where log1mexp and all its derivatives are NaN.
  m = -stable.expm1_forward(-x)
  return jnp.where(x < 0, jnp.nan, jnp.where(x == 0, 0.0, m))


def _log1mexp_d2(x: jax.Array) -> jax.Array:
  # log1mexp'' = -q / m^2, q = exp(-x), m = 1 - q.
  m = _log1mexp_m(x)
  return -(jnp.exp(-x) / m) / m


def _log1mexp_d3(x: jax.Array) -> jax.Array:
  # log1mexp''' = q (1 + q) / m^3.
  return ((jnp.exp(-x) * (1.0 + jnp.exp(-x)) / _log1mexp_m(x)) / _log1mexp_m(x)) / _log1mexp_m(x)


def _log1mexp_d1(x: jax.Array) -> jax.Array:
  return jnp.exp(-x) / _log1mexp_m(x)


log1mexp_d2 = stable_kernel(_log1mexp_d2, derivative=_log1mexp_d3)
log1mexp_d1 = stable_kernel(_log1mexp_d1, derivative=log1mexp_d2)


def _exact_log1mexp(x):
  if x < 0:
    raise ValueError("log1mexp: x < 0")
  if x == 0:
    return -mp.inf
  # log1p above ln 2: 1 - exp(-x) would round to 1 at any fixed precision for large x.
  return mp.log(-mp.expm1(-x)) if x < mp.ln2 else mp.log1p(-mp.exp(-x))


def _exact_log1mexp_d1(x):
  if x <= 0:
    raise ValueError("log1mexp': x <= 0")
  return 1 / mp.expm1(x)


def _exact_log1mexp_d2(x):
  if x <= 0:
    raise ValueError("log1mexp'': x <= 0")
  return -1 / (mp.expm1(x) * (-mp.expm1(-x)))


@activation(
  derivative=log1mexp_d1,
  family="smooth",
  formula="log(1 - exp(-x)), x >= 0",
  output_range="(-inf, 0) on x > 0",
  monotonic=True,
  smoothness="C^inf on x > 0",
  zero_centred=False,
  bounded=False,
  conventions=(
    "Defined for x >= 0: log1mexp(0) = -inf (derivative +inf), NaN for x < 0. "
    "log1mexp(inf) = 0 with derivatives 0."
  ),
  references=("Maechler 2012, 'Accurately computing log(1 - exp(-|a|))'",),
  exact=Reference(f=_exact_log1mexp, d1=_exact_log1mexp_d1, d2=_exact_log1mexp_d2, poles=True),
)
def log1mexp(x: ArrayLike) -> jax.Array:
  r"""log(1 - exp(-x)), drop-in for ``jax.nn.log1mexp``.

  .. math::
    \mathrm{log1mexp}(x) = \begin{cases} \log(-\operatorname{expm1}(-x)) & x \le \ln 2 \\
    \operatorname{log1p}(-e^{-x}) & x > \ln 2 \end{cases}, \qquad
    \mathrm{log1mexp}' = \frac{q}{1 - q}, \quad \mathrm{log1mexp}'' = -\frac{q}{(1 - q)^2},
    \ q = e^{-x}

  with :math:`1 - q` computed as :math:`-\operatorname{expm1}(-x)` (``jax.nn``'s
  second derivative is NaN at 100 and -0 at 50 in float32). XLA's float64 ``log1p``
  is up to 128 ULP off on :math:`[-0.4142, -0.3504]` on the CPU; there (x near 0.5
  to 0.9) jaxact adds the rounding error of :math:`1 - e^{-x}` to its log.

  Args:
    x: input array, :math:`x \ge 0`. float16/bfloat16 are computed in float32 and
      rounded once.

  Returns:
    An array of the same shape and dtype.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.log1mexp(jnp.array([0.5, 2.0, 20.0], dtype=jnp.float32))
    Array([-9.3275213e-01, -1.4541346e-01, -2.0611537e-09], dtype=float32)
  """
  x = checks.received(x)
  small = jnp.log(-stable.expm1_forward(-jnp.minimum(x, _LN2)))
  big = stable.log1p_forward(-jnp.exp(-jnp.maximum(x, _LN2)))
  return jnp.where(x <= _LN2, small, big)


# sqrt(x^2 + b) is formed as is where x^2 + b cannot overflow, and from x and b
# scaled by a power of two (exact) beyond: one square root, no division.
_SQUAREPLUS_SCALE = {
  np.dtype(np.float32): (2.0**60, 2.0**120, 2.0**-65),
  np.dtype(np.float64): (2.0**500, 2.0**1000, 2.0**-513),
}


def _squareplus_scaled(x: jax.Array, b: jax.Array) -> tuple[jax.Array, ...]:
  """(s, |x| s, sqrt(x^2 + b) s, b s, 1 / s) with s = 1, or a power of two where |x| or
  b is near the overflow of x^2 + b: one square root, exact scaling (the same on every
  backend; jnp.hypot is 2^22 ULP off for large |x| on XLA's GPU backend)."""
  x_big, b_big, small = _SQUAREPLUS_SCALE[np.dtype(x.dtype)]
  big = (jnp.abs(x) > x_big) | (b > b_big)
  s = jnp.where(big, small, 1.0)
  # |x s|, not |x| s: XLA's CPU backend then keeps the derivative in one fused loop
  # (with |x| s it writes |x| s out and reads it back, 1.9x the time).
  xs, b_s = x * s, b * s
  # (b s) s: s^2 alone would be subnormal.
  return s, jnp.abs(xs), jnp.sqrt(xs * xs + b_s * s), b_s, jnp.where(big, 1.0 / small, 1.0)


def _squareplus_h(x: jax.Array, b: jax.Array) -> jax.Array:
  *_, h_s, _, inv = _squareplus_scaled(x, b)
  return h_s * inv


def _squareplus_d1(x: jax.Array, b: jax.Array) -> jax.Array:
  # g = squareplus'(-|x|) = b / (2 h (h + |x|)), free of cancellation, and
  # squareplus'(x) = 1 - squareplus'(-x): one division for both signs. Scaled,
  # g = (b s / (2 hs (hs + |x| s))) s, whose denominator stays finite (at x = +-inf
  # it is inf: g = 0).
  s, a_s, h_s, b_s, _ = _squareplus_scaled(x, b)
  g = ((0.5 * b_s) / (h_s * (h_s + a_s))) * s
  return jnp.where(x >= 0, 1.0 - g, g)


def _squareplus_d2(x: jax.Array, b: jax.Array) -> jax.Array:
  # b / (2 h^3) as ((b / 2) r) r r with r = 1 / h: the intermediates run monotonically
  # from b / (2h) (at most sqrt(b) / 2, as h >= sqrt(b)) to the result, so none
  # overflows or underflows where the result does not. Not as three quotients, which
  # XLA reassociates into one by h^3, inf from h = 7e12 in float32 (0 there, where
  # b / (2 h^3) is normal for b > 8).
  r = 1.0 / _squareplus_h(x, b)
  return (((0.5 * b) * r) * r) * r


# r = 1 / h and x r = x / h (in [-1, 1]) are kernels whose partials are products of
# the two: dr/dx = -(x r) r^2, d(x r)/dx = b r^3, dr/db = -r^3 / 2 and
# d(x r)/db = -(x r) r^2 / 2. Every derivative of squareplus past the second is a
# polynomial in them, so every order is free of cancellation (autodiff of x / h
# itself would form r - x^2 r^3 = b r^3, all of it lost for x^2 >> b).
def _squareplus_r(x: jax.Array, b: jax.Array) -> jax.Array:
  return 1.0 / _squareplus_h(x, b)


def _squareplus_x_over_h(x: jax.Array, b: jax.Array) -> jax.Array:
  # Its limit +-1 at x = +-inf, where r = 0.
  r = _squareplus_r(x, b)
  return jnp.where(jnp.isinf(x), jnp.where(x > 0, 1.0, -1.0), jnp.where(jnp.isinf(x), 0.0, x) * r)


def _r_cubed(x: jax.Array, b: jax.Array) -> jax.Array:
  r = squareplus_r(x, b)
  return r * (r * r)


# r = 1/h and x r = x/h (h = sqrt(x^2 + b)) as kernels; their partials:
# dr/dx = -(x r) r^2, dr/db = -r^3 / 2, d(x r)/dx = b r^3, d(x r)/db = -(x r) r^2 / 2.


def _squareplus_r_dx(x: jax.Array, b: jax.Array) -> jax.Array:
  return -squareplus_xr(x, b) * (squareplus_r(x, b) * squareplus_r(x, b))


def _squareplus_r_db(x: jax.Array, b: jax.Array) -> jax.Array:
  return -0.5 * _r_cubed(x, b)


def _squareplus_xr_dx(x: jax.Array, b: jax.Array) -> jax.Array:
  return b * _r_cubed(x, b)


def _squareplus_xr_db(x: jax.Array, b: jax.Array) -> jax.Array:
  return (-0.5 * squareplus_xr(x, b)) * (squareplus_r(x, b) * squareplus_r(x, b))


squareplus_r = stable_kernel(
  _squareplus_r, derivative=_squareplus_r_dx, param_derivatives={"b": _squareplus_r_db}
)
squareplus_xr = stable_kernel(
  _squareplus_x_over_h, derivative=_squareplus_xr_dx, param_derivatives={"b": _squareplus_xr_db}
)


def _squareplus_d3(x: jax.Array, b: jax.Array) -> jax.Array:
  # squareplus''' = -3 b x / (2 h^5) = -1.5 b (x r) r^4 (its limit 0 at x = +-inf).
  r, xr = squareplus_r(x, b), squareplus_xr(x, b)
  return ((((-1.5 * b) * r) * xr) * r) * (r * r)


def _squareplus_d2_db(x: jax.Array, b: jax.Array) -> jax.Array:
  # d/db b / (2 h^3) = (x^2 / 2 - b / 4) / h^5 = ((x r)^2 / 2 - b r^2 / 4) r^3.
  r, xr = squareplus_r(x, b), squareplus_xr(x, b)
  return (0.5 * (xr * xr) - (0.25 * b) * (r * r)) * (r * (r * r))


def _squareplus_d1_db(x: jax.Array, b: jax.Array) -> jax.Array:
  # d/db (1 + x / h) / 2 = -x / (4 h^3).
  r, xr = squareplus_r(x, b), squareplus_xr(x, b)
  return ((-0.25 * xr) * r) * r


squareplus_d2 = stable_kernel(
  _squareplus_d2, derivative=_squareplus_d3, param_derivatives={"b": _squareplus_d2_db}
)
squareplus_d1 = stable_kernel(
  _squareplus_d1, derivative=squareplus_d2, param_derivatives={"b": _squareplus_d1_db}
)


def _squareplus_db(x: jax.Array, b: jax.Array) -> jax.Array:
  # d/db = 1 / (4 h).
  return 0.25 * squareplus_r(x, b)


def _exact_sq_h(x, b):
  return mp.sqrt(x * x + b)


def _exact_squareplus(x, b):
  if mp.isinf(x):
    return x if x > 0 else mp.mpf(0)
  return (x + _exact_sq_h(x, b)) / 2 if x >= 0 else b / (2 * (_exact_sq_h(x, b) - x))


def _exact_squareplus_d1(x, b):
  if mp.isinf(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)
  h = _exact_sq_h(x, b)
  return (1 + x / h) / 2 if x >= 0 else b / (2 * h * (h - x))


@activation(
  derivative=squareplus_d1,
  param_derivatives={"b": _squareplus_db},
  family="smooth",
  formula="(x + sqrt(x^2 + b)) / 2",
  output_range="(0, inf)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions="squareplus(-inf) = 0, squareplus'(+inf) = 1; b is traced and differentiable.",
  references=("Barron 2021, arXiv:2112.11687",),
  exact=Reference(
    f=_exact_squareplus, d1=_exact_squareplus_d1, d2=lambda x, b: b / (2 * _exact_sq_h(x, b) ** 3)
  ),
)
def squareplus(x: ArrayLike, b: ArrayLike = 4) -> jax.Array:
  r"""Squareplus, drop-in for ``jax.nn.squareplus``.

  .. math::
    \mathrm{squareplus}(x) = \frac{x + \sqrt{x^2 + b}}{2}
    = \max(x, 0) + \frac{b}{2(\sqrt{x^2 + b} + |x|)}, \qquad
    \mathrm{squareplus}'(x) = 1 - \mathrm{squareplus}'(-x), \qquad
    \mathrm{squareplus}'' = \frac{b}{2 (x^2 + b)^{3/2}}

  The second form has no cancellation, and value and derivative each take one
  division (:math:`\mathrm{squareplus}'(-|x|) = b / (2h(h + |x|))`,
  :math:`h = \sqrt{x^2 + b}`). :math:`\sqrt{x^2 + b}` is computed from ``x`` and ``b``
  scaled by a power of two where it would overflow (``jax.nn``: inf at -1e20, 2.4 %
  off at -4000 in float32, inf at 257 in float16).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    b: the smoothness (> 0); a scalar or an array that broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.squareplus(jnp.array([-1e20, 0.0, 1.0], dtype=jnp.float32))
    Array([1.000000e-20, 1.000000e+00, 1.618034e+00], dtype=float32)
  """
  x, b = checks.received(x, b)
  # squareplus(x) = max(x, 0) + squareplus(-|x|), and squareplus(-|x|) =
  # b / (2 (h + |x|)) = b s / (2 (hs + |x| s)): one division for both signs, free of
  # cancellation, with a scaled denominator that stays finite (inf at x = +-inf).
  _, a_s, h_s, b_s, _ = _squareplus_scaled(x, b)
  return jnp.maximum(x, 0.0) + (0.5 * b_s) / (h_s + a_s)
