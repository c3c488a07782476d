"""The random units: rrelu in training and gumbel_softmax. Same key, same sample."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact

KEY = jax.random.key(0)


def test_rrelu_training_slopes():
  x = -jnp.ones(20000)
  y = jaxact.rrelu(x, key=KEY, training=True)
  slopes = -np.asarray(y)
  assert slopes.min() >= 1 / 8 and slopes.max() < 1 / 3
  # Uniform on [1/8, 1/3): mean and variance within 4 standard errors.
  n, mean, var = slopes.size, (1 / 8 + 1 / 3) / 2, (1 / 3 - 1 / 8) ** 2 / 12
  assert abs(slopes.mean() - mean) < 4 * np.sqrt(var / n)
  np.testing.assert_array_equal(jaxact.rrelu(x, key=KEY, training=True), y)  # replayable
  assert not np.array_equal(jaxact.rrelu(x, key=jax.random.key(1), training=True), y)
  g = jax.grad(lambda x: jnp.sum(jaxact.rrelu(x, key=KEY, training=True)))(x)
  np.testing.assert_array_equal(g, slopes)
  pos = jnp.array([0.0, 2.0])
  np.testing.assert_array_equal(jaxact.rrelu(pos, key=KEY, training=True), pos)
  np.testing.assert_array_equal(
    jax.grad(lambda x: jnp.sum(jaxact.rrelu(x, key=KEY, training=True)))(pos), [1, 1]
  )


def test_rrelu_bounds_are_differentiable():
  x = jnp.array([-2.0, 3.0])
  d_lower = jax.grad(lambda lo: jnp.sum(jaxact.rrelu(x, lower=lo)))(0.125)
  assert d_lower == -1.0  # d/dl of (l + u) / 2 * (-2)
  u = jax.random.uniform(KEY, (2,), x.dtype)
  d_upper = jax.grad(lambda hi: jnp.sum(jaxact.rrelu(x, key=KEY, upper=hi, training=True)))(1 / 3)
  np.testing.assert_allclose(d_upper, -2.0 * float(u[0]), rtol=1e-6)


def test_rrelu_errors_and_dtypes():
  with pytest.raises(ValueError, match=r"^jaxact\.rrelu: training=True .* needs a key"):
    jaxact.rrelu(jnp.ones(3), training=True)
  with pytest.raises(TypeError, match=r"^jaxact\.rrelu: "):
    jaxact.rrelu("x")
  with pytest.raises(TypeError, match=r"^jaxact\.rrelu: training must be a bool"):
    jaxact.rrelu(jnp.ones(3), training=1)
  for dtype in (jnp.float16, jnp.bfloat16, jnp.float32):
    y = jaxact.rrelu(-jnp.ones(4, dtype), key=KEY, training=True)
    assert y.dtype == dtype
  np.testing.assert_array_equal(
    jax.jit(lambda x, k: jaxact.rrelu(x, key=k, training=True))(-jnp.ones(5), KEY),
    jaxact.rrelu(-jnp.ones(5), key=KEY, training=True),
  )


def test_gumbel_softmax_value_for_the_drawn_noise():
  logits = jnp.array([[1.0, -0.5, 2.0, 0.25], [0.0, 0.0, -jnp.inf, 3.0]])
  tau = 0.7
  y = np.asarray(jaxact.gumbel_softmax(logits, key=KEY, tau=tau), np.float64)
  g = np.asarray(jax.random.gumbel(KEY, logits.shape, logits.dtype), np.float64)
  z = (np.asarray(logits, np.float64) + g) / tau
  with mp.workdps(30):
    for row, zr in zip(y, z):
      e = [mp.exp(mp.mpf(v)) if np.isfinite(v) else mp.mpf(0) for v in zr]
      s = mp.fsum(e)
      np.testing.assert_allclose(row, [float(ei / s) for ei in e], rtol=1e-14, atol=1e-300)
  assert y[1, 2] == 0.0
  grad = jax.grad(lambda lg: jaxact.gumbel_softmax(lg, key=KEY)[1, 0])(logits)
  assert np.all(np.isfinite(grad)) and grad[1, 2] == 0.0


def test_gumbel_max_samples_the_categorical():
  # argmax(logits + g) ~ softmax(logits): frequencies over 20,000 draws within 5 sigma.
  logits = jnp.log(jnp.array([0.5, 0.3, 0.15, 0.05]))
  keys = jax.random.split(KEY, 20000)
  y = jax.vmap(lambda k: jaxact.gumbel_softmax(logits, key=k, tau=0.5, hard=True))(keys)
  assert set(np.unique(np.asarray(y))) <= {0.0, 1.0}
  np.testing.assert_array_equal(np.asarray(y).sum(1), 1.0)
  freq = np.asarray(y).mean(0)
  p = np.array([0.5, 0.3, 0.15, 0.05])
  assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / 20000)), freq


def test_gumbel_softmax_hard_is_straight_through():
  logits = jnp.array([0.3, 1.2, -0.4])
  w = jnp.array([1.0, -2.0, 0.5])
  hard = jax.grad(lambda lg: jnp.sum(w * jaxact.gumbel_softmax(lg, key=KEY, hard=True)))(logits)
  soft = jax.grad(lambda lg: jnp.sum(w * jaxact.gumbel_softmax(lg, key=KEY)))(logits)
  np.testing.assert_array_equal(hard, soft)
  y = jaxact.gumbel_softmax(logits, key=KEY, hard=True, axis=0)
  assert sorted(np.asarray(y).tolist()) == [0.0, 0.0, 1.0]


def test_gumbel_softmax_errors_and_dtypes():
  with pytest.raises(TypeError, match=r"^jaxact\.gumbel_softmax: "):
    jaxact.gumbel_softmax("x", key=KEY)
  with pytest.raises(ValueError, match=r"^jaxact\.gumbel_softmax: key is required"):
    jaxact.gumbel_softmax(jnp.ones(3), key=None)
  with pytest.raises(ValueError, match=r"^jaxact\.gumbel_softmax: "):
    jaxact.gumbel_softmax(jnp.ones(3), key=KEY, axis=1)
  for dtype in (jnp.float16, jnp.bfloat16, jnp.float32):
    y = jaxact.gumbel_softmax(jnp.ones((2, 3), dtype), key=KEY, tau=2.0)
    assert y.dtype == dtype and y.shape == (2, 3)
