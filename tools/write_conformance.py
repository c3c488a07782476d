"""Runs the conformance report in all four dtypes and writes it into docs/conformance.md.

The report is that of ``python -m jaxact --dtypes float32,float64,bfloat16,float16``,
with the mpmath values taken from tests/references (the same numbers, faster). It
replaces the section ``## <section>`` of docs/conformance.md with the report in a code
block (the section is added at the end if there is none); the other sections are kept.

Usage: python tools/write_conformance.py --section "CPU (this project's CI machine: 2 cores)"
       python tools/write_conformance.py --exhaustive --dtypes bfloat16,float16 \
         --only <the element-wise activations> --section "CPU: every float16 and bfloat16 value"

With ``--exhaustive`` the element-wise activations are measured on every float16 and
bfloat16 value (references evaluated with mpmath: about 20 s per activation).
"""

from __future__ import annotations

import argparse
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)

from doc_sections import replace_section  # noqa: E402  (tools/, beside this script)

from jaxact.testing import _conformance  # noqa: E402
from jaxact.testing._cache import ReferenceCache  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
DOC = os.path.join(ROOT, "docs", "conformance.md")


def main(argv: list[str]) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--section", required=True, help="the heading (after '## ') to write under")
  p.add_argument("--dtypes", default="float32,float64,bfloat16,float16")
  p.add_argument("--only", help="comma-separated activation names")
  p.add_argument(
    "--exhaustive",
    action="store_true",
    help="every float16/bfloat16 value for the element-wise activations (mpmath, not the cache)",
  )
  args = p.parse_args(argv)
  cache = ReferenceCache(os.path.join(ROOT, "tests", "references"))
  names = args.only.split(",") if args.only else None
  result = _conformance.run(
    names=names, dtypes=args.dtypes.split(","), progress=sys.stderr, cache=cache, exhaustive=args.exhaustive
  )
  table = _conformance.format_table(result)
  print(table)
  with open(DOC) as f:
    text = f.read()
  with open(DOC, "w") as f:
    f.write(replace_section(text, f"## {args.section}", f"## {args.section}\n\n```\n{table}\n```"))
  return 0 if result["passed"] else 1


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
