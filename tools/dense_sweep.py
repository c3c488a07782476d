"""Dense sweep of the element-wise activations against mpmath, between the battery's grid points.

The battery measures about 6,100 points in float32 and 34,700 in float64, spread over
the whole range (at least eight per binade). A bound can be missed between them: in a
cancellation zone next to a zero of a derivative, or in a window a few tenths wide where
a factor is subnormal and the result is not. This script measures value, f' and f'' on about 66,000 points:
a uniform grid of step 0.002 on [-40, 40], 20,000 normal samples times 5, and 3,000
log-spaced magnitudes per sign from 1e-6 to 1e4 (float64 adds [-760, -690] at step
0.005, [-2600, -2300] and magnitudes to 1e300), at the hyperparameters given (rounded
to the dtype, as the function sees them). It prints one line per case, the largest
error of each quantity in ULPs with its x, and "!" where the bound (4, 8, 16) is
exceeded. Points whose exact result is subnormal are left out, as in the battery.

About 15 s per case in float32 and 30 s in float64 (mpmath dominates).

With ``--write``, the lines also go into the section of that dtype of
docs/dense_sweep.md, replacing those of the same cases (the README's largest errors
between grid points come from there).

Usage:
  python tools/dense_sweep.py                      # every element-wise activation, float32
  python tools/dense_sweep.py --dtype float64 celu:alpha=0.3 softplus:beta=0.3 selu
  python tools/dense_sweep.py --write              # every one, into docs/dense_sweep.md
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import jax
import numpy as np

BOUNDS = {"f": 4.0, "d1": 8.0, "d2": 16.0}


def points(dtype: np.dtype) -> np.ndarray:
  rng = np.random.default_rng(5)
  parts = [
    np.linspace(-40, 40, 40001),
    rng.standard_normal(20000) * 5,
    np.geomspace(1e-6, 1e4, 3000),
    -np.geomspace(1e-6, 1e4, 3000),
  ]
  if dtype == np.float64:
    parts += [
      np.linspace(-760, -690, 14001),
      np.linspace(-2600, -2300, 3001),
      np.geomspace(1e4, 1e300, 2000),
      -np.geomspace(1e4, 1e300, 2000),
    ]
  return np.unique(np.concatenate(parts).astype(dtype))


def parse_case(text: str) -> tuple[str, dict[str, float]]:
  name, _, rest = text.partition(":")
  params = {}
  for item in filter(None, rest.split(",")):
    key, _, value = item.partition("=")
    params[key] = float(value)
  return name, params


def sweep(name: str, params: dict[str, float], dtype: np.dtype) -> str:
  import jax.numpy as jnp

  import jaxact
  import jaxact.testing as jt
  from jaxact.testing._battery import _below_normal

  xs = points(dtype)
  numeric = {k: v for k, v in jaxact.info(name).params.items() if isinstance(v, (int, float))}
  numeric = {k: v for k, v in numeric.items() if not isinstance(v, bool)}
  full = {**numeric, **jt.required_params(name), **params}
  full = {k: float(np.asarray(v, dtype)) for k, v in full.items()}
  f = jaxact.get(name)

  def g(x):
    return f(x, **full)

  fns = {"f": g, "d1": jax.grad(g), "d2": jax.grad(jax.grad(g))}
  exact = jt.reference_values(jt.ELEMENTWISE[jaxact.info(name).name], xs.astype(np.float64), full)
  tiny = float(np.finfo(dtype).tiny)
  cells = []
  for which, fn in fns.items():
    hi, lo = exact[which]
    computed = np.asarray(jax.jit(jax.vmap(fn))(jnp.asarray(xs)), np.float64)
    err = jt.ulp_error(computed, hi, lo, dtype)
    err = np.where(_below_normal(hi, lo, tiny) | np.isnan(hi), 0.0, err)
    # Non-finite where the exact value rounded to the dtype is finite (beyond the
    # largest number the rounding itself is inf, and so is the right result).
    with np.errstate(over="ignore"):
      finite = np.isfinite(hi.astype(dtype).astype(np.float64))
    nonfinite = int((finite & ~np.isfinite(computed)).sum())
    i = int(np.argmax(err))
    flag = "!" if err[i] > BOUNDS[which] else " "
    cells.append(
      f"{which} {err[i]:8.2f}{flag} at {float(xs[i]):<16.9g}"
      + (f" non-finite {nonfinite}" if nonfinite else "")
    )
  return (f"{name:14s} {params or ''!s:28s} " + "  ".join(cells)).rstrip()


def main(argv: list[str]) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("cases", nargs="*", help="name or name:param=value,param=value (default: every one)")
  p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
  p.add_argument("--write", action="store_true", help="write the lines into docs/dense_sweep.md")
  args = p.parse_args(argv)
  dtype = np.dtype(args.dtype)
  if dtype == np.float64:
    jax.config.update("jax_enable_x64", True)  # this script's own process
  import jaxact.testing as jt

  cases = [parse_case(c) for c in args.cases] or [(n, {}) for n in sorted(jt.ELEMENTWISE)]
  lines = []
  for name, params in cases:
    lines.append(sweep(name, params, dtype))
    print(lines[-1], flush=True)
  if args.write:
    write(lines, dtype)
  return 0


def write(lines: list[str], dtype: np.dtype) -> None:
  sys.path.insert(0, os.path.dirname(__file__))
  from doc_sections import read_section, replace_section

  heading = f"## {dtype.name}, CPU (jax {jax.__version__})"
  try:
    with open(DOC) as f:
      text = f.read()
  except FileNotFoundError:
    text = _HEADER
  # One section per dtype, whatever JAX version wrote it last; the lines of the cases
  # swept replace theirs (keyed by the name and parameters, the first 44 characters),
  # the others are kept.
  keep, body = {}, None
  found = re.search(rf"^## {dtype.name},[^\n]*$", text, re.M)
  if found:
    body = read_section(text, found.group(0))
    code = re.search(r"```\n(.*?)```", body, re.S)
    keep = {line[:44]: line for line in code.group(1).splitlines()} if code else {}
  keep.update({line[:44]: line for line in lines})
  block = f"{heading}\n\n```\n" + "\n".join(keep[k] for k in sorted(keep)) + "\n```\n"
  text = text.replace(body, block + "\n", 1) if body else replace_section(text, heading, block)
  with open(DOC, "w") as f:
    f.write(text.rstrip("\n") + "\n")


DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "dense_sweep.md")
_HEADER = """# Dense sweep

Written by `python tools/dense_sweep.py --write` (and `--dtype float64 --write`): every
element-wise activation at its default hyperparameters, value, f′ and f″ against mpmath
on about 66,000 points (float64: 87,000) between and around the battery's grid points
(the script's docstring lists them), the largest error of each in ULPs of the dtype at
the exact value with its x; `!` marks an error above the bound (4, 8, 16). Points whose
exact result is subnormal are left out.
"""


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
