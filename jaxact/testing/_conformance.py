"""The conformance run behind ``python -m jaxact``: the battery over the registry."""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from typing import Any, TextIO, cast

import jax

import jaxact
from jaxact.testing import _battery, _ulp
from jaxact.testing._cache import ReferenceCache
from jaxact.testing.references import ELEMENTWISE, NORMALIZERS, SCALAR_OUTPUT


def run(
  names: Sequence[str] | None = None,
  dtypes: Sequence[str] = ("float32", "bfloat16"),
  progress: TextIO | None = None,
  cache: ReferenceCache | None = None,
  exhaustive: bool = False,
) -> dict[str, Any]:
  """Runs the battery for each named (default: every registered) activation.

  ``cache``: precomputed mpmath values (a :class:`ReferenceCache`), else the
  references are evaluated here. ``exhaustive``: element-wise activations are
  measured on every value of float16 and bfloat16 (about 64,000 each; float32 and
  float64 keep their grid). Returns a JSON-ready dict: the environment, one
  report per activation (:meth:`Report.as_dict`), and ``passed``. Raises
  ``ValueError`` for an unknown name or dtype.
  """
  bad = [d for d in dtypes if d not in _ulp.DTYPES]
  if bad or not dtypes:
    raise ValueError(f"unknown dtypes {bad}; choose among {sorted(_ulp.DTYPES)}")
  if names is None:
    names = jaxact.names()
  canonical = []
  for n in names:
    jaxact.get(n)  # ValueError for an unknown name
    canonical.append(jaxact.info(n).name)
  reports, missing = [], []
  t_start = time.perf_counter()
  for i, name in enumerate(canonical):
    t0 = time.perf_counter()
    fn = jaxact.get(name)
    if name in ELEMENTWISE:
      grid = {"exhaustive": True} if exhaustive else None
      report = _battery.check_activation(
        fn, ELEMENTWISE[name], name=name, dtypes=dtypes, cache=cache, grid=grid
      )
    elif jaxact.info(name).kind == "gated":
      inner = jaxact.info(cast(Any, fn).activation).name
      report = _battery.check_gated(
        fn, ELEMENTWISE[inner], name=name, dtypes=dtypes, activation_name=inner, cache=cache
      )
    elif name in NORMALIZERS:
      report = _battery.check_normalizer(
        fn, NORMALIZERS[name], name=name, dtypes=dtypes, scalar_output=name in SCALAR_OUTPUT
      )
    else:
      missing.append(name)
      continue
    reports.append(report)
    if progress is not None:
      status = "pass" if report.passed else "FAIL"
      print(
        f"[{i + 1}/{len(canonical)}] {name}: {status} ({time.perf_counter() - t0:.1f} s)",
        file=progress,
        flush=True,
      )
  return {
    "jaxact": jaxact.__version__,
    "jax": jax.__version__,
    "backend": jax.default_backend(),
    "devices": [str(d) for d in jax.devices()],
    "platform": platform.platform(),
    "x64": bool(jax.config.read("jax_enable_x64")),
    "dtypes": list(dtypes),
    "exhaustive": exhaustive,
    "seconds": round(time.perf_counter() - t_start, 1),
    "no_reference": missing,
    "passed": all(r.passed for r in reports),
    "reports": [r.as_dict() for r in reports],
  }


def format_table(result: dict[str, Any]) -> str:
  """The results as a plain-text table, one row per activation and dtype."""
  w = max([len("activation")] + [len(rep["name"]) for rep in result["reports"]]) + 2
  lines = [
    f"jaxact {result['jaxact']} conformance on {result['backend']} ({', '.join(result['devices'])}), "
    f"jax {result['jax']}",
    "max error in ULPs of the output dtype at the exact value (mpmath), measured/bound",
  ]
  # Dtypes measured at every value: the 8- and 4-bit floats always, the 16-bit ones
  # with exhaustive.
  every = set(_ulp.NARROW) | ({"float16", "bfloat16"} if result.get("exhaustive") else set())
  every &= set(result["dtypes"])
  if every:
    lines.append(
      f"element-wise activations: every value of {', '.join(d for d in result['dtypes'] if d in every)}"
    )
  dw = max([10] + [len(d) + 2 for d in result["dtypes"]])
  lines += [
    "",
    f"{'activation':<{w}}{'dtype':<{dw}}{'points':>7}  {'value':>11}  {'f1':>11}  {'f2':>11}"
    f"  {'non-finite':>10}  {'NaN->NaN':>8}  result",
  ]
  nan_cell = {True: "yes", False: "NO", None: "n/a"}  # n/a: a dtype without NaN
  for rep in result["reports"]:
    for r in rep["results"]:
      if r["skipped"]:
        lines.append(f"{rep['name']:<{w}}{r['dtype']:<{dw}} skipped: {r['skipped']}")
        continue
      cells = "  ".join(f"{e:>6.2f}/{b:<4g}" for e, b in zip(r["max_ulp"], r["bounds"]))
      lines.append(
        f"{rep['name']:<{w}}{r['dtype']:<{dw}}{r['points']:>7}  {cells}  {r['nonfinite']:>10}"
        f"  {nan_cell[r['nan_propagates']]:>8}  {'pass' if r['passed'] else 'FAIL'}"
      )
  failed = [rep["name"] for rep in result["reports"] if not rep["passed"]]
  lines.append("")
  if every:
    # The table's two decimals hide whether every result is correctly rounded.
    measured = [
      (e, rep["name"], r["dtype"], q)
      for rep in result["reports"]
      if rep["kind"] == "elementwise"
      for r in rep["results"]
      if not r["skipped"] and r["dtype"] in every
      for e, q in zip(r["max_ulp"], ("value", "f1", "f2"))
    ]
    if measured:
      e, name, dtype, q = max(measured)
      lines.append(f"largest error: {e:.6f} ULP ({name} {q}, {dtype})")
      over = sorted({f"{n} ({d})" for e, n, d, _ in measured if e > 0.5})
      lines.append("not correctly rounded somewhere: " + (", ".join(over) if over else "none"))
  if result["no_reference"]:
    lines.append(f"not measured (no mpmath reference): {', '.join(result['no_reference'])}")
  n = len(result["reports"])
  lines.append(
    f"{n - len(failed)}/{n} activations pass" + (f"; FAILED: {', '.join(failed)}" if failed else "")
  )
  return "\n".join(lines)
