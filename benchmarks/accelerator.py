"""Everything to run on a GPU or TPU, in one command, writing the backend's sections of the docs.

On the machine with the accelerator (JAX's default backend), in about 8 minutes:

1. the conformance report in float32, float64, bfloat16 and float16
   (``tools/write_conformance.py``; docs/conformance.md);
2. the backend comparison tests (``tests/test_backend.py``: the same results as the
   CPU within the bounds);
3. the function benchmark at 2^26 elements (``benchmarks/speed_memory.py``;
   docs/benchmarks.md);
4. the model benchmark (``benchmarks/models.py``; docs/benchmarks.md);
5. the collective counts on 8 host devices (``benchmarks/collectives.py``;
   backend-independent, rerun so that the docs match this JAX);
6. on a GPU, whether XLA fuses the activation into the matrix product before it
   (cuBLAS epilogues), for ``jax.nn.gelu`` and ``jaxact.gelu``, and the step-time
   ratio of a dense layer with each (printed, and written to docs/benchmarks.md).

Each section is headed with the device's name and the JAX version. Steps that fail
are reported and the others still run; the exit status is that of the worst.
``--small``: every step at a tiny size, writing nothing (the test suite runs it on
the CPU to keep the command working).

Usage: python benchmarks/accelerator.py [--small] [--skip STEPS]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PY = sys.executable
# The device is named by a child process: this one must not initialise JAX, since a
# TPU is held by the first process that opens it and each step runs in a child.
_DEVICE = (
  "import jax; d = jax.devices()[0]; print(jax.default_backend(), d.device_kind, jax.__version__, sep='|')"
)


def device_info() -> tuple[str, str, str]:
  """(backend, device kind, JAX version), from a child process."""
  out = subprocess.run([PY, "-c", _DEVICE], capture_output=True, text=True, check=True).stdout
  backend, kind, version = out.strip().splitlines()[-1].split("|")
  return backend, kind, version


def device() -> str:
  backend, kind, _ = device_info()
  return f"{backend.upper()}: {kind}"


def steps(small: bool) -> list[tuple[str, list[str]]]:
  _, _, version = device_info()
  label = f"{device()} (jax {version})"
  out = ["--out", "-"] if small else []
  if small:
    conformance = [PY, "-m", "jaxact", "--only", "relu,softmax", "--dtypes", "float32", "--quiet"]
  else:
    conformance = [PY, "tools/write_conformance.py", "--section", label]
  return [
    ("conformance", conformance),
    ("backend tests", [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_backend.py"]),
    (
      "functions",
      [PY, "benchmarks/speed_memory.py", "--section", f"{label}, 2^26 elements"]
      + (
        ["--only", "relu", "--log2-size", "12", "--rounds", "1", "--repeats", "1"]
        if small
        else ["--log2-size", "26"]
      )
      + out,
    ),
    (
      "models",
      [PY, "benchmarks/models.py", "--section", label]
      + (["--small", "--only", "gpt-gelu", "--rounds", "1", "--repeats", "1"] if small else [])
      + out,
    ),
    ("collectives", [PY, "benchmarks/collectives.py"] + (["--only", "gelu"] if small else []) + out),
    ("fusion", [PY, "benchmarks/accelerator.py", "--fusion"] + (["--small"] if small else [])),
  ]


def fusion(small: bool) -> int:
  """Whether XLA fuses gelu into the preceding matmul (a cuBLAS epilogue on a GPU),
  for jax.nn and jaxact, and a dense layer's step-time ratio (forward and gradient)."""
  import jax
  import jax.numpy as jnp

  import jaxact

  n = 64 if small else 4096
  x = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  w = jax.random.normal(jax.random.key(1), (n, n), jnp.float32) / n**0.5
  lines = []
  times = {}
  for lib, f in (("jax.nn", jax.nn.gelu), ("jaxact", jaxact.gelu)):  # (timed apart, not paired)
    fwd = jax.jit(lambda x, w, f=f: f(x @ w))
    grad = jax.jit(jax.grad(lambda w, x, f=f: jnp.sum(f(x @ w))))
    hlo = fwd.lower(x, w).compile().as_text()
    epilogues = sorted(set(re.findall(r'"epilogue":"(\w+)"', hlo)))
    matmuls = len(re.findall(r"custom_call_target=\"__cublas\$lt\$matmul", hlo)) + len(
      re.findall(r"custom_call_target=\"__cublas\$gemm", hlo)
    )
    lines.append(f"{lib}.gelu: {matmuls} cuBLAS matmul call(s), epilogues {epilogues or 'none'}")
    for name, g, args in (("fwd", fwd, (x, w)), ("grad", grad, (w, x))):
      jax.block_until_ready(g(*args))
      ts = []
      for _ in range(3 if small else 20):
        t0 = time.perf_counter()
        jax.block_until_ready(g(*args))
        ts.append(time.perf_counter() - t0)
      times[(lib, name)] = sorted(ts)[len(ts) // 2]
  for name in ("fwd", "grad"):
    ratio = times[("jaxact", name)] / times[("jax.nn", name)]
    lines.append(f"dense {n}x{n} then gelu, {name}: jaxact / jax.nn = {ratio:.2f}")
  text = "\n".join(lines)
  print(text)
  if not small:
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from doc_sections import replace_section

    path = os.path.join(ROOT, "docs", "benchmarks.md")
    heading = f"## Fusion into the matrix product, {device()} (jax {jax.__version__})"
    with open(path) as f:
      doc = f.read()
    with open(path, "w") as f:
      f.write(
        replace_section(doc, heading, f"{heading}\n\n`python benchmarks/accelerator.py`\n\n```\n{text}\n```")
      )
  return 0


def main(argv: list[str]) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--small", action="store_true", help="tiny sizes, nothing written")
  p.add_argument("--skip", default="", help="comma-separated step names to leave out")
  p.add_argument("--fusion", action="store_true", help=argparse.SUPPRESS)
  args = p.parse_args(argv)
  if args.fusion:
    return fusion(args.small)
  if device_info()[0] == "cpu" and not args.small:
    print("benchmarks/accelerator.py: JAX's default backend is the CPU; use --small to check the command")
    return 2
  skip = set(filter(None, args.skip.split(",")))
  worst, report = 0, []
  for name, cmd in steps(args.small):
    if name in skip:
      continue
    t0 = time.perf_counter()
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    rc = subprocess.run(cmd, cwd=ROOT, check=False).returncode
    report.append(f"{name}: {'ok' if rc == 0 else f'exit {rc}'} ({time.perf_counter() - t0:.0f} s)")
    worst = max(worst, rc)
  print("\n".join(report))
  return worst


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
