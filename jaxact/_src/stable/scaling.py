"""Scaling past the subnormal range: one exponent per dtype, and the forms it takes.

XLA's CPU backend flushes subnormal intermediates to zero. Where a factor alone would
be subnormal but the result it goes into is not (m e^z with a large m, as elu's
alpha e^x; a tangent times sigma'(z) in a fourth derivative), the factor is carried
scaled and the scale is taken out of the product. One exponent per dtype, c = 64
(float32) and 512 (float64), sets every such scale; each form below says where it is
used and why it is the form it is. (``sigmoids.times_exp_far`` is of another kind: it
spans the whole exponent range, 2^(k + w) 2^-w with w the dtype's largest exponent, for
products with factors up to the largest number.)

- ``shift``: c as an argument shift, e^z = e^(z + c) e^-c. z + c is exact
  (Sterbenz) for z in [-2c, -c/2], and e^-c is rounded once (``exp_neg_shift``):
  ``exps.exp_times`` and ``exps.exp_neg_abs_shifted`` (elu's family, mish, softplus).
- ``exact_shift``: the shift k ln 2 just below c (k = 92 and 738), carried as two
  floats, so that e^-(k ln 2) = 2^-k is exact; for gelu's Gaussian, whose exponent
  already has a low part to add the shift's to (``gelu._exp_half_square``).
- ``power``: 2^c as a factor: ``exps.exp_neg_abs_parts`` returns e^-|z| 2^c,
  ``sigmoids.sech2`` is formed times 2^c and rounded once at the end, and the scaled
  products (``sigmoids.sigmoid_d1_scaled``, ``sigmoids.sigmoid_product``,
  ``gelu.pdf_scaled``) give their partials times 2^c where these are below 2^-100
  (``scale_beyond``), for |m| below ``limit`` = 2^(c/2), so that no scaled partial,
  and no product of one with a finite tangent, overflows, and the scales of nested
  orders do not compound.

Where c sits: 2^-c (float32: 5.4e-20) is far above the smallest normal number (1.2e-38)
and 2^c far below the largest (3.4e38), so a product of a scaled factor with a
bounded one neither overflows nor, where the result is normal, underflows.
"""

from __future__ import annotations

import decimal
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src.stable import eft

EXPONENT: dict[np.dtype, int] = {np.dtype(np.float32): 64, np.dtype(np.float64): 512}
"""c, per dtype (see the module docstring)."""


def shift(dtype) -> float:
  """c, the argument shift of e^z = e^(z + c) e^-c."""
  return float(EXPONENT[np.dtype(dtype)])


def exp_neg_shift(dtype) -> float:
  """e^-c, rounded once (the factor that takes the shift out)."""
  return math.exp(-shift(dtype))


def _exact_shift_constants(dtype: np.dtype) -> tuple[float, float, float]:
  k = math.floor(EXPONENT[dtype] / math.log(2.0))
  with decimal.localcontext() as ctx:
    ctx.prec = 40
    c = decimal.Decimal(2).ln() * k
  c_hi, c_lo = eft.split_constant(str(c), dtype)
  return c_hi, c_lo, 2.0**-k


_EXACT_SHIFT = {dtype: _exact_shift_constants(dtype) for dtype in EXPONENT}


def exact_shift(dtype) -> tuple[float, float, float]:
  """(c_hi, c_lo, e^-c) for the shift c = k ln 2, k = floor(c / ln 2) of the dtype's
  exponent: c in two floats, and e^-c = 2^-k exact."""
  return _EXACT_SHIFT[np.dtype(dtype)]


def power(dtype) -> float:
  """2^c, the scale of a factor (exact: a power of two)."""
  return 2.0 ** EXPONENT[np.dtype(dtype)]


def limit(dtype) -> float:
  """2^(c/2) (c is even): the largest |m| for which a partial in e^-|z| times m is given
  scaled."""
  return 2.0 ** (EXPONENT[np.dtype(dtype)] // 2)


def scale_beyond(z: jax.Array, m: jax.Array | None, bound: dict[np.dtype, float]) -> jax.Array:
  """The tangent scale of a partial in e^-|z| (times m): ``power`` for |z| beyond the
  dtype's ``bound`` (where the partial is below 2^-100) and |m| below ``limit``, else
  1; a select between constants, so its derivative is 0."""
  dt = np.dtype(z.dtype)
  beyond = jnp.abs(z) > bound[dt]
  if m is not None:
    beyond = beyond & (jnp.abs(m) < limit(dt))
  return jnp.where(beyond, power(dt), 1.0).astype(z.dtype)
