"""The derivative tower: third and fourth derivatives against mpmath, in every mode.

The battery (``_battery.py``) measures the value and the first two derivatives in
ULPs. Past the second, a derivative is what autodiff makes of the kernels' rules, and
the bound is the error that evaluating the exact k-th derivative at an input rounded
once would already make, with a factor of 256:

.. math::
  |\\tilde f^{(k)}(x) - f^{(k)}(x)| \\le 256\\,\\varepsilon\\,
  \\bigl(|f^{(k)}(x)| + |x\\,f^{(k+1)}(x)|\\bigr)

(:math:`\\varepsilon` the unit roundoff of the dtype), and at least the smallest
normal number on a backend that flushes subnormal intermediates (XLA's CPU backend:
no result is resolved below it there). Each order is taken in reverse
mode (``grad`` of ``grad``), forward mode (nested ``jvp``) and mixed mode (``jvp`` of
``grad``, alternating), eagerly and under ``jit``; none may be NaN or inf where the
exact value is finite.

The references are the closed-form second derivatives that the activations declare
(``exact=``, collected in ``references.py``), differentiated by ``mpmath.diff`` at far
more than 50 digits: independent of the implementation. At a kink of f'' the one-sided
derivative is taken from the side whose limit f'' takes there (its documented
convention); where f'' takes neither limit (the mean, as soft_sign at 0), the
convention for every higher order is 0.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np

from jaxact.testing import _cache, _ulp
from jaxact.testing.references import DPS, Reference

ORDERS = (3, 4)
FACTOR = 256.0
MODES = ("rev", "fwd", "mixed")


def tower_grid(dtype, kinks: Sequence[float] = (0.0,)) -> np.ndarray:
  """Points of ``dtype`` over its whole finite range (both signs, evenly in the
  exponent), a dense grid on [-20, 20] and each kink with its neighbours; no +-inf."""
  per_sign = 200 if np.dtype(dtype).itemsize <= 4 else 300
  xs = _ulp.grid(dtype, kinks=kinks, per_sign=per_sign, dense=161, dense_width=20.0)
  return xs[np.isfinite(xs)]


def _side(ref_d2: Callable[..., Any], x, params) -> int | None:
  """At a kink ``x``: None where f'' is continuous (central differences), else -1 or +1,
  the side whose limit f'' takes there, or 0 for neither."""
  at = ref_d2(x, **params)
  eps = mp.mpf(2) ** -80 * max(1, abs(x))
  left, right = ref_d2(x - eps, **params), ref_d2(x + eps, **params)
  tol = mp.mpf(2) ** -60 * (1 + abs(at))
  near_left, near_right = abs(left - at) <= tol, abs(right - at) <= tol
  if near_left and near_right:
    return None
  return -1 if near_left else (1 if near_right else 0)


def reference_tower(reference: Reference, xs: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
  """(3, n) float64: f''', f'''' and f^(5) at ``xs``, by ``mpmath.diff`` of the closed-form
  f''; NaN where the reference is undefined."""
  out = np.full((3, xs.size), np.nan)
  kinks = [mp.mpf(k) for k in reference.kinks]
  with mp.workdps(DPS):
    p = {k: mp.mpf(v) for k, v in params.items()}
    g = lambda t: reference.d2(t, **p)
    for i, xf in enumerate(xs):
      x = mp.mpf(float(xf))
      try:
        scale = mp.mpf(2) ** -70 * max(1, abs(x))
        dist = min((abs(x - k) for k in kinks), default=mp.inf)
        # f'' may be near a nonzero constant where the next order is as small as x
        # (x -> 0): the differences then need about 2 log2(1/|x|) more bits.
        extra = 20 + (int(-2 * mp.log(abs(x), 2)) if 0 < abs(x) < 1 else 0)
        opts: dict[str, Any] = {"addprec": extra, "h": min(scale, dist / 8)}
        if dist == 0:
          side = _side(reference.d2, x, p)
          if side == 0:
            out[:, i] = 0.0
            continue
          if side is None:
            opts["h"] = scale
          else:
            opts = {"addprec": extra + 150, "h": mp.mpf(2) ** -160 * max(1, abs(x)), "direction": side}
        for n in (1, 2, 3):
          out[n - 1, i] = float(mp.diff(g, x, n, **opts))
      except (ValueError, ZeroDivisionError, OverflowError):
        pass
  return out


def reference_tower_near_poles(
  reference: Reference, xs: np.ndarray, params: Mapping[str, float]
) -> np.ndarray:
  """:func:`reference_tower` for a reference whose f'' has a pole at its kinks: within
  a distance 1 of one (and not at it), the differences step 2^-40 of the distance, at
  140 more bits (a step of 1/8 of it, as there, is 1.5 % off next to a pole)."""
  out = reference_tower(reference, xs, params)
  kinks = [mp.mpf(k) for k in reference.kinks]
  with mp.workdps(DPS):
    p = {k: mp.mpf(v) for k, v in params.items()}
    g = lambda t: reference.d2(t, **p)
    for i, xf in enumerate(xs):
      x = mp.mpf(float(xf))
      dist = min((abs(x - k) for k in kinks), default=mp.inf)
      if not 0 < dist < 1:
        continue
      try:
        extra = 160 + int(-2 * mp.log(dist, 2))
        for n in (1, 2, 3):
          out[n - 1, i] = float(mp.diff(g, x, n, addprec=extra, h=dist * mp.mpf(2) ** -40))
      except (ValueError, ZeroDivisionError, OverflowError):
        out[:, i] = np.nan
  return out


def reference_tower_periodic(reference: Reference, xs: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
  """:func:`reference_tower` for a periodic f'': where |x| > 1, the differences step
  2^-70 (not 2^-70 |x|, many periods at large |x|), at log2 |x| more bits so that
  x +- h is exact."""
  out = reference_tower(reference, xs, params)
  with mp.workdps(DPS):
    p = {k: mp.mpf(v) for k, v in params.items()}
    g = lambda t: reference.d2(t, **p)
    for i, xf in enumerate(xs):
      x = mp.mpf(float(xf))
      if not (1 < abs(x) < mp.inf):
        continue
      extra = 120 + int(mp.log(abs(x), 2))
      for n in (1, 2, 3):
        out[n - 1, i] = float(mp.diff(g, x, n, addprec=extra, h=mp.mpf(2) ** -70))
  return out


def _reference_method(reference: Reference) -> Callable[..., np.ndarray]:
  if reference.poles:
    return reference_tower_near_poles
  return reference_tower_periodic if reference.periodic else reference_tower


def derivative(
  fn: Callable[[jax.Array], jax.Array], order: int, mode: str
) -> Callable[[jax.Array], jax.Array]:
  """The ``order``-th derivative of the element-wise ``fn`` in ``mode``: ``rev``
  (``grad`` of the sum, nested), ``fwd`` (``jvp`` with unit tangent, nested) or
  ``mixed`` (the two alternating, reverse innermost)."""

  def rev(g):
    return jax.grad(lambda x: jnp.sum(g(x)))

  def fwd(g):
    return lambda x: jax.jvp(g, (x,), (jnp.ones_like(x),))[1]

  for k in range(order):
    step = {"rev": rev, "fwd": fwd, "mixed": (rev if k % 2 == 0 else fwd)}[mode]
    fn = step(fn)
  return fn


@dataclasses.dataclass
class TowerResult:
  """One (dtype, order, mode, jit) measurement: the largest error in units of the
  bound's 256 eps (|f^(k)| + |x f^(k+1)|) (so <= 1 passes), where, and the non-finite
  count."""

  dtype: str
  order: int
  mode: str
  jit: bool
  worst: float
  worst_x: float
  nonfinite: int
  points: int
  worst_outside: float = 0.0
  """The largest error outside the ``region`` given to :func:`measure_tower` (all of
  it where none was given)."""

  @property
  def passed(self) -> bool:
    return self.worst <= 1.0 and self.nonfinite == 0

  def __str__(self) -> str:
    j = "jit" if self.jit else "eager"
    return (
      f"{self.dtype} order {self.order} {self.mode} {j}: {self.worst:.3g} of the bound at x = "
      f"{self.worst_x!r}, {self.nonfinite} non-finite, {self.points} points"
    )


def measure_tower(
  fn: Callable[..., jax.Array],
  reference: Reference,
  dtype: str,
  params: Mapping[str, float],
  exact: np.ndarray,
  xs: np.ndarray,
  *,
  jit: bool = False,
  modes: Sequence[str] = MODES,
  region: np.ndarray | None = None,
) -> list[TowerResult]:
  """Orders 3 and 4 of ``fn(x, **params)`` at ``xs`` (of ``dtype``) against ``exact``
  (from :func:`reference_tower`), in each mode. ``region``: a mask of ``xs``; each
  result's ``worst_outside`` is the largest error off it."""
  dt = _ulp.DTYPES[dtype]
  eps = float(_ulp.finfo(dt).eps) / 2
  tiny = float(_ulp.finfo(dt).tiny)
  flush = _ulp.flushes_subnormals(dtype)
  x_arr = jnp.asarray(xs.astype(dt))
  f = lambda x: fn(x, **params)
  out = []
  for order in ORDERS:
    want, nxt = exact[order - 3], exact[order - 2]
    for mode in modes:
      d = derivative(f, order, mode)
      if jit:
        d = jax.jit(d)
      got = np.asarray(d(x_arr), np.float64)
      keep = np.isfinite(want)
      if flush:
        # A subnormal input is read as 0 there (as in the battery).
        keep &= ~((xs != 0) & (np.abs(xs) < tiny))
        # Only a result that is exactly what a flush gives is exempt: an exact value
        # below the normal range, computed as 0.
        keep &= ~((want != 0) & (np.abs(want) < tiny) & (got == 0))
      with np.errstate(over="ignore"):  # |x f^(k+1)| may overflow: no bound there
        scale = FACTOR * eps * (np.abs(want) + np.abs(xs * nxt))
      if flush:
        # Where the backend flushes subnormal intermediates, no result is resolved
        # below the smallest normal number: the bound is at least that.
        scale = np.maximum(scale, tiny)
      with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err = np.abs(got - want) / scale
      err = np.where((got == want) | (np.isnan(err) & np.isfinite(got)), 0.0, err)
      err = np.where(np.isfinite(got), err, 0.0)
      # Non-finite where the exact value is finite in the dtype (it may overflow it:
      # the third derivative of log1mexp, 2 / x^3, at x = 1e-20 in float32).
      with np.errstate(over="ignore"):
        representable = np.isfinite(want.astype(dt).astype(np.float64))
      nonfinite = int((keep & representable & ~np.isfinite(got)).sum())
      err = np.where(keep, err, 0.0)
      i = int(np.argmax(err))
      outside = float(np.max(err, where=~region, initial=0.0)) if region is not None else float(err[i])
      out.append(
        TowerResult(dtype, order, mode, jit, float(err[i]), float(xs[i]), nonfinite, int(keep.sum()), outside)
      )
  return out


def _digest(reference: Reference, dtype: str, xs: np.ndarray, params: Mapping[str, float]) -> str:
  # The code that computes the entry: the reference's f'' and the differencing.
  method = _reference_method(reference)
  sources = [_cache.source_text(reference.d2), inspect.getsource(reference_tower)]
  if method is not reference_tower:
    sources.append(inspect.getsource(method))
  return _cache.digest(dtype, xs, params, *sources)


def cached_reference_tower(
  directory: str, name: str, reference: Reference, dtype: str, xs: np.ndarray, params: Mapping[str, float]
) -> np.ndarray:
  """:func:`reference_tower`, stored in ``directory/<name>.npz`` under a digest of
  everything it depends on (computed and added when missing)."""
  import os

  key = _digest(reference, dtype, xs, params)
  path = os.path.join(directory, f"{name}.npz")
  data: dict[str, np.ndarray] = {}
  if os.path.exists(path):
    with np.load(path) as f:
      data = {k: f[k] for k in f.files}
  if key in data:
    return data[key]
  values = _reference_method(reference)(reference, xs, params)
  data[key] = values
  os.makedirs(directory, exist_ok=True)
  np.savez_compressed(path, **data)  # type: ignore[arg-type]  # numpy's stub
  return values


def cases(names: Sequence[str]) -> list[tuple[str, str, dict[str, float] | None]]:
  """The tower's cases of ``names``: (name, dtype, parameters) at the defaults in float32
  and float64, and at each set in ``OTHER_PARAMS`` in float64 (None: the defaults)."""
  from jaxact.testing.references import OTHER_PARAMS

  out: list[tuple[str, str, dict[str, float] | None]] = []
  for name in names:
    out += [(name, "float32", None), (name, "float64", None)]
    out += [(name, "float64", dict(p)) for n, p in OTHER_PARAMS if n == name]
  return out


def _case(
  name: str, dtype: str, params: Mapping[str, float] | None
) -> tuple[Callable[..., jax.Array], Reference, dict[str, float], np.ndarray]:
  """The registered ``name``, its reference, the parameters as rounded to ``dtype``
  (``params`` replace the reference's defaults) and the grid."""
  import jaxact
  from jaxact.testing._battery import cases
  from jaxact.testing.references import ELEMENTWISE

  ref = ELEMENTWISE[name]
  fn = jaxact.get(name)
  (case,) = cases(fn, ref, (dtype,), params=None if params is None else dict(ref.params, **params))
  return fn, ref, case[2], tower_grid(_ulp.DTYPES[dtype], ref.kinks)


def cache_key(name: str, dtype: str, params: Mapping[str, float] | None = None) -> str:
  """The digest under which :func:`measure_activation`'s case stores its references
  (:func:`cached_reference_tower`)."""
  _, ref, p, xs = _case(name, dtype, params)
  return _digest(ref, dtype, xs, p)


def measure_activation(
  name: str,
  dtype: str,
  params: Mapping[str, float] | None = None,
  *,
  cache: str | None = None,
  region: Sequence[tuple[float, float]] = (),
) -> list[TowerResult]:
  """Orders 3 and 4 of the registered element-wise activation ``name`` on
  :func:`tower_grid`: reverse mode eagerly, and every mode under ``jit``. ``params``
  replace the reference's defaults; ``cache``: a directory of cached references
  (:func:`cached_reference_tower`), else they are computed (about 30 s per dtype);
  ``region``: intervals ``(lo, hi)`` of x off which ``worst_outside`` is measured."""
  fn, ref, p, xs = _case(name, dtype, params)
  if cache is None:
    exact = _reference_method(ref)(ref, xs, p)
  else:
    exact = cached_reference_tower(cache, name, ref, dtype, xs, p)
  mask = np.zeros(xs.shape, bool)
  for lo, hi in region:
    mask |= (xs >= lo) & (xs <= hi)
  results = measure_tower(fn, ref, dtype, p, exact, xs, jit=False, modes=("rev",), region=mask)
  return results + measure_tower(fn, ref, dtype, p, exact, xs, jit=True, region=mask)
