"""Writes the README's speed and memory summary from the benchmark tables in docs/benchmarks.md.

The summary (between the markers ``<!-- speed-summary -->`` and
``<!-- /speed-summary -->`` in README.md) is generated from the CPU sections that
``benchmarks/speed_memory.py`` and ``benchmarks/models.py`` write, so that its figures
are the tables' and cannot drift from them. tests/test_docs.py runs ``--check``.

Usage: python tools/readme_speed.py [--check]   (--check: exit 1 if the README is out of date)
"""

from __future__ import annotations

import math
import os
import re
import sys

from doc_sections import read_section, write_between

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
README = os.path.join(ROOT, "README.md")
BENCHMARKS = os.path.join(ROOT, "docs", "benchmarks.md")
FUNCTIONS = "## CPU (this project's CI machine: 2 cores)"
MODELS = "## Models, CPU (this project's CI machine: 2 cores)"
START, END = "<!-- speed-summary -->", "<!-- /speed-summary -->"


def rows(section: str) -> list[list[str]]:
  """The body rows of the first Markdown table in ``section``, as cells (the header,
  the rule and the geometric-mean row left out)."""
  out = []
  for line in section.splitlines():
    if not line.startswith("| ") or line.startswith("|---") or "geometric mean" in line:
      continue
    out.append([c.strip().strip("`") for c in line.strip().strip("|").split("|")])
  return out[1:]


def _gmean(values) -> float:
  values = list(values)
  return math.exp(sum(math.log(v) for v in values) / len(values))


def _listed(pairs) -> str:
  return ", ".join(f"`{n}` {v:.2f}×" for n, v in pairs) or "none"


def summary(doc: str) -> str:
  table = rows(read_section(doc, FUNCTIONS))
  # columns: function; forward ours, theirs, ratio, range; gradient the same; memory ours, theirs, ratio
  fn = [(r[0], float(r[3]), float(r[7]), float(r[11])) for r in table]
  stamp = re.search(r"; (\d{4}-\d{2}-\d{2});", read_section(doc, FUNCTIONS))
  lines = [
    f"On this project's 2-core CPU ({stamp.group(1) if stamp else 'date unknown'}), over the {len(fn)} "
    "functions jaxact shares with `jax.nn`, the geometric means of the ratios jaxact / `jax.nn` are "
    f"{_gmean(f[1] for f in fn):.2f} (forward), {_gmean(f[2] for f in fn):.2f} (gradient) and "
    f"{_gmean(f[3] for f in fn):.2f} (temporary memory of a 16-layer MLP's training step).",
    "",
    f"- Faster than `jax.nn` (0.90× or less): forward {_listed((f[0], f[1]) for f in fn if f[1] <= 0.9)}; "
    f"gradient {_listed((f[0], f[2]) for f in fn if f[2] <= 0.9)}.",
    f"- Slower than 1.15×: forward {_listed((f[0], f[1]) for f in fn if f[1] > 1.15)}; "
    f"gradient {_listed((f[0], f[2]) for f in fn if f[2] > 1.15)}.",
    f"- Training-step memory below `jax.nn`'s: {_listed((f[0], f[3]) for f in fn if f[3] < 1.0)}; "
    f"above: {_listed((f[0], f[3]) for f in fn if f[3] > 1.0)}.",
  ]
  try:
    models = rows(read_section(doc, MODELS))
  except ValueError:
    models = []
  if models:
    # model | step ratio | range | peak ours | peak theirs | peak ratio | trace+compile ratio | ...
    m = [(r[0], float(r[1]), float(r[5]), float(r[6])) for r in models]
    lines += [
      f"- Whole models ({len(m)} training steps: a GPT-style decoder with four MLPs, a deep MLP with six "
      f"activations): step time {min(x[1] for x in m):.2f}–{max(x[1] for x in m):.2f}× "
      f"(geometric mean {_gmean(x[1] for x in m):.2f}), peak memory "
      f"{min(x[2] for x in m):.2f}–{max(x[2] for x in m):.2f}×, trace and compile "
      f"{min(x[3] for x in m):.2f}–{max(x[3] for x in m):.2f}× "
      f"(geometric mean {_gmean(x[3] for x in m):.2f}).",
    ]
  return "\n".join(lines)


def main(argv: list[str]) -> int:
  with open(BENCHMARKS) as f:
    body = summary(f.read())
  what = "the speed summary (python tools/readme_speed.py)"
  return write_between(README, START, END, body, "--check" in argv, what)


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
