"""Measures the derivative tower (orders 3 and 4) of every element-wise activation and
writes the table into docs/tower.md.

The measurement is the test suite's (``tests/test_tower.py``, harness
``jaxact/testing/_tower.py``): against mpmath, on the whole finite range of float32
and float64, reverse mode eagerly and reverse, forward and mixed mode under ``jit``,
with the references cached in tests/references/tower. The section ``## <section>`` of
docs/tower.md is replaced (added at the end if there is none); the others are kept.
With ``--only``, the rows of the activations named are measured and put in place of
theirs (or added), the other rows of the section kept, and its count made again.

Usage: python tools/write_tower.py --section "CPU (this project's CI machine)" [--only NAME,...]
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from doc_sections import read_section, replace_section  # noqa: E402  (tools/, beside this script)

import jaxact  # noqa: E402
from jaxact.testing import _tower  # noqa: E402
from jaxact.testing.references import ELEMENTWISE  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
DOC = os.path.join(ROOT, "docs", "tower.md")
CACHE = os.path.join(ROOT, "tests", "references", "tower")


def _cell(results, order):
  rs = [r for r in results if r.order == order]
  worst = max(rs, key=lambda r: r.worst)
  nonfinite = sum(r.nonfinite for r in rs)
  text = f"{worst.worst:.3g}"
  if worst.worst > 1.0:
    j = "jit" if worst.jit else "eager"
    text = f"**{text}** ({worst.mode} {j}, x = {worst.worst_x:.3g})"
  if nonfinite:
    text += f", {nonfinite} non-finite"
  return text


def main(argv: list[str]) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--section", required=True, help="the heading (after '## ') to write under")
  p.add_argument("--only", help="comma-separated activation names")
  args = p.parse_args(argv)
  every = [n for n in jaxact.names(kind="elementwise") if n in ELEMENTWISE]
  names = args.only.split(",") if args.only else every
  rows = [
    "| activation | dtype | parameters | order 3 | order 4 | points |",
    "|---|---|---|---:|---:|---:|",
  ]
  within = 0
  for name, dtype, params in _tower.cases(names):
    print(name, dtype, params or "", file=sys.stderr)
    results = _tower.measure_activation(name, dtype, params, cache=CACHE)
    within += all(r.passed for r in results)
    ps = ", ".join(f"{k} = {v}" for k, v in (params or {}).items()) or "defaults"
    rows.append(
      f"| {name} | {dtype} | {ps} | {_cell(results, 3)} | {_cell(results, 4)} | {results[0].points} |"
    )
  text = open(DOC).read() if os.path.exists(DOC) else "# The derivative tower\n"
  if args.only:
    # The section's other rows are kept: a row is "| name | dtype | parameters | ...".
    old = read_section(text, f"## {args.section}") if f"## {args.section}" in text else ""
    measured = {tuple(r.split(" | ")[:3]) for r in rows[2:]}
    kept = [r for r in old.splitlines() if r.startswith("| ") and not r.startswith("| activation")]
    kept = [r for r in kept if not r.startswith("|---") and tuple(r.split(" | ")[:3]) not in measured]
    # In the section's order (by name; each name's rows as measured), the new ones in place.
    for row in rows[2:]:
      name = row.split(" | ")[0]
      at = next((i for i, r in enumerate(kept) if r.split(" | ")[0] > name), len(kept))
      kept.insert(at, row)
    rows = rows[:2] + kept
    within = sum("**" not in r and "non-finite" not in r for r in rows[2:])
  total = len(rows) - 2
  table = "\n".join(rows)
  block = (
    f"## {args.section}\n\n"
    f"jax {jax.__version__}, backend {jax.default_backend()}. The largest error over the "
    f"modes (reverse eagerly; reverse, forward and mixed under jit), in units of the bound "
    f"(so at most 1 passes; the worst mode, jit or not, and x where above it). "
    f"{within} of {total} cases are within the bound in every mode.\n\n{table}\n"
  )
  print(table)
  with open(DOC, "w") as f:
    f.write(replace_section(text, f"## {args.section}", block))
  _prune(names)
  return 0


def _prune(names) -> None:
  """Drops the cached references of ``names`` that no case uses now (stale digests)."""
  for name in names:
    keep = {_tower.cache_key(n, dtype, params) for n, dtype, params in _tower.cases([name])}
    path = os.path.join(CACHE, f"{name}.npz")
    with np.load(path) as f:
      data = {k: f[k] for k in f.files}
    if set(data) - keep:
      np.savez_compressed(path, **{k: v for k, v in data.items() if k in keep})


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
