"""Identities and monotonicity, with hypothesis."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jaxact

finite64 = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)
moderate = st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False)
# A few row lengths, so that each function compiles a few times.
rows = hnp.arrays(np.float64, st.sampled_from([1, 3, 16]), elements=st.floats(-80.0, 80.0))
slopes = st.floats(0.0, 10.0, allow_nan=False)


@given(finite64)
def test_sigmoid_symmetry(x):
  # sigma(x) + sigma(-x) = 1, and sigma'(x) = sigma'(-x) exactly (computed from |x|).
  s, t = float(jaxact.sigmoid(x)), float(jaxact.sigmoid(-x))
  assert abs((s + t) - 1.0) <= 2.3e-16
  assert jax.grad(jaxact.sigmoid)(x) == jax.grad(jaxact.sigmoid)(-x)
  assert 0.0 <= jax.grad(jaxact.sigmoid)(x) <= 0.25


@given(finite64)
def test_tanh_is_odd_and_bounded(x):
  assert jaxact.tanh(x) == -jaxact.tanh(-x)
  assert -1.0 <= jaxact.tanh(x) <= 1.0
  assert 0.0 <= jax.grad(jaxact.tanh)(x) <= 1.0


@given(finite64, finite64)
def test_monotonic(a, b):
  lo, hi = min(a, b), max(a, b)
  for name in ("sigmoid", "tanh", "relu", "leaky_relu", "elu"):
    fn = jaxact.get(name)
    assert fn(lo) <= fn(hi), name


@given(finite64, slopes)
def test_prelu_equals_leaky_relu(x, slope):
  assert jaxact.prelu(x, slope) == jaxact.leaky_relu(x, slope)
  assert jax.grad(jaxact.prelu)(x, slope) == jax.grad(jaxact.leaky_relu)(x, slope)


@given(finite64)
def test_prelu_default_slope(x):
  assert jaxact.prelu(x, 0.01) == jaxact.leaky_relu(x)


@given(moderate.filter(lambda v: v == 0 or abs(v) >= 2.3e-308), st.floats(0.1, 10.0))
def test_elu_scales_with_alpha(x, alpha):
  # elu(x, a) = x for x > 0 and a * expm1(x) otherwise (normal inputs: XLA's CPU
  # backend flushes subnormals).
  y = float(jaxact.elu(x, alpha))
  if x > 0:
    assert y == x
  else:
    exact = alpha * np.expm1(x)
    assert abs(y - exact) <= 1e-15 * abs(exact)


@given(rows)
def test_softmax_sums_to_one_and_is_shift_invariant(x):
  s = np.asarray(jaxact.softmax(x))
  assert np.all(s >= 0) and abs(s.sum() - 1.0) <= 1e-14 * x.size
  shifted = np.asarray(jaxact.softmax(x + 3.0))
  np.testing.assert_allclose(shifted, s, rtol=1e-12, atol=1e-300)


@given(rows)
def test_log_softmax_is_log_of_softmax(x):
  ls = np.asarray(jaxact.log_softmax(x))
  s = np.asarray(jaxact.softmax(x))
  assert np.all(ls <= 0)
  keep = s > 1e-300
  np.testing.assert_allclose(np.exp(ls[keep]), s[keep], rtol=1e-13)
  np.testing.assert_allclose(jaxact.logsumexp(x), x[0] - ls[0], rtol=1e-13, atol=1e-13)


@given(rows)
def test_logsumexp_gradient_is_softmax(x):
  np.testing.assert_allclose(jax.grad(jaxact.logsumexp)(x), jaxact.softmax(x), rtol=1e-15, atol=0)


@given(rows, st.floats(-1e3, 1e3))
def test_logsumexp_shift(x, c):
  np.testing.assert_allclose(jaxact.logsumexp(x + c), jaxact.logsumexp(x) + c, rtol=1e-12, atol=1e-9)


@given(rows)
def test_softmax_rows_under_vmap(x):
  batch = jnp.stack([x, -x, x * 0.5])
  out = jax.vmap(jaxact.softmax)(batch)
  np.testing.assert_array_equal(out[0], jaxact.softmax(x))
  np.testing.assert_array_equal(out, jaxact.softmax(batch, axis=-1))
