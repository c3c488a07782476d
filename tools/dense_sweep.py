"""Dense sweep of the element-wise activations against mpmath, between the battery's grid points.

The battery measures about 6,100 points in float32 and 34,700 in float64, spread over
the whole range (at least eight per binade). A bound can be missed between them: in a cancellation zone next to a
zero of a derivative, or in a window a few tenths wide where a factor is subnormal and
the result is not. This script measures value, f' and f'' on about 70,000 points:
a uniform grid of step 0.002 on [-40, 40], 20,000 normal samples times 5, and 3,000
log-spaced magnitudes per sign from 1e-6 to 1e4 (float64 adds [-760, -690] at step
0.005, [-2600, -2300] and magnitudes to 1e300), at the hyperparameters given (rounded
to the dtype, as the function sees them). It prints one line per case, the largest
error of each quantity in ULPs with its x, and "!" where the bound (4, 8, 16) is
exceeded. Points whose exact result is subnormal are left out, as in the battery.

About 15 s per case in float32 and 30 s in float64 (mpmath dominates).

Usage:
  python tools/dense_sweep.py                      # every element-wise activation, float32
  python tools/dense_sweep.py --dtype float64 celu:alpha=0.3 softplus:beta=0.3 selu
"""

from __future__ import annotations

import argparse
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
    err = np.where((np.abs(hi) < tiny) | np.isnan(hi), 0.0, err)
    nonfinite = int((np.isfinite(hi) & ~np.isfinite(computed)).sum())
    i = int(np.argmax(err))
    flag = "!" if err[i] > BOUNDS[which] else " "
    cells.append(
      f"{which} {err[i]:8.2f}{flag} at {xs[i]!r:<22}" + (f" non-finite {nonfinite}" if nonfinite else "")
    )
  return f"{name:14s} {params or ''!s:28s} " + "  ".join(cells)


def main(argv: list[str]) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("cases", nargs="*", help="name or name:param=value,param=value (default: every one)")
  p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
  args = p.parse_args(argv)
  dtype = np.dtype(args.dtype)
  if dtype == np.float64:
    jax.config.update("jax_enable_x64", True)  # this script's own process
  import jaxact.testing as jt

  cases = [parse_case(c) for c in args.cases] or [(n, {}) for n in sorted(jt.ELEMENTWISE)]
  for name, params in cases:
    print(sweep(name, params, dtype), flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
