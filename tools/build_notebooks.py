"""Writes notebooks/*.ipynb (outputs stripped) from the cell sources in notebooks/src/*.py.

A source file is a sequence of cells separated by lines ``# %%`` (code) or
``# %% [markdown]`` (Markdown, each line a comment ``# ...``), as jupytext's
percent format. The notebooks are generated so that review happens on plain
Python; tests/test_notebooks.py executes the generated notebooks.

Usage: python tools/build_notebooks.py [--check]   (--check: exit 1 if out of date)
"""

from __future__ import annotations

import glob
import os
import sys

import nbformat

ROOT = os.path.join(os.path.dirname(__file__), "..")
SRC = os.path.join(ROOT, "notebooks", "src")
COLAB = "https://colab.research.google.com/github/jaxact/jaxact/blob/main/notebooks/{name}"
BADGE = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({COLAB})"


def cells(text: str) -> list[nbformat.NotebookNode]:
  out, kind, lines = [], None, []

  def flush():
    if kind is None:
      return
    body = "\n".join(lines).strip("\n")
    if kind == "markdown":
      body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
      out.append(nbformat.v4.new_markdown_cell(body))
    else:
      out.append(nbformat.v4.new_code_cell(body))

  for line in text.splitlines():
    if line.startswith("# %%"):
      flush()
      kind, lines = ("markdown" if "[markdown]" in line else "code"), []
    elif kind is not None:
      lines.append(line)
  flush()
  return out


def build(path: str) -> tuple[str, str]:
  name = os.path.splitext(os.path.basename(path))[0] + ".ipynb"
  with open(path) as f:
    nb = nbformat.v4.new_notebook(cells=cells(f.read()))
  nb.cells[0].source = nb.cells[0].source.replace("{badge}", BADGE.format(name=name))
  nb.metadata = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
    "colab": {"provenance": []},
  }
  for i, c in enumerate(nb.cells):
    c["id"] = f"cell-{i}"
  return os.path.join(ROOT, "notebooks", name), nbformat.writes(nb) + "\n"


def main(argv: list[str]) -> int:
  stale = []
  for path in sorted(glob.glob(os.path.join(SRC, "*.py"))):
    target, text = build(path)
    current = open(target).read() if os.path.exists(target) else None
    if current != text:
      stale.append(os.path.relpath(target, ROOT))
      if "--check" not in argv:
        with open(target, "w") as f:
          f.write(text)
  for s in stale:
    print(("out of date: " if "--check" in argv else "wrote ") + s)
  return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
