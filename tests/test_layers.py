"""The layers for Flax NNX, Flax Linen and Equinox (jaxact.layers).

Each layer is checked in each framework against formulas written here in NumPy
(float64), for its initial parameters, per-channel shapes, parameter gradients,
train and eval modes and errors, and trained for a few optax steps in a small model.
"""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

pytest.importorskip("flax")
pytest.importorskip("equinox")

import equinox as eqx
import flax.linen as nn
from flax import nnx

import jaxact.layers
import jaxact.layers.equinox as jeqx
import jaxact.layers.linen as jlinen
import jaxact.layers.nnx as jnnx

RANDOM = ("RReLU", "GumbelSoftmax")
LEARNED = tuple(n for n in jaxact.layers.LAYERS if n not in RANDOM)


def _softplus(v):
  return np.logaddexp(0.0, v)


def expected(layer, x, p, kw):
  """The layer's output from its (effective) parameters, in float64 NumPy."""
  x = np.asarray(x, np.float64)
  p = {k: np.asarray(v, np.float64) for k, v in p.items()}
  if layer == "PReLU":
    return np.where(x >= 0, x, p["alpha"] * x)
  if layer == "Swish":
    return x / (1.0 + np.exp(-p["beta"] * x))
  if layer == "Softplus":
    return _softplus(p["beta"] * x) / p["beta"]
  if layer == "Snake":
    return x + np.sin(p["frequency"] * x) ** 2 / p["frequency"]
  if layer == "XIELU":
    beta, eps = kw.get("beta", 0.5), kw.get("eps", -1e-6)
    ap, an = _softplus(p["alpha_p"]), beta + _softplus(p["alpha_n"])
    return np.where(x > 0, ap * x * x + beta * x, an * (np.expm1(np.minimum(x, eps)) - x) + beta * x)
  raise AssertionError(layer)


# One adapter per framework: build a layer, call it (train or eval), read its params.


class NNX:
  name, mod = "nnx", jnnx

  @staticmethod
  def build(layer, *args, **kw):
    if layer in RANDOM:
      kw.setdefault("rngs", nnx.Rngs(0))
    return getattr(jnnx, layer)(*args, **kw)

  @staticmethod
  def call(m, x, train=True, key=None):
    if m.__class__.__name__ in RANDOM:
      return m(x, deterministic=not train, rngs=key)
    return m(x)

  @staticmethod
  def params(m, x):
    return {k: v[...] for k, v in nnx.state(m, nnx.Param).items()}


class Linen:
  name, mod = "linen", jlinen

  @staticmethod
  def build(layer, *args, **kw):
    fields = {"PReLU": "num_parameters", "RReLU": "lower", "GumbelSoftmax": "tau"}
    names = (
      [fields.get(layer, "num_parameters"), "upper"]
      if layer == "RReLU"
      else [fields.get(layer, "num_parameters")]
    )
    kw.update(zip(names, args))
    return getattr(jlinen, layer)(**kw)

  @staticmethod
  def call(m, x, train=True, key=None):
    key = jax.random.key(0) if key is None else key
    if m.__class__.__name__ in RANDOM:
      return m.apply({}, x, deterministic=not train, rngs={"dropout": key})
    return m.apply(m.init(jax.random.key(0), x), x)

  @staticmethod
  def params(m, x):
    return dict(m.init(jax.random.key(0), x).get("params", {}))


class Equinox:
  name, mod = "equinox", jeqx

  @staticmethod
  def build(layer, *args, **kw):
    return getattr(jeqx, layer)(*args, **kw)

  @staticmethod
  def call(m, x, train=True, key=None):
    if m.__class__.__name__ in RANDOM:
      key = jax.random.key(0) if key is None and train else key
      return m(x, key=key, inference=not train)
    return m(x)

  @staticmethod
  def params(m, x):
    return {k: getattr(m, k) for k in m._names}


FRAMEWORKS = [NNX, Linen, Equinox]
fw_ids = [f.name for f in FRAMEWORKS]


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_every_layer_in_every_framework(fw):
  assert sorted(fw.mod.__all__) == sorted(jaxact.layers.LAYERS)


@pytest.mark.parametrize("layer", LEARNED)
@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_initial_parameters(fw, layer):
  x = jnp.ones((2, 3), jnp.float32)
  p = fw.params(fw.build(layer, 3), x)
  assert all(v.shape == (3,) and v.dtype == jnp.float32 for v in p.values()), p
  init = {
    "PReLU": {"alpha": 0.25},
    "Swish": {"beta": 1.0},
    "Softplus": {"beta": 1.0},
    "Snake": {"frequency": 1.0},
  }
  if layer == "XIELU":  # stored unconstrained: softplus(alpha_p) = 0.8, 0.5 + softplus(alpha_n) = 0.8
    np.testing.assert_allclose(_softplus(np.float64(p["alpha_p"])), 0.8, rtol=1e-6)
    np.testing.assert_allclose(0.5 + _softplus(np.float64(p["alpha_n"])), 0.8, rtol=1e-6)
  else:
    assert {k: np.asarray(v).tolist() for k, v in p.items()} == {k: [v] * 3 for k, v in init[layer].items()}
  assert fw.params(fw.build(layer), x)[next(iter(p))].shape == (1,)


def _random_params(layer, n, rng):
  # Values in the parameters' usual ranges, different per channel.
  names = {"PReLU": ["alpha"], "Swish": ["beta"], "Softplus": ["beta"], "Snake": ["frequency"]}
  names = names.get(layer, ["alpha_p", "alpha_n"])
  return {k: rng.uniform(0.3, 2.0, n).astype(np.float32) for k in names}


def _with_params(fw, m, x, p):
  """Calls the layer with parameters ``p`` (the layer's own storage), returns the output
  and the gradient of the output's sum in each parameter."""
  if fw is NNX:
    for k, v in p.items():
      getattr(m, k)[...] = jnp.asarray(v)
    graphdef, state = nnx.split(m, nnx.Param)

    def f(state):
      return jnp.sum(nnx.merge(graphdef, state)(x))

    g = jax.grad(f)(state)
    return m(x), {k: v[...] for k, v in g.items()}
  if fw is Linen:
    variables = {"params": {k: jnp.asarray(v) for k, v in p.items()}}
    g = jax.grad(lambda v: jnp.sum(m.apply(v, x)))(variables)["params"]
    return m.apply(variables, x), dict(g)
  m = eqx.tree_at(lambda m: [getattr(m, k) for k in p], m, [jnp.asarray(v) for v in p.values()])
  g = jax.grad(lambda m: jnp.sum(m(x)))(m)
  return m(x), {k: getattr(g, k) for k in p}


@pytest.mark.parametrize("layer", LEARNED)
@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
@pytest.mark.parametrize("channel_axis", [-1, 1])
def test_values_and_parameter_gradients_per_channel(fw, layer, channel_axis):
  rng = np.random.default_rng(0)
  x = rng.uniform(-4, 4, (5, 3, 4)).astype(np.float32)
  n = x.shape[channel_axis]
  shape = (n,) + (1,) * (x.ndim - 1 - channel_axis % x.ndim)
  m = fw.build(layer, n, channel_axis=channel_axis)
  p = _random_params(layer, n, rng)
  y, g = _with_params(fw, m, jnp.asarray(x), p)
  assert y.shape == x.shape and y.dtype == jnp.float32
  pb = {k: v.reshape(shape).astype(np.float64) for k, v in p.items()}
  np.testing.assert_allclose(np.asarray(y), expected(layer, x, pb, {}), rtol=2e-6, atol=2e-6)
  # d sum(f) / d p_c by central differences of the float64 formula, per channel.
  axes = tuple(a for a in range(x.ndim) if a != channel_axis % x.ndim)
  for k in p:
    assert g[k].shape == (n,) and bool(jnp.all(jnp.isfinite(g[k])))
    h = 1e-6
    up, down = dict(pb), dict(pb)
    up[k], down[k] = pb[k] + h, pb[k] - h
    d = (expected(layer, x, up, {}) - expected(layer, x, down, {})).sum(axis=axes) / (2 * h)
    np.testing.assert_allclose(np.asarray(g[k]), d, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_xielu_fixed_beta_and_eps(fw):
  x = jnp.linspace(-5.0, 3.0, 33, dtype=jnp.float32)
  kw = {"alpha_p_init": 1.5, "alpha_n_init": 2.0, "beta": 0.25, "eps": -1e-3}
  m = fw.build("XIELU", **kw)
  y = fw.call(m, x)
  p = {"alpha_p": np.log(np.expm1(1.5)), "alpha_n": np.log(np.expm1(2.0 - 0.25))}
  np.testing.assert_allclose(np.asarray(y), expected("XIELU", x, p, kw), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_output_keeps_the_input_dtype(fw):
  x = jnp.array([-2.0, 0.5, 3.0], jnp.bfloat16)
  for layer in LEARNED:
    assert fw.call(fw.build(layer), x).dtype == jnp.bfloat16, layer
  assert fw.call(fw.build("RReLU"), x).dtype == jnp.bfloat16


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_rrelu_train_and_eval(fw):
  x = -jnp.ones((4000,), jnp.float32)
  m = fw.build("RReLU", 0.1, 0.3)
  train = np.asarray(fw.call(m, x, train=True, key=jax.random.key(3)))
  slopes = -train
  assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.05  # uniform in [0.1, 0.3]
  assert abs(slopes.mean() - 0.2) < 0.01
  np.testing.assert_allclose(np.asarray(fw.call(m, x, train=False)), -0.2 * np.ones(4000), rtol=1e-6)
  np.testing.assert_array_equal(np.asarray(fw.call(m, jnp.array([2.0, 0.0]), train=True)), [2.0, 0.0])


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_gumbel_softmax_train_and_eval(fw):
  logits = jnp.array([[0.5, 2.0, -1.0, 0.0], [3.0, 1.0, 1.0, -2.0]], jnp.float32)
  soft = fw.build("GumbelSoftmax", 0.5)
  y = np.asarray(fw.call(soft, logits, train=True, key=jax.random.key(1)))
  np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
  assert np.all(y > 0) and np.all(np.isfinite(y))
  z = np.asarray(logits, np.float64) / 0.5
  ref = np.exp(z - z.max(-1, keepdims=True))
  ref /= ref.sum(-1, keepdims=True)
  np.testing.assert_allclose(np.asarray(fw.call(soft, logits, train=False)), ref, rtol=2e-6, atol=1e-7)
  hard = fw.build("GumbelSoftmax", 0.5, hard=True)
  yh = np.asarray(fw.call(hard, logits, train=True, key=jax.random.key(1)))
  assert np.all(yh.sum(-1) == 1.0) and set(np.unique(yh)) <= {0.0, 1.0}
  np.testing.assert_array_equal(np.asarray(fw.call(hard, logits, train=False)), np.eye(4)[[1, 0]])
  # In evaluation the hard layer's gradient is that of the softmax (straight through).
  w = jnp.arange(4.0)
  g = jax.grad(lambda v: jnp.sum(fw.call(hard, v, train=False) * w))(logits)
  expect = ref * (np.arange(4.0) - (ref * np.arange(4.0)).sum(-1, keepdims=True)) / 0.5
  np.testing.assert_allclose(np.asarray(g), expect, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_the_framework_switches_train_and_eval(fw):
  x = -jnp.ones((64,), jnp.float32)
  if fw is NNX:
    m = jnnx.RReLU(rngs=nnx.Rngs(0))
    assert np.asarray(m(x)).std() > 0
    m.eval()
    np.testing.assert_allclose(np.asarray(m(x)), -(1 / 8 + 1 / 3) / 2, rtol=1e-6)
    m.train()
    assert np.asarray(m(x)).std() > 0
  elif fw is Linen:
    m = jlinen.RReLU(deterministic=True)
    np.testing.assert_allclose(np.asarray(m.apply({}, x)), -(1 / 8 + 1 / 3) / 2, rtol=1e-6)
    m = jlinen.RReLU()  # or at the call
    assert np.asarray(m.apply({}, x, deterministic=False, rngs={"dropout": jax.random.key(0)})).std() > 0
    np.testing.assert_allclose(
      np.asarray(m.apply({}, x, deterministic=True)), -(1 / 8 + 1 / 3) / 2, rtol=1e-6
    )
  else:
    m = jeqx.RReLU()
    assert np.asarray(m(x, key=jax.random.key(0))).std() > 0
    m = eqx.nn.inference_mode(m)
    np.testing.assert_allclose(np.asarray(m(x)), -(1 / 8 + 1 / 3) / 2, rtol=1e-6)


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_bad_arguments_name_the_layer(fw):
  x = jnp.ones((2, 3))
  cases = [
    (ValueError, "PReLU: num_parameters must be a positive int", lambda: fw.call(fw.build("PReLU", 0), x)),
    (
      TypeError,
      "Swish: beta_init must be a finite number",
      lambda: fw.call(fw.build("Swish", beta_init="1"), x),
    ),
    (
      ValueError,
      "XIELU: alpha_n_init - beta must be positive",
      lambda: fw.call(fw.build("XIELU", beta=0.8), x),
    ),
    (ValueError, r"Snake: 4 parameters \(one per channel\)", lambda: fw.call(fw.build("Snake", 4), x)),
    (
      ValueError,
      "PReLU: channel_axis 5 is out of range",
      lambda: fw.call(fw.build("PReLU", 3, channel_axis=5), x),
    ),
    (
      ValueError,
      "RReLU: lower must be at most upper",
      lambda: fw.call(fw.build("RReLU", 0.5, 0.1), x, False),
    ),
    (
      ValueError,
      "GumbelSoftmax: tau must be positive",
      lambda: fw.call(fw.build("GumbelSoftmax", 0.0), x, False),
    ),
  ]
  for exc, message, thunk in cases:
    with pytest.raises(exc, match=r"^jaxact\.layers\." + message):
      thunk()


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_more_bad_arguments_name_the_layer(fw):
  x = jnp.ones((2, 3))
  cases = [
    (
      TypeError,
      "PReLU: channel_axis must be an int",
      lambda: fw.call(fw.build("PReLU", 3, channel_axis=1.0), x),
    ),
    (
      TypeError,
      "PReLU: param_dtype must be a floating dtype",
      lambda: fw.call(fw.build("PReLU", param_dtype=jnp.int32), x),
    ),
    (
      TypeError,
      "PReLU: alpha_init must be a finite number",
      lambda: fw.call(fw.build("PReLU", alpha_init=np.nan), x),
    ),
    (
      TypeError,
      "GumbelSoftmax: tau must be a finite number",
      lambda: fw.call(fw.build("GumbelSoftmax", np.inf), x),
    ),
    (
      TypeError,
      "GumbelSoftmax: hard must be a bool",
      lambda: fw.call(fw.build("GumbelSoftmax", hard="no"), x),
    ),
    (ValueError, "GumbelSoftmax: axis 5", lambda: fw.call(fw.build("GumbelSoftmax", axis=5), x, False)),
    (ValueError, "GumbelSoftmax: axis 5", lambda: fw.call(fw.build("GumbelSoftmax", axis=5), x, True)),
  ]
  for exc, message, thunk in cases:
    with pytest.raises(exc, match=r"^jaxact\.layers\." + message):
      thunk()


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_param_dtype_and_negative_channel_axis(fw):
  x = -jnp.ones((2, 3, 4, 4), jnp.float32)  # NCHW, 3 channels at axis 1 = -3
  m = fw.build("PReLU", 3, channel_axis=-3, param_dtype=jnp.bfloat16)
  assert all(v.dtype == jnp.bfloat16 for v in fw.params(m, x).values())
  y, _ = _with_params(fw, m, x, {"alpha": np.array([0.1, 0.2, 0.3]).astype(jnp.bfloat16)})
  want = -np.array([0.1, 0.2, 0.3], np.float64).astype(jnp.bfloat16).astype(np.float64)
  np.testing.assert_allclose(np.asarray(y, np.float64), np.broadcast_to(want[:, None, None], (2, 3, 4, 4)))


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_large_initial_values(fw):
  # XIELU's inverse softplus of a large initial value stays finite.
  m = fw.build("XIELU", alpha_p_init=800.0)
  np.testing.assert_allclose(np.asarray(fw.call(m, jnp.array([2.0]))), [800.0 * 4 + 0.5 * 2], rtol=1e-6)


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_gumbel_softmax_along_another_axis_and_its_hard_gradient(fw):
  logits = jnp.array([[0.5, 2.0, -1.0], [3.0, 1.0, 1.5]], jnp.float32)
  z = np.asarray(logits, np.float64) / 0.5
  ref = np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0)
  soft = fw.build("GumbelSoftmax", 0.5, axis=0)
  np.testing.assert_allclose(np.asarray(fw.call(soft, logits, train=False)), ref, rtol=2e-6)
  np.testing.assert_allclose(np.asarray(fw.call(soft, logits, train=True)).sum(0), 1.0, rtol=1e-6)
  # In training, the hard layer's gradient is that of the noisy soft sample (straight
  # through): nonzero, and equal to the soft layer's with the same key.
  hard = fw.build("GumbelSoftmax", 0.5, hard=True, axis=0)
  w = jnp.arange(6.0).reshape(2, 3)
  k = jax.random.key(4)
  g_hard = jax.grad(lambda v: jnp.sum(fw.call(hard, v, train=True, key=k) * w))(logits)
  g_soft = jax.grad(lambda v: jnp.sum(fw.call(soft, v, train=True, key=k) * w))(logits)
  assert np.abs(np.asarray(g_hard)).max() > 0.01
  np.testing.assert_allclose(np.asarray(g_hard), np.asarray(g_soft), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_gumbel_softmax_eval_in_half_precision(fw):
  # Computed in float32 and rounded once, as the training path: no NaN from
  # logits / tau overflowing float16, no error from rounding it to bfloat16.
  m = fw.build("GumbelSoftmax", 1e-3)
  y = np.asarray(fw.call(m, jnp.array([300.0, 301.0], jnp.float16), train=False), np.float64)
  np.testing.assert_array_equal(y, [0.0, 1.0])
  m = fw.build("GumbelSoftmax", 0.1)
  x = jnp.array([10.0, 10.0625], jnp.bfloat16)
  z = np.asarray(x, np.float64) / 0.1
  ref = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
  y = fw.call(m, x, train=False)
  assert y.dtype == jnp.bfloat16
  np.testing.assert_array_equal(np.asarray(y, np.float64), ref.astype(jnp.bfloat16).astype(np.float64))


def test_keys_nnx_draws_anew_and_takes_the_one_given():
  x = -jnp.ones((64,), jnp.float32)
  m = jnnx.RReLU(rngs=nnx.Rngs(0))
  assert not np.array_equal(np.asarray(m(x)), np.asarray(m(x)))  # a new draw per call
  a = m(x, rngs=jax.random.key(5))
  np.testing.assert_array_equal(np.asarray(a), np.asarray(m(x, rngs=jax.random.key(5))))
  assert not np.array_equal(np.asarray(a), np.asarray(m(x, rngs=jax.random.key(6))))


def test_equinox_call_overrides_inference():
  x = -jnp.ones((64,), jnp.float32)
  m = eqx.nn.inference_mode(jeqx.RReLU())
  assert np.asarray(m(x, key=jax.random.key(0), inference=False)).std() > 0
  np.testing.assert_allclose(np.asarray(jeqx.RReLU()(x, inference=True)), -(1 / 8 + 1 / 3) / 2, rtol=1e-6)


def test_linen_init_with_one_key_as_dropout():
  # nn.Dropout's convention: make_rng falls back to the "params" stream.
  x = jnp.ones((2, 4))

  class Model(nn.Module):
    @nn.compact
    def __call__(self, x):
      return jlinen.RReLU(deterministic=False)(jlinen.PReLU(4)(nn.Dense(4)(x)))

  variables = Model().init(jax.random.key(0), x)
  assert variables["params"]["PReLU_0"]["alpha"].shape == (4,)
  with pytest.raises(ValueError, match=r"^jaxact\.layers\.RReLU: deterministic is not set"):
    jlinen.RReLU().apply({}, x)


@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_subclasses_work(fw):
  x = jnp.array([[-1.0, 2.0, -4.0]])
  base = fw.mod.PReLU
  if fw is Linen:

    class Mine(base):
      num_parameters: int = 3

    y = Mine().apply(Mine().init(jax.random.key(0), x), x)
  else:

    class Mine(base):
      pass

    y = Mine(3)(x)
  np.testing.assert_allclose(np.asarray(y), [[-0.25, 2.0, -1.0]])


def test_training_without_a_key_says_how_to_give_one():
  x = jnp.ones((3,))
  with pytest.raises(ValueError, match=r"^jaxact\.layers\.RReLU: training draws random numbers.*rngs"):
    jnnx.RReLU()(x)
  with pytest.raises(ValueError, match=r"^jaxact\.layers\.GumbelSoftmax: training .*dropout"):
    jlinen.GumbelSoftmax(deterministic=False).apply({}, x)
  with pytest.raises(ValueError, match=r"^jaxact\.layers\.RReLU: training .*key="):
    jeqx.RReLU()(x)


# Training: a few optax steps on a small regression, in each framework.


def _data(layer):
  # A smooth regression; for GumbelSoftmax the quadrant (a category: linear logits
  # separate it) coded as 0, 1, 2, 3.
  X = jax.random.uniform(jax.random.key(0), (128, 2), minval=-2.0, maxval=2.0)
  if layer == "GumbelSoftmax":
    return X, (2.0 * (X[:, :1] > 0) + (X[:, 1:] > 0)).astype(X.dtype)
  return X, jnp.tanh(X[:, :1]) + 0.5 * X[:, 1:] ** 2


def _act(fw, layer):
  if layer == "GumbelSoftmax":
    return fw.build(layer, 1.0)
  return fw.build(layer) if layer in RANDOM else fw.build(layer, 16)


def _train_nnx(layer, steps):
  X, Y = _data(layer)

  class Model(nnx.Module):
    def __init__(self, rngs):
      self.a = nnx.Linear(2, 16, rngs=rngs)
      self.act = getattr(jnnx, layer)(rngs=rngs) if layer in RANDOM else getattr(jnnx, layer)(16)
      self.b = nnx.Linear(16, 1, rngs=rngs)

    def __call__(self, x):
      return self.b(self.act(self.a(x)))

  model = Model(nnx.Rngs(0, dropout=1))
  before = nnx.state(model.act, nnx.Param)
  before = {k: np.asarray(v[...]) for k, v in before.items()}
  opt = nnx.Optimizer(model, optax.adam(LR), wrt=nnx.Param)

  @nnx.jit
  def step(model, opt):
    loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(X) - Y) ** 2))(model)
    opt.update(model, grads)
    finite = jax.tree.reduce(lambda a, g: a & jnp.all(jnp.isfinite(g)), grads, jnp.array(True))
    return loss, finite

  losses = []
  for _ in range(steps):
    loss, finite = step(model, opt)
    assert bool(finite)
    losses.append(float(loss))
  after = {k: np.asarray(v[...]) for k, v in nnx.state(model.act, nnx.Param).items()}
  return losses, before, after


def _train_linen(layer, steps):
  X, Y = _data(layer)
  kw = {"deterministic": False} if layer in RANDOM else {"num_parameters": 16}

  class Model(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.Dense(1)(getattr(jlinen, layer)(**kw, name="act")(nn.Dense(16)(x)))

  model = Model()
  params = model.init({"params": jax.random.key(0), "dropout": jax.random.key(1)}, X)["params"]
  before = {k: np.asarray(v) for k, v in params.get("act", {}).items()}
  opt = optax.adam(LR)
  state = opt.init(params)

  @jax.jit
  def step(params, state, key):
    def loss_fn(p):
      return jnp.mean((model.apply({"params": p}, X, rngs={"dropout": key}) - Y) ** 2)

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, state = opt.update(grads, state)
    finite = jax.tree.reduce(lambda a, g: a & jnp.all(jnp.isfinite(g)), grads, jnp.array(True))
    return optax.apply_updates(params, updates), state, loss, finite

  losses = []
  for i in range(steps):
    params, state, loss, finite = step(params, state, jax.random.key(100 + i))
    assert bool(finite)
    losses.append(float(loss))
  after = {k: np.asarray(v) for k, v in params.get("act", {}).items()}
  return losses, before, after


def _train_equinox(layer, steps):
  X, Y = _data(layer)
  k1, k2 = jax.random.split(jax.random.key(0))
  model = eqx.nn.Sequential(
    [eqx.nn.Linear(2, 16, key=k1), _act(Equinox, layer), eqx.nn.Linear(16, 1, key=k2)]
  )
  params_of = lambda m: {k: np.asarray(getattr(m.layers[1], k)) for k in getattr(m.layers[1], "_names", ())}
  before = params_of(model)
  opt = optax.adam(LR)
  state = opt.init(eqx.filter(model, eqx.is_inexact_array))

  @eqx.filter_jit
  def step(model, state, key):
    def loss_fn(m):
      keys = jax.random.split(key, X.shape[0])
      return jnp.mean((jax.vmap(lambda x, k: m(x, key=k))(X, keys) - Y) ** 2)

    loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
    updates, state = opt.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(g)) for g in leaves]))
    return eqx.apply_updates(model, updates), state, loss, finite

  losses = []
  for i in range(steps):
    model, state, loss, finite = step(model, state, jax.random.key(100 + i))
    assert bool(finite)
    losses.append(float(loss))
  return losses, before, params_of(model)


LR = 3e-2
TRAIN = {"nnx": _train_nnx, "linen": _train_linen, "equinox": _train_equinox}


@pytest.mark.parametrize("layer", jaxact.layers.LAYERS)
@pytest.mark.parametrize("fw", FRAMEWORKS, ids=fw_ids)
def test_a_few_optax_steps(fw, layer):
  losses, before, after = TRAIN[fw.name](layer, 40)
  assert all(np.isfinite(losses))
  assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses
  assert set(before) == set(after) and (layer in RANDOM) == (not before)
  for k in before:  # the activation's own parameters learn
    assert after[k].shape == (16,) and np.all(np.isfinite(after[k])) and np.any(after[k] != before[k]), k


def test_the_core_package_imports_no_framework():
  code = "import sys, jaxact, jaxact.layers; print(sorted({'flax', 'equinox', 'optax'} & set(sys.modules)))"
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module, package", [("nnx", "flax"), ("linen", "flax"), ("equinox", "equinox")])
def test_a_missing_framework_says_which_extra(module, package):
  code = (
    f"import sys; sys.modules[{package!r}] = None\n"
    f"try:\n  import jaxact.layers.{module}\nexcept ImportError as e:\n  print(e)"
  )
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  extra = "flax" if package == "flax" else "equinox"
  assert f'pip install "jaxact[{extra}]"' in out.stdout, out.stdout + out.stderr
