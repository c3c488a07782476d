"""No collective that the mathematics does not need (benchmarks/collectives.py).

For every registered function, on 8 host devices, batch- and feature-sharded, under
explicit and automatic sharding: the collectives in the compiled value and VJP are at
most the baseline's (none for element-wise functions, jax.nn's for the normalizers
and gated units), or above it by exactly the figure of a documented exception
(``collectives.KNOWN``); the normalizers that take ``where=`` once more with a mask.
Run in a fresh process: JAX fixes its device count at start.
"""

import inspect
import json
import os
import subprocess
import sys

import jaxact

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def test_no_collective_beyond_the_baseline():
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  proc = subprocess.run(
    [sys.executable, os.path.join(ROOT, "benchmarks", "collectives.py"), "--json", "--out", "-"],
    capture_output=True,
    text=True,
    env=env,
    timeout=1500,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
  names = jaxact.names(builtin=True)
  masked = {
    f"{n}(where)"
    for n in names
    if jaxact.info(n).kind == "normalizer" and "where" in inspect.signature(jaxact.get(n)).parameters
  }
  assert "logmeanexp(where)" in masked
  assert {r["name"] for r in rows} == set(names) | masked
  bad = [
    f"{r['name']} {c['mode']} {c['axis']}: {c['counts']}"
    for r in rows
    if not r["ok"]
    for c in r["cases"]
    if any(n > b for n, b in c["counts"].values())
  ]
  assert not bad, "\n".join(bad)
  # Every documented exception still occurs (a stale one would excuse a regression).
  hit = {r["name"] for r in rows for c in r["cases"] if c.get("known")}
  assert hit == {r["name"] for r in rows if r["documented"]}, hit
