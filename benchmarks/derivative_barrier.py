"""What the barrier in the mechanism's derivative rules saves and costs.

The rules of ``jaxact.stable_kernel`` evaluate the derivative on x read through an
``optimization_barrier`` (unless built with ``separate_derivative=False``), so that
it shares no subexpression with the value. This
script builds every element-wise function shared with jax.nn twice in one process,
with the barrier and without, in every kernel (``jaxact._src.core.derivative_barrier``,
``gelu``'s included, whose rule is built without it), and reports

* the temporary memory of the 16-layer MLP training step of ``speed_memory.py``;
* the time of ``jit`` of the value and its vector-Jacobian product together (what a
  training step computes for an activation), calls with and without alternating in
  pairs, in rounds; the ratio is the median of the pair ratios.

Prints a Markdown table and writes it to its section of ``docs/benchmarks.md``.

Usage: python benchmarks/derivative_barrier.py [--only NAMES] [--rounds R] [--repeats N] [--out PATH]
"""

from __future__ import annotations

import sys

import jax
from speed_memory import (
  MLP_FORM,
  PAIRS,
  _input,
  arguments,
  geometric_mean,
  mlp_step_memory,
  ratio_summary,
  steady_allocator,
  time_pair,
  write_section,
)

from jaxact._src import core


def _value_and_vjp(f, kw):
  def g(x):
    y, pull = jax.vjp(lambda x: f(x, **kw), x)
    return y, pull(x)[0]

  return g


def _built(name: str, barrier: bool, log2_size: int):
  """(compiled value-and-vjp, training-step bytes) of jaxact's ``name``, traced with or
  without the barrier. Compiled ahead of time: clearing the caches (which JAX keeps
  of traced rules, and which would give the other setting's trace) leaves it alone."""
  ours, _, kw, _ = PAIRS[name]
  with core.derivative_barrier(barrier):
    x = _input(name, "elementwise", log2_size)
    f = jax.jit(_value_and_vjp(ours, kw)).lower(x).compile()
    form = MLP_FORM.get(name, lambda f, kw=kw: lambda h: f(h, **kw))
    return f, mlp_step_memory(form(ours))


def run(names, repeats: int, rounds: int, log2_size: int, progress=sys.stderr):
  built = {name: (_built(name, True, log2_size), _built(name, False, log2_size)) for name in names}
  ratios = {name: [] for name in names}
  for k in range(rounds):
    for name in names:
      (f_with, _), (f_without, _) = built[name]
      x = _input(name, "elementwise", log2_size)
      ratios[name].append(time_pair(f_with, f_without, x, repeats)[2])
      print(f"round {k + 1}/{rounds} {name}", file=progress, flush=True)
  rows = []
  for name in names:
    (_, m_with), (_, m_without) = built[name]
    rows.append((name, m_with, m_without, *ratio_summary(ratios[name])))
  return rows


def table(rows) -> str:
  lines = [
    "| function | MLP step temp, barrier (MiB) | without (MiB) | memory ratio "
    "| value + vjp time ratio | (range) |",
    "|---|---:|---:|---:|---:|:---:|",
  ]
  for name, m_with, m_without, r, lo, hi in rows:
    lines.append(
      f"| `{name}` | {m_with / 2**20:.1f} | {m_without / 2**20:.1f} | {m_with / m_without:.2f} "
      f"| {r:.2f} | {lo:.2f}–{hi:.2f} |"
    )
  mem = geometric_mean(m_with / m_without for _, m_with, m_without, *_ in rows)
  time = geometric_mean(r for *_, r, _, _ in rows)
  lines.append(f"| **geometric mean** | | | **{mem:.2f}** | **{time:.2f}** | |")
  return "\n".join(lines)


def main(argv=None) -> int:
  args = arguments(__doc__, repeats=15, rounds=2).parse_args(argv)
  elementwise = [n for n, (*_, kind) in PAIRS.items() if kind == "elementwise"]
  names = args.only.split(",") if args.only else elementwise
  body = table(run(names, args.repeats, args.rounds, args.log2_size))
  print(body)
  if args.out and args.out != "-":
    write_section(
      f"## The derivative barrier: {args.section or jax.default_backend().upper()}",
      "derivative_barrier.py",
      args,
      body,
      note=(
        "With the barrier against without, in one process: ratios below 1 mean the barrier "
        "saves memory or time. Both sides are forced in every kernel: `gelu`'s rule is built "
        "without the barrier (`separate_derivative=False`), and its row shows why."
      ),
    )
  return 0


if __name__ == "__main__":
  steady_allocator()
  sys.exit(main())
