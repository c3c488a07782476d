"""MkDocs hooks (mkdocs.yml: ``hooks``): the pages generated from the library at build time.

- ``families/<family>.md``: one page per family, from the registry. For each activation
  it gives the formula, the parameters, the conventions, the accuracy bounds, the figures
  measured on the CPU, and the API reference from the docstring (mkdocstrings). A plot of
  f, f′ and f″ comes from the library itself (``img/<name>.svg``). The measured figures
  are taken from ``docs/conformance.md`` and ``docs/benchmarks.md``, the files that
  ``tools/write_conformance.py`` and ``benchmarks/speed_memory.py`` write.
- ``notebooks/*.ipynb``: the repository's notebooks, rendered by mkdocs-jupyter (without
  outputs: they are stored stripped and executed by the tests).

Nothing here is written into the repository; the pages exist only in the built site.
"""

from __future__ import annotations

import glob
import io
import os
import re
import sys

import mkdocs.plugins
from mkdocs.structure.files import File

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # mkdocs loads hooks by path
import doc_sections

ROOT = os.path.join(os.path.dirname(__file__), "..")
FAMILIES = {
  "rectifiers": "Rectifiers",
  "exponential": "Exponential units",
  "sigmoidal": "Sigmoid-shaped",
  "smooth": "Smooth rectifiers",
  "gates": "Self-gated units",
  "hard": "Piecewise-linear (hard) units",
  "shrinkage": "Shrinkage",
  "periodic": "Periodic",
  "gated": "Gated linear units",
  "normalizers": "Normalizers",
  "sparse": "Sparse normalizers",
}
CONFORMANCE_SECTION = "## CPU (this project's CI machine)"
BENCHMARK_SECTION = "## CPU (this project's CI machine: 2 cores)"


def _section(path: str, heading: str) -> str:
  with open(path) as f:
    return doc_sections.read_section(f.read(), heading)


def conformance_rows() -> dict[str, list[str]]:
  """name -> the header line and the lines of its rows in the CPU conformance report."""
  out: dict[str, list[str]] = {}
  lines = _section(os.path.join(ROOT, "docs", "conformance.md"), CONFORMANCE_SECTION).splitlines()
  header = [line for line in lines if line.startswith("activation ")]
  for line in lines:
    m = re.match(r"([a-z_0-9]+)\s+(float32|float64|bfloat16|float16)\s", line)
    if m:
      out.setdefault(m.group(1), header[:1]).append(line)
  return out


def benchmark_rows() -> dict[str, tuple[str, str, str]]:
  """name -> (forward, grad, memory) ratios jaxact / jax.nn on the CPU."""
  out = {}
  for line in _section(os.path.join(ROOT, "docs", "benchmarks.md"), BENCHMARK_SECTION).splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 12 and cells[0].startswith("`"):
      out[cells[0].strip("`")] = (cells[3], cells[7], cells[11])
  return out


def _curve(name: str, t):
  """(points, f) for ``name`` along ``t``: elementwise f(x); a gated unit with a = 1 along b;
  a normalizer's first entry (or its scalar) in the row [s, 0, -1]."""
  import jax.numpy as jnp

  import jaxact
  import jaxact.testing as jt

  info, fn = jaxact.info(name), jaxact.get(name)
  if info.kind == "elementwise":
    kw = jt.required_params(name)
    return (jnp.abs(t) if name == "log1mexp" else t), lambda s: fn(s, **kw)  # log1mexp: x >= 0
  if info.kind == "gated":
    return t, lambda s: fn(jnp.stack([jnp.ones_like(s), s]), axis=-1)[0]
  scalar = name in jt.SCALAR_OUTPUT

  def first(s):
    y = fn(jnp.stack([s, 0.0 * s, -1.0 + 0.0 * s]), axis=-1)
    return y if scalar else y[0]

  return t, first


AXIS_LABEL = {"elementwise": "x", "gated": "b (a = 1)", "normalizer": "s, in the row [s, 0, -1]"}


def curves(names: list[str]) -> dict[str, tuple]:
  """name -> (x, f, f′, f″) as float64 numpy arrays, through the activations' own
  derivative rules; all of them in one compiled function (one compile, not one each)."""
  import jax
  import jax.numpy as jnp
  import numpy as np

  def all_three(name, t):
    xs, f = _curve(name, t)
    d1 = jax.grad(f)
    d2 = jax.grad(d1)
    return (xs, *jax.vmap(lambda s: (f(s), d1(s), d2(s)))(xs))

  with jax.enable_x64(True):
    t = jnp.linspace(-4.0, 4.0, 401)
    out = jax.jit(lambda t: {n: all_three(n, t) for n in names})(t)
    return {n: tuple(np.asarray(a) for a in v) for n, v in out.items()}


def plot(name: str, data: tuple, kind: str) -> bytes:
  """SVG of f, f′ and f″ of ``name`` from ``curves``."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  import numpy as np

  t, f0, f1, f2 = data
  order = np.argsort(t)
  if not plt.get_fignums():
    plt.subplots(figsize=(5.2, 3.0))
  fig = plt.gcf()
  fig.clf()  # one figure, redrawn for each plot: a new one per plot costs twice the time
  ax = fig.add_subplot()
  ax.plot(t[order], f0[order], lw=1.8, label="f")
  ax.plot(t[order], f1[order], "--", lw=1.4, label="f′")
  ax.plot(t[order], f2[order], ":", lw=1.4, label="f″")
  ax.axhline(0, color="0.8", lw=0.5)
  ax.axvline(0, color="0.8", lw=0.5)
  ax.set_ylim(
    max(-3.0, min(-0.5, float(np.nanmin(f0)) - 0.3)), min(5.0, max(1.5, float(np.nanmax(f0)) + 0.3))
  )
  ax.set_xlabel(AXIS_LABEL[kind])
  ax.set_title(name)
  ax.legend(fontsize=8)
  fig.subplots_adjust(left=0.1, right=0.97, bottom=0.16, top=0.9)
  buf = io.BytesIO()
  fig.savefig(buf, format="svg")
  return buf.getvalue()


def family_page(family: str, names: list[str], conformance, benchmarks) -> str:
  import jaxact

  lines = [f"# {FAMILIES.get(family, family.title())}", ""]
  lines += [", ".join(f"[`{n}`](#{n})" for n in names), ""]
  for name in names:
    i = jaxact.info(name)
    lines += [f"## `{name}` {{#{name}}}", ""]
    if i.kind != "stochastic":
      lines += [f"![f, f′ and f″ of {name}](../img/{name}.svg)", ""]
    params = ", ".join(f"`{k}={v}`" for k, v in i.params.items()) or "none"
    rows = [
      ("formula", f"`{i.formula}`"),
      ("kind", i.kind),
      ("hyperparameters", params),
      ("output range", f"`{i.output_range}`"),
      ("smoothness", i.smoothness),
      ("monotonic / zero-centred / bounded", f"{i.monotonic} / {i.zero_centred} / {i.bounded}"),
      ("aliases", ", ".join(f"`{a}`" for a in i.aliases) or "none"),
      ("compute dtype", i.compute_dtype),
      (
        "accuracy bounds (ULP, value / f′ / f″)",
        "; ".join(f"{d}: {b[0]:g} / {b[1]:g} / {b[2]:g}" for d, b in i.bounds.items()) or "not measured",
      ),
      ("references", "; ".join(i.references) or "none"),
    ]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows] + [""]
    if i.conventions:
      lines += [f"**Conventions.** {i.conventions}", ""]
    if name in conformance:
      lines += ["Measured on the CPU (`python -m jaxact`, from [Conformance](../conformance.md)):", "", "```"]
      lines += conformance[name] + ["```", ""]
    if name in benchmarks:
      fwd, grad, mem = benchmarks[name]
      lines += [
        f"Speed and memory against `jax.nn` on the CPU ([Benchmarks](../benchmarks.md)): "
        f"forward {fwd}×, gradient {grad}×, training-step memory {mem}×.",
        "",
      ]
    lines += [
      f"::: jaxact.{name}",
      "    options:",
      "      show_root_heading: false",
      "      show_root_toc_entry: false",
      "",
    ]
  return "\n".join(lines)


@mkdocs.plugins.event_priority(100)  # before mkdocs-jupyter looks for notebooks
def on_files(files, config):
  import jaxact

  conformance, benchmarks = conformance_rows(), benchmark_rows()
  by_family: dict[str, list[str]] = {}
  for name in jaxact.names():
    info = jaxact.info(name)
    if info.builtin:
      by_family.setdefault(info.family, []).append(name)
  unknown = set(by_family) - set(FAMILIES)
  if unknown:
    raise ValueError(f"tools/docs_hooks.py: no title for the families {sorted(unknown)}")
  plotted = [n for names in by_family.values() for n in names if jaxact.info(n).kind != "stochastic"]
  data = curves(plotted)
  for family in FAMILIES:
    names = by_family.get(family, [])
    if names:
      content = family_page(family, names, conformance, benchmarks)
      files.append(File.generated(config, f"families/{family}.md", content=content))
  for name in plotted:
    files.append(
      File.generated(config, f"img/{name}.svg", content=plot(name, data[name], jaxact.info(name).kind))
    )
  for path in sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb"))):
    # A File rooted at the repository (not File.generated): mkdocs-jupyter finds a
    # notebook by its src_dir and src_uri.
    uri = f"notebooks/{os.path.basename(path)}"
    files.append(
      File(
        uri,
        src_dir=os.path.abspath(ROOT),
        dest_dir=config["site_dir"],
        use_directory_urls=config["use_directory_urls"],
      )
    )
  return files
