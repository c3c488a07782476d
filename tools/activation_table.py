"""Writes the table of activations in README.md from the registry's metadata.

The table sits between the markers ``<!-- activations:start -->`` and
``<!-- activations:end -->``; ``tests/test_docs.py`` fails when it is out of date.

Usage: python tools/activation_table.py [--check]
"""

from __future__ import annotations

import inspect
import os
import sys

from doc_sections import write_between  # tools/, beside this script

import jaxact

START, END = "<!-- activations:start -->", "<!-- activations:end -->"
README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def _signature(name: str) -> str:
  sig = inspect.signature(jaxact.get(name))
  empty = inspect.Parameter.empty
  params = [p.replace(annotation=empty) for p in sig.parameters.values()]
  sig = str(sig.replace(parameters=params, return_annotation=empty))
  return f"`{name}{sig}`".replace("|", "\\|")


def table() -> str:
  rows = [
    "| activation | signature | formula | range | monotonic | smooth | aliases |",
    "|---|---|---|---|---|---|---|",
  ]
  for name in jaxact.names():
    i = jaxact.info(name)
    mono = {True: "yes", False: "no", None: "—"}[i.monotonic]
    aliases = ", ".join(f"`{a}`" for a in i.aliases)
    formula = i.formula.replace("|", "\\|")
    cells = [f"`{name}`", _signature(name), formula, i.output_range, mono, i.smoothness, aliases]
    rows.append("| " + " | ".join(cells) + " |")
  return "\n".join(rows)


def main(argv=None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  what = "the activation table (python tools/activation_table.py)"
  return write_between(README, START, END, table(), "--check" in argv, what)


if __name__ == "__main__":
  sys.exit(main())
