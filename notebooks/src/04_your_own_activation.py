# %% [markdown]
# # Your own activation
#
# {badge}
#
# Define an activation through jaxact's public mechanism, measure it with the same
# harness that checks jaxact's own functions, register it, and train an Equinox model
# with it. The example is the *bent identity*, `f(x) = (sqrt(x² + 1) − 1)/2 + x`: first
# written naively, then in stable forms, with the harness saying what was wrong.

# %%
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("jaxact") is None:  # on Colab: install from the repository
  subprocess.check_call(
    [sys.executable, "-m", "pip", "install", "-q", "jaxact[conformance] @ git+https://github.com/jaxact/jaxact"]
  )
if importlib.util.find_spec("equinox") is None:
  subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "equinox"])

import os

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import mpmath as mp
import numpy as np

import jaxact
import jaxact.testing as jt

SMALL = os.environ.get("JAXACT_NOTEBOOK_SMALL") == "1"
jax.config.update("jax_enable_x64", True)  # this notebook's process: measure float64 too

# %% [markdown]
# ## The reference
#
# The harness compares against an mpmath reference: value, first and second derivative,
# including their limits at ±inf (f(±inf) = ±inf, f′(+inf) = 3/2, f′(−inf) = 1/2).

# %%
def _f(x):
  return x if mp.isinf(x) else (mp.sqrt(x * x + 1) - 1) / 2 + x


def _d1(x):
  if mp.isinf(x):
    return mp.mpf(1.5) if x > 0 else mp.mpf(0.5)
  return x / (2 * mp.sqrt(x * x + 1)) + 1


def _d2(x):
  return mp.mpf(0) if mp.isinf(x) else 1 / (2 * (x * x + 1) ** mp.mpf(1.5))


reference = jt.Reference(f=_f, d1=_d1, d2=_d2, kinks=())

# %% [markdown]
# ## First attempt: the formula as written
#
# `jaxact.activation` turns a forward function and its derivative into an activation
# (validation, dtype policy, `jit`, a `custom_jvp` rule). Not registered yet:

# %%
def naive_d2(x):
  return 1 / (2 * (x * x + 1) ** 1.5)


naive_d1 = jaxact.stable_kernel(lambda x: x / (2 * jnp.sqrt(x * x + 1)) + 1, derivative=naive_d2)


@jaxact.activation(derivative=naive_d1, register=False)
def naive_bent(x):
  return (jnp.sqrt(x * x + 1) - 1) / 2 + x


dtypes = ("float32", "bfloat16") if SMALL else ("float32", "float64", "bfloat16", "float16")
print(jt.check_activation(naive_bent, reference, dtypes=dtypes))

# %% [markdown]
# The report names what fails. At ±inf the formula is inf − inf and inf / inf: NaN
# where the exact value and f′ are ±inf and 1/2 or 3/2. And `x²` overflows long before
# x does (float32: from |x| ≈ 1.8e19):

# %%
for v in (-1e20, 1e20):
  xv = jnp.float32(v)
  print(
    f"x = {v:g}: f = {float(naive_bent(xv)):.4g} (exact {float(_f(mp.mpf(v))):.4g}), "
    f"f' = {float(jax.grad(naive_bent)(xv)):.4g} (exact {float(_d1(mp.mpf(v))):.4g})"
  )

# %% [markdown]
# The fix: `r = hypot(x, 1)` never overflows before x does; `sqrt(x² + 1) − 1 =
# x² / (r + 1) = x · (x / (r + 1))`, which has no cancellation near 0 and no overflow;
# `x / r` taken as `sign(x)` at ±inf; `1 / (2 r³)` as a product of three quotients, so
# it stays normal as long as the exact value does.

# %%
def bent_d2(x):
  r = jnp.hypot(x, 1.0)
  q = 1.0 / r
  return (0.5 * q) * q * q


def bent_d1(x):
  ratio = jnp.where(jnp.isinf(x), jnp.sign(x), x / jnp.hypot(x, 1.0))  # x / sqrt(x² + 1)
  return 0.5 * ratio + 1.0


bent_prime = jaxact.stable_kernel(bent_d1, derivative=bent_d2)


@jaxact.activation(
  derivative=bent_prime,
  name="bent_identity",
  formula="(sqrt(x^2 + 1) - 1) / 2 + x",
  output_range="(-inf, inf)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=True,
  bounded=False,
)
def bent_identity(x):
  r = jnp.hypot(x, 1.0)
  return jnp.where(jnp.isinf(x), x, 0.5 * x * (x / (r + 1.0)) + x)


report = jt.check_activation(bent_identity, reference, dtypes=dtypes)
print(report)
assert report.passed

# %% [markdown]
# ## What it looks like, and where each version errs
#
# f, f′ and f″ of the stable version (f″ is the derivative of the rule's f′, taken by
# JAX through `bent_prime`'s own rule):

# %%
def derivatives(fn):
  d1 = jax.grad(fn)
  return fn, d1, jax.grad(d1)


xs = jnp.linspace(-6.0, 6.0, 401)
fig, ax = plt.subplots(figsize=(6, 3.6))
for g, label in zip(derivatives(bent_identity), ("f", "f′", "f″")):
  ax.plot(xs, jax.vmap(g)(xs), label=label)
ax.axhline(0, color="k", lw=0.5)
ax.set_xlabel("x")
ax.set_title("bent_identity")
ax.legend()
plt.show()

# %% [markdown]
# The harness's error curves: `jt.grid` gives points over float32's whole range (each
# binade from the smallest normal number to the largest, a dense grid near 0, ±inf), `jt.reference_values` the exact f, f′, f″ there from
# the mpmath reference, `jt.ulp_error` the error in ULPs. The naive version is right
# near 0 and wrong (NaN, here drawn at the cap) once x² overflows; the stable one stays
# within a few ULP everywhere. As in the battery, where this backend flushes subnormal
# results to zero (XLA's CPU does), an exact f″ below the smallest normal number
# computed as 0 is not an error and is left out (f″ is subnormal from |x| ≈ 6e12).

# %%
xs = jt.grid("float32", kinks=(), per_binade=4 if SMALL else 8, dense=201 if SMALL else 2001)
exact = jt.reference_values(reference, xs, {})
x32 = jnp.asarray(xs, jnp.float32)
fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
for ax, which, k in zip(axes, ("f", "d1", "d2"), range(3)):
  for fn, label in ((naive_bent, "naive"), (bent_identity, "stable")):
    computed = np.asarray(jax.vmap(derivatives(fn)[k])(x32), np.float64)
    hi, lo = exact[which]
    err = jt.ulp_error(computed, hi, lo, "float32")
    keep = np.ones(xs.shape, bool)
    if jt.flushes_subnormals("float32"):
      keep = ~((np.abs(hi) < np.finfo(np.float32).tiny) & (hi != 0) & (computed == 0))
    ax.semilogy(
      np.arcsinh(xs[keep]), np.clip(err[keep], 1e-2, 1e6), ".", ms=2, label=f"{label}: max {err[keep].max():.3g}"
    )
  ax.set_title(f"{('f', 'f′', 'f″')[k]}: error in ULPs (float32; floor 0.01, cap 1e6)")
  ax.set_xlabel("asinh(x)")
  ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# It composes with the JAX transformations like the built-ins (`jit` equals eager,
# `vmap`, gradients per element, forward equals reverse mode), and it is in the registry:

# %%
jt.check_transforms(bent_identity, "float32")
print(jaxact.get("bent_identity") is bent_identity, jaxact.info("bent_identity").formula)

# %% [markdown]
# ## In an Equinox model
#
# `eqx.nn.MLP` takes any callable as its activation. A small regression, plain gradient
# descent; the loss goes down, every gradient stays finite.

# %%
key = jax.random.PRNGKey(0)
kx, km = jax.random.split(key)
X = jax.random.uniform(kx, (256, 2), minval=-3.0, maxval=3.0)
Y = jnp.sin(X[:, :1]) * jnp.cos(X[:, 1:])
model = eqx.nn.MLP(2, 1, width_size=32, depth=2, activation=jaxact.get("bent_identity"), key=km)


@eqx.filter_jit
def step(model, lr=0.05):
  def loss(m):
    return jnp.mean((jax.vmap(m)(X) - Y) ** 2)

  value, grads = eqx.filter_value_and_grad(loss)(model)
  finite = jax.tree_util.tree_reduce(
    lambda a, g: a & jnp.all(jnp.isfinite(g)), eqx.filter(grads, eqx.is_array), jnp.array(True)
  )
  model = eqx.apply_updates(model, jax.tree_util.tree_map(lambda g: -lr * g, grads))
  return model, value, finite


steps = 100 if SMALL else 1000
losses = []
for i in range(steps):
  model, value, finite = step(model)
  assert bool(finite)
  losses.append(float(value))
print(f"loss: {losses[0]:.4f} at the start, {losses[-1]:.4f} after {steps} steps")
assert losses[-1] < losses[0]
