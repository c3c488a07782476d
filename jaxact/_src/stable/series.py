"""Polynomials (Horner) and the series about interior zeros of derivatives (silu'
at -1.2785 ...), whose coefficients ``tools/derive_constants.py`` writes into
``_series.py``: near a zero the formula cancels, the series does not."""

from __future__ import annotations

import decimal

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import _series


def horner(t: jax.Array, coeffs) -> jax.Array:
  """The polynomial with ``coeffs`` (Python floats, highest power first) at ``t``, in
  Horner form: c0 t^n + c1 t^(n-1) + ... + cn, one multiply and one add per degree."""
  acc = jnp.full_like(t, coeffs[0])
  for c in coeffs[1:]:
    acc = acc * t + c
  return acc


def _zero_split(name: str, dtype: np.dtype) -> tuple[float, float]:
  """The zero z0 of the factor ``name`` as two floats of ``dtype``, hi + lo."""
  z0 = decimal.Decimal(_series.SERIES[name][0])
  hi = dtype.type(float(z0))
  return hi, dtype.type(float(z0 - decimal.Decimal(float(hi))))


def _series_coefficients(name: str, dtype: np.dtype) -> list[float]:
  """The Taylor coefficients of the factor ``name``, up to a relative size of 2^-30
  (float32) or 2^-60 (float64) of the first at |d| = _series.RADIUS."""
  coeffs = _series.SERIES[name][1]
  tol = 2.0**-30 if dtype == np.dtype(np.float32) else 2.0**-60
  first = abs(float(coeffs[0])) * _series.RADIUS
  n = max(k for k, c in enumerate(coeffs, 1) if abs(float(c)) * _series.RADIUS**k >= tol * first)
  return [float(c) for c in coeffs[:n]]


def from_zero(name: str, z: jax.Array) -> jax.Array:
  """d = z - z0 for the zero z0 of the factor ``name`` (``_series.py``), to one
  rounding: z0 is split into two floats, hi + lo."""
  hi, lo = _zero_split(name, np.dtype(z.dtype))
  # The barrier keeps XLA from folding (z - hi) - lo into z - (hi + lo), which
  # rounds lo away (it reassociates constants under jit).
  return jax.lax.optimization_barrier(z - hi) - lo


def near_zero(name: str, z: jax.Array, z_lo: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
  """(near, g): whether z is within the series' radius (0.5) of the zero of the
  factor ``name`` (see ``_series.py``), and the factor there from its Taylor series
  in d = z - z0 (``from_zero``: one rounding). ``z_lo`` is the rounding error of
  ``z`` where it was computed as a double word.
  """
  coeffs = _series_coefficients(name, np.dtype(z.dtype))
  d = from_zero(name, z)
  if z_lo is not None:
    d = d + z_lo
  near = jnp.abs(d) < _series.RADIUS
  d = jnp.clip(d, -_series.RADIUS, _series.RADIUS)
  return near, d * horner(d, coeffs[::-1])
