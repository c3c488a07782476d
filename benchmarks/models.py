"""Whole models' training steps with jaxact against the same models on jax.nn.

What users feel is a model's step, not one function: the matrix products dominate,
and what an activation costs is its share of time and memory there. Two models, each
built once per activation, with every activation and normalizer taken from either
jaxact or jax.nn (nothing else differs):

* a GPT-style decoder: token and position embeddings, blocks of causal multi-head
  attention (``softmax(scores, where=causal)``) and an MLP (gelu, silu, SwiGLU or
  squared ReLU; jax.nn has no SwiGLU or squared ReLU: ``a * silu(b)`` and
  ``relu(x) ** 2`` there), residuals, RMS norms, and a ``log_softmax`` loss;
* a deep MLP: the activation (sigmoid, tanh, gelu, elu, mish, softplus) after every
  layer, a squared-error loss; for sigmoid and tanh also with every block (the
  activation and the product after it) in a ``jax.checkpoint``, in both.

For each, a jitted SGD step of both versions: the step-time ratio jaxact / jax.nn
(calls paired and alternated, in rounds; median of the pair ratios, with the range
of the rounds' medians), peak memory (arguments + outputs + temporaries from XLA's
``memory_analysis()``), and the time to trace and compile the step from a cold cache
(``jax.clear_caches()`` before each, the two alternated), with its two parts: JAX's
trace and lowering, and XLA's compilation; and the instructions of the optimised HLO.
jax.nn's step time is given too (the median of the rounds' medians), so that a
function's cost in the function benchmark can be set against the step. The GPT's step
ratio is split in two, each paired with jax.nn's step like the whole: the model on
jax.nn with only jaxact's activation, and with only jaxact's normalizers (softmax and
log_softmax).

Prints a Markdown table and writes it to docs/benchmarks.md (``--out``, a section
per backend). ``--small``: tiny sizes, for the test suite; printed, not written.
``--barrier on|off``: every jaxact rule traced with the derivative barrier, or with
none, whatever its kernel's ``separate_derivative``
(``jaxact._src.core.derivative_barrier``); printed, not written (the docs' table is of
the functions as built).

Usage: python benchmarks/models.py [--only NAMES] [--rounds R] [--repeats N] [--small] [--barrier on|off]
                                   [--out PATH|-]
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp

import jaxact
from jaxact._src import core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from speed_memory import arguments, geometric_mean, ratio_summary, steady_allocator, time_pair, write_section


def _swiglu_nn(x):
  a, b = jnp.split(x, 2, axis=-1)
  return a * jax.nn.silu(b)


LIBRARIES = {
  "jaxact": {
    "softmax": jaxact.softmax,
    "log_softmax": jaxact.log_softmax,
    "gelu": jaxact.gelu,
    "silu": jaxact.silu,
    "swiglu": jaxact.swiglu,
    "squared_relu": jaxact.squared_relu,
    "sigmoid": jaxact.sigmoid,
    "tanh": jaxact.tanh,
    "elu": jaxact.elu,
    "mish": jaxact.mish,
    "softplus": jaxact.softplus,
  },
  "jax.nn": {
    "softmax": jax.nn.softmax,
    "log_softmax": jax.nn.log_softmax,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "swiglu": _swiglu_nn,
    "squared_relu": lambda x: jnp.square(jax.nn.relu(x)),
    "sigmoid": jax.nn.sigmoid,
    "tanh": jax.nn.tanh,
    "elu": jax.nn.elu,
    "mish": jax.nn.mish,
    "softplus": jax.nn.softplus,
  },
}
GPT = ("gelu", "silu", "swiglu", "squared_relu")
NORMALIZERS = ("softmax", "log_softmax")
MLP = ("sigmoid", "tanh", "gelu", "elu", "mish", "softplus")
SIZES = {
  False: {
    "gpt": dict(batch=4, seq=128, width=256, heads=4, layers=4, vocab=512),
    "mlp": dict(depth=16, width=1024, batch=256),
  },
  True: {
    "gpt": dict(batch=2, seq=16, width=32, heads=2, layers=2, vocab=64),
    "mlp": dict(depth=3, width=32, batch=8),
  },
}


def _rms(x):
  return x * jax.lax.rsqrt(jnp.mean(x * x, -1, keepdims=True) + 1e-6)


def gpt(lib: dict, act: str, batch: int, seq: int, width: int, heads: int, layers: int, vocab: int):
  """(step, args) of a GPT-style decoder with ``act`` in its MLPs, on ``lib``'s functions."""
  hidden = 4 * width
  gated = act == "swiglu"
  keys = iter(jax.random.split(jax.random.key(0), 4 + 4 * layers))

  def normal(shape, fan_in):
    return jax.random.normal(next(keys), shape, jnp.float32) / math.sqrt(fan_in)

  params = {
    "embed": normal((vocab, width), 1.0) * 0.02,
    "pos": normal((seq, width), 1.0) * 0.02,
    "blocks": [
      {
        "qkv": normal((width, 3 * width), width),
        "out": normal((width, width), width),
        "up": normal((width, 2 * hidden if gated else hidden), width),
        "down": normal((hidden, width), hidden),
      }
      for _ in range(layers)
    ],
  }
  tokens = jax.random.randint(next(keys), (batch, seq + 1), 0, vocab)
  causal = jnp.tril(jnp.ones((seq, seq), bool))
  f, softmax, log_softmax = lib[act], lib["softmax"], lib["log_softmax"]
  dh = width // heads

  def loss(params, tokens):
    x = params["embed"][tokens[:, :-1]] + params["pos"]
    for blk in params["blocks"]:
      q, k, v = jnp.split(_rms(x) @ blk["qkv"], 3, axis=-1)
      q, k, v = (t.reshape(batch, seq, heads, dh) for t in (q, k, v))
      scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh)
      att = softmax(scores, axis=-1, where=causal)
      x = x + jnp.einsum("bhqk,bkhd->bqhd", att, v).reshape(batch, seq, width) @ blk["out"]
      x = x + f(_rms(x) @ blk["up"]) @ blk["down"]
    logp = log_softmax(_rms(x) @ params["embed"].T, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, tokens[:, 1:, None], axis=-1))

  return _sgd(loss), (params, tokens)


def mlp(lib: dict, act: str, depth: int, width: int, batch: int, remat: bool = False):
  """(step, args) of a ``depth``-layer MLP with ``act`` after every layer, on ``lib``'s.

  ``remat``: each activation and the product after it in a ``jax.checkpoint`` that
  saves nothing inside: the backward pass keeps one array per layer, the block's
  input (the previous product's output), and recomputes the activation from it (not
  the product, whose output the backward pass does not need)."""
  keys = jax.random.split(jax.random.key(0), depth + 2)
  params = [
    (jax.random.normal(k, (width, width), jnp.float32) / math.sqrt(width), jnp.zeros(width, jnp.float32))
    for k in keys[:depth]
  ]
  x = jax.random.normal(keys[-2], (batch, width), jnp.float32)
  y = jax.random.normal(keys[-1], (batch, width), jnp.float32)
  f = lib[act]

  def block(h, w, b):
    return f(h) @ w + b

  if remat:
    block = jax.checkpoint(block)

  def loss(params, data):
    h, target = data
    (w0, b0), rest = params[0], params[1:]
    h = h @ w0 + b0
    for w, b in rest:
      h = block(h, w, b)
    return jnp.mean((f(h) - target) ** 2)

  return _sgd(loss), (params, (x, y))


def _sgd(loss):
  def step(params, data):
    value, g = jax.value_and_grad(loss)(params, data)
    return jax.tree.map(lambda p, g: p - 0.01 * g, params, g), value

  return step


def peak_bytes(compiled) -> int:
  m = compiled.memory_analysis()
  return int(m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes - m.alias_size_in_bytes)


def compile_seconds(step, args) -> tuple[float, float]:
  """Seconds to trace and lower ``step``, and to compile it, from cold caches."""
  jax.clear_caches()
  t0 = time.perf_counter()
  lowered = jax.jit(step).trace(*args).lower()
  t1 = time.perf_counter()
  lowered.compile()
  return t1 - t0, time.perf_counter() - t1


def compile_pair(ours, theirs, args, k: int):
  """(compile_seconds of ``ours``, of ``theirs``), the one compiled first alternating
  with ``k``."""
  if k % 2:
    tb = compile_seconds(theirs, args)
    return compile_seconds(ours, args), tb
  ta = compile_seconds(ours, args)
  return ta, compile_seconds(theirs, args)


def hlo_instructions(compiled) -> int:
  """Instructions of the optimised HLO module, fused computations included."""
  lines = compiled.as_text().splitlines()
  return sum(1 for line in lines if " = " in line and not line.startswith("HloModule"))


def cases(names, small: bool):
  sizes = SIZES[small]
  out = [(f"gpt-{a}", gpt, a, sizes["gpt"]) for a in GPT] + [(f"mlp-{a}", mlp, a, sizes["mlp"]) for a in MLP]
  # sigmoid and tanh keep x and y per layer (their exact derivative needs x): both
  # libraries again, each block checkpointed, which keeps one array per layer.
  out += [(f"mlp-{a}-checkpointed", mlp, a, {**sizes["mlp"], "remat": True}) for a in ("sigmoid", "tanh")]
  return [c for c in out if not names or c[0] in names]


def run(names, repeats: int, rounds: int, small: bool, progress=sys.stderr):
  # Cold trace-and-compile times first (each clears every cache), then the steps
  # compiled once, timed in rounds and measured for memory.
  built = {}
  for label, model, act, size in cases(names, small):
    ours, args = model(LIBRARIES["jaxact"], act, **size)
    theirs, _ = model(LIBRARIES["jax.nn"], act, **size)
    ratios = []
    for k in range(1 if small else 4):
      ta, tb = compile_pair(ours, theirs, args, k)
      ratios.append((sum(ta) / sum(tb), ta[0] / tb[0], ta[1] / tb[1]))
    built[label] = (ours, theirs, args, [statistics.median(r) for r in zip(*ratios)])
  compiled = {
    label: tuple(jax.jit(f).lower(*args).compile() for f in (ours, theirs))
    for label, (ours, theirs, args, _) in built.items()
  }
  # The GPT on jax.nn with one of jaxact's parts: the activation, the normalizers.
  parts = {}
  for label, model, act, size in cases(names, small):
    if model is gpt:
      nn, ours = LIBRARIES["jax.nn"], LIBRARIES["jaxact"]
      libs = {
        "activation": {**nn, act: ours[act]},
        "normalizers": {**nn, **{k: ours[k] for k in NORMALIZERS}},
      }
      args = built[label][2]
      parts[label] = {k: jax.jit(model(m, act, **size)[0]).lower(*args).compile() for k, m in libs.items()}
  pairs = {label: [] for label in built}
  part_pairs = {(label, k): [] for label in parts for k in parts[label]}
  seconds = {label: [] for label in built}
  for k in range(rounds):
    for label, (a, b) in compiled.items():
      args = built[label][2]
      _, tb, ratios = time_pair(lambda x, a=a: a(*x), lambda x, b=b: b(*x), args, repeats)
      pairs[label].append(ratios)
      seconds[label].append(tb)
      for part, c in parts.get(label, {}).items():
        _, _, ratios = time_pair(lambda x, c=c: c(*x), lambda x, b=b: b(*x), args, repeats)
        part_pairs[label, part].append(ratios)
      print(f"round {k + 1}/{rounds} {label}", file=progress, flush=True)
  rows = []
  for label, (a, b) in compiled.items():
    r = {"label": label, "step": ratio_summary(pairs[label]), "peak": (peak_bytes(a), peak_bytes(b))}
    r["seconds"] = statistics.median(seconds[label])
    r["compile"], r["trace"], r["xla"] = built[label][3]
    r["instructions"] = (hlo_instructions(a), hlo_instructions(b))
    r["parts"] = {part: ratio_summary(part_pairs[label, part])[0] for part in parts.get(label, {})}
    rows.append(r)
    peak = r["peak"][0] / r["peak"][1]
    print(
      f"{label}: step {r['step'][0]:.3f}x, peak {peak:.3f}x, trace+compile {r['compile']:.2f}x",
      file=progress,
      flush=True,
    )
  return rows


def _part(row, part: str) -> str:
  return f"{row['parts'][part]:.3f}" if part in row["parts"] else "–"


def table(rows) -> str:
  lines = [
    "| model | step ratio | (range) | peak jaxact (MiB) | peak jax.nn (MiB) | peak ratio "
    "| trace+compile ratio | trace | XLA compile | HLO instructions | step jax.nn (ms) "
    "| activation alone | normalizers alone |",
    "|---|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ]
  for r in rows:
    (s, lo, hi), (pa, pb), (ia, ib) = r["step"], r["peak"], r["instructions"]
    lines.append(
      f"| {r['label']} | {s:.3f} | {lo:.3f}–{hi:.3f} | {pa / 2**20:.1f} | {pb / 2**20:.1f} "
      f"| {pa / pb:.3f} | {r['compile']:.2f} | {r['trace']:.2f} | {r['xla']:.2f} | {ia:,} / {ib:,} "
      f"| {1e3 * r['seconds']:.1f} | {_part(r, 'activation')} | {_part(r, 'normalizers')} |"
    )
  step = geometric_mean(r["step"][0] for r in rows)
  peak = geometric_mean(r["peak"][0] / r["peak"][1] for r in rows)
  comp = geometric_mean(r["compile"] for r in rows)
  lines.append(f"| **geometric mean** | **{step:.3f}** | | | | **{peak:.3f}** | **{comp:.2f}** | | | | | | |")
  return "\n".join(lines)


def written(args) -> bool:
  """Whether the table goes to ``--out``: not for ``-``, ``--small`` or ``--barrier``
  (the docs' table is of the functions as built, at full size)."""
  return bool(args.out) and args.out != "-" and not (args.small or args.barrier)


def parser():
  p = arguments(__doc__, repeats=9, rounds=3, sized=False)
  p.add_argument("--small", action="store_true", help="tiny sizes, for the test suite (printed only)")
  p.add_argument("--barrier", choices=("on", "off"), help="barrier in every rule, or in none (printed only)")
  p.epilog = "models (--only): " + ", ".join(c[0] for c in cases([], False))
  return p


def main(argv=None) -> int:
  args = parser().parse_args(argv)
  names = args.only.split(",") if args.only else []
  if args.barrier:
    with core.derivative_barrier(args.barrier == "on"):
      rows = run(names, args.repeats, args.rounds, args.small)
  else:
    rows = run(names, args.repeats, args.rounds, args.small)
  body = table(rows)
  sizes = SIZES[args.small]
  note = (
    f"GPT: batch {sizes['gpt']['batch']}, {sizes['gpt']['seq']} tokens, width {sizes['gpt']['width']}, "
    f"{sizes['gpt']['heads']} heads, {sizes['gpt']['layers']} blocks, vocabulary {sizes['gpt']['vocab']}; "
    f"MLP: {sizes['mlp']['depth']} layers of width {sizes['mlp']['width']}, batch {sizes['mlp']['batch']}. "
    "Ratios jaxact / jax.nn; peak = arguments + outputs + temporaries of the jitted step; "
    "trace (JAX's trace and lowering) and XLA compile: the two parts of trace+compile, each "
    "as a ratio; HLO instructions: jaxact / jax.nn in the optimised step, fused computations "
    "included; step jax.nn: the median of the rounds' medians of its calls; activation alone, "
    "normalizers alone (the GPT): the step ratio of the model on jax.nn with only that part "
    "of jaxact's."
  )
  print(body)
  print()
  print(note)
  if written(args):
    heading = f"## Models, {args.section or jax.default_backend().upper()}"
    write_section(heading, "models.py", args, body, note)
  return 0


if __name__ == "__main__":
  steady_allocator()
  sys.exit(main())
