"""mpmath reference values stored on disk, so that the battery need not recompute them.

Evaluating the references at 50 digits is most of the battery's time (about 4,400
points per dtype, three quantities). :class:`ReferenceCache` keeps them in a
directory, one ``<name>.npz`` per activation, each entry keyed by everything the
values depend on: the dtype, a digest of the grid, the hyperparameters, the
working precision and a digest of the reference's source code. An entry whose key
does not match is simply not found, and the battery computes the values afresh.

What the key cannot see (a helper that a reference calls was changed) is caught
by comparing a sample of cached values with fresh ones
(:meth:`ReferenceCache.sample_mismatches`; jaxact's tests do it for every entry).

Stored: the exact value rounded to float64 (``hi``) and, for the float64 grid
only, the rest (``lo``). For the narrower dtypes the rest is below 2^-29 of their
ULP and is stored as 0.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
from collections.abc import Mapping

import numpy as np

from jaxact.testing import _ulp
from jaxact.testing._exact import WHICH, evaluate
from jaxact.testing.references import DPS, ELEMENTWISE, OTHER_PARAMS, Reference


def source_text(fn) -> str:
  """The source code of ``fn``, for a cache key: its bytecode, or its repr, where
  Python has no source for it (a function made by ``exec``, a ``functools.partial``)."""
  try:
    return inspect.getsource(fn)
  except (OSError, TypeError):
    return repr(fn.__code__.co_code) if hasattr(fn, "__code__") else repr(fn)


def _source(ref: Reference) -> str:
  return "\n".join(source_text(getattr(ref, which)) for which in WHICH)


ALL_DTYPES = ("float32", "float64", "bfloat16", "float16")
OTHER_DTYPES = ("float32", "float64")
NARROW_DTYPES = _ulp.NARROW


def with_params(ref: Reference, params: Mapping[str, float]) -> Reference:
  """``ref`` measured at other hyperparameters."""
  return dataclasses.replace(ref, params=dict(params), also=())


def battery_cases(name: str) -> list[tuple[Reference, tuple[str, ...]]]:
  """What jaxact's battery measures for the built-in ``name``: (reference, dtypes) pairs,
  the defaults in all four dtypes and in every 8- and 4-bit float, and each set in
  ``OTHER_PARAMS`` in float32 and float64."""
  out = [(ELEMENTWISE[name], ALL_DTYPES), (ELEMENTWISE[name], NARROW_DTYPES)]
  out += [(with_params(ELEMENTWISE[name], p), OTHER_DTYPES) for n, p in OTHER_PARAMS if n == name]
  return out


def digest(dtype_name: str, xs: np.ndarray, params: Mapping[str, float], *sources: str) -> str:
  """The digest naming one cached entry: of the dtype, the grid, the hyperparameters,
  the working precision and ``sources``, the code that computes the values."""
  h = hashlib.sha256()
  h.update(dtype_name.encode())
  h.update(np.ascontiguousarray(xs, np.float64).tobytes())
  h.update(json.dumps(sorted((k, float(v)) for k, v in params.items())).encode())
  h.update(str(DPS).encode())
  for text in sources:
    h.update(text.encode())
  return h.hexdigest()[:24]


def entry_key(ref: Reference, dtype_name: str, xs: np.ndarray, params: Mapping[str, float]) -> str:
  """The digest naming the battery's entry for ``ref`` (see the module docstring)."""
  return digest(dtype_name, xs, params, _source(ref))


class ReferenceCache:
  """A directory of cached reference values, one ``<name>.npz`` per activation.

  Args:
    directory: where the files are (created on :meth:`save`).
  """

  def __init__(self, directory: str | os.PathLike[str]):
    self.directory = os.fspath(directory)
    self._files: dict[str, dict[str, np.ndarray]] = {}

  def _path(self, name: str) -> str:
    return os.path.join(self.directory, f"{name}.npz")

  def _load(self, name: str) -> dict[str, np.ndarray]:
    if name not in self._files:
      path = self._path(name)
      if os.path.exists(path):
        with np.load(path) as data:
          self._files[name] = {k: data[k] for k in data.files}
      else:
        self._files[name] = {}
    return self._files[name]

  def get(self, name: str, key: str) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """The (hi, lo) arrays of f, d1 and d2 for ``key``, or ``None`` if not cached."""
    data = self._load(name)
    if f"{key}_f_hi" not in data:
      return None
    out = {}
    for which in WHICH:
      hi = data[f"{key}_{which}_hi"]
      lo = data.get(f"{key}_{which}_lo")
      out[which] = (hi, np.zeros_like(hi) if lo is None else lo)
    return out

  def entries(self, name: str) -> list[str]:
    """The keys cached for ``name``."""
    return sorted({k.split("_")[0] for k in self._load(name)})

  def put(self, name: str, key: str, dtype_name: str, values: Mapping[str, tuple[np.ndarray, np.ndarray]]):
    """Adds one entry (kept in memory until :meth:`save`)."""
    data = self._load(name)
    for which in WHICH:
      hi, lo = values[which]
      data[f"{key}_{which}_hi"] = np.asarray(hi, np.float64)
      if dtype_name == "float64":
        data[f"{key}_{which}_lo"] = np.asarray(lo, np.float64)

  def keep_only(self, name: str, keys: set[str]) -> None:
    """Drops the entries of ``name`` not in ``keys`` (stale ones)."""
    data = self._load(name)
    for k in [k for k in data if k.split("_")[0] not in keys]:
      del data[k]

  def save(self, name: str) -> None:
    """Writes ``<name>.npz`` (compressed)."""
    os.makedirs(self.directory, exist_ok=True)
    np.savez_compressed(self._path(name), **self._load(name))  # type: ignore[arg-type]  # numpy's stub

  def sample_mismatches(
    self, name: str, key: str, reference: Reference, xs: np.ndarray, params: Mapping[str, float], k: int = 16
  ) -> list[str]:
    """Recomputes ``k`` random points of each quantity; the ones that differ from the cache."""
    cached = self.get(name, key)
    if cached is None:
      return [f"{name}: entry {key} is not cached"]
    rng = np.random.default_rng(int(key[:8], 16))
    idx = rng.choice(xs.size, size=min(k, xs.size), replace=False)
    out: list[str] = []
    for which in WHICH:
      hi, _ = evaluate(getattr(reference, which), xs[idx], params)
      c_hi = cached[which][0][idx]
      same = (hi == c_hi) | (np.isnan(hi) & np.isnan(c_hi))
      for i in np.flatnonzero(~same):
        out.append(f"{name} {which} at x = {xs[idx][i]!r}: cached {c_hi[i]!r}, fresh {hi[i]!r}")
    return out
