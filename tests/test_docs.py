"""The README's activation table is current, and the documentation site builds in strict mode."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")


@pytest.mark.parametrize("tool", ["activation_table.py", "readme_speed.py"])
def test_readme_generated_parts_are_current(tool):
  # The activation table (from the registry) and the speed summary (from
  # docs/benchmarks.md's tables): a change without a rerun of the tool fails here.
  out = subprocess.run(
    [sys.executable, os.path.join(ROOT, "tools", tool), "--check"],
    capture_output=True,
    text=True,
    check=False,
  )
  assert out.returncode == 0, out.stdout + out.stderr


def test_docs_site_builds_in_strict_mode(tmp_path):
  # mkdocs.yml sets strict: a broken link or reference, or a docstring that
  # mkdocstrings cannot render, fails the build.
  pytest.importorskip("mkdocs")
  env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
  out = subprocess.run(
    [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
    cwd=ROOT,
    capture_output=True,
    text=True,
    check=False,
    env=env,
  )
  assert out.returncode == 0, out.stdout + out.stderr
  site = tmp_path / "site"
  assert (site / "families" / "rectifiers" / "index.html").exists()
  assert (site / "img" / "elu.svg").exists()
  assert (site / "notebooks" / "01_tour" / "index.html").exists()
  page = (site / "families" / "exponential" / "index.html").read_text()
  assert "xielu" in page and "alpha_p" in page  # the API entry from the docstring
  layers = (site / "layers" / "index.html").read_text()
  for fw in ("nnx", "linen", "equinox"):  # each framework's layers, from their docstrings
    assert f"jaxact.layers.{fw}.GumbelSoftmax" in layers and f"jaxact.layers.{fw}.PReLU" in layers
  assert "alpha_init" in layers
  # The docstrings as Python holds them (tools/griffe_runtime_docs.py): each activation's
  # generated accuracy sentence, and the gated units' docstrings, made by their factory.
  words = lambda html: " ".join(re.sub(r"<[^>]+>", " ", html).split())
  sentence = "in ULPs of the output dtype at the exact value (asserted by the battery"
  assert words(page).count(sentence) >= 5, "no generated accuracy sentence on the exponential page"
  gated = words((site / "families" / "gated" / "index.html").read_text())
  assert "half of x" in gated and gated.count(sentence) == 4, "the gated units' docstrings are missing"
  # with their signatures: only x is required (axis, beta and approximate have defaults)
  assert gated.count("required") == 4, "the gated units' parameters are shown without their defaults"
  # The docstrings' reStructuredText in the site's Markdown (the same extension): the
  # formulas as math for MathJax, the examples and literal blocks as code, no role as text.
  gates = (site / "families" / "gates" / "index.html").read_text()
  assert gates.count('class="arithmatex"') >= 20, "the formulas are not rendered as math"
  assert gates.count('<span class="gp">&gt;&gt;&gt; </span>') >= 10, "the examples are not rendered as code"
  api = (site / "api" / "index.html").read_text()
  assert '<span class="nn">jaxact.testing</span>' in api, "jaxact.testing's literal block is not code"
  markup = re.compile(r"\.\. math::|:(math|func|class|meth|attr|data|mod|obj):")
  left = [str(p.relative_to(site)) for p in site.glob("**/*.html") if markup.search(p.read_text())]
  assert not left, f"reStructuredText markup left as text on {left}"


def test_docstring_markup_translated_for_the_site():
  # tools/griffe_runtime_docs.py's translation, on the constructs it must keep apart.
  sys.path.insert(0, os.path.join(ROOT, "tools"))
  try:
    import griffe_runtime_docs as ext
  finally:
    sys.path.pop(0)
  md = ext._markdown
  # a literal block inside an Args item stays in the item, the item's text after it too
  doc = "S.\n\nArgs:\n  x: as follows::\n\n      a = 1\n\n    more about x.\n  y: other.\n"
  item = "  x: as follows:\n\n      ```python\n      a = 1\n      ```\n\n    more about x.\n"
  assert md(doc) == "S.\n\nArgs:\n" + item + "  y: other.\n"
  # "text ::" shows "text", a bare "::" nothing; "::" with no block after it is prose
  assert md("T ::\n\n  c\n").startswith("T\n\n  ```python\n  c\n  ```")
  assert "```" not in md("C++ has std::\nand more\n>>> x[::\n")
  # roles become code, except inside ``literals`` and doctest lines
  roles = md("A :func:`~a.b.c`, :py:func:`d`, :exc:`E`, ``:func:`kept```.\n>>> :func:`also`\n")
  assert roles == "A `c`, `d`, `E`, ``:func:`kept```.\n>>> :func:`also`\n"
  # math: the formula on the directive's line, options and blank lines dropped; a role
  # over two lines
  assert md(".. math:: a = b\n").startswith("$$\na = b\n$$\n")
  assert md(".. math::\n  :label: e\n\n  x = 1\n\n  y = 2\n").startswith("  $$\n  x = 1\n  y = 2\n  $$\n")
  assert md("where :math:`z\n  = 1` holds") == "where $z\n  = 1$ holds"
