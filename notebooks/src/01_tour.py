# %% [markdown]
# # A tour of jaxact
#
# {badge}
#
# Every registered activation, driven by the registry: what it computes, what its first
# and second derivatives look like, the conventions where libraries disagree, and how to
# call it inside a jitted, vmapped model. Runs on a CPU runtime in about a minute.

# %%
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("jaxact") is None:  # on Colab: install from the repository
  subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "jaxact @ git+https://github.com/jaxact/jaxact"])

import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import jaxact
import jaxact.testing as jt

# CI runs the notebooks with JAXACT_NOTEBOOK_SMALL=1: fewer points, same code.
SMALL = os.environ.get("JAXACT_NOTEBOOK_SMALL") == "1"
POINTS = 201 if SMALL else 801
print("jaxact", jaxact.__version__, "on", jax.default_backend())

# %% [markdown]
# ## The registry
#
# `jaxact.names()` lists every activation; `jaxact.info(name)` holds its metadata. The
# table below is built from it (the README's table is generated the same way).

# %%
rows = ["| name | kind | family | formula | range | smooth |", "|---|---|---|---|---|---|"]
for name in jaxact.names():
  i = jaxact.info(name)
  rows.append(f"| `{name}` | {i.kind} | {i.family} | {i.formula} | {i.output_range} | {i.smoothness} |")
display(Markdown("\n".join(rows)))
print(len(jaxact.names()), "activations")

# %% [markdown]
# ## f, f′ and f″ of every element-wise activation
#
# Each derivative is what `jax.grad` returns through the activation's custom rule, at
# its default hyperparameters (required ones from `jaxact.testing.required_params`),
# in float64. Dashed: f′; dotted: f″.

# %%
jax.config.update("jax_enable_x64", True)  # this notebook's own process: float64 curves
x = jnp.linspace(-4.0, 4.0, POINTS)


def curves(name):
  """x, and f, f' and f'' at x: the activation at its default hyperparameters."""
  fn = jaxact.get(name)
  kw = jt.required_params(name)
  f = lambda t: fn(t, **kw)
  d1 = jax.grad(f)
  d2 = jax.grad(d1)
  xs = jnp.abs(x) if name == "log1mexp" else x  # log1mexp is defined for x >= 0
  return (xs, *jax.vmap(lambda t: (f(t), d1(t), d2(t)))(xs))


elementwise = [n for n in jaxact.names(kind="elementwise") if jaxact.info(n).builtin]
if SMALL:  # CI's small run: every third one
  elementwise = elementwise[::3]
# all of them as one compiled function (a third faster than one per activation)
all_curves = jax.jit(lambda: {name: curves(name) for name in elementwise})()
cols = 6
nrows = -(-len(elementwise) // cols)
fig, axes = plt.subplots(nrows, cols, figsize=(3 * cols, 2.4 * nrows), squeeze=False)
for ax, name in zip(axes.flat, elementwise):
  xs, f0, f1, f2 = (np.asarray(a) for a in all_curves[name])
  order = np.argsort(xs)
  ax.plot(xs[order], f0[order], lw=1.6, label="f")
  ax.plot(xs[order], f1[order], "--", lw=1.2, label="f′")
  ax.plot(xs[order], f2[order], ":", lw=1.2, label="f″")
  ax.set_title(name, fontsize=10)
  ax.set_ylim(-2.5, 4.5)
  ax.axhline(0, color="0.8", lw=0.5)
  ax.axvline(0, color="0.8", lw=0.5)
for ax in list(axes.flat)[len(elementwise) :]:
  ax.axis("off")
axes.flat[0].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Gated units are `a · f(b)` over the two halves of `axis`; along the row `[1, b]` they
# are their activation. Normalizers act on a row; along `[t, 0, -1]` the first entry and
# its derivative in `t`:

# %%
t = jnp.linspace(-6.0, 6.0, POINTS)
normalizers = [n for n in jaxact.names(kind="normalizer")]
fig, axes = plt.subplots(1, len(normalizers), figsize=(3 * len(normalizers), 2.6), squeeze=False)
for ax, name in zip(axes.flat, normalizers):
  fn = jaxact.get(name)

  def first(s, fn=fn, name=name):
    y = fn(jnp.stack([s, 0.0 * s, -1.0 + 0.0 * s]), axis=-1)
    return y if name in jt.SCALAR_OUTPUT else y[0]

  ax.plot(t, jax.vmap(first)(t), lw=1.6, label="entry 0")
  ax.plot(t, jax.vmap(jax.grad(first))(t), "--", lw=1.2, label="d/dt")
  ax.set_title(name, fontsize=10)
axes.flat[0].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Conventions
#
# Where libraries disagree (the derivative at a kink, defaults that differ from PyTorch
# or Keras, what ±inf and masked entries do), each activation records what jaxact does:

# %%
lines = []
for name in jaxact.names():
  c = jaxact.info(name).conventions
  if c:
    lines.append(f"- **{name}**: {c}")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Inside a model: by name, under `jit` and `vmap`, with gradients
#
# `jaxact.get` takes a name (aliases such as `swish`, `hard_swish`, `gelu_tanh` resolve)
# or passes a callable through, so a model can take its activation as a string.

# %%
print(jaxact.get("swish") is jaxact.silu, jaxact.get(jnp.tanh) is jnp.tanh)


def init(key, sizes):
  keys = jax.random.split(key, len(sizes) - 1)
  return [
    (jax.random.normal(k, (m, n)) / np.sqrt(m), jnp.zeros(n)) for k, m, n in zip(keys, sizes[:-1], sizes[1:])
  ]


def mlp(params, x, activation="gelu"):
  act = jaxact.get(activation)
  for w, b in params[:-1]:
    x = act(x @ w + b)
  w, b = params[-1]
  return x @ w + b


params = init(jax.random.PRNGKey(0), [8, 32, 32, 1])
xb = jax.random.normal(jax.random.PRNGKey(1), (16, 8))
loss = lambda p, x: jnp.mean(mlp(p, x, "silu") ** 2)
per_example = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))(params, xb[:, None, :])
print("per-example gradient of the first layer:", per_example[0][0].shape)
print("all finite:", all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree_util.tree_leaves(per_example)))
