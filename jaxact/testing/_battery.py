"""The battery: value, first and second derivative of an activation against mpmath.

``check_activation`` and ``check_normalizer`` return a :class:`Report`;
``assert_activation`` and ``assert_normalizer`` raise ``AssertionError`` with the
report when a bound is exceeded. jaxact's own tests and ``python -m jaxact`` use
exactly these functions.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np

from jaxact._src import checks
from jaxact._src.registry import DEFAULT_BOUNDS
from jaxact.testing import _exact, _ulp
from jaxact.testing._cache import ReferenceCache, entry_key
from jaxact.testing.references import DPS, Reference

# How the report names the quantities of _exact.WHICH.
LABELS = {"f": "value", "d1": "d1", "d2": "d2"}


@dataclasses.dataclass
class DtypeResult:
  """Result of the battery for one dtype.

  Attributes:
    dtype: dtype name.
    points: number of points measured (after exclusions).
    max_ulp: largest error of value, first and second derivative, in ULPs.
    worst_x: the input at which each largest error occurs.
    nonfinite: derivatives that are NaN or inf where the exact one is finite.
    bounds: the bounds asserted (value, d1, d2).
    nan_propagates: NaN input gives NaN value and derivatives (``None`` for a dtype
      without NaN, float4_e2m1fn).
    excluded: points left out, and why.
    skipped: why the dtype was not measured (empty if it was).
    undefined: grid points outside the function's domain (the reference raises),
      counted apart from ``points``; value and derivatives must be NaN there.
    defined_at_undefined: of those, the points where a value or derivative is not NaN.
  """

  dtype: str
  points: int = 0
  max_ulp: tuple[float, ...] = (0.0, 0.0, 0.0)
  worst_x: tuple[float, ...] = (0.0, 0.0, 0.0)
  nonfinite: int = 0
  bounds: tuple[float, ...] = (0.0, 0.0, 0.0)
  nan_propagates: bool | None = True
  excluded: str = ""
  skipped: str = ""
  undefined: int = 0
  defined_at_undefined: int = 0

  @property
  def passed(self) -> bool:
    if self.skipped:
      return True
    within = all(e <= b for e, b in zip(self.max_ulp, self.bounds))
    nan_ok = self.nan_propagates is not False
    return within and self.nonfinite == 0 and nan_ok and self.defined_at_undefined == 0

  def failures(self) -> list[str]:
    out: list[str] = []
    if self.skipped:
      return out
    for q, e, b, x in zip(LABELS.values(), self.max_ulp, self.bounds, self.worst_x):
      if not e <= b:
        out.append(f"{self.dtype} {q}: {e:.3g} ULP > {b:g} at x = {x!r}")
    if self.nonfinite:
      out.append(f"{self.dtype}: {self.nonfinite} non-finite derivatives where the exact one is finite")
    if self.nan_propagates is False:
      out.append(f"{self.dtype}: NaN input does not give NaN value and derivatives")
    if self.defined_at_undefined:
      out.append(f"{self.dtype}: {self.defined_at_undefined} points outside the domain not NaN")
    return out


@dataclasses.dataclass
class Report:
  """Battery results of one activation over several dtypes."""

  name: str
  kind: str
  results: list[DtypeResult]

  @property
  def passed(self) -> bool:
    return all(r.passed for r in self.results)

  def failures(self) -> list[str]:
    return [f"{self.name}: {f}" for r in self.results for f in r.failures()]

  def as_dict(self) -> dict[str, Any]:
    return {
      "name": self.name,
      "kind": self.kind,
      "passed": self.passed,
      "results": [dataclasses.asdict(r) | {"passed": r.passed} for r in self.results],
    }

  def __str__(self) -> str:
    lines = [f"{self.name} ({self.kind}): {'PASS' if self.passed else 'FAIL'}"]
    w = max([9] + [len(r.dtype) + 1 for r in self.results])
    lines.append(f"  {'dtype':<{w}} points   value ULP      d1 ULP      d2 ULP  non-finite  NaN->NaN")
    for r in self.results:
      if r.skipped:
        lines.append(f"  {r.dtype:<{w}} skipped: {r.skipped}")
        continue
      cells = "".join(f"  {e:>6.2f}/{b:<4g}" for e, b in zip(r.max_ulp, r.bounds))
      nan = {True: "yes", False: "NO", None: "n/a"}[r.nan_propagates]
      lines.append(f"  {r.dtype:<{w}}{r.points:>7}{cells}{r.nonfinite:>12}  {nan}")
      if r.undefined:
        ok = "all NaN" if not r.defined_at_undefined else f"{r.defined_at_undefined} NOT NaN"
        lines.append(f"  {'':<9}(and {r.undefined} points outside the domain: {ok})")
    lines += [f"  FAIL {f}" for f in self.failures()]
    return "\n".join(lines)


def _x64_enabled() -> bool:
  return bool(jax.config.read("jax_enable_x64"))


def _start(dname: str, bounds: Mapping[str, Sequence[float]]) -> tuple[np.dtype, DtypeResult]:
  """The dtype and an empty result for it; skipped (with the reason) if it cannot be measured."""
  res = DtypeResult(dtype=dname, bounds=tuple(bounds[dname]))
  if dname == "float64" and not _x64_enabled():
    res.skipped = "jax_enable_x64 is off"
  return _ulp.DTYPES[dname], res


@functools.lru_cache(maxsize=256)
def _cached_reference(ref: Reference, which: str, xs_bytes: bytes, params: tuple):
  xs = np.frombuffer(xs_bytes, np.float64)
  return _exact.evaluate(getattr(ref, which), xs, dict(params))


def _default_params(fn: Callable[..., Any]) -> dict[str, float]:
  """Hyperparameters of ``fn`` that have numeric defaults (the input excluded)."""
  try:
    sig = inspect.signature(fn)
  except (TypeError, ValueError):
    return {}
  out = {}
  for p in list(sig.parameters.values())[1:]:
    if isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
      out[p.name] = float(p.default)
  return out


def cases(
  fn: Callable[..., Any],
  reference: Reference,
  dtypes: Sequence[str],
  *,
  params: Mapping[str, float] | None = None,
  grid: Mapping[str, Any] | None = None,
) -> list[tuple[str, np.ndarray, dict[str, float]]]:
  """(dtype name, grid, hyperparameters rounded to the compute dtype) per dtype measured.

  The hyperparameters are ``params``, or the defaults of ``fn`` updated with
  ``reference.params``.
  """
  if params is None:
    params = dict(_default_params(fn), **reference.params)
  out = []
  for dname in dtypes:
    dtype = _ulp.DTYPES[dname]
    ctype = checks.compute_dtype(dtype)
    p_rounded = {k: float(np.asarray(v, ctype)) for k, v in params.items()}
    out.append((dname, _ulp.grid(dtype, kinks=reference.kinks, **(grid or {})), p_rounded))
  return out


def reference_values(reference: Reference, xs: np.ndarray, params: Mapping[str, float]):
  """{"f", "d1", "d2"} -> (hi, lo): the exact values at ``xs`` (mpmath), as float64 pairs."""
  key = tuple(sorted(params.items()))
  return {which: _cached_reference(reference, which, xs.tobytes(), key) for which in ("f", "d1", "d2")}


def required_params(name: str) -> dict[str, float]:
  """Values for the hyperparameters of the registered ``name`` that have no default
  (prelu's ``alpha``, threshold's ``threshold`` and ``value``, softcap's ``cap``):
  the ones its declared reference is measured at. Empty for the others."""
  from jaxact._src import registry

  info = registry.info(name)
  ref = info.exact if isinstance(info.exact, Reference) else None
  missing = [p for p, d in info.params.items() if d == registry.REQUIRED]
  return {p: ref.params[p] for p in missing} if ref is not None else {}


def _derivatives(fn: Callable[..., Any], params: Mapping[str, Any]):
  f = lambda x: fn(x, **params)
  d1 = jax.grad(f)
  d2 = jax.grad(d1)
  return jax.jit(jax.vmap(lambda x: (f(x), d1(x), d2(x))))


def _inputs_kept(
  xs: np.ndarray, dname: str, domain: tuple[float, float] | None = None
) -> tuple[bool, float, np.ndarray]:
  """(the backend flushes subnormals of the dtype, its smallest normal, the inputs
  measured): a subnormal input is left out where the backend flushes it (it computes
  at 0 there), and so is one outside ``domain``."""
  flush = _ulp.flushes_subnormals(dname)
  tiny = float(_ulp.finfo(_ulp.DTYPES[dname]).tiny)
  keep = np.ones(xs.shape, bool)
  if flush:
    keep &= ~((xs != 0) & (np.abs(xs) < tiny))
  if domain is not None:
    keep &= (xs >= domain[0]) & (xs <= domain[1])
  return flush, tiny, keep


def _nonfinite(keep: np.ndarray, hi: np.ndarray, computed: np.ndarray, dtype) -> int:
  """How many kept derivatives are NaN or inf where the exact one, rounded to the
  dtype, is finite."""
  with np.errstate(over="ignore"):
    finite_exact = np.isfinite(hi.astype(dtype).astype(np.float64))
  return int((keep & finite_exact & ~np.isfinite(computed)).sum())


def _declared(fn: Callable[..., Any] | str, reference: Any, caller: str) -> tuple[Callable[..., Any], Any]:
  """(the function, its reference): ``fn`` may be a registered name; without a
  ``reference``, the one the registered ``fn`` declares (its decorator's ``exact=``)."""
  from jaxact._src import registry

  if isinstance(fn, str):
    fn = registry.get(fn)
  if reference is None:
    try:
      reference = registry.info(fn).exact
    except (ValueError, TypeError):
      pass
    if reference is None:
      raise TypeError(
        f"jaxact.testing.{caller}: {getattr(fn, '__name__', fn)!r} has no registered reference "
        "(exact= in its decorator, and registered: not register=False); pass one"
      )
  return fn, reference


def check_activation(
  fn: Callable[..., Any] | str,
  reference: Reference | None = None,
  *,
  name: str | None = None,
  dtypes: Sequence[str] = ("float32", "float64", "bfloat16", "float16"),
  bounds: Mapping[str, tuple[float, float, float]] | None = None,
  params: Mapping[str, float] | None = None,
  grid: Mapping[str, Any] | None = None,
  cache: ReferenceCache | None = None,
  domain: tuple[float, float] | None = None,
) -> Report:
  """Measures an element-wise activation against its mpmath reference.

  For each dtype: the value and first and second derivatives (``grad`` and
  ``grad(grad)``, under ``jit(vmap)``) on :func:`jaxact.testing.grid`, as ULPs of
  that dtype at the exact value; the number of non-finite derivatives where the
  exact one is finite; and whether NaN gives NaN. On backends that flush
  subnormal results of a dtype, inputs and exact results in the subnormal range
  are excluded for that dtype. float64 is skipped when ``jax_enable_x64`` is off.

  Args:
    fn: the activation, ``fn(x, **params)``, or a registered activation's name.
    reference: its :class:`Reference`; default: the one a registered ``fn`` declares
      (``exact=`` in its decorator).
    name: shown in the report (default ``fn.__name__``).
    dtypes: dtype names to measure.
    bounds: per dtype (value, d1, d2) ULP bounds; default the library's bounds.
    params: hyperparameters (default ``reference.params``). They are rounded to
      the compute dtype before the reference sees them, exactly as ``fn`` does.
    grid: keyword arguments for :func:`jaxact.testing.grid`.
    cache: a :class:`ReferenceCache` to take the reference values from where it
      has them (looked up by ``name``); they are computed otherwise.
    domain: ``(lo, hi)``: measure only the grid points in ``[lo, hi]`` (the others
      are counted as excluded), for a bound that is meant to hold on a range only.

  Returns:
    A :class:`Report`.
  """
  fn, reference = _declared(fn, reference, "check_activation")
  name = name or str(getattr(fn, "__name__", "activation"))
  bounds = dict(DEFAULT_BOUNDS if bounds is None else bounds)
  results = []
  for dname, xs, p_rounded in cases(fn, reference, dtypes, params=params, grid=grid):
    dtype, res = _start(dname, bounds)
    results.append(res)
    if res.skipped:
      continue
    cached = None if cache is None else cache.get(name, entry_key(reference, dname, xs, p_rounded))
    fns = _derivatives(fn, p_rounded)
    x_arr = jnp.asarray(xs.astype(dtype))
    flush, tiny, keep_x = _inputs_kept(xs, dname, domain)
    key = tuple(sorted(p_rounded.items()))
    errs, worst, nonfinite, excluded = [], [], 0, 0
    bad_undefined = np.zeros(xs.shape, bool)
    for which, c in zip(_exact.WHICH, fns(x_arr)):
      if cached is not None:
        hi, lo = cached[which]
      else:
        hi, lo = _cached_reference(reference, which, xs.tobytes(), key)
      computed = np.asarray(c, np.float64)
      if which == "f":
        # Outside the domain (the value's reference raises): the documented result
        # is NaN, in value and derivatives. (A derivative's reference may raise
        # where the value is defined, as log1mexp' at 0, whose limit is +inf: left
        # out with the excluded points.)
        undefined = keep_x & np.isnan(hi)
        res.undefined = int(undefined.sum())
      # (In a format without NaN, float4_e2m1fn, what NaN converts to: -0.)
      bad_undefined |= undefined & ~(np.isnan(computed) | (computed == _ulp.nan_as(dtype)))
      keep = keep_x & ~np.isnan(hi)
      subnormal = _below_normal(hi, lo, tiny)
      if flush:
        # Only what a flush gives is exempt, and only on a dtype the backend flushes:
        # a subnormal exact result computed as 0.
        keep &= ~(subnormal & (computed == 0))
      excluded = max(excluded, int((~keep & ~undefined).sum()))
      err = _ulp.ulp_error(computed, hi, lo, dtype)[keep]
      if which != "f":
        nonfinite += _nonfinite(keep, hi, computed, dtype)
      i = int(np.argmax(err)) if err.size else 0
      errs.append(float(err[i]) if err.size else 0.0)
      worst.append(float(xs[keep][i]) if err.size else 0.0)
    res.points = int(keep_x.sum()) - res.undefined
    res.defined_at_undefined = int(bad_undefined.sum())
    res.max_ulp, res.worst_x, res.nonfinite = tuple(errs), tuple(worst), nonfinite
    if excluded:
      res.excluded = f"{excluded} points with subnormal input, or subnormal exact result computed as 0"
      if domain is not None:
        res.excluded += f", or outside [{domain[0]:g}, {domain[1]:g}]"
    if _ulp.has_nan(dtype):
      nan_out = [np.asarray(c, np.float64)[0] for c in fns(jnp.asarray([np.nan], dtype))]
      res.nan_propagates = bool(np.all(np.isnan(nan_out)))
    else:
      res.nan_propagates = None
  return Report(name=name, kind="elementwise", results=results)


def _below_normal(hi: np.ndarray, lo: np.ndarray, tiny: float) -> np.ndarray:
  """Where the exact value hi + lo is nonzero and below the smallest normal ``tiny``
  in magnitude: hi below it, or hi = +-tiny and lo towards 0 (the exact value is
  then subnormal and rounds up to tiny; a backend that flushes subnormal results
  flushes it before rounding: 0.25 (4 tiny - ulp) is 0 on XLA's CPU backend)."""
  mag = np.abs(hi)
  with np.errstate(invalid="ignore"):
    return (hi != 0) & ((mag < tiny) | ((mag == tiny) & (lo * np.sign(hi) < 0)))


# The linear halves a paired with the grid of b in check_gated, in turn; then each b
# again with +-sqrt(max) of the dtype (1.8e19 in float32), where a f(b) is normal
# while f(b) alone is far below the normal range.
_GATED_A = (1.0, -2.5, 0.375, -7.0, 1e3, -3e-3)


def gated_a(dtype, n: int) -> np.ndarray:
  """The 2n linear halves a of check_gated's rows for n points b, as float64 values of
  ``dtype``: the cycle of ``_GATED_A``, then +-sqrt(max) alternately."""
  big = math.sqrt(float(_ulp.finfo(dtype).max))
  a = np.concatenate([np.resize(np.asarray(_GATED_A), n), np.resize(np.asarray([big, -big]), n)])
  return a.astype(dtype).astype(np.float64)


def _times(a: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """a (hi + lo) as (hi, lo) float64 pairs, at 50 digits."""
  out: list[Any] = []
  with mp.workdps(DPS):
    for ai, h, lw in zip(a, hi, lo):
      if np.isnan(h):
        out.append(None)
      elif np.isinf(h):
        out.append(mp.mpf(0) if ai == 0 else mp.mpf(h) * mp.sign(ai))
      else:
        out.append(mp.mpf(float(ai)) * (mp.mpf(float(h)) + mp.mpf(float(lw))))
  return _exact.split(out)


def _products(reference: Reference, a: np.ndarray, xs: np.ndarray, params: Mapping[str, float], gs, dtype):
  """a g(x), a g'(x), a g''(x) as (hi, lo) pairs from the pairs ``gs`` of g, g', g''.

  A float64 pair holds g to 2^-1074 only (and with fewer bits below 2^-1022), where a
  g may be a number of ``dtype`` (float64: a = 1e154, g = e^-800): there the product
  is formed from mpmath's g at DPS digits.
  """
  fi = _ulp.finfo(dtype)
  small = float(np.finfo(np.float64).tiny)
  out = []
  for which, (hi, lo) in zip(("f", "d1", "d2"), gs):
    p_hi, p_lo = _times(a, hi, lo)
    redo = (np.abs(hi) < small) & (np.abs(a) * small >= float(fi.tiny) * float(fi.eps))
    if redo.any():
      r_hi, r_lo = _exact.evaluate(getattr(reference, which), xs[redo], params, a[redo])
      p_hi[redo], p_lo[redo] = r_hi, r_lo
    out.append((p_hi, p_lo))
  return out


def check_gated(
  fn: Callable[..., Any],
  reference: Reference,
  *,
  name: str | None = None,
  activation_name: str | None = None,
  dtypes: Sequence[str] = ("float32", "float64", "bfloat16", "float16"),
  bounds: Mapping[str, tuple[float, float, float]] | None = None,
  cache: ReferenceCache | None = None,
  subnormal_gates: bool | None = None,
) -> Report:
  """Measures a gated linear unit ``fn(x, axis=-1) = a * g(b)`` against ``g``'s reference.

  Rows ``[a, b]`` (``axis=-1`` of size 2): ``b`` runs over the grid of
  :func:`check_activation` twice, ``a`` over a fixed cycle of values of both signs and
  several scales, then +-the square root of the dtype's largest value (:func:`gated_a`).
  Where ``g``, ``g'`` or ``g''`` is below the normal range of the compute dtype, the
  quantities made from it are left out, unless ``fn.subnormal_gates`` says that the
  GLU's products are right there (glu, reglu). Measured element-wise, in ULPs at the exact value: the value
  ``a g(b)``; the gradient of the sum of the outputs, ``g(b)`` (in ``a``) and
  ``a g'(b)`` (in ``b``), reported together as d1; its derivative along ``(1, 1)``,
  ``g'(b)`` (in ``a``) and ``g'(b) + a g''(b)`` (in ``b``) as d2, the latter in ULPs
  of ``|g'(b)| + |a g''(b)|`` (the terms before they cancel).

  Args:
    fn: the GLU, ``fn(x, axis=-1)``.
    reference: the reference of ``g``.
    name: shown in the report.
    activation_name: the name of ``g``, to find its reference values in ``cache``.
    dtypes: dtype names to measure.
    bounds: per dtype (value, d1, d2) ULP bounds; default the library's bounds.
    cache: a :class:`ReferenceCache` for ``g``'s reference values.
    subnormal_gates: measure also where ``g``, ``g'`` or ``g''`` is below the normal
      range (default ``fn.subnormal_gates``).

  Returns:
    A :class:`Report`.
  """
  name = name or str(getattr(fn, "__name__", "gated"))
  bounds = dict(DEFAULT_BOUNDS if bounds is None else bounds)

  def all_three(row):
    f = lambda r: fn(r, axis=-1)[0]
    g = jax.grad(f)
    return f(row), g(row), jax.jvp(g, (row,), (jnp.ones_like(row),))[1]

  fns = jax.jit(jax.vmap(all_three))
  results = []
  # The activation's own defaults (as check_activation uses them): the same cache entries.
  activation = getattr(fn, "activation", lambda x: x)
  for dname, xs, p_rounded in cases(activation, reference, dtypes):
    dtype, res = _start(dname, bounds)
    results.append(res)
    if res.skipped:
      continue
    key = entry_key(reference, dname, xs, p_rounded)
    exact = None if cache is None or activation_name is None else cache.get(activation_name, key)
    if exact is None:
      exact = reference_values(reference, xs, p_rounded)
    # Every b twice: with the cycle of a, and with a = +-sqrt(max).
    a = gated_a(dtype, xs.size)
    xs = np.concatenate([xs, xs])
    rows_ = jnp.asarray(np.stack([a, xs], axis=1).astype(dtype))
    value, grad, hvp = (np.asarray(c, np.float64) for c in fns(rows_))
    g0, g1, g2 = ((np.tile(h, 2), np.tile(lw, 2)) for h, lw in (exact[w] for w in ("f", "d1", "d2")))
    a_g0, a_g1, a_g2 = _products(reference, a, xs, p_rounded, (g0, g1, g2), dtype)
    # Where g, g' or g'' is itself subnormal in the compute dtype it has fewer
    # significant bits than the product needs (none, where flushed): such points
    # are left out of the quantities made from it, unless the GLU's products are right
    # there (``fn.subnormal_gates``: glu's scaled kernel, reglu's b), measured there.
    ctiny = float(_ulp.finfo(checks.compute_dtype(dtype)).tiny)
    if getattr(fn, "subnormal_gates", False) if subnormal_gates is None else subnormal_gates:
      sub0 = sub1 = sub2 = np.zeros(xs.shape, bool)
    else:
      # (g = 0 in its pair, a g not: g is below float64's range.)
      sub0, sub1, sub2 = (
        _below_normal(*g, ctiny) | ((g[0] == 0) & (ag[0] != 0))
        for g, ag in ((g0, a_g0), (g1, a_g1), (g2, a_g2))
      )
    measured = [
      [(value, a_g0, None, sub0)],
      [(grad[:, 0], g0, None, sub0), (grad[:, 1], a_g1, None, sub1)],
      [
        (hvp[:, 0], g1, None, sub1),
        (hvp[:, 1], (g1[0] + a_g2[0], g1[1] + a_g2[1]), np.abs(g1[0]) + np.abs(a_g2[0]), sub1 | sub2),
      ],
    ]
    flush, tiny, keep_x = _inputs_kept(xs, dname)
    errs, worst, nonfinite = [], [], 0
    for k, parts in enumerate(measured):
      e_max, x_max = 0.0, 0.0
      for computed, (hi, lo), scale, inner_subnormal in parts:
        keep = keep_x & ~np.isnan(hi) & ~inner_subnormal
        subnormal = _below_normal(hi, lo, tiny)
        keep &= ~subnormal if flush else ~(subnormal & (computed == 0))
        if scale is None:
          err = _ulp.ulp_error(computed, hi, lo, dtype)
        else:
          with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs((computed - hi) - lo) / _ulp.ulp(scale, dtype)
          err = np.where(np.isnan(err) | (~np.isfinite(hi) & (computed != hi)), np.inf, err)
          err = np.where(~np.isfinite(hi) & (computed == hi), 0.0, err)
        err = np.where(keep, err, 0.0)
        if k > 0:
          nonfinite += _nonfinite(keep, hi, computed, dtype)
        i = int(np.argmax(err))
        if err[i] > e_max:
          e_max, x_max = float(err[i]), float(xs[i])
      errs.append(e_max)
      worst.append(x_max)
    res.points = int(keep_x.sum())
    res.max_ulp, res.worst_x, res.nonfinite = tuple(errs), tuple(worst), nonfinite
    nan_row = jnp.asarray(np.array([[1.0, np.nan]]).astype(dtype))
    res.nan_propagates = (
      all(bool(np.all(np.isnan(np.asarray(c, np.float64)))) for c in fns(nan_row))
      if _ulp.has_nan(dtype)
      else None
    )  # n/a in a format without NaN (float4_e2m1fn)
  return Report(name=name, kind="gated", results=results)


def rows(dtype, *, seed: int = 0) -> list[np.ndarray]:
  """Test rows for normalizers, as float64 arrays of values of ``dtype``.

  Random rows at scales from 1e-3 to 1e4 and lengths 2 to 256, a one-element row,
  rows with ``-inf`` entries, ties of the maximum, one dominant entry
  (``[0, -20]``) and a wide range. Five distinct lengths, so that a normalizer is
  compiled five times per dtype. In a format without infinities (most 8- and 4-bit
  floats) ``-inf`` is its most negative finite value, and every value is clipped to
  the format's range (a cast would give NaN or saturate).
  """
  dtype = np.dtype(dtype)
  rng = np.random.default_rng(seed)
  out: list[np.ndarray] = [
    np.array([0.0, -20.0]),
    np.array([3.0]),
    np.array([1.0, 1.0, -5.0, 1.0, 0.0, -2.0, -5.0]),
    np.array([0.0, -np.inf, 2.0, -np.inf, -1.0, -np.inf, 0.5]),
    np.linspace(-80.0, 10.0, 64),
  ]
  for n in (2, 7, 64, 256):
    for scale in (1e-3, 1.0, 10.0, 100.0, 1e4):
      out.append(rng.standard_normal(n) * scale)
  big = float(_ulp.finfo(dtype).max)
  low = -np.inf if _ulp.has_inf(dtype) else -big
  out = [np.where(r == -np.inf, low, np.clip(r, -big, big)) for r in out]
  return [r.astype(dtype).astype(np.float64) for r in out]


@functools.lru_cache(maxsize=4096)
def _cached_row_reference(reference: Callable[..., Any], x: bytes, w: bytes, v: bytes):
  to_mp = lambda b: [mp.mpf(float(a)) for a in np.frombuffer(b, np.float64)]
  with mp.workdps(DPS):
    exact, scales = reference(to_mp(x), to_mp(w), to_mp(v))
    return tuple(_exact.split(e) for e in exact), tuple(float(s) for s in scales)


def _normalizer_derivatives(fn: Callable[..., Any], scalar_output: bool):
  """One jit(vmap) of (value, gradient of <w, fn(x)>, its derivative along v), per row."""

  def inner(x, w):
    y = fn(x, axis=-1)
    return w[0] * y if scalar_output else jnp.sum(w * y)

  def all_three(x, w, v):
    grad, hvp = jax.jvp(lambda x: jax.grad(inner)(x, w), (x,), (v,))
    return fn(x, axis=-1), grad, hvp

  return jax.jit(jax.vmap(all_three))


def _normwise_error(c: np.ndarray, hi: np.ndarray, lo: np.ndarray, scale: float, dtype) -> float:
  """Largest entry error in ULPs of ``scale``; non-finite exact entries must match
  exactly, and so must an exact entry that overflows the dtype (its rounding: the
  infinity, NaN in a format without one, the largest number in float4_e2m1fn)."""
  over = _ulp.overflows(hi, dtype)
  if over.any():
    if np.any(_ulp.ulp_error(c[over], hi[over], lo[over], dtype) > 0):
      return float("inf")
    c, hi, lo = c[~over], hi[~over], lo[~over]
  finite = np.isfinite(hi)
  if scale == 0.0:
    err = np.where(c[finite] == 0, 0.0, np.inf)
  else:
    err = np.abs((c[finite] - hi[finite]) - lo[finite]) / _ulp.ulp(np.array([scale]), dtype)
  err = np.where(np.isnan(err), np.inf, err)
  if (~finite & (c != hi)).any():
    return float("inf")
  return float(np.max(err)) if err.size else 0.0


def check_normalizer(
  fn: Callable[..., Any] | str,
  reference: Callable[..., Any] | None = None,
  *,
  name: str | None = None,
  dtypes: Sequence[str] = ("float32", "float64", "bfloat16", "float16"),
  bounds: Mapping[str, tuple[float, float, float]] | None = None,
  scalar_output: bool = False,
) -> Report:
  """Measures a normalizer (``fn(x, axis=-1)``) on :func:`rows`, normwise.

  For each row: the value, the gradient of ``<w, fn(x)>`` and its derivative
  along ``v`` (a Hessian-vector product), ``w`` and ``v`` fixed random vectors.
  The error of each is the largest entry-wise error in ULPs of a scale (normwise):
  the largest entry of the exact value, and for the derivatives the largest sum of
  absolute values of the terms of an entry (see ``jaxact.testing.references``).
  Entries whose exact value is infinite must match exactly. ``reference(x, w, v)``
  returns the three exact lists and the three scales (mpmath).

  Rows of equal length are evaluated together under ``jit(vmap)``; ``worst_x``
  reports the length of the row with the largest error.

  Args:
    fn: the normalizer, ``fn(x, axis=-1)``, or a registered normalizer's name.
    reference: ``reference(x, w, v) -> ((value, grad, hvp), scales)`` on lists of ``mpf``;
      default: the one a registered ``fn`` declares (``exact=``).
    name: shown in the report (default ``fn.__name__``).
    dtypes: dtype names to measure.
    bounds: per dtype (value, d1, d2) ULP bounds; default the library's bounds.
    scalar_output: ``fn`` reduces the row to a scalar (``logsumexp``).

  Returns:
    A :class:`Report`.
  """
  fn, reference = _declared(fn, reference, "check_normalizer")
  name = name or str(getattr(fn, "__name__", "normalizer"))
  bounds = dict(DEFAULT_BOUNDS if bounds is None else bounds)
  fns = _normalizer_derivatives(fn, scalar_output)
  results = []
  for dname in dtypes:
    dtype, res = _start(dname, bounds)
    results.append(res)
    if res.skipped:
      continue
    rng = np.random.default_rng(1)
    by_length: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for row in rows(dtype):
      w = rng.standard_normal(row.size).astype(dtype).astype(np.float64)
      v = rng.standard_normal(row.size).astype(dtype).astype(np.float64)
      by_length.setdefault(row.size, []).append((row, w, v))
    # A row with a NaN entry rides along with the first group of rows of length >= 2
    # (a shape of its own would cost one more compile).
    nan_length = min(n for n in by_length if n >= 2)
    nan_row = by_length[nan_length][0][0].copy()
    nan_row[1] = np.nan
    nan_out: list[np.ndarray] = []
    errs, worst, nonfinite, points = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0, 0
    for length, group in by_length.items():
      extra = [(nan_row, np.ones(length), np.ones(length))] if length == nan_length else []
      args = [jnp.asarray(np.stack([g[i] for g in group + extra]).astype(dtype)) for i in range(3)]
      computed = [np.asarray(c, np.float64).reshape(len(group) + len(extra), -1) for c in fns(*args)]
      if extra:
        nan_out = [c[-1] for c in computed]
      for r, (row, w, v) in enumerate(group):
        exact, scales = _cached_row_reference(reference, row.tobytes(), w.tobytes(), v.tobytes())
        for k in range(3):
          c, (hi, lo) = computed[k][r], exact[k]
          if k > 0:
            nonfinite += int((np.isfinite(hi) & ~np.isfinite(c)).sum())
          e = _normwise_error(c, hi, lo, scales[k], dtype)
          if e > errs[k]:
            errs[k], worst[k] = e, float(length)
        points += length
    res.points = points
    res.max_ulp, res.worst_x, res.nonfinite = tuple(errs), tuple(worst), nonfinite
    # n/a in a format without NaN (float4_e2m1fn)
    res.nan_propagates = all(bool(np.all(np.isnan(o))) for o in nan_out) if _ulp.has_nan(dtype) else None
  return Report(name=name, kind="normalizer", results=results)


def assert_activation(
  fn: Callable[..., Any] | str, reference: Reference | None = None, **kwargs: Any
) -> Report:
  """:func:`check_activation`, raising ``AssertionError`` with the report on failure."""
  report = check_activation(fn, reference, **kwargs)
  if not report.passed:
    raise AssertionError(str(report))
  return report


def assert_normalizer(
  fn: Callable[..., Any] | str, reference: Callable[..., Any] | None = None, **kwargs: Any
) -> Report:
  """:func:`check_normalizer`, raising ``AssertionError`` with the report on failure."""
  report = check_normalizer(fn, reference, **kwargs)
  if not report.passed:
    raise AssertionError(str(report))
  return report


def check_transforms(
  fn: Callable[..., Any],
  dtype="float32",
  *,
  params: Mapping[str, Any] | None = None,
  points: Sequence[float] = (-3.0, -0.5, 0.25, 1.0, 7.0),
) -> None:
  """Asserts that ``fn`` composes: jit == eager, vmap == per element, jvp == vjp, finite grads.

  Raises ``AssertionError`` on the first mismatch.
  """
  params = dict(params or {})
  dtype = _ulp.DTYPES[dtype] if isinstance(dtype, str) else np.dtype(dtype)
  xs = jnp.asarray(np.asarray(points, np.float64).astype(dtype))
  f = lambda x: fn(x, **params)
  as64 = lambda a: np.asarray(a, np.float64)
  eager = as64(f(xs))
  np.testing.assert_array_equal(as64(jax.jit(f)(xs)), eager, err_msg="jit changes values")
  np.testing.assert_array_equal(as64(jax.vmap(f)(xs)), eager, err_msg="vmap differs from the batched call")
  g = jax.grad(f)
  per_element = np.array([as64(g(x)) for x in xs])
  batched = as64(jax.jit(jax.vmap(g))(xs))
  np.testing.assert_array_equal(batched, per_element, err_msg="jit(vmap(grad)) != grad per element")
  fwd = np.array([as64(jax.jvp(f, (x,), (jnp.ones_like(x),))[1]) for x in xs])
  np.testing.assert_array_equal(fwd, per_element, err_msg="forward and reverse mode differ")
  assert np.all(np.isfinite(batched)), "non-finite gradient at a representative point"
