"""Every function under explicit and automatic sharding on 8 host devices.

tests/sharded_run.py runs in a fresh process (JAX fixes its device count at start):
for every registered function, on batch- and feature-sharded input, under explicit
sharding (``jax.make_mesh``'s default) and automatic sharding, the value, gradient
and second derivative under ``jit`` must run, keep the input's sharding, and equal
the unsharded computation (to rounding, where a sum over a sharded axis is added in
another order). Then each function but the random ones inside ``jax.shard_map`` on
batch-sharded input.
"""

import json
import os
import subprocess
import sys

import jaxact

HERE = os.path.dirname(__file__)


def _run(names):
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  proc = subprocess.run(
    [sys.executable, os.path.join(HERE, "sharded_run.py"), *names],
    capture_output=True,
    text=True,
    env=env,
    timeout=1500,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_every_function_runs_sharded_and_keeps_the_sharding():
  # One test (one subprocess): a module fixture would run once per xdist worker.
  rows = _run(jaxact.names(builtin=True))
  names = jaxact.names(builtin=True)
  assert {r["name"] for r in rows} == set(names)
  random = [n for n in names if "key" in jaxact.info(n).params]  # rrelu, gumbel_softmax
  # explicit and auto, batch and feature; shard_map on the batch (not the random units);
  # normalizers along the last axis on rows with +-inf and NaN, in the four modes again
  rows_again = [n for n in names if jaxact.info(n).kind == "normalizer" and n not in random]
  assert len(rows_again) >= 7
  assert len(rows) == 5 * len(names) - len(random) + 4 * len(rows_again)
  bad = [f"{r['name']} {r['mode']} {r['axis']}: {r['error']}" for r in rows if not r["ok"]]
  assert not bad, "\n".join(bad)
  moved = [f"{r['name']} {r['mode']} {r['axis']}: {r['error']}" for r in rows if not r["sharding_kept"]]
  assert not moved, "\n".join(moved)
