# %% [markdown]
# # Layers: learned parameters in Flax NNX, Flax Linen and Equinox
#
# {badge}
#
# `jaxact.layers` gives the activations whose parameters are learned (PReLU, Swish-β,
# softplus-β, snake, xIELU) or that behave differently in training and evaluation
# (RReLU, Gumbel-softmax) as modules for three frameworks. They call jaxact's functions,
# so the stable derivatives, and the partials in each parameter, reach the optimiser.
# Here one model per framework, trained with optax; every gradient is checked finite.

# %%
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("jaxact") is None:  # on Colab: install from the repository
  subprocess.check_call(
    [sys.executable, "-m", "pip", "install", "-q", "jaxact[flax,equinox] @ git+https://github.com/jaxact/jaxact"]
  )
for package in ("flax", "equinox", "optax"):
  if importlib.util.find_spec(package) is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

import os

import equinox as eqx
import flax.linen as nn
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from flax import nnx
from sklearn.datasets import load_digits

import jaxact.layers.equinox as jeqx
import jaxact.layers.linen as jlinen
import jaxact.layers.nnx as jnnx

SMALL = os.environ.get("JAXACT_NOTEBOOK_SMALL") == "1"


def all_finite(tree):
  return all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree_util.tree_leaves(tree))


# %% [markdown]
# ## Flax NNX: snake against PReLU on a periodic signal
#
# Snake, `x + sin²(a x)/a`, was proposed (Liu, Ziyin and Ueda, 2020) for functions
# with a periodic part, with the claim that a network of it extrapolates that part
# beyond the training interval where ReLU-like networks go straight. Two identical
# networks, one with `Snake(32)` (a learned frequency per channel), one with
# `PReLU(32)` (a learned slope per channel), trained on `sin(3x) + x/4` for x in
# [-4, 4] and evaluated on [-8, 8]:

# %%
def target(x):
  return jnp.sin(3.0 * x) + 0.25 * x


x_train = jnp.linspace(-4.0, 4.0, 256)[:, None]
x_test = jnp.linspace(-8.0, 8.0, 512)[:, None]
outside = jnp.abs(x_test[:, 0]) > 4.0


class Net(nnx.Module):
  def __init__(self, make_act, rngs):
    self.l1, self.a1 = nnx.Linear(1, 32, rngs=rngs), make_act(32)
    self.l2, self.a2 = nnx.Linear(32, 32, rngs=rngs), make_act(32)
    self.l3 = nnx.Linear(32, 1, rngs=rngs)

  def __call__(self, x):
    return self.l3(self.a2(self.l2(self.a1(self.l1(x)))))


@nnx.jit
def nnx_step(model, opt):
  def loss(m):
    return jnp.mean((m(x_train) - target(x_train)) ** 2)

  value, grads = nnx.value_and_grad(loss)(model)
  opt.update(model, grads)
  return value, grads


steps = 300 if SMALL else 3000
fits = {}
for name, make_act in (
  ("snake", lambda n: jnnx.Snake(n, frequency_init=2.0)),
  ("prelu", lambda n: jnnx.PReLU(n)),
):
  model = Net(make_act, nnx.Rngs(0))
  opt = nnx.Optimizer(model, optax.adam(3e-3), wrt=nnx.Param)
  losses = []
  for _ in range(steps):
    value, grads = nnx_step(model, opt)
    losses.append(float(value))
  assert all_finite(grads) and losses[-1] < 0.5 * losses[0]
  pred = model(x_test)[:, 0]
  err = float(jnp.sqrt(jnp.mean((pred - target(x_test)[:, 0])[outside] ** 2)))
  fits[name] = pred
  print(f"{name}: train loss {losses[0]:.3f} -> {losses[-1]:.4f}; RMS error outside [-4, 4]: {err:.3f}")
  if name == "snake":
    print("  learned frequencies (layer 1):", np.round(np.asarray(model.a1.frequency[...]), 2)[:8], "...")

fig, ax = plt.subplots(figsize=(9, 3.4))
ax.plot(x_test[:, 0], target(x_test)[:, 0], "k", lw=1, label="target")
for name, pred in fits.items():
  ax.plot(x_test[:, 0], pred, label=name)
ax.axvspan(-4, 4, color="0.9", label="training interval")
ax.set_ylim(-5, 5)
ax.legend(loc="upper left")
ax.set_title(f"fit after {steps} Adam steps")
plt.show()

# %% [markdown]
# The PReLU network starts with every first-layer kink at x = 0 (`nnx.Linear`'s biases
# start at 0), and in this budget it fits the trend and few of the oscillations; the
# snake network fits both and carries the oscillation past x = ±4 (its RMS error there
# is printed above).
#
# ## Flax Linen: learned Swish-β, xIELU and PReLU on the digits
#
# scikit-learn's 8×8 digits, an MLP with two hidden layers of 64, the activation's
# parameters one per channel and trained with the weights. After training, the spread
# of the learned parameters shows how far each channel moved from its start (Swish
# β = 1, PReLU α = 0.25, xIELU α_p = α_n = 0.8).

# %%
digits = load_digits()
X = jnp.asarray(digits.data / 16.0, jnp.float32)
y = jnp.asarray(digits.target)
X_train, y_train, X_test, y_test = X[:1400], y[:1400], X[1400:], y[1400:]


class MLP(nn.Module):
  act: type

  @nn.compact
  def __call__(self, x):
    for _ in range(2):
      x = self.act(num_parameters=64)(nn.Dense(64)(x))
    return nn.Dense(10)(x)


def train_linen(act, steps):
  model = MLP(act)
  params = model.init(jax.random.key(0), X_train[:1])
  opt = optax.adam(3e-3)
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    def loss(p):
      logits = model.apply(p, X_train)
      return optax.softmax_cross_entropy_with_integer_labels(logits, y_train).mean()

    value, grads = jax.value_and_grad(loss)(params)
    updates, state = opt.update(grads, state)
    return optax.apply_updates(params, updates), state, value, grads

  first = None
  for _ in range(steps):
    params, state, value, grads = step(params, state)
    first = float(value) if first is None else first
  assert all_finite(grads) and float(value) < 0.5 * first
  accuracy = float(jnp.mean(jnp.argmax(model.apply(params, X_test), -1) == y_test))
  return params, first, float(value), accuracy


steps = 100 if SMALL else 1000
for act in (jlinen.Swish, jlinen.PReLU, jlinen.XIELU):
  params, first, last, accuracy = train_linen(act, steps)
  learned = params["params"][f"{act.__name__}_0"]
  spread = ", ".join(f"{k} in [{float(v.min()):.3f}, {float(v.max()):.3f}]" for k, v in learned.items())
  print(f"{act.__name__:7}: loss {first:.3f} -> {last:.4f}, test accuracy {accuracy:.3f}; layer 1 {spread}")

# %% [markdown]
# (xIELU's parameters are printed as stored: unconstrained values whose softplus is
# α_p, and β + softplus of which is α_n, as in the paper's reference implementation.)
#
# ## Equinox: RReLU's two modes, and a discrete choice learned with Gumbel-softmax
#
# In training RReLU draws a slope per element from [1/8, 1/3]; in inference it uses
# their mean, 11/48. `eqx.nn.inference_mode` switches every such layer of a model:

# %%
rrelu = jeqx.RReLU()
x = -jnp.ones(6)
print("training: ", np.round(np.asarray(rrelu(x, key=jax.random.key(1))), 3))
print("inference:", np.round(np.asarray(eqx.nn.inference_mode(rrelu)(x)), 3), "(-11/48 =", round(-11 / 48, 3), ")")

# %% [markdown]
# Gumbel-softmax makes a discrete choice differentiable. Five options with costs
# `c`; the logits θ are learned so that the sampled choice (one-hot, `hard=True`,
# with the straight-through gradient) has the least expected cost. The probabilities
# `softmax(θ)` should concentrate on the cheapest option (index 3):

# %%
cost = jnp.array([3.0, 1.0, 4.0, 0.5, 2.0])


class Chooser(eqx.Module):
  logits: jax.Array
  gumbel: jeqx.GumbelSoftmax

  def __call__(self, key):
    return self.gumbel(self.logits, key=key)


def expected_cost(model, keys):
  return jnp.mean(jax.vmap(lambda k: jnp.dot(model(k), cost))(keys))


chooser = Chooser(jnp.zeros(5), jeqx.GumbelSoftmax(tau=0.5, hard=True))
opt = optax.adam(5e-2)
state = opt.init(eqx.filter(chooser, eqx.is_array))


@eqx.filter_jit
def eqx_step(model, state, key):
  value, grads = eqx.filter_value_and_grad(expected_cost)(model, jax.random.split(key, 64))
  updates, state = opt.update(grads, state)
  return eqx.apply_updates(model, updates), state, value, grads


history = []
steps = 150 if SMALL else 600
for i in range(steps):
  chooser, state, value, grads = eqx_step(chooser, state, jax.random.key(i))
  assert all_finite(eqx.filter(grads, eqx.is_array))
  history.append(np.asarray(jax.nn.softmax(chooser.logits)))
history = np.array(history)
print("softmax(θ) at the end:", np.round(history[-1], 3))
print("inference mode gives the one-hot of the largest logit:", eqx.nn.inference_mode(chooser)(None))
assert int(np.argmax(history[-1])) == 3

fig, ax = plt.subplots(figsize=(7, 3.2))
for k in range(5):
  ax.plot(history[:, k], label=f"option {k}, cost {float(cost[k])}")
ax.set_xlabel("Adam step")
ax.set_ylabel("probability")
ax.legend(fontsize=8)
plt.show()
