"""Exact values from mpmath, as pairs of float64 numbers.

The battery, the reference cache and the tower compare computed results with
``hi + lo``, the exact value to about 106 bits; these helpers make the pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mpmath as mp
import numpy as np

from jaxact.testing.references import DPS

WHICH = ("f", "d1", "d2")
"""The quantities of a :class:`~jaxact.testing.references.Reference` the battery
measures: the value and the first two derivatives (its attributes of those names)."""


def split(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
  """mpf values -> (hi, lo) float64 arrays with hi + lo = value to ~106 bits; NaN if undefined."""
  hi = np.empty(len(values))
  lo = np.zeros(len(values))
  for i, v in enumerate(values):
    if v is None or mp.isnan(v):
      hi[i] = np.nan
    elif mp.isinf(v) or abs(v) > 1.8e308:
      hi[i] = np.inf if v > 0 else -np.inf
    else:
      h = float(v)
      hi[i] = h
      lo[i] = float(v - h) if h != 0 or v == 0 else float(v)
      if lo[i] == 0 and v != h and h != 0:
        # The residual is half the smallest subnormal or less (v within it of a
        # multiple of it: x/2 just below the smallest normal, which a flushing
        # backend flushes): kept as that smallest subnormal, so that its sign says
        # on which side of hi v lies (a shift below 2^-1074, up to 1 ULP of the
        # measured error near the smallest normal and nothing above it).
        lo[i] = 5e-324 if v > h else -5e-324
  return hi, lo


def evaluate(
  g: Callable[..., Any], xs: np.ndarray, params: Mapping[str, float], times: np.ndarray | None = None
):
  """``g(x, **params)`` at every x of ``xs`` at DPS digits, as (hi, lo) pairs (NaN where
  ``g`` raises: outside its domain). ``times``: a factor per point, applied at DPS digits
  (check_gated's a)."""
  mp_params = {k: mp.mpf(v) for k, v in params.items()}
  out = []
  with mp.workdps(DPS):
    for i, x in enumerate(xs):
      try:
        v = g(mp.mpf(float(x)), **mp_params)
        out.append(v if times is None else mp.mpf(float(times[i])) * v)
      except (ValueError, ZeroDivisionError, OverflowError):
        out.append(None)
  return split(out)
