"""The public mechanism: a user activation gets validation, dtype policy, rules and a registry entry."""

import os
import sys

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
import jaxact.testing as jt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))
from models import peak_bytes  # the model benchmark's peak: arguments + outputs + temporaries
from speed_memory import mlp_step_memory  # the benchmark's training step, at a smaller size


def _softplus_prime(x, beta):
  return jaxact.sigmoid(beta * x)


# A smooth rectifier defined exactly as the built-in activations are.
@jaxact.activation(
  derivative=lambda x, beta: _sp_prime(x, beta),
  param_derivatives={"beta": lambda x, beta: _sp_dbeta(x, beta)},
  name="test_softplus",
  formula="log1p(exp(beta x)) / beta",
  monotonic=True,
  smoothness="C^inf",
)
def my_softplus(x, beta=1.0):
  """Softplus with a temperature (a test activation)."""
  z = beta * x
  return (jnp.maximum(z, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(z)))) / beta


_sp_prime = jaxact.stable_kernel(
  lambda x, beta: jaxact.sigmoid(beta * x),
  derivative=lambda x, beta: beta * jaxact.sigmoid(beta * x) * jaxact.sigmoid(-beta * x),
)


def _sp_dbeta(x, beta):
  z = beta * x
  return (z * jax.nn.sigmoid(z) - (jnp.maximum(z, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(z))))) / beta**2


def test_user_activation_is_registered_with_metadata():
  assert jaxact.get("test_softplus") is my_softplus
  info = jaxact.info("test_softplus")
  assert info.formula.startswith("log1p") and info.params == {"beta": 1.0}
  assert not info.builtin and info.kind == "elementwise"
  assert info.as_dict()["name"] == "test_softplus"
  assert my_softplus.__doc__.startswith("Softplus with a temperature")


def test_user_activation_gets_validation_and_dtype_policy():
  with pytest.raises(TypeError, match=r"^jaxact\.test_softplus: "):
    my_softplus("x")
  with pytest.raises(ValueError, match=r"^jaxact\.test_softplus: beta of shape \(5,\)"):
    my_softplus(jnp.ones(3), jnp.ones(5))
  for dtype in (jnp.float16, jnp.bfloat16, jnp.float32):
    y = my_softplus(jnp.ones(3, dtype))
    assert y.dtype == dtype
  assert my_softplus(jnp.ones(3, jnp.int32)).dtype == jnp.float32


def test_user_activation_rules_and_param_gradient():
  x = jnp.linspace(-3.0, 3.0, 7)
  g = jax.vmap(jax.grad(my_softplus))(x)
  np.testing.assert_allclose(g, 1 / (1 + np.exp(-np.asarray(x))), rtol=1e-15)
  gb = jax.grad(lambda b: jnp.sum(my_softplus(x, b)))(2.0)
  exact = sum(
    float(mp.diff(lambda b, xi=xi: mp.log1p(mp.exp(b * mp.mpf(float(xi)))) / b, 2)) for xi in np.asarray(x)
  )
  assert abs(float(gb) - exact) < 1e-13


def test_user_activation_passes_the_public_battery():
  ref = jt.Reference(
    f=lambda x, beta: mp.log1p(mp.exp(beta * x)) / beta,
    d1=lambda x, beta: 1 / (1 + mp.exp(-beta * x)),
    d2=lambda x, beta: beta * mp.exp(-abs(beta * x)) / (1 + mp.exp(-abs(beta * x))) ** 2,
  )
  report = jt.check_activation(my_softplus, ref, dtypes=("float32", "bfloat16"))
  assert report.results[0].points > 3000
  assert report.passed, str(report)


def test_undifferentiable_parameter_says_so():
  @jaxact.activation(derivative=lambda x, k: k * jnp.ones_like(x), register=False)
  def scaled(x, k=2.0):
    return k * x

  assert jax.grad(scaled)(1.0) == 2.0
  with pytest.raises(TypeError, match=r"jaxact\.scaled: no derivative with respect to 'k'"):
    jax.grad(lambda k: scaled(1.0, k))(2.0)
  assert "scaled" not in jaxact.names()


def test_builtin_names_are_protected():
  with pytest.raises(ValueError, match="already the name of a built-in activation"):

    @jaxact.activation(derivative=lambda x: x, name="relu")
    def relu(x):
      return x


def test_redefining_a_user_activation_replaces_it():
  for scale in (2.0, 3.0):

    @jaxact.activation(derivative=lambda x, s=scale: s * jnp.ones_like(x), name="test_scale")
    def f(x, s=scale):
      return s * x

  assert jaxact.get("test_scale")(1.0) == 3.0


def test_registry_lists_and_aliases():
  names = jaxact.names()
  assert {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "prelu"} <= set(names)
  normalizers = {"softmax", "softmin", "log_softmax", "logsumexp", "logmeanexp", "sparsemax", "entmax15"}
  assert normalizers == set(jaxact.names(kind="normalizer"))
  assert {"glu", "swiglu", "geglu", "reglu"} == set(jaxact.names(kind="gated"))
  assert {"gumbel_softmax"} == set(jaxact.names(kind="stochastic"))
  assert jaxact.get("logistic") is jaxact.sigmoid
  assert "logistic" in jaxact.names(include_aliases=True)
  assert jaxact.get(jax.nn.relu) is jax.nn.relu  # a callable passes through
  assert jaxact.info(jaxact.elu).name == "elu"
  for name in names:
    info = jaxact.info(name)
    if info.builtin:
      assert info.formula and info.conventions and info.smoothness, name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["silu", "softplus"])
def test_constant_kernel_matches_the_general_one(name, dtype):
  # silu and softplus with beta given as the Python number 1 run a kernel written for
  # beta = 1 (no double word for beta x); with beta as an array, the general kernel.
  # Both are measured against mpmath by the battery (beta = 1 the first way, other
  # betas the second); here they must agree to an ULP in the value and both derivatives.
  special = [-1.2785, 2.3994, -2.3994, 0.0, 1e30, -1e30]
  x = np.concatenate([np.linspace(-120, 60, 2001), special]).astype(dtype)
  one = jnp.asarray(1.0, dtype)
  fn = jaxact.get(name)
  fns = [lambda x: fn(x), lambda x: fn(x, beta=1), lambda x: fn(x, beta=one)]
  for order in range(3):
    outs = []
    for f in fns:
      g = f
      for _ in range(order):
        g = jax.grad(g)
      outs.append(np.asarray(jax.jit(jax.vmap(g))(jnp.asarray(x))))
    tiny = np.finfo(dtype).tiny
    for out in outs:
      assert np.all(np.isfinite(out)), order
      ulps = np.abs(out - outs[2]) / np.spacing(np.maximum(np.abs(outs[2]), tiny))
      # Subnormal results are not compared (as in the battery): where e^z is
      # subnormal the general softplus scales e^z / beta (right for beta < 1) and
      # gives a subnormal where the beta = 1 kernel's exp (XLA's returns 0 below
      # -87.3 in float32) gives 0.
      ulps = np.where((np.abs(out) < tiny) & (np.abs(outs[2]) < tiny), 0.0, ulps)
      assert ulps.max() <= 1, (order, float(ulps.max()), x[np.argmax(ulps)])
  # A traced beta (here under grad) takes the general kernel and its beta derivative.
  assert np.isfinite(float(jax.grad(lambda b: fn(jnp.asarray(2.0, dtype), beta=b))(dtype(1.0))))
  # bool is not a number here.
  with pytest.raises(TypeError, match=f"jaxact.{name}"):
    fn(jnp.ones(2), beta=True)


@pytest.mark.parametrize(
  ("name", "buffers"), [("gelu_erf", 1), ("mish", 1), ("silu", 1), ("elu", 1), ("selu", 1), ("squareplus", 1)]
)
def test_training_step_memory_per_layer(name, buffers):
  # What one more layer adds to a training step's temporary memory, in
  # activation-sized buffers. Without the barrier in the mechanism, XLA kept the
  # intermediates shared by the value and the derivative until the backward pass:
  # 4 buffers per layer for gelu_erf, 2 for the others.
  act = jaxact.get(name)
  per_layer = (mlp_step_memory(act, 6, 256, 128) - mlp_step_memory(act, 2, 256, 128)) / 4 / (128 * 256 * 4)
  assert per_layer <= buffers, per_layer


def _block_step_peak(act) -> int:
  # Arguments + outputs + temporaries of the gradient of three transformer MLP blocks
  # (x of shape batch x tokens x width, weights shared), compiled.
  k = jax.random.split(jax.random.key(0), 3)
  x = jax.random.normal(k[0], (2, 32, 64), jnp.float32)
  up = jax.random.normal(k[1], (64, 256), jnp.float32)
  down = jax.random.normal(k[2], (256, 64), jnp.float32)

  def loss(p, x):
    for _ in range(3):
      x = x + act(x @ p[0]) @ p[1]
    return jnp.sum(x * x)

  return peak_bytes(jax.jit(jax.grad(loss)).lower((up, down), x).compile())


def test_squared_relu_is_built_without_the_barrier():
  # squared_relu's derivative 2 max(x, 0) shares nothing costly with the value, and in
  # a transformer's MLP the barrier costs memory (here 786,448 bytes against 737,296)
  # and, in the GPT model, step time: 1.07-1.09x of relu(x) ** 2
  # (python benchmarks/models.py --only gpt-squared_relu --barrier on).
  from jaxact._src import core

  shipped = _block_step_peak(jaxact.squared_relu)
  with core.derivative_barrier(True):
    barrier = _block_step_peak(jaxact.squared_relu)
  assert shipped < barrier, (shipped, barrier)


def test_user_kernel_differentiates_at_a_python_float():
  # A kernel called directly on a Python float (no dtype) differentiates like an array.
  k = jaxact.stable_kernel(lambda x: x * x * x, derivative=lambda x: 3.0 * x * x)
  assert float(jax.grad(k)(1.5)) == 6.75
  assert float(jax.grad(jax.grad(k))(1.5)) == 9.0
  assert float(jax.jacfwd(k)(1.5)) == 6.75


def _scaled_exp(x, alpha):
  # The value only: autodiff of this form gives 0 in x (stop_gradient), so every order
  # right below comes from the rule, which must call the kernel itself.
  return alpha * jax.lax.stop_gradient(jnp.exp(x))


def _scaled_exp_dalpha(x, alpha):
  return jnp.exp(x)


def test_a_kernel_may_be_its_own_derivative():
  # derivative="self": alpha e^x is its own x-derivative, at every order and mode.
  k = jaxact.stable_kernel(_scaled_exp, derivative="self", param_derivatives={"alpha": _scaled_exp_dalpha})
  x, alpha = 0.75, 2.5
  exact = alpha * float(mp.exp(mp.mpf(x)))
  f = lambda t: k(t, alpha)
  d4 = jax.grad(jax.grad(jax.grad(jax.grad(f))))
  fwd = lambda g: lambda t: jax.jvp(g, (t,), (jnp.ones_like(t),))[1]
  for value in (f(x), d4(x), fwd(fwd(fwd(f)))(x), jax.grad(fwd(f))(x)):
    assert np.isfinite(float(value)) and abs(float(value) - exact) <= 4e-15 * exact
  # Mixed: d/dalpha d/dx (alpha e^x) = e^x.
  mixed = jax.grad(jax.grad(k, 0), 1)(x, alpha)
  assert abs(float(mixed) - exact / alpha) <= 4e-15 * exact


def test_a_derivative_given_as_a_string_other_than_self_is_refused():
  with pytest.raises(ValueError, match=r"^jaxact\.stable_kernel: derivative must be"):
    jaxact.stable_kernel(_scaled_exp, derivative="itself")


@pytest.mark.parametrize("decorator", [jaxact.activation, jaxact.normalizer])
def test_a_misspelled_metadata_field_is_refused_when_decorating(decorator):
  kwargs = {"derivative": _scaled_exp_dalpha} if decorator is jaxact.activation else {}
  name = decorator.__name__
  with pytest.raises(TypeError, match=rf"^jaxact\.{name}: unknown keyword argument\(s\) \['formla'\]"):
    decorator(formla="exp(x)", **kwargs)
  # The fields themselves are accepted.
  assert callable(decorator(formula="exp(x)", monotonic=True, **kwargs))


@pytest.mark.parametrize("name", [*jaxact.names(kind="elementwise", builtin=True), "swiglu", "glu"])
def test_the_accuracy_paragraph_states_the_registry_bounds(name):
  # Generated from the bounds the battery asserts, not copied into each docstring.
  from jaxact._src import registry

  doc = " ".join(jaxact.get(name).__doc__.split())
  assert "Accuracy: " + registry.accuracy_sentence(jaxact.info(name).bounds) in doc
  assert doc.count("Accuracy") == 1  # no second, hand-written paragraph beside it


@pytest.mark.parametrize("name", jaxact.names(kind="normalizer", builtin=True))
def test_a_normalizer_states_its_normwise_bounds(name):
  from jaxact._src import registry

  doc = " ".join(jaxact.get(name).__doc__.split())
  assert "Accuracy: " + registry.accuracy_sentence(registry.NORMALIZER_BOUNDS, normwise=True) in doc
  assert doc.count("Accuracy") == 1  # no second, hand-written paragraph beside it
  # the bounds stated are those the battery asserts (tests/test_battery.py), in words
  assert all(jaxact.info(name).bounds[k] == v for k, v in registry.NORMALIZER_BOUNDS.items())
  for dtype in ("float32", "float64", "float16", "bfloat16"):
    v, d1, d2 = jaxact.info(name).bounds[dtype]
    assert f"{v:g}, {d1:g} and {d2:g} in" in doc and dtype in doc, dtype
  assert "Hessian-vector product" in doc and "normwise" in doc


@pytest.mark.parametrize("heading", ["Examples:", "Example:"])
def test_a_user_normalizer_states_the_bounds_it_declares(heading):
  def test_bounded_softmax(x, axis=-1, where=None):
    return jax.nn.softmax(x, axis=axis, where=where)

  test_bounded_softmax.__doc__ = f"A softmax.\n\n{heading}\n  >>> 1\n  1\n"
  decorated = jaxact.normalizer(bounds={"float32": (9.0, 10.0, 11.0)})(test_bounded_softmax)
  doc = " ".join(decorated.__doc__.split())
  assert "within 9, 10 and 11 in float32" in doc, doc
  # the paragraph goes before the examples, under either Google-style heading
  assert doc.index("Accuracy:") < doc.index(heading) < doc.index(">>> 1"), doc


def test_the_decorator_refuses_a_derivative_string_other_than_self():
  with pytest.raises(ValueError, match=r"^jaxact\.activation: derivative must be"):
    jaxact.activation(derivative="Self")


def test_the_registry_refuses_an_unknown_kind():
  from jaxact._src import registry

  with pytest.raises(ValueError, match=r"kind 'bogus'"):
    registry.register(registry.Info(name="test_bogus_kind", fn=_scaled_exp, kind="bogus"))
  assert "test_bogus_kind" not in jaxact.names(include_aliases=True)
