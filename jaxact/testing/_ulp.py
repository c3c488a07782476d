"""Reference grids and ULP errors against high-precision references."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from jaxact._src.registry import NARROW_FLOATS

WIDE = ("float16", "bfloat16", "float32", "float64")
"""The dtypes measured on a spread grid (every value too, for the 16-bit ones)."""

NARROW = NARROW_FLOATS
"""The 8- and 4-bit floats XLA computes with (jaxact computes them in float32 and
rounds once); always measured at every value (256 or fewer)."""

DTYPES = {name: np.dtype(getattr(ml_dtypes, name, None) or getattr(np, name)) for name in WIDE + NARROW}


def finfo(dtype) -> ml_dtypes.finfo:
  return ml_dtypes.finfo(np.dtype(dtype))


def every_value(dtype) -> np.ndarray:
  """Every value of a dtype of at most 16 bits but NaN, subnormals, 0 (as +0) and +-inf
  included, as a sorted float64 array (65,281 values for bfloat16, 63,489 for
  float16, 253 for float8_e4m3fn, 15 for float4_e2m1fn)."""
  dtype = np.dtype(dtype)
  if dtype.itemsize > 2:
    raise ValueError(f"every_value: {dtype.name} has more than 2^16 values")
  uint = np.dtype(f"uint{8 * dtype.itemsize}")
  with np.errstate(invalid="ignore"):  # the NaN patterns
    x = np.arange(1 << (8 * dtype.itemsize), dtype=uint).view(dtype).astype(np.float64)
  # -0 and +0 are equal, and which of them np.unique keeps is not specified (its sort
  # is not stable; it differed between two machines with the same code): always +0,
  # so that the grid, and the reference cache's keys, are the same on every machine.
  x = np.unique(x[~np.isnan(x)])
  x[x == 0] = 0.0
  return x


def grid(
  dtype,
  *,
  kinks=(0.0,),
  per_sign: int | None = None,
  per_binade: int = 8,
  dense: int = 2001,
  dense_width: float = 20.0,
  exhaustive: bool = False,
):
  """Test points of ``dtype`` covering its whole finite range, as a float64 array.

  ``exhaustive``: for a 16-bit dtype, every value (:func:`every_value`) instead; the
  other arguments are then ignored. A wider dtype gets the spread grid regardless,
  and an 8- or 4-bit dtype (:data:`NARROW`) every value regardless.

  Magnitudes from the smallest normal to the largest finite number (both signs),
  evenly spaced in their bit patterns (so about evenly in log2: the same number of
  points in every binade, to one): ``per_sign`` of them, by default enough for
  ``per_binade`` in every binade and at least 1200 (float64: 16,369, 8 or 9 in each
  of its 2,046 binades; float32 and bfloat16: 2,033; float16: 1,200), a dense
  uniform grid on ``[-dense_width, dense_width]``, every kink with its neighbours a
  few ULP away, 0, and +-inf. Every point is a value of ``dtype`` (rounded there),
  returned exactly in float64.

  The points come from integer and correctly rounded arithmetic only, never from a
  math library's exp2 or log2, whose last bit differs between CPUs: the same grid
  on every machine, which the reference cache's keys rely on.
  """
  dtype = np.dtype(dtype)
  if (exhaustive and dtype.itemsize == 2) or dtype.itemsize == 1:
    return every_value(dtype)
  fi = finfo(dtype)
  uint = np.dtype(f"uint{8 * dtype.itemsize}")
  lo, hi = (int(np.asarray(v, dtype).view(uint)) for v in (fi.tiny, fi.max))
  if per_sign is None:
    # hi - lo is one pattern short of a whole number of binades of 2^nmant patterns:
    # a step of (hi - lo) / (per_binade * binades) is below 2^nmant / per_binade.
    binades = -(-(hi - lo) // (1 << fi.nmant))
    per_sign = max(1200, per_binade * binades + 1)
  bits = np.array([lo + (hi - lo) * i // (per_sign - 1) for i in range(per_sign)], uint)
  mags = bits.view(dtype).astype(np.float64)
  pts = [mags, -mags, np.linspace(-dense_width, dense_width, dense), [0.0, np.inf, -np.inf]]
  for k in kinks:
    kd = np.asarray(k, dtype)
    near = [kd]
    up = down = kd
    for _ in range(3):
      up = np.nextafter(up, np.asarray(np.inf, dtype))
      down = np.nextafter(down, np.asarray(-np.inf, dtype))
      near += [up, down]
    pts.append(np.array(near, dtype).astype(np.float64))
  x = np.concatenate([np.asarray(p, np.float64) for p in pts])
  with np.errstate(over="ignore"):
    x = x.astype(dtype).astype(np.float64)
  return np.unique(x[~np.isnan(x)])


def has_nan(dtype) -> bool:
  """Whether ``dtype`` has a NaN (float4_e2m1fn has none: NaN converts to -0)."""
  with np.errstate(invalid="ignore"):
    return bool(np.isnan(np.asarray(np.nan).astype(np.dtype(dtype)).astype(np.float64)))


def has_inf(dtype) -> bool:
  """Whether ``dtype`` has infinities (the ``fn``/``fnuz`` 8-bit floats and float4_e2m1fn do not)."""
  with np.errstate(over="ignore", invalid="ignore"):
    return bool(np.isinf(np.asarray(np.inf).astype(np.dtype(dtype)).astype(np.float64)))


def nan_as(dtype) -> float:
  """What NaN converts to in ``dtype``: NaN, or -0 in float4_e2m1fn, which has no NaN."""
  with np.errstate(invalid="ignore"):
    return float(np.asarray(np.nan).astype(np.dtype(dtype)).astype(np.float64))


def ulp(value_hi: np.ndarray, dtype) -> np.ndarray:
  """The ULP of ``dtype`` at the exact values (float64), subnormal range included."""
  fi = finfo(dtype)
  a = np.abs(np.asarray(value_hi, np.float64))
  # floor(log2 a) from frexp (exact), not log2, which rounds up just below a power of 2
  e = np.frexp(np.maximum(a, float(fi.tiny)))[1] - 1
  return np.where(np.isfinite(a), np.ldexp(1.0, e - fi.nmant), a)


def ulp_error(computed: np.ndarray, hi: np.ndarray, lo: np.ndarray, dtype) -> np.ndarray:
  """|computed - exact| in ULPs of ``dtype`` at the exact value ``hi + lo``.

  Infinite exact values (or exact values that overflow ``dtype``) give 0 if
  ``computed`` is what rounding the exact value to ``dtype`` gives (the same
  infinity; NaN in a format without infinities, such as float8_e4m3fn; the largest
  number in one that saturates, float4_e2m1fn) and ``inf`` otherwise; a NaN
  ``computed`` where the exact value is a number gives ``inf``.
  """
  dtype = np.dtype(dtype)
  c = np.asarray(computed, np.float64)
  with np.errstate(over="ignore", invalid="ignore"):
    rounded = hi.astype(dtype).astype(np.float64)
    err = np.abs((c - hi) - lo) / ulp(hi, dtype)
  same = (c == rounded) | (np.isnan(c) & np.isnan(rounded))
  err = np.where(overflows(hi, dtype) | np.isinf(hi), np.where(same, 0.0, np.inf), err)
  return np.where(np.isnan(err), np.inf, err)


def overflows(hi: np.ndarray, dtype) -> np.ndarray:
  """Where a finite exact value ``hi`` has no finite rounding in ``dtype``'s range: it
  rounds to an infinity, to NaN (a format without infinities, float8_e4m3fn), or
  lies beyond the largest number of a format that saturates (float4_e2m1fn)."""
  dtype = np.dtype(dtype)
  hi = np.asarray(hi, np.float64)
  with np.errstate(over="ignore", invalid="ignore"):
    rounded = hi.astype(dtype).astype(np.float64)
  out = np.isfinite(hi) & ~np.isfinite(rounded)
  if not has_inf(dtype) and not has_nan(dtype):  # float4_e2m1fn: beyond the largest, the largest
    out |= np.isfinite(hi) & (np.abs(hi) > float(finfo(dtype).max))
  return out


@functools.cache
def flushes_subnormals(dtype_name: str) -> bool:
  """Whether the default backend flushes subnormal results of this dtype to zero.

  Products and quotients are both probed: XLA's GPU backend keeps subnormal
  products but flushes a quotient whose divisor is above 2^126 (float32), whose
  reciprocal is subnormal.
  """
  dtype = DTYPES[dtype_name]
  if dtype == np.dtype(np.float64) and not jax.config.read("jax_enable_x64"):
    return True  # float64 is not computed at all (and cannot be probed) without x64
  fi = finfo(dtype)
  tiny = np.asarray(fi.tiny, dtype)
  huge = np.asarray(float(fi.max) / 2.0, dtype)

  def probe(t, h):
    one = jnp.ones_like(t)
    return t * (0.5 * one), t / (2.0 * one), one / h

  try:
    outs = jax.jit(probe)(tiny, huge)
  except Exception:  # pragma: no cover - dtype unsupported on this backend
    return True
  return any(bool(np.asarray(o, np.float64) == 0.0) for o in outs)
