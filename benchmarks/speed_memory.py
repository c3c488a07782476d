"""Speed and training-step memory of jaxact against jax.nn, side by side in one process.

For every activation that jaxact shares with jax.nn:

* time of ``jit(f)`` (forward) and of ``jit(grad(sum(f)))`` (forward and backward)
  on 2^22 float32 elements (normalizers: 4096 rows of 1024), calls of jaxact and
  jax.nn interleaved in pairs, in several rounds over all the functions; the ratio
  jaxact / jax.nn is the median of the pair ratios, with the range of the rounds'
  medians (how much a shared machine moved it);
* on Linux, under a malloc setting that reuses freed outputs (``STEADY_ALLOCATOR``),
  so that page faults of fresh output buffers do not land on one side of a pair;
* temporary memory of one training step of a 16-layer MLP (width 512, batch 256,
  the activation after every layer), from XLA's ``memory_analysis()``.

Prints a Markdown table and writes it, with the machine it ran on, to
``docs/benchmarks.md`` (``--out``). Absolute times depend on the machine; the
ratios are what the table is for.

Usage: python benchmarks/speed_memory.py [--only NAMES] [--rounds R] [--repeats N] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxact

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from doc_sections import replace_section

# name -> (jaxact function, jax.nn function, keyword arguments, kind)
PAIRS = {
  "sigmoid": (jaxact.sigmoid, jax.nn.sigmoid, {}, "elementwise"),
  "tanh": (jaxact.tanh, jax.nn.tanh, {}, "elementwise"),
  "relu": (jaxact.relu, jax.nn.relu, {}, "elementwise"),
  "leaky_relu": (jaxact.leaky_relu, jax.nn.leaky_relu, {}, "elementwise"),
  "elu": (jaxact.elu, jax.nn.elu, {}, "elementwise"),
  "relu6": (jaxact.relu6, jax.nn.relu6, {}, "elementwise"),
  "hard_tanh": (jaxact.hard_tanh, jax.nn.hard_tanh, {}, "elementwise"),
  "hard_sigmoid": (jaxact.hard_sigmoid, jax.nn.hard_sigmoid, {}, "elementwise"),
  "hard_silu": (jaxact.hard_silu, jax.nn.hard_silu, {}, "elementwise"),
  "sparse_plus": (jaxact.sparse_plus, jax.nn.sparse_plus, {}, "elementwise"),
  "sparse_sigmoid": (jaxact.sparse_sigmoid, jax.nn.sparse_sigmoid, {}, "elementwise"),
  "celu": (jaxact.celu, jax.nn.celu, {}, "elementwise"),
  "selu": (jaxact.selu, jax.nn.selu, {}, "elementwise"),
  "softplus": (jaxact.softplus, jax.nn.softplus, {}, "elementwise"),
  "log_sigmoid": (jaxact.log_sigmoid, jax.nn.log_sigmoid, {}, "elementwise"),
  "soft_sign": (jaxact.soft_sign, jax.nn.soft_sign, {}, "elementwise"),
  "squareplus": (jaxact.squareplus, jax.nn.squareplus, {}, "elementwise"),
  "log1mexp": (jaxact.log1mexp, jax.nn.log1mexp, {}, "elementwise"),
  "silu": (jaxact.silu, jax.nn.silu, {}, "elementwise"),
  "gelu": (jaxact.gelu, jax.nn.gelu, {}, "elementwise"),
  "gelu_erf": (jaxact.gelu_erf, lambda x: jax.nn.gelu(x, approximate=False), {}, "elementwise"),
  "mish": (jaxact.mish, jax.nn.mish, {}, "elementwise"),
  "softmax": (jaxact.softmax, jax.nn.softmax, {"axis": -1}, "normalizer"),
  "log_softmax": (jaxact.log_softmax, jax.nn.log_softmax, {"axis": -1}, "normalizer"),
  "logsumexp": (jaxact.logsumexp, jax.nn.logsumexp, {"axis": -1}, "normalizer"),
  "logmeanexp": (jaxact.logmeanexp, jax.nn.logmeanexp, {"axis": -1}, "normalizer"),
  # rows of N(0, 1), whose results are under 2 in magnitude: its centred form
  "logmeanexp, unit rows": (jaxact.logmeanexp, jax.nn.logmeanexp, {"axis": -1}, "normalizer"),
  "glu": (jaxact.glu, jax.nn.glu, {"axis": -1}, "normalizer"),
}
# In the MLP, a reduction is used as x - logsumexp(x) (it must keep the shape).
MLP_FORM = {
  "logsumexp": lambda f: lambda x: x - f(x, axis=-1, keepdims=True),
  "logmeanexp": lambda f: lambda x: x - f(x, axis=-1, keepdims=True),
  "logmeanexp, unit rows": lambda f: lambda x: x - f(x, axis=-1, keepdims=True),
  "glu": lambda f: lambda x: f(jnp.concatenate([x, x], -1), axis=-1),
  "log1mexp": lambda f: lambda x: f(jnp.abs(x) + 0.01),
}


def _input(name: str, kind: str, log2_size: int) -> jax.Array:
  rng = np.random.default_rng(0)
  shape = (2 ** (log2_size - 10), 1024) if kind == "normalizer" else (2**log2_size,)
  x = rng.standard_normal(shape) * (1.0 if name.endswith("unit rows") else 4.0)
  if name == "log1mexp":  # its domain is x >= 0
    x = np.abs(x) + 0.01
  return jnp.asarray(x, jnp.float32)


def _timed(f, x) -> float:
  t0 = time.perf_counter()
  jax.block_until_ready(f(x))
  return time.perf_counter() - t0


def time_pair(ours, theirs, x, repeats: int) -> tuple[float, float, list[float]]:
  """Median seconds of ours and theirs, and the ratio of each adjacent pair of calls.

  The calls are interleaved (the order alternates), so the two calls of a pair
  see the same machine; the median of the pair ratios is what the table reports.
  """
  for f in (ours, theirs):  # compile and warm up
    jax.block_until_ready(f(x))
    jax.block_until_ready(f(x))
  a, b = [], []
  for i in range(repeats):
    if i % 2:
      a.append(_timed(ours, x))
      b.append(_timed(theirs, x))
    else:
      b.append(_timed(theirs, x))
      a.append(_timed(ours, x))
  return statistics.median(a), statistics.median(b), [ai / bi for ai, bi in zip(a, b)]


def mlp_step_memory(act, depth: int = 16, width: int = 512, batch: int = 256) -> int:
  """Temporary bytes of one jitted SGD step of an MLP with ``act`` after every layer."""
  keys = jax.random.split(jax.random.key(0), depth)
  params = [
    (jax.random.normal(k, (width, width), jnp.float32) / math.sqrt(width), jnp.zeros(width, jnp.float32))
    for k in keys
  ]
  x = jnp.ones((batch, width), jnp.float32)

  def loss(params, x):
    for w, b in params:
      x = act(x @ w + b)
    return jnp.mean(x**2)

  def step(params, x):
    g = jax.grad(loss)(params, x)
    return jax.tree.map(lambda p, g: p - 0.01 * g, params, g)

  compiled = jax.jit(step).lower(params, x).compile()
  return int(compiled.memory_analysis().temp_size_in_bytes)


def _machine() -> str:
  cpu = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          cpu = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  devices = ", ".join(d.device_kind for d in jax.devices())
  return (
    f"jax {jax.__version__}, backend {jax.default_backend()} ({devices}); CPU {cpu}, "
    f"{os.cpu_count()} cores; Python {platform.python_version()}"
  )


def run(names, repeats: int, log2_size: int, rounds: int = 3, progress=sys.stderr):
  """Each function measured in ``rounds`` rounds spread over the run (a slow spell of a
  shared machine then moves one round, not the result): ratio = median of the pair
  ratios of all rounds; range = the lowest and highest median of one round."""
  fns, pairs = {}, {name: {"fwd": [], "grad": []} for name in names}
  for name in names:
    ours, theirs, kw, kind = PAIRS[name]
    fns[name] = (
      _input(name, kind, log2_size),
      (jax.jit(lambda x, f=ours, kw=kw: f(x, **kw)), jax.jit(lambda x, f=theirs, kw=kw: f(x, **kw))),
      (
        jax.jit(jax.grad(lambda x, f=ours, kw=kw: jnp.sum(f(x, **kw)))),
        jax.jit(jax.grad(lambda x, f=theirs, kw=kw: jnp.sum(f(x, **kw)))),
      ),
    )
  times = {name: {"fwd": [], "grad": []} for name in names}
  for k in range(rounds):
    for name in names:
      x, fwd, grad = fns[name]
      for key, (f_ours, f_theirs) in (("fwd", fwd), ("grad", grad)):
        ta, tb, ratios = time_pair(f_ours, f_theirs, x, repeats)
        times[name][key].append((ta, tb))
        pairs[name][key].append(ratios)
      print(f"round {k + 1}/{rounds} {name}", file=progress, flush=True)
  rows = []
  for name in names:
    ours, theirs, kw, _ = PAIRS[name]
    form = MLP_FORM.get(name, lambda f, kw=kw: lambda h: f(h, **kw))
    row = {"name": name, "mem": (mlp_step_memory(form(ours)), mlp_step_memory(form(theirs)))}
    for key in ("fwd", "grad"):
      row[key] = (
        statistics.median([t[0] for t in times[name][key]]),
        statistics.median([t[1] for t in times[name][key]]),
        *ratio_summary(pairs[name][key]),
      )
    rows.append(row)
    print(
      f"{name}: fwd {row['fwd'][2]:.2f}x, grad {row['grad'][2]:.2f}x, "
      f"memory {row['mem'][0] / row['mem'][1]:.2f}x",
      file=progress,
      flush=True,
    )
  return rows


def table(rows) -> str:
  lines = [
    "| function | forward jaxact (ms) | forward jax.nn (ms) | forward ratio | (range) | grad jaxact (ms) "
    "| grad jax.nn (ms) | grad ratio | (range) | MLP step temp jaxact (MiB) | jax.nn (MiB) | memory ratio |",
    "|---|---:|---:|---:|:---:|---:|---:|---:|:---:|---:|---:|---:|",
  ]
  for r in rows:
    (fa, fb, fr, flo, fhi), (ga, gb, gr, glo, ghi), (ma, mb) = r["fwd"], r["grad"], r["mem"]
    lines.append(
      f"| `{r['name']}` | {fa * 1e3:.2f} | {fb * 1e3:.2f} | {fr:.2f} | {flo:.2f}–{fhi:.2f} "
      f"| {ga * 1e3:.2f} | {gb * 1e3:.2f} | {gr:.2f} | {glo:.2f}–{ghi:.2f} "
      f"| {ma / 2**20:.1f} | {mb / 2**20:.1f} | {ma / mb:.2f} |"
    )
  fwd = geometric_mean(r["fwd"][2] for r in rows)
  grad = geometric_mean(r["grad"][2] for r in rows)
  mem = geometric_mean(r["mem"][0] / r["mem"][1] for r in rows)
  lines.append(f"| **geometric mean** | | | **{fwd:.2f}** | | | | **{grad:.2f}** | | | | **{mem:.2f}** |")
  return "\n".join(lines)


def ratio_summary(rounds: list[list[float]]) -> tuple[float, float, float]:
  """(median of all the pair ratios, lowest and highest median of one round)."""
  per_round = [statistics.median(r) for r in rounds]
  return statistics.median([q for r in rounds for q in r]), min(per_round), max(per_round)


def geometric_mean(values) -> float:
  return math.exp(statistics.fmean(math.log(v) for v in values))


def arguments(
  doc: str, repeats: int, rounds: int, sized: bool = True, paired: bool = True
) -> argparse.ArgumentParser:
  """The command line shared by the benchmark scripts, with their defaults
  (``sized``: with ``--log2-size``, the number of elements; ``paired``: with
  ``--repeats``, the pairs of calls per round)."""
  p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
  p.add_argument("--only", help="comma-separated names")
  if paired:
    p.add_argument("--repeats", type=int, default=repeats, help="interleaved pairs per round")
  p.add_argument("--rounds", type=int, default=rounds, help="rounds over all the functions")
  if sized:
    p.add_argument("--log2-size", type=int, default=22)
  p.add_argument(
    "--out",
    default=os.path.join(os.path.dirname(__file__), "..", "docs", "benchmarks.md"),
    help="the file whose section is rewritten (default: docs/benchmarks.md); '-': print only",
  )
  p.add_argument("--section", default=None, help="heading of the section written (default: the backend)")
  return p


# glibc's malloc, set so that a freed 16 MiB output is reused, not returned to the
# system: one heap (no per-thread arenas), nothing above 32 MiB served by mmap, no
# trimming. Otherwise the next call's output comes back as fresh pages, and their
# first-touch faults (thousands per call, several times a 2 ms call in a virtual
# machine) land at random on one side of a pair; the ratios then measured the
# allocator, not the functions. Both sides run under the same setting.
STEADY_ALLOCATOR = {
  "MALLOC_ARENA_MAX": "1",
  "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296",
}


def steady_allocator() -> None:
  """Re-executes this script under STEADY_ALLOCATOR (Linux), unless it already runs so."""
  if not sys.platform.startswith("linux") or all(os.environ.get(k) == v for k, v in STEADY_ALLOCATOR.items()):
    return
  os.environ.update(STEADY_ALLOCATOR)
  sys.stdout.flush()
  os.execv(sys.executable, [sys.executable, *sys.argv])


def main(argv=None) -> int:
  args = arguments(__doc__, repeats=21, rounds=3).parse_args(argv)
  names = args.only.split(",") if args.only else list(PAIRS)
  rows = run(names, args.repeats, args.log2_size, args.rounds)
  body = table(rows)
  print(body)
  if args.out and args.out != "-":
    write_section(f"## {args.section or jax.default_backend().upper()}", "speed_memory.py", args, body)
  return 0


HEADER = """# Benchmarks

Written by `benchmarks/speed_memory.py`; rerun it to reproduce (each backend
writes its own section). Calls of jaxact and jax.nn alternate in pairs, in one
process, on 2^22 float32 elements drawn from a normal distribution of standard
deviation 4 (normalizers: 4096 rows of 1024 along the last axis; `logmeanexp,
unit rows`: deviation 1, rows whose results need its centred form), in several
rounds over all the functions; a ratio is the median of the pair ratios, and the
range is that of the rounds' medians. "grad" is `jit(grad(lambda x:
sum(f(x))))`, forward and backward. Memory is the temporary buffer size XLA
reports (`memory_analysis()`) for one jitted SGD step of a 16-layer MLP (width
512, batch 256, the activation after every layer). Ratios below 1 mean jaxact is
faster or lighter.

On Linux the script runs itself under a glibc malloc setting that reuses freed
outputs (`STEADY_ALLOCATOR` in the script: one arena, no mmap below 32 MiB, no
trimming). Without it, a 16 MiB output often came back as fresh pages, whose
first-touch faults cost a virtual machine several times the call itself, at random
on one side of a pair, so that single pair ratios of the same two functions ranged
widely.
"""


def write_section(heading: str, script: str, args, body: str, note: str = "", runs: str = "") -> None:
  """Writes ``body`` (a table), with the machine, the run (``runs``, by default the
  rounds of pairs) and the command that made it, and ``note``, as the section
  ``heading`` of ``args.out``."""
  text = open(args.out).read() if os.path.exists(args.out) else HEADER
  stamp = datetime.date.today().isoformat()
  cmd = f"python benchmarks/{script}" + (f" --only {args.only}" if args.only else "")
  runs = runs or f"{args.rounds} rounds of {args.repeats} pairs"
  block = f"{heading}\n\n{_machine()}; {runs}; {stamp}; `{cmd}`\n\n" + (f"{note}\n\n" if note else "")
  with open(args.out, "w") as f:
    f.write(replace_section(text, heading, block + f"{body}\n"))


if __name__ == "__main__":
  steady_allocator()
  sys.exit(main())
