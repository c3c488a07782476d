"""Bad input raises a clear error naming the function; importing changes no configuration."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
import jaxact.testing as jt

ELEMENTWISE = jaxact.names(kind="elementwise")
NORMALIZERS = jaxact.names(kind="normalizer")


@pytest.mark.parametrize("name", ELEMENTWISE + NORMALIZERS)
@pytest.mark.parametrize(
  "bad",
  [jnp.array([1 + 2j]), np.complex64(1.0), "1.0", [1.0, 2.0], None, {"x": 1.0}],
  ids=["complex-array", "complex-scalar", "str", "list", "none", "dict"],
)
def test_bad_input_type(name, bad):
  with pytest.raises(TypeError, match=rf"^jaxact\.{name}: "):
    jaxact.get(name)(bad, **jt.required_params(name))


@pytest.mark.parametrize("name", NORMALIZERS)
@pytest.mark.parametrize("axis", [2, -3, (0, 0)])
def test_bad_axis(name, axis):
  with pytest.raises(ValueError, match=rf"^jaxact\.{name}: "):
    jaxact.get(name)(jnp.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("name", NORMALIZERS)
def test_axis_of_wrong_type(name):
  with pytest.raises(TypeError, match=rf"^jaxact\.{name}: axis"):
    jaxact.get(name)(jnp.ones((2, 3)), axis=1.5)


def test_prelu_alpha_that_does_not_broadcast():
  with pytest.raises(ValueError, match=r"^jaxact\.prelu: alpha of shape \(4,\) .* input shape \(2, 3\)"):
    jaxact.prelu(jnp.ones((2, 3)), jnp.ones(4))
  with pytest.raises(ValueError, match=r"^jaxact\.prelu: alpha of shape \(2, 3\)"):
    jaxact.prelu(jnp.ones(3), jnp.ones((2, 3)))  # would change the output shape


@pytest.mark.parametrize("bad", ["0.1", None, 1 + 1j, True])
def test_bad_hyperparameter(bad):
  with pytest.raises(TypeError, match=r"^jaxact\.elu: alpha must be a real number"):
    jaxact.elu(jnp.ones(3), bad)


def test_bad_where():
  with pytest.raises(TypeError, match=r"^jaxact\.softmax: where must be a boolean"):
    jaxact.softmax(jnp.ones(3), where=jnp.ones(3))
  with pytest.raises(ValueError, match=r"^jaxact\.softmax: where of shape \(4,\)"):
    jaxact.softmax(jnp.ones(3), where=jnp.ones(4, bool))


def test_wrong_arguments():
  with pytest.raises(TypeError, match=r"^jaxact\.elu: "):
    jaxact.elu(jnp.ones(3), 1.0, 2.0)
  with pytest.raises(TypeError, match=r"^jaxact\.prelu: "):
    jaxact.prelu(jnp.ones(3))  # alpha is required
  with pytest.raises(TypeError, match=r"^jaxact\.softmax: "):
    jaxact.softmax(jnp.ones(3), axes=0)


def test_get_unknown_name():
  with pytest.raises(ValueError, match=r"^jaxact\.get: unknown activation 'relu7'"):
    jaxact.get("relu7")
  with pytest.raises(TypeError, match=r"^jaxact\.get: "):
    jaxact.get(3)


@pytest.mark.parametrize(
  ("x", "dtype"),
  [
    (jnp.array([1, -2], jnp.int32), jnp.float32),
    (jnp.array([True, False]), jnp.float32),
    (np.array([1, 2], np.int64), jnp.float64),
    (jnp.array([1, 2], jnp.uint8), jnp.float32),
    (3, jnp.float64),
  ],
)
def test_integer_and_bool_promote_as_jnp(x, dtype):
  # As jnp.tanh and jax.nn.softmax; the tests run with x64 on (int64 -> float64).
  # softplus, mish, gelu_erf and snake build parts of their results from bits, which
  # are strongly typed: the result is weakly typed again.
  names = ("sigmoid", "tanh", "elu", "leaky_relu", "prelu", "softmax", "log_softmax")
  for name in (*names, "softplus", "mish", "gelu_erf", "snake"):
    if name in ("softmax", "log_softmax") and np.ndim(x) == 0:
      continue
    y = jaxact.get(name)(x, **jt.required_params(name))
    assert y.dtype == dtype, name
    assert y.weak_type == isinstance(x, int), name
  assert jaxact.logsumexp(x).dtype == dtype
  # relu keeps integers, as jax.nn.relu does.
  assert jaxact.relu(x).dtype == (jnp.asarray(x) * 1).dtype


def test_weak_types_as_jax_nn():
  assert jaxact.sigmoid(1.0).weak_type == jax.nn.sigmoid(1.0).weak_type
  assert jaxact.elu(jnp.float16(1.0), 2.0).dtype == jnp.float16
  assert jaxact.leaky_relu(jnp.bfloat16(-1.0), 0.5).dtype == jnp.bfloat16


def test_import_changes_no_global_configuration():
  code = (
    "import jax; before = dict(jax.config.values); import jaxact, jaxact.testing; "
    "after = dict(jax.config.values); "
    "changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}; "
    "assert len(before) > 50 and not changed, changed; print('ok')"
  )
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
  assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
