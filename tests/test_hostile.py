"""Hostile input: a clear error naming the public function, or the documented result.

Each case of the issue list has its own test; a property test then feeds every public
function a generated stream of dtypes, shapes, special values and parameter values,
concrete and traced, and asserts that each call either raises ``TypeError`` or
``ValueError`` starting with ``jaxact.<name>:`` or returns the documented result.
"""

import itertools

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxact
import jaxact.testing as jt

NAMES = jaxact.names(builtin=True)
# The formats the suite measures (tests/test_battery.py: NARROW_IN_SUITE).
NARROW = [np.dtype(getattr(ml_dtypes, n)) for n in ("float8_e4m3fn", "float8_e5m2", "float4_e2m1fn")]


def _call(name, x, **kw):
  kw = {**jt.required_params(name), **kw}
  if name in ("gumbel_softmax",):
    kw.setdefault("key", jax.random.key(0))
  return jaxact.get(name)(x, **kw)


# ---- the cases of the issue ---------------------------------------------------------


@pytest.mark.parametrize("dtype", NARROW, ids=[d.name for d in NARROW])
@pytest.mark.parametrize("name", NAMES)
def test_narrow_floats_are_computed_in_float32_and_rounded_once(name, dtype):
  # The documented policy, for every function and 8- and 4-bit floats: the result
  # is the float32 computation rounded once (the battery measures the element-wise
  # ones against mpmath at every value of each format).
  x = jnp.asarray(np.array([[-3.0, -0.5, 0.0, 0.25, 1.0, 2.0]]).astype(dtype))
  y = _call(name, x)
  ref = _call(name, x.astype(jnp.float32))
  y, ref = (y[0], ref[0]) if isinstance(y, tuple) else (y, ref)
  assert y.dtype == dtype, (name, y.dtype)
  np.testing.assert_array_equal(np.asarray(y, np.float64), np.asarray(ref.astype(dtype), np.float64))


@pytest.mark.parametrize("name", NAMES)
def test_a_format_without_negative_numbers_is_refused(name):
  x = jnp.ones(4, ml_dtypes.float8_e8m0fnu)
  with pytest.raises(TypeError, match=rf"^jaxact\.{name}: float8_e8m0fnu has no negative numbers"):
    _call(name, x)


def test_logsumexp_of_a_negative_sum_is_nan():
  x, b = jnp.array([1.0, 2.0]), -jnp.ones(2)
  assert np.isnan(jaxact.logsumexp(x, b=b))  # as jax.nn and scipy.special.logsumexp
  # The value is selected, as jax.nn: a jnp.where masking the NaN out has a finite
  # gradient (0 from the masked entry), where a product would leak 0 * NaN.
  masked = lambda x, b: jnp.where(jnp.isnan(v := jaxact.logsumexp(x, b=b, axis=-1)), 0.0, v).sum()
  rows, signs = jnp.stack([x, x]), jnp.stack([b, -b])
  g = jax.grad(masked)(rows, signs)
  assert np.all(np.isfinite(g)) and np.all(g[0] == 0) and np.all(g[1] > 0)
  value, sign = jaxact.logsumexp(x, b=b, return_sign=True)
  np.testing.assert_allclose(value, np.log(np.e + np.e**2), rtol=1e-6)
  assert sign == -1.0
  assert jaxact.logsumexp(x, b=jnp.zeros(2)) == -np.inf
  mixed = jaxact.logsumexp(x, b=jnp.array([1.0, -0.1]))
  np.testing.assert_allclose(mixed, np.log(np.e - 0.1 * np.e**2), rtol=1e-6)


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_temperature_must_be_positive(hard):
  key, logits = jax.random.key(0), jnp.zeros(4)
  for tau in (0.0, -1.0, np.float32(0.0), np.array([1.0, -1.0, 1.0, 1.0])):
    with pytest.raises(ValueError, match=r"^jaxact\.gumbel_softmax: tau must be positive"):
      jaxact.gumbel_softmax(logits, key=key, tau=tau, hard=hard)
  for tau in (0.0, -1.0):  # a JAX array, concrete or traced: NaN
    assert np.all(np.isnan(jaxact.gumbel_softmax(logits, key=key, tau=jnp.array(tau), hard=hard)))
    traced = jax.jit(lambda t: jaxact.gumbel_softmax(logits, key=key, tau=t, hard=hard))(tau)
    assert np.all(np.isnan(traced))
  y = jaxact.gumbel_softmax(logits, key=key, tau=jnp.array(0.5), hard=hard)
  assert np.all(np.isfinite(y)) and abs(float(y.sum()) - 1.0) < 1e-6
  # a temperature per row: NaN in exactly the rows whose temperature is not positive
  tau = jnp.array([[1.0], [-1.0], [0.0], [0.25]], jnp.float32)
  for f, dtype in itertools.product(
    (jaxact.gumbel_softmax, jax.jit(jaxact.gumbel_softmax, static_argnames="hard")),
    (jnp.float32, jnp.float64),
  ):
    y = f(jnp.zeros((4, 5), dtype), key=key, tau=tau.astype(dtype), hard=hard)
    np.testing.assert_array_equal(np.isnan(y), np.array([[False], [True], [True], [False]]).repeat(5, 1))
    np.testing.assert_allclose(y[::3].sum(-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
  "key", [0, 1.5, "key", np.zeros(2, np.float32)], ids=["int", "float", "str", "float-array"]
)
def test_random_units_name_a_bad_key(key):
  with pytest.raises(TypeError, match=r"^jaxact\.gumbel_softmax: key must be a jax.random key"):
    jaxact.gumbel_softmax(jnp.zeros(4), key=key)
  with pytest.raises(TypeError, match=r"^jaxact\.rrelu: key must be a jax.random key"):
    jaxact.rrelu(jnp.zeros(4), key=key, training=True)
  # both kinds of jax.random key work
  for k in (jax.random.key(1), jax.random.PRNGKey(1)):
    assert jaxact.gumbel_softmax(jnp.zeros(4), key=k).shape == (4,)
    assert jaxact.rrelu(-jnp.ones(4), key=k, training=True).shape == (4,)


def test_softshrink_threshold_must_not_be_negative():
  x = jnp.array([-1.0, 0.0, 1.0])
  for lambd in (-0.5, np.float64(-0.5), np.array([0.5, -0.5, 0.5]), float("nan")):
    with pytest.raises(ValueError, match=r"^jaxact\.softshrink: lambd must be at least 0"):
      jaxact.softshrink(x, lambd=lambd)  # PyTorch raises too
  f = lambda x, lambd: jaxact.softshrink(x, lambd=lambd)
  bad = jnp.array(-0.5)
  assert np.all(np.isnan(f(x, bad))) and np.all(np.isnan(jax.jit(f)(x, bad)))
  for g in (jax.grad(f, argnums=(0, 1))(1.0, bad), jax.hessian(f, argnums=(0, 1))(1.0, bad)):
    assert np.all(np.isnan(np.asarray(jax.tree.leaves(g))))
  # per channel: NaN only where the threshold is negative
  y = jaxact.softshrink(jnp.ones((2, 3)), lambd=jnp.array([0.5, -0.5, 0.0]))
  np.testing.assert_array_equal(np.isnan(y), [[False, True, False]] * 2)
  np.testing.assert_array_equal(jaxact.softshrink(x, lambd=0.0), x)


def test_rrelu_bounds_must_be_ordered():
  x = jnp.array([-2.0, 3.0])
  for kw in ({"lower": 0.5, "upper": 0.1}, {"lower": np.array(0.5), "upper": 0.1}):
    for training in (False, True):
      with pytest.raises(ValueError, match=r"^jaxact\.rrelu: lower must be at most upper"):
        jaxact.rrelu(x, training=training, key=jax.random.key(0), **kw)
  lo, hi = jnp.array(0.5), jnp.array(0.1)
  assert np.all(np.isnan(jaxact.rrelu(x, lower=lo, upper=hi)))
  traced = jax.jit(lambda lo, hi: jaxact.rrelu(x, lower=lo, upper=hi, training=True, key=jax.random.key(0)))
  assert np.all(np.isnan(traced(lo, hi)))
  np.testing.assert_array_equal(jaxact.rrelu(x, lower=0.2, upper=0.2), [-0.4, 3.0])


def test_rrelu_checks_shapes_and_keys_before_anything_else():
  x = jnp.ones(3)
  with pytest.raises(ValueError, match=r"^jaxact\.rrelu: upper of shape \(2,\) does not broadcast"):
    jaxact.rrelu(x, lower=np.ones(3) * 0.1, upper=np.ones(2) * 0.2)  # NumPy bounds: not NumPy's error
  for key in (0, jnp.uint32(3), jax.random.split(jax.random.key(0), 2)):  # eval mode too
    for training in (False, True):
      with pytest.raises(TypeError, match=r"^jaxact\.rrelu: key must be a jax.random key"):
        jaxact.rrelu(x, key=key, training=training)
    with pytest.raises(TypeError, match=r"^jaxact\.gumbel_softmax: key must be a jax.random key"):
      jaxact.gumbel_softmax(x, key=key)


def test_domain_checked_functions_keep_weak_types():
  # Python scalars in, weakly typed out (the input dtype is kept with other arrays)
  for f in (jaxact.softshrink, jaxact.rrelu, jaxact.elu):
    assert f(1.0).weak_type, f.__name__
    assert f(jnp.float16(1.0)).dtype == jnp.float16 and f(1.0) * jnp.float16(1.0) is not None
    assert (f(1.0) * jnp.ones(2, jnp.bfloat16)).dtype == jnp.bfloat16, f.__name__


def test_gated_units_trace_numbers_and_name_themselves():
  events = []
  jax.monitoring.register_event_duration_secs_listener(
    lambda name, *_, **__: events.append(name) if name.endswith("backend_compile_duration") else None
  )
  x = jnp.ones(4, jnp.float32)
  jaxact.swiglu(x, beta=0.5)
  before = len(events)
  for beta in (0.75, 2.0, float("nan")):  # a new value is an argument: no new compilation
    y = jaxact.swiglu(x, beta=beta)
  assert len(events) == before and np.all(np.isnan(y))
  np.testing.assert_array_equal(jaxact.swiglu(x, beta=1.0), jaxact.swiglu(x))  # the default's kernel
  with pytest.raises(ValueError, match=r"^jaxact\.geglu: approximate must be a bool"):
    jaxact.geglu(x, approximate="exact")
  with pytest.raises(
    TypeError, match=r"^jaxact\.geglu: approximate must be a number, an array or a hashable"
  ):
    jaxact.geglu(x, approximate=[1])


@pytest.mark.parametrize(
  ("approximate", "form"),
  [
    (True, "tanh"),
    (False, "erf"),
    (1, "tanh"),
    (0, "erf"),
    ("tanh", "tanh"),
    ("none", "erf"),
    (np.bool_(False), "erf"),
  ],
)
def test_gelu_approximate_takes_what_jax_nn_and_pytorch_take(approximate, form):
  x = jnp.array([-1.0, 0.5, 2.0])
  want = jaxact.gelu_tanh(x) if form == "tanh" else jaxact.gelu_erf(x)
  np.testing.assert_array_equal(jaxact.gelu(x, approximate=approximate), want)
  np.testing.assert_array_equal(jaxact.gelu(x, approximate), want)


def test_gelu_approximate_errors():
  with pytest.raises(ValueError, match=r"^jaxact\.gelu: approximate must be a bool, 'tanh' or 'none'"):
    jaxact.gelu(jnp.ones(2), approximate="exact")
  with pytest.raises(TypeError, match=r"^jaxact\.gelu: approximate .* static"):
    jax.jit(lambda a: jaxact.gelu(jnp.ones(2), approximate=a))(True)


# ---- a generated stream of hostile input ----------------------------------------------

_DTYPES = ["float32", "float64", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2", "int32", "bool"]
_BAD_DTYPES = ["complex64", "float8_e8m0fnu"]
_SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -3.0, 1e-30, -1e-30, 1e30, -1e30, np.inf, -np.inf, np.nan]
_PARAM_VALUES = [0.0, -1.0, 1.0, 0.5, 2.0, 1e30, -1e30, np.inf, -np.inf, np.nan]
_SHAPES = [(), (0,), (4,), (2, 4)]


def _float_params(name):
  info = jaxact.info(name)
  skip = {"key", "training", "hard", "axis", "where", "keepdims", "return_sign", "b"}
  out = {}
  for p, default in info.params.items():
    if p in skip:
      continue
    out[p] = 1.0 if default == "required" else default
  return out


@st.composite
def _hostile(draw):
  name = draw(st.sampled_from(NAMES))
  bad_dtype = draw(st.booleans()) and draw(st.integers(0, 9)) == 0
  dname = draw(st.sampled_from(_BAD_DTYPES if bad_dtype else _DTYPES))
  shape = draw(st.sampled_from(_SHAPES))
  if jaxact.info(name).kind in ("gated",) and shape in ((), (0,)):
    shape = (2, 4)
  values = draw(st.lists(st.sampled_from(_SPECIAL), min_size=8, max_size=8))
  params = {}
  for p in _float_params(name):
    if draw(st.booleans()):
      v = draw(st.sampled_from(_PARAM_VALUES))
      params[p] = jnp.asarray(v, jnp.float32) if draw(st.booleans()) else v
  traced = draw(st.booleans())
  return name, dname, shape, values, params, traced


def _make_input(dname, shape, values):
  n = int(np.prod(shape, dtype=int))
  raw = np.resize(np.array(values, np.float64), n).reshape(shape)
  if dname == "bool":
    return jnp.asarray(raw > 0)
  if dname == "int32":
    return jnp.asarray(np.where(np.isfinite(raw), np.clip(raw, -100, 100), 7).astype(np.int32))
  dtype = np.dtype(getattr(ml_dtypes, dname, None) or dname)
  with np.errstate(over="ignore", invalid="ignore"):
    return jnp.asarray(raw.astype(dtype))


def _out(y):
  return y[0] if isinstance(y, tuple) else y


@settings(max_examples=250, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_hostile())
def test_hostile_stream(case):
  name, dname, shape, values, params, traced = case
  x = _make_input(dname, shape, values)
  fn = jaxact.get(name)
  kw = {**jt.required_params(name), **params}
  if name == "gumbel_softmax":
    kw["key"] = jax.random.key(0)
  arrays = {k: v for k, v in kw.items() if isinstance(v, jax.Array) and k != "key"}
  static = {k: v for k, v in kw.items() if k not in arrays}

  def call(x, arrays):
    return fn(x, **static, **arrays)

  try:
    y = jax.jit(call)(x, arrays) if traced else call(x, arrays)
  except (TypeError, ValueError) as e:
    assert str(e).startswith(f"jaxact.{name}: "), f"{type(e).__name__} not naming jaxact.{name}: {e}"
    return
  y = _out(y)
  in_dtype = np.dtype(x.dtype)
  if jnp.issubdtype(in_dtype, jnp.floating):
    assert y.dtype == in_dtype, (name, dname, y.dtype)
  kind = jaxact.info(name).kind
  if kind in ("elementwise", "stochastic") and name not in ("logsumexp", "logmeanexp"):
    assert y.shape == x.shape, (name, y.shape, x.shape)
  yv = np.asarray(y.astype(jnp.float32) if y.dtype != np.float64 else y, np.float64)
  xv = np.asarray(x.astype(jnp.float32) if x.dtype != np.float64 else x, np.float64)
  if kind == "elementwise" and jt._ulp.has_nan(in_dtype) and jnp.issubdtype(in_dtype, jnp.floating):
    # NaN in gives NaN out
    assert np.all(np.isnan(yv[np.isnan(xv)])), (name, dname)
  defaults = not params
  if defaults and kind == "elementwise" and jnp.issubdtype(in_dtype, jnp.floating):
    # at the defaults, a number in gives a number out (or +-inf at +-inf or on overflow)
    assert not np.any(np.isnan(yv[~np.isnan(xv)])), (name, dname, xv, yv)
