# %% [markdown]
# # Why stable derivatives
#
# {badge}
#
# The same inputs through `jax.nn` and through jaxact, next to the exact value (mpmath at
# 50 digits): underflowing derivative tails, NaN gradients in float16, masked rows,
# overflow, and error curves in ULPs from the public harness (`jaxact.testing`). Every
# number below is computed in this notebook, on this runtime's backend.

# %%
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("jaxact") is None:  # on Colab: install from the repository
  subprocess.check_call(
    [sys.executable, "-m", "pip", "install", "-q", "jaxact[conformance] @ git+https://github.com/jaxact/jaxact"]
  )

import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import mpmath as mp
import numpy as np

import jaxact
import jaxact.testing as jt

SMALL = os.environ.get("JAXACT_NOTEBOOK_SMALL") == "1"
POINTS = 121 if SMALL else 601
mp.mp.dps = 50
print("jax", jax.__version__, "on", jax.default_backend())


def exact(g, xs):
  """mpmath g at each x, as float64."""
  return np.array([float(g(mp.mpf(float(v)))) for v in xs])


# %% [markdown]
# ## Derivative tails that underflow
#
# `sigmoid′ = σ(x)(1 − σ(x))`, `tanh′ = 1 − tanh²` and `elu′ = expm1(x) + 1` are
# computed from rounded values: once `σ(x)` or `tanh x` rounds to 1 (float32: from
# x ≈ 17 and 9), the derivative is 0, while the exact value stays a normal float32 much
# further out (sigmoid′ and elu′ to |x| ≈ 87, tanh′ to x ≈ 44). Relative error of the
# float32 gradient where the exact value is a normal float32, on a log scale (100 % =
# returns 0):

# %%
xs = np.linspace(0.0, 80.0, POINTS).astype(np.float32)
cases = {
  "sigmoid′": (jax.nn.sigmoid, jaxact.sigmoid, lambda x: mp.exp(-x) / (1 + mp.exp(-x)) ** 2, xs),
  "tanh′": (jax.nn.tanh, jaxact.tanh, lambda x: mp.sech(x) ** 2, xs),
  "elu′ (x < 0)": (jax.nn.elu, jaxact.elu, lambda x: mp.exp(x), -xs),
}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
for ax, (label, (ref_fn, our_fn, d1, pts)) in zip(axes, cases.items()):
  ex = exact(d1, pts)
  normal = ex >= np.finfo(np.float32).tiny  # the exact value is a normal float32
  pts, ex = pts[normal], ex[normal]
  for fn, name in ((ref_fn, "jax.nn"), (our_fn, "jaxact")):
    g = np.asarray(jax.vmap(jax.grad(fn))(jnp.asarray(pts)), np.float64)
    rel = np.abs(g - ex) / ex
    ax.semilogy(np.abs(pts), np.maximum(rel, 1e-9), label=name)
    print(f"{label:>14} {name:>7}: worst relative error {rel.max():.3g}")
  ax.set_title(label)
  ax.set_xlabel("|x|")
  ax.set_ylabel("relative error (floor 1e-9)")
  ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## NaN gradients: gelu in float16, silu at −inf, a masked softmax row
#
# `jax.nn.gelu` (tanh form) cubes x inside the tanh: in float16, x³ overflows from
# |x| ≈ 40, and the gradient becomes NaN from |x| ≈ 148. Count of non-finite gradients
# over every finite float16 with |x| ≤ 60000:

# %%
h = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16)  # every finite float16 >= 0
h = np.concatenate([-h[::-1], h])
h = h[np.abs(h.astype(np.float32)) <= 60000]
if SMALL:
  h = h[:: 8]
for fn, name in ((jax.nn.gelu, "jax.nn.gelu"), (jaxact.gelu, "jaxact.gelu")):
  g = np.asarray(jax.vmap(jax.grad(fn))(jnp.asarray(h)), np.float32)
  bad = ~np.isfinite(g)
  where = f"smallest |x| {np.abs(h[bad].astype(np.float32)).min():g}" if bad.any() else ""
  print(f"{name:>12}: {bad.sum()} non-finite gradients of {h.size} {where}")

for lib in (jax.nn, jaxact):
  v = lib.silu(jnp.float32(-jnp.inf))
  g = jax.grad(lib.silu)(jnp.float32(jnp.inf))
  print(f"{lib.__name__:>7}: silu(-inf) = {v}, silu'(+inf) = {g}   (limits: 0 and 1)")

# A row where every entry is masked out (padding), and one with -inf entries.
row = jnp.array([0.5, 2.0, -1.0])
for lib in (jax.nn, jaxact):
  g_masked = jax.grad(lambda r: lib.logsumexp(r, where=jnp.array([False, False, False])))(row)
  g_inf = jax.grad(lambda r: lib.logsumexp(r))(jnp.full(3, -jnp.inf))
  print(f"{lib.__name__:>7}: grad logsumexp, fully masked row {g_masked}, all -inf row {g_inf}")

# %% [markdown]
# ## Overflow where the exact value is small
#
# `squareplus(x) = (x + sqrt(x² + b)) / 2`: x² overflows float32 from |x| ≈ 1.8e19, and
# on the left the two terms cancel. jaxact writes the left branch as
# `b / (2 (sqrt(x² + b) − x))` with the square root taken without overflow:

# %%
for x in (-4000.0, -1e20, 1e20):
  ex = float((mp.mpf(x) + mp.sqrt(mp.mpf(x) ** 2 + 4)) / 2)
  a = float(jax.nn.squareplus(jnp.float32(x)))
  b = float(jaxact.squareplus(jnp.float32(x)))
  print(f"squareplus({x:g}): jax.nn {a:.7g}, jaxact {b:.7g}, exact {ex:.7g}")

# %% [markdown]
# ## Error in ULPs along x, from the public harness
#
# `jaxact.testing` exposes the references (`jt.ELEMENTWISE[name]`: value, f′, f″ in
# mpmath) and `jt.ulp_error`, the error in units in the last place of the dtype at the
# exact value. The battery asserts ≤ 4 / 8 / 16 ULP (value / f′ / f″) in float32 over
# the whole range; here the second derivative of softplus and silu along x:

# %%
def ulp_curve(fn, ref, xs, dtype=np.float32):
  # the exact f'' at xs (mpmath), as float64 pairs hi + lo, at beta = 1 (both defaults)
  hi, lo = jt.reference_values(ref, xs.astype(np.float64), {"beta": 1.0})["d2"]
  g2 = jax.vmap(jax.grad(jax.grad(fn)))(jnp.asarray(xs, dtype))
  return jt.ulp_error(np.asarray(g2, np.float64), hi, lo, dtype)


xs = np.linspace(-30.0, 30.0, POINTS).astype(np.float32)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
for ax, name in zip(axes, ("softplus", "silu")):
  ref = jt.ELEMENTWISE[name]
  for lib in (jax.nn, jaxact):
    err = ulp_curve(getattr(lib, name), ref, xs)
    ax.semilogy(xs, np.clip(err, 0.1, 1e9), label=lib.__name__)
    print(f"{name}'' {lib.__name__:>7}: max {np.max(err):.3g} ULP on [-30, 30]")
  ax.axhline(16, color="k", lw=0.6, ls="--")
  ax.set_title(f"{name}″ error, float32 (floor 0.1, cap 1e9; dashed: the 16-ULP bound)")
  ax.set_xlabel("x")
  ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The full report for every activation, four dtypes, is one call (also
# `python -m jaxact` from a shell):

# %%
print(jt.check_activation(jaxact.softplus, jt.ELEMENTWISE["softplus"], dtypes=("float32", "bfloat16")))
