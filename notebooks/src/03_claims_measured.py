# %% [markdown]
# # The classic claims about activations, measured
#
# {badge}
#
# Vanishing gradients, dying ReLU, zero-centred outputs, and which activation trains
# best: each claim below is measured here, with several seeds and error bars (mean ± one
# standard deviation over seeds), on a CPU runtime in a few minutes. The data set is
# scikit-learn's `digits` (1,797 8×8 images, shipped inside the package; nothing is
# downloaded). The printed conclusions are computed from the measurements in the
# notebook, not written beforehand.

# %%
import importlib.util
import subprocess
import sys

missing = [p for p in ("jaxact", "optax", "sklearn") if importlib.util.find_spec(p) is None]
if missing:  # on Colab: install what is missing
  pkgs = {"jaxact": "jaxact @ git+https://github.com/jaxact/jaxact", "sklearn": "scikit-learn", "optax": "optax"}
  subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + [pkgs[p] for p in missing])

import functools
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from sklearn.datasets import load_digits

import jaxact

SMALL = os.environ.get("JAXACT_NOTEBOOK_SMALL") == "1"
SEEDS = 2 if SMALL else 5
print("jax", jax.__version__, "on", jax.default_backend(), "| seeds:", SEEDS)

digits = load_digits()
X = (digits.data / 16.0).astype(np.float32)
X = X - X.mean(0)
Y = digits.target.astype(np.int32)
perm = np.random.default_rng(0).permutation(len(X))
X, Y = X[perm], Y[perm]
n_train = 1400
Xtr, Ytr, Xte, Yte = jnp.asarray(X[:n_train]), jnp.asarray(Y[:n_train]), jnp.asarray(X[n_train:]), jnp.asarray(Y[n_train:])
print("train", Xtr.shape, "test", Xte.shape)


def init_mlp(key, sizes, scale="he"):
  """Weights N(0, g / fan_in) with g = 2 (He) or 1 (LeCun), biases 0."""
  g = 2.0 if scale == "he" else 1.0
  keys = jax.random.split(key, len(sizes) - 1)
  return [
    (jax.random.normal(k, (m, n)) * np.sqrt(g / m), jnp.zeros(n)) for k, m, n in zip(keys, sizes[:-1], sizes[1:])
  ]


def forward(params, x, act, slopes=None):
  for i, (w, b) in enumerate(params[:-1]):
    z = x @ w + b
    x = act(z) if slopes is None else jaxact.prelu(z, slopes[i])
  w, b = params[-1]
  return x @ w + b


def xent(params, x, y, act, slopes=None):
  logits = forward(params, x, act, slopes)
  return -jnp.mean(jnp.take_along_axis(jaxact.log_softmax(logits), y[:, None], axis=1))


# Each activation with the initialisation it is usually used with: He for the
# rectifiers, LeCun for the others.
ACTIVATIONS = {
  "relu": (jaxact.relu, "he"),
  "leaky_relu": (jaxact.leaky_relu, "he"),
  "elu": (jaxact.elu, "he"),
  "selu": (jaxact.selu, "lecun"),
  "gelu": (jaxact.gelu, "he"),
  "silu": (jaxact.silu, "he"),
  "mish": (jaxact.mish, "he"),
  "tanh": (jaxact.tanh, "lecun"),
  "sigmoid": (jaxact.sigmoid, "lecun"),
}


def mean_sd(a):
  a = np.asarray(a, np.float64)
  return a.mean(0), a.std(0)


# %% [markdown]
# ## 1. Vanishing gradients at initialisation
#
# A 24-layer MLP, width 64, on a batch of digits, at initialisation (He scaling for the
# rectifiers, LeCun for the others, as each is usually initialised). The norm of the
# loss gradient with respect to each layer's weights, from the input layer (1) to the
# output (24):

# %%
DEPTH, WIDTH = 24, 64
acts = {k: ACTIVATIONS[k] for k in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu")}
if SMALL:  # CI's small run: three of them
  acts = {k: acts[k] for k in ("sigmoid", "tanh", "relu")}
sizes = [64] + [WIDTH] * (DEPTH - 1) + [10]


def deep_xent(stack, head, x, y, act):
  # the DEPTH - 1 hidden layers (all WIDTH x WIDTH) as a loop: one layer to compile, not 23
  h, _ = jax.lax.scan(lambda h, wb: (act(h @ wb[0] + wb[1]), None), x, stack)
  return xent([head], h, y, act)  # the output layer


layer_grads = jax.jit(jax.grad(deep_xent, argnums=(0, 1)), static_argnums=4)
grad_norms = {}
for name, (act, scale) in acts.items():
  runs = []
  for seed in range(SEEDS):
    params = init_mlp(jax.random.PRNGKey(seed), sizes, scale)
    stack = jax.tree_util.tree_map(lambda *layers: jnp.stack(layers), *params[:-1])
    (g_ws, _), (g_head, _) = layer_grads(stack, params[-1], Xtr[:256], Ytr[:256], act)
    runs.append([float(v) for v in jnp.linalg.norm(g_ws, axis=(1, 2))] + [float(jnp.linalg.norm(g_head))])
  grad_norms[name] = mean_sd(runs)

fig, ax = plt.subplots(figsize=(8, 4.5))
layers = np.arange(1, DEPTH + 1)
for name, (m, s) in grad_norms.items():
  ax.errorbar(layers, m, yerr=s, label=name, capsize=2)
ax.set_yscale("log")
ax.set_xlabel("layer (1 = input)")
ax.set_ylabel("‖∂loss/∂W‖ at initialisation")
ax.legend(ncol=2)
plt.show()

print("ratio of the first layer's gradient norm to the last hidden layer's (mean over seeds):")
ratios = {name: m[0] / m[-2] for name, (m, s) in grad_norms.items()}
for name, r in sorted(ratios.items(), key=lambda kv: kv[1]):
  print(f"  {name:>10}: {r:.3g}")
worst = min(ratios, key=ratios.get)
print(f"Measured: the smallest ratio is {worst}'s ({ratios[worst]:.2g}); ", end="")
print("activations with ratio below 1e-3 here:", [n for n, r in ratios.items() if r < 1e-3] or "none")

# %% [markdown]
# ## 2. Dying ReLU
#
# A 6-layer MLP trained with plain SGD at a large learning rate. A hidden unit is
# *dead* when its derivative is at most 1e-3 on every training example (relu: it
# outputs 0 for all of them; elu: its input is below -6.9 for all). leaky_relu's
# derivative is never below 0.01, so it cannot die by this definition; prelu's slopes
# are learned and can. Fraction of dead hidden units during training:

# %%
def dead_fraction(params, prime, slopes=None):
  x, dead, total = Xtr, 0, 0
  for i, (w, b) in enumerate(params[:-1]):
    z = x @ w + b
    if slopes is None:
      d, x = prime(z)
    else:
      d, x = jnp.where(z >= 0, 1.0, slopes[i]), jaxact.prelu(z, slopes[i])
    dead += int(jnp.sum(jnp.all(jnp.abs(d) <= 1e-3, axis=0)))
    total += z.shape[1]
  return dead / total


STEPS = 60 if SMALL else 600
LR = 0.5
dying = {}
setups = {
  "relu": (jaxact.relu, None),
  "leaky_relu": (jaxact.leaky_relu, None),
  "elu": (jaxact.elu, None),
  "prelu": (jaxact.relu, 0.25),  # slopes learned per unit, initialised at 0.25
}
if SMALL:  # CI's small run: relu, leaky_relu and the learned slopes
  setups = {k: setups[k] for k in ("relu", "leaky_relu", "prelu")}
checkpoints = list(range(0, STEPS + 1, STEPS // 10))
for name, (act, slope0) in setups.items():
  # The derivative and the output of a layer, for the dead-unit count.
  prime = jax.jit(lambda z, act=act: (jax.vmap(jax.grad(act))(z.ravel()).reshape(z.shape), act(z)))

  def sgd_step(carry, idx, act=act):
    params, slopes = carry
    x, y = Xtr[idx], Ytr[idx]
    upd = lambda p, g: p - LR * g
    if slopes is None:
      g = jax.grad(xent)(params, x, y, act)
      return (jax.tree_util.tree_map(upd, params, g), None), None
    gp, gs = jax.grad(lambda p, s: xent(p, x, y, act, s), argnums=(0, 1))(params, slopes)
    return (jax.tree_util.tree_map(upd, params, gp), jax.tree_util.tree_map(upd, slopes, gs)), None

  # the steps between two checkpoints as one compiled loop
  segment = jax.jit(lambda params, slopes, idx, f=sgd_step: jax.lax.scan(f, (params, slopes), idx)[0])
  runs = []
  for seed in range(SEEDS):
    params = init_mlp(jax.random.PRNGKey(100 + seed), [64, 128, 128, 128, 128, 128, 10], "he")
    slopes = None if slope0 is None else [jnp.full(128, slope0) for _ in range(5)]
    rng = np.random.default_rng(seed)
    trace = [dead_fraction(params, prime, slopes)]
    for start, stop in zip(checkpoints[:-1], checkpoints[1:]):
      params, slopes = segment(params, slopes, rng.integers(0, n_train, (stop - start, 64)))
      trace.append(dead_fraction(params, prime, slopes))
    runs.append(trace)
  dying[name] = mean_sd(runs)

fig, ax = plt.subplots(figsize=(8, 4))
for name, (m, s) in dying.items():
  ax.errorbar(checkpoints, m, yerr=s, label=name, capsize=2)
ax.set_xlabel(f"SGD step (learning rate {LR})")
ax.set_ylabel("fraction of dead hidden units")
ax.legend()
plt.show()
for name, (m, s) in dying.items():
  print(f"{name:>10}: dead at the end {m[-1]:.3f} ± {s[-1]:.3f} (start {m[0]:.3f})")

# %% [markdown]
# ## 3. Zero-centred outputs: tanh against sigmoid
#
# The argument: sigmoid's outputs are all positive, so the gradients of a unit's
# incoming weights all share a sign, which slows training; tanh is zero-centred. We
# measure the mean activation of the hidden layers at initialisation and the training
# loss over steps for a 4-layer MLP with Adam (learning rate 1e-3) and with SGD.

# %%
@functools.cache
def make_run(act, opt):
  # the whole training run as one compiled loop over the steps, per (activation, optimiser)
  def step(carry, idx):
    params, state = carry
    loss, g = jax.value_and_grad(xent)(params, Xtr[idx], Ytr[idx], act)
    upd, state = opt.update(g, state, params)
    return (optax.apply_updates(params, upd), state), loss

  return jax.jit(lambda params, state, idx: jax.lax.scan(step, (params, state), idx))


def train(act, opt, steps, seed, sizes=(64, 128, 128, 128, 10), scale="lecun", batch=64):
  """(training loss per step, test accuracy) of minibatch training from seed."""
  params = init_mlp(jax.random.PRNGKey(seed), list(sizes), scale)
  idx = np.random.default_rng(seed).integers(0, n_train, (steps, batch))
  (params, _), losses = make_run(act, opt)(params, opt.init(params), idx)
  acc = float(jnp.mean(jnp.argmax(forward(params, Xte, act), -1) == Yte))
  return np.asarray(losses), acc


def smooth(a, k=20):
  return np.convolve(a, np.ones(k) / k, mode="valid")


STEPS3 = 80 if SMALL else 1500
final = {}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, (opt_name, opt) in zip(axes, (("Adam 1e-3", optax.adam(1e-3)), ("SGD 0.1", optax.sgd(0.1)))):
  for name, act in (("sigmoid", jaxact.sigmoid), ("tanh", jaxact.tanh)):
    runs = [smooth(train(act, opt, STEPS3, seed)[0]) for seed in range(SEEDS)]
    m, s = mean_sd(runs)
    final[opt_name, name] = (m[-1], s[-1])
    ax.plot(m, label=name)
    ax.fill_between(np.arange(m.size), m - s, m + s, alpha=0.25)
    print(f"{opt_name:>9} {name:>8}: final training loss {m[-1]:.3f} ± {s[-1]:.3f}")
  ax.set_title(opt_name)
  ax.set_xlabel("step")
  ax.set_ylabel("training loss (moving average of 20)")
  ax.legend()
plt.show()

params = init_mlp(jax.random.PRNGKey(0), [64, 128, 128, 128, 10], "lecun")
for name, act in (("sigmoid", jaxact.sigmoid), ("tanh", jaxact.tanh)):
  x, means = Xtr, []
  for w, b in params[:-1]:
    x = act(x @ w + b)
    means.append(float(jnp.mean(x)))
  print(f"mean hidden activation at initialisation, {name:>7}:", " ".join(f"{v:+.3f}" for v in means))

# %% [markdown]
# ## 4. Which activation trains best on digits
#
# The same 4-layer MLP (He scaling for rectifiers, LeCun otherwise), Adam 1e-3, batch 64,
# for each activation: test accuracy after training and the number of steps until the
# moving-average training loss first falls below 0.2.

# %%
candidates = dict(ACTIVATIONS)
if SMALL:  # CI's small run: three of them, fewer steps
  candidates = {k: candidates[k] for k in ("relu", "gelu", "sigmoid")}
STEPS4 = 80 if SMALL else 1500
TARGET = 0.2
results = {}
for name, (act, scale) in candidates.items():
  adam = optax.adam(1e-3)  # one optimiser object per activation: one compiled step for its seeds
  accs, reach = [], []
  for seed in range(SEEDS):
    losses, acc = train(act, adam, STEPS4, 1000 + seed, scale=scale)
    sm = smooth(losses)
    hit = np.flatnonzero(sm < TARGET)
    accs.append(acc)
    reach.append(hit[0] + 20 if hit.size else np.nan)
  results[name] = (np.mean(accs), np.std(accs), np.nanmean(reach) if np.any(np.isfinite(reach)) else np.nan, reach)

print(f"{'activation':>11}  test accuracy     steps to loss < {TARGET} (runs that reach it)")
for name, (m, s, r, reach) in sorted(results.items(), key=lambda kv: -kv[1][0]):
  n = int(np.sum(np.isfinite(reach)))
  print(f"{name:>11}  {m:.4f} ± {s:.4f}   {r:7.0f} ({n}/{SEEDS})")

names = list(results)
fig, ax = plt.subplots(figsize=(9, 3.6))
ax.bar(names, [results[n][0] for n in names], yerr=[results[n][1] for n in names], capsize=3)
ax.set_ylim(min(results[n][0] for n in names) - 0.05, 1.0)
ax.set_ylabel("test accuracy")
plt.show()

# %% [markdown]
# ## What the measurements support, and what they do not
#
# The cell below states the conclusions from the numbers above, with their sizes; it
# prints nothing it has not measured. It does not generalise beyond this setting (a
# small MLP on an easy data set, a few seeds): differences smaller than about two
# standard deviations are reported as not resolved.

# %%
def resolved(a, sa, b, sb):
  return abs(a - b) > 2 * max(sa, sb, 1e-12)


sig_r, tanh_r, relu_r = ratios["sigmoid"], ratios["tanh"], ratios["relu"]
print(f"- Vanishing gradients: at initialisation the first layer of sigmoid gets {sig_r:.2g}× the gradient norm")
print(f"  of the last hidden layer (tanh {tanh_r:.2g}×, relu {relu_r:.2g}×).")
end = {n: (m[-1], s[-1]) for n, (m, s) in dying.items()}
order = sorted(end, key=lambda n: end[n][0])
print(f"- Dying units after {STEPS} steps at learning rate {LR}: " + ", ".join(f"{n} {end[n][0]:.2f}" for n in order))
r, l = end["relu"], end["leaky_relu"]
print(f"  relu vs leaky_relu: {'resolved' if resolved(*r, *l) else 'not resolved'} at two standard deviations.")
for opt_name in ("Adam 1e-3", "SGD 0.1"):
  (a, sa), (b, sb) = final[opt_name, "sigmoid"], final[opt_name, "tanh"]
  verdict = "resolved" if resolved(a, sa, b, sb) else "not resolved"
  faster = "tanh" if b < a else "sigmoid"
  print(f"- Zero-centred outputs, {opt_name}: final training loss sigmoid {a:.3f}, tanh {b:.3f}; lower: {faster}")
  print(f"  ({verdict} at two standard deviations; this compares the two functions, not centring alone).")
best = max(results, key=lambda n: results[n][0])
ties = [
  n for n in results if n != best and not resolved(results[n][0], results[n][1], results[best][0], results[best][1])
]
print(f"- Test accuracy: best mean {best} ({results[best][0]:.4f}); not resolved from it: {', '.join(ties) or 'none'}.")
slow = [n for n in results if np.isnan(results[n][2])]
fast = sorted((n for n in results if n not in slow), key=lambda n: results[n][2])
reached = {n: int(np.sum(np.isfinite(results[n][3]))) for n in fast}
print(f"- Steps to training loss < {TARGET} (mean over the runs that reach it, of {SEEDS}): ", end="")
print(", ".join(f"{n} {results[n][2]:.0f} ({reached[n]})" for n in fast), end="")
print(f"; never reached in {STEPS4} steps: {', '.join(slow)}." if slow else ".")
