"""jax.export with symbolic shapes: every function exports for cpu, cuda and tpu together,
serializes with its derivative (vjp_order=1), deserializes and runs, at several batch
sizes, with the values and gradients of the function called directly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import export

import jaxact
import jaxact.testing as jt

PLATFORMS = ("cpu", "cuda", "tpu")
# Hyperparameters away from their defaults (so the parameter path is exported), and the
# arguments that make a normalizer or random unit do more than its default.
OTHER = {
  "celu": {"alpha": 0.7},
  "elu": {"alpha": 0.7},
  "leaky_relu": {"negative_slope": 0.2},
  "prelu": {"alpha": 0.25},
  "softcap": {"cap": 2.5},
  "snake": {"frequency": 0.7},
  "squareplus": {"b": 2.0},
  "star_relu": {"scale": 1.2, "bias": 0.1},
  "xielu": {"alpha_p": 0.7, "alpha_n": 0.6, "beta": 0.4},
  "threshold": {"threshold": 0.1, "value": -1.0},
  "hardshrink": {"lambd": 0.3},
  "softshrink": {"lambd": 0.3},
  "rrelu": {"lower": 0.1, "upper": 0.2},
  "silu": {"beta": 1.5},
  "softplus": {"beta": 2.0},
  "swiglu": {"beta": 1.5},
  "logsumexp": {"axis": -1, "b": 0.5},
  "logmeanexp": {"axis": -1},
  "gumbel_softmax": {"tau": 0.5},
}
CASES = [(n, {}) for n in jaxact.names(builtin=True)] + [(n, kw) for n, kw in OTHER.items()]
CASES += [("softmax", {"where": "mask"}), ("rrelu", {"training": True})]
# reductions over the symbolic axis itself
CASES += [(n, {"axis": 0}) for n in jaxact.names(kind="normalizer", builtin=True)]


def _kwargs(name, kw, x):
  kw = {**jt.required_params(name), **kw}
  if kw.get("where") == "mask":
    kw["where"] = x > -1.0
  if name == "gumbel_softmax" or kw.get("training"):
    kw["key"] = jax.random.key(0)
  return kw


def _scalar(y):
  y = y[0] if isinstance(y, tuple) else y
  return jnp.sum(jnp.where(jnp.isfinite(y), y, 0.0) * jnp.arange(1.0, 1.0 + y.size).reshape(y.shape))


@pytest.mark.parametrize(("name", "kw"), CASES, ids=[f"{n}-{'-'.join(kw) or 'defaults'}" for n, kw in CASES])
def test_export_with_symbolic_batch(name, kw):
  fn = jaxact.get(name)

  def f(x):
    return fn(x, **_kwargs(name, kw, x))

  spec = jax.ShapeDtypeStruct(export.symbolic_shape("b, 8"), jnp.float32)
  exp = export.export(jax.jit(f), platforms=PLATFORMS)(spec)
  assert exp.platforms == PLATFORMS
  restored = export.deserialize(exp.serialize(vjp_order=1))
  for batch in (1, 3):
    x = jax.random.normal(jax.random.key(batch), (batch, 8), jnp.float32) * 3.0
    want, got = f(x), restored.call(x)
    for w, g in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
      assert g.shape == w.shape and g.dtype == w.dtype
      np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-6, atol=1e-30)
    g_want = jax.grad(lambda x: _scalar(f(x)))(x)
    g_got = jax.grad(lambda x: _scalar(restored.call(x)))(x)
    assert np.array_equal(np.isfinite(g_got), np.isfinite(g_want))  # NaN outside a domain (log1mexp)
    np.testing.assert_allclose(np.asarray(g_got), np.asarray(g_want), rtol=2e-6, atol=1e-30)


@pytest.mark.parametrize("name", jaxact.names(kind="gated", builtin=True))
def test_gated_over_a_symbolic_axis(name):
  # The halves of a symbolic axis: its size must be known to be even ("2*b").
  f = lambda x: jaxact.get(name)(x, axis=0)
  even = jax.ShapeDtypeStruct(export.symbolic_shape("2*b, 8"), jnp.float32)
  restored = export.deserialize(export.export(jax.jit(f), platforms=PLATFORMS)(even).serialize(vjp_order=1))
  x = jax.random.normal(jax.random.key(0), (6, 8), jnp.float32)
  np.testing.assert_allclose(np.asarray(restored.call(x)), np.asarray(f(x)), rtol=2e-6)
  g_got = jax.grad(lambda x: _scalar(restored.call(x)))(x)
  np.testing.assert_allclose(np.asarray(g_got), np.asarray(jax.grad(lambda x: _scalar(f(x)))(x)), rtol=2e-6)
  any_size = jax.ShapeDtypeStruct(export.symbolic_shape("b, 8"), jnp.float32)
  with pytest.raises(ValueError, match=rf"^jaxact\.{name}: the size of axis 0 must be even"):
    export.export(jax.jit(f))(any_size)
