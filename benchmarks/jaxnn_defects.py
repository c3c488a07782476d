"""The measured defects of jax.nn that jaxact fixes, next to jaxact and the exact value.

Each row evaluates the same expression with ``jax.nn`` and with ``jaxact`` on the
current backend, and the exact value with mpmath (50 digits). Prints a Markdown
table and writes it to its section of ``docs/jaxnn_defects.md`` (``--out``; ``-``
for stdout only; ``--section``, default the backend: each machine writes its own).
The same cases are regression tests in ``tests/test_regressions.py``.

Usage: python benchmarks/jaxnn_defects.py [--out PATH] [--section HEADING]
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np

import jaxact

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from doc_sections import replace_section

mp.mp.dps = 50
f32 = jnp.float32


def _sig(x):
  return 1 / (1 + mp.exp(-x))


def _exact(fn, x):
  return fn(mp.mpf(float(x)))


def _g(f):
  return jax.grad(f)


def _masked_grad(lib):
  x = jnp.array([0.5, jnp.inf, -1.0], f32)
  where = jnp.array([True, False, True])
  return jax.grad(lambda x: jnp.sum(jnp.array([0.3, 1.0, 0.7], f32) * lib.softmax(x, where=where)))(x)[1]


def _log_softmax_f16(lib):
  x = jnp.asarray(np.random.default_rng(0).standard_normal(65536), jnp.float16)
  g = jax.grad(lambda x: jnp.sum(lib.log_softmax(x)).astype(jnp.float32))(x)
  return int(np.sum(~np.isfinite(np.asarray(g, np.float32))))


# Where XLA's float32 tanh (a rational fit) is furthest from tanh in a sweep of
# 250,000 points (jaxact's is within 1.5 ULP there and everywhere in the sweep).
_TANH_WORST = np.float32(5.8254166)


def _tanh_ulp(lib):
  exact = float(mp.tanh(mp.mpf(float(_TANH_WORST))))
  return round(abs(float(lib.tanh(f32(_TANH_WORST))) - exact) / float(np.spacing(np.float32(exact))), 2)


def _fully_masked(lib):
  x = jnp.array([1.0, 2.0], f32)
  return lib.softmax(x, where=jnp.array([False, False]))[0]


CASES = [
  # (expression, fn(lib) -> value, exact value or a description)
  ("sigmoid'(20)", lambda lib: _g(lib.sigmoid)(f32(20.0)), _exact(lambda x: _sig(x) * _sig(-x), 20.0)),
  ("tanh'(8.5)", lambda lib: _g(lib.tanh)(f32(8.5)), _exact(lambda x: mp.sech(x) ** 2, np.float32(8.5))),
  ("tanh(5.8254166), error in ULP", _tanh_ulp, mp.mpf(0)),
  ("elu'(-20)", lambda lib: _g(lib.elu)(f32(-20.0)), _exact(mp.exp, -20.0)),
  (
    "sigmoid''(1e-9)",
    lambda lib: _g(_g(lib.sigmoid))(f32(1e-9)),
    _exact(lambda x: -_sig(x) * _sig(-x) * mp.tanh(x / 2), np.float32(1e-9)),
  ),
  ("logsumexp([0, -20])", lambda lib: lib.logsumexp(jnp.array([0.0, -20.0], f32)), mp.log1p(mp.exp(-20))),
  (
    "log_softmax([0, -20])[0]",
    lambda lib: lib.log_softmax(jnp.array([0.0, -20.0], f32))[0],
    -mp.log1p(mp.exp(-20)),
  ),
  (
    "grad logsumexp(all -inf)[0]",
    lambda lib: _g(lib.logsumexp)(jnp.full(3, -jnp.inf, f32))[0],
    mp.mpf(0),
  ),
  ("grad softmax, masked inf entry", _masked_grad, mp.mpf(0)),
  ("softmax, fully masked row", _fully_masked, mp.mpf(0)),
  ("non-finite grads, float16 log_softmax of 65536", _log_softmax_f16, mp.mpf(0)),
  ("relu'(NaN)", lambda lib: _g(lib.relu)(f32(np.nan)), mp.nan),
]


def _fmt(v) -> str:
  v = float(v)
  return "NaN" if np.isnan(v) else f"{v:.6g}"


def run() -> str:
  lines = [
    f"jax {jax.__version__}, backend {jax.default_backend()}, float32 unless stated.",
    "",
    "| expression | jax.nn | jaxact | exact (mpmath) |",
    "|---|---:|---:|---:|",
  ]
  for expr, f, exact in CASES:
    lines.append(f"| `{expr}` | {_fmt(f(jax.nn))} | {_fmt(f(jaxact))} | {_fmt(exact)} |")
  return "\n".join(lines)


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "jaxnn_defects.md"))
  p.add_argument("--section", default=None, help="heading of the section written (default: the backend)")
  args = p.parse_args(argv)
  body = run()
  print(body)
  if args.out != "-":
    heading = f"## {args.section or jax.default_backend().upper()}"
    try:
      with open(args.out) as f:
        text = f.read()
    except FileNotFoundError:
      text = (
        "# jax.nn defects that jaxact fixes\n\nWritten by `benchmarks/jaxnn_defects.py`; rerun it to "
        "reproduce. Each case is also a regression test (`tests/test_regressions.py`).\n"
      )
    with open(args.out, "w") as f:
      f.write(replace_section(text, heading, f"{heading}\n\n{body}\n"))
  return 0


if __name__ == "__main__":
  sys.exit(main())
