"""What it costs to trace and compile derivatives of every order, jaxact against jax.nn.

Physics-informed networks and Hessians take third and fourth derivatives of an
activation. Each order of jaxact's derivative is a rule of its own (the derivative
tower, docs/tower.md), and JAX traces each order's rule through the ones below it, so
tracing grows with the order faster than for jax.nn's functions, whose derivatives
JAX builds from their few primitives. For each function and order k = 1..4: the
seconds to trace and lower ``jit`` of the k-th derivative (``grad`` of the sum,
nested: reverse mode, as ``jaxact.testing``'s tower takes it), and to compile it
with XLA, from cold caches (``jax.clear_caches()`` before each; the two libraries
alternated; the median of ``--rounds``), on 256 float32 points.

Prints a Markdown table and writes it to docs/benchmarks.md (``--out``).

Usage: python benchmarks/trace_orders.py [--only NAMES] [--rounds R] [--out PATH|-]
"""

from __future__ import annotations

import os
import statistics
import sys

import jax
import jax.numpy as jnp

import jaxact
from jaxact.testing._tower import derivative

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import compile_pair
from speed_memory import arguments, write_section

FUNCTIONS = ("sigmoid", "tanh", "softplus", "silu", "gelu", "elu", "mish")
ORDERS = (1, 2, 3, 4)


def measure(name: str, rounds: int) -> dict[int, tuple[tuple[float, float], tuple[float, float]]]:
  """order -> ((jaxact's trace, compile), (jax.nn's trace, compile)), medians."""
  x = jnp.linspace(-3.0, 3.0, 256, dtype=jnp.float32)
  ours, theirs = getattr(jaxact, name), getattr(jax.nn, name)
  out = {}
  for order in ORDERS:
    d_ours, d_theirs = derivative(ours, order, "rev"), derivative(theirs, order, "rev")
    a, b = zip(*(compile_pair(d_ours, d_theirs, (x,), k) for k in range(rounds)))
    out[order] = tuple(tuple(statistics.median(t[i] for t in side) for i in (0, 1)) for side in (a, b))
  return out


def table(results) -> str:
  lines = [
    "| function | " + " | ".join(f"order {k} trace ratio" for k in ORDERS) + " | order 4 trace jaxact (s) "
    "| jax.nn (s) | order 4 XLA compile ratio |",
    "|---|" + "---:|" * (len(ORDERS) + 3),
  ]
  for name, r in results.items():
    ratios = " | ".join(f"{r[k][0][0] / r[k][1][0]:.1f}" for k in ORDERS)
    (ta, ca), (tb, cb) = r[ORDERS[-1]]
    lines.append(f"| `{name}` | {ratios} | {ta:.2f} | {tb:.2f} | {ca / cb:.1f} |")
  return "\n".join(lines)


def main(argv=None) -> int:
  p = arguments(__doc__, repeats=0, rounds=3, sized=False, paired=False)
  args = p.parse_args(argv)
  names = args.only.split(",") if args.only else list(FUNCTIONS)
  results = {}
  for name in names:
    results[name] = measure(name, args.rounds)
    print(f"{name} done", file=sys.stderr, flush=True)
  body = table(results)
  note = (
    "Ratios jaxact / jax.nn of the seconds to trace and lower `jit` of the k-th derivative "
    "(`grad` of the sum, nested) on 256 float32 points, from cold caches, the median of "
    "the rounds; the order-4 columns also give the seconds, and XLA's compile as a ratio."
  )
  print(body)
  print()
  print(note)
  if args.out and args.out != "-":
    heading = f"## Tracing derivatives of every order, {args.section or jax.default_backend().upper()}"
    write_section(heading, "trace_orders.py", args, body, note, runs=f"{args.rounds} rounds")
  return 0


if __name__ == "__main__":
  sys.exit(main())
