# %% [markdown]
# # Check your backend
#
# {badge}
#
# jaxact's accuracy and speed are measured in this project on a CPU (and, when one was
# lent, a GPU). This notebook measures them on *your* runtime: in Colab, choose
# Runtime → Change runtime type → a GPU or TPU, then run all. It runs the conformance
# report (every activation against mpmath, value, f′ and f″, on this backend) and a
# side-by-side benchmark against `jax.nn`, and plots the speed ratios.

# %%
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("jaxact") is None:  # on Colab: install from the repository
  subprocess.check_call(
    [sys.executable, "-m", "pip", "install", "-q", "jaxact[conformance] @ git+https://github.com/jaxact/jaxact"]
  )

import os
import statistics
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxact

SMALL = os.environ.get("JAXACT_NOTEBOOK_SMALL") == "1"
print("JAX", jax.__version__, "| backend:", jax.default_backend(), "|", [d.device_kind for d in jax.devices()])

# %% [markdown]
# ## Conformance on this backend
#
# `python -m jaxact` measures every registered function against mpmath references:
# the largest error in ULPs of the value, f′ and f″ over the whole floating-point
# range, non-finite derivatives where the exact one is finite, and NaN propagation,
# per dtype, against the bounds that the project's tests assert on its CPU. (On a CPU
# runtime, all of them take a few minutes; here a selection unless the full run is
# asked for.)

# %%
FULL = os.environ.get("JAXACT_FULL_REPORT") == "1"
only = [] if FULL else ["--only", "relu,sigmoid,tanh,gelu,silu,elu,softplus,mish,softmax,log_softmax"]
if SMALL:
  only = ["--only", "sigmoid,softmax"]
dtypes = "float32" if SMALL else "float32,bfloat16,float16"
# In this process (a TPU is held by the process that opened it: a child would fall
# back to the CPU). The same as `python -m jaxact` from a shell.
from jaxact.__main__ import main as conformance

status = conformance([*only, "--dtypes", dtypes, "--quiet"])
print("conformance:", "PASS" if status == 0 else f"FAIL (exit {status})")

# %% [markdown]
# ## Speed against jax.nn, side by side
#
# Each function and its gradient, jitted, on 2^22 float32 elements (2^12 in the
# test suite), calls of jaxact and `jax.nn` alternated in pairs; the ratio is the
# median of the pair ratios (below 1: jaxact is faster). Ratios, not absolute
# times, are what compare across machines.

# %%
NAMES = ["sigmoid", "tanh", "relu", "elu", "selu", "softplus", "silu", "gelu", "mish", "softmax", "log_softmax"]
n = 2**12 if SMALL else 2**22
repeats = 3 if SMALL else 15
x = jax.random.normal(jax.random.key(0), (n // 1024, 1024), jnp.float32) * 4.0


def timed(f):
  t0 = time.perf_counter()
  jax.block_until_ready(f(x))
  return time.perf_counter() - t0


def pair_ratio(ours, theirs):
  for f in (ours, theirs):
    jax.block_until_ready(f(x))
  ratios = []
  for i in range(repeats):
    first, second = (ours, theirs) if i % 2 else (theirs, ours)
    a, b = timed(first), timed(second)
    ratios.append(a / b if first is ours else b / a)
  return statistics.median(ratios)


rows = []
for name in NAMES:
  ours, theirs = getattr(jaxact, name), getattr(jax.nn, name)
  fwd = pair_ratio(jax.jit(ours), jax.jit(theirs))
  grad = pair_ratio(jax.jit(jax.grad(lambda v, f=ours: jnp.sum(f(v)))), jax.jit(jax.grad(lambda v, f=theirs: jnp.sum(f(v)))))
  rows.append((name, fwd, grad))
  print(f"{name:12} forward {fwd:5.2f}x   gradient {grad:5.2f}x")

# %%
fig, ax = plt.subplots(figsize=(10, 3.6))
pos = np.arange(len(rows))
ax.bar(pos - 0.2, [r[1] for r in rows], 0.4, label="forward")
ax.bar(pos + 0.2, [r[2] for r in rows], 0.4, label="gradient")
ax.axhline(1.0, color="k", lw=0.8)
ax.set_xticks(pos, [r[0] for r in rows], rotation=30)
ax.set_ylabel("time, jaxact / jax.nn")
ax.set_title(f"{jax.default_backend()}: {jax.devices()[0].device_kind}, {n} elements")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The project's own figures for its CPU (and a GPU it was lent) are in
# [docs/benchmarks.md](https://github.com/jaxact/jaxact/blob/main/docs/benchmarks.md);
# the full command for an accelerator, which writes those sections, is
# `python benchmarks/accelerator.py` from a clone of the repository.
