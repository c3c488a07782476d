"""Composition with JAX transformations, shapes and dtypes, for every registered activation."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from jax.test_util import check_grads

import jaxact
import jaxact.testing as jt

ELEMENTWISE = jaxact.names(kind="elementwise", builtin=True)
NORMALIZERS = jaxact.names(kind="normalizer", builtin=True)
# Every dtype at one shape, and the degenerate shapes (scalar, empty, one axis) at one dtype
# each: the shape and the dtype are handled independently.
SHAPE_DTYPE = [((2, 3, 4), d) for d in (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64)] + [
  ((), jnp.float32),
  ((0,), jnp.bfloat16),
  ((3,), jnp.float64),
]
# Representative points away from kinks (check_grads uses finite differences).
POINTS = np.array([-3.1, -0.7, 0.3, 1.3, 4.2])


# Inputs inside each function's domain (log1mexp: x >= 0).
def _points(name):
  return np.abs(POINTS) + 0.1 if name == "log1mexp" else POINTS


def _call(name, x, **kw):
  return jaxact.get(name)(x, **jt.required_params(name), **kw)


class ShapeAndTypeTest(chex.TestCase):
  # Under jit (test_jit_equals_eager_and_grad_is_finite and check_transforms compare
  # with eager).
  @chex.variants(with_jit=True)
  @parameterized.product(name=ELEMENTWISE + NORMALIZERS, shape_dtype=SHAPE_DTYPE)
  def test_shape_and_dtype(self, name, shape_dtype):
    shape, dtype = shape_dtype
    x = jnp.asarray(np.linspace(-2.0, 2.0, int(np.prod(shape))).reshape(shape), dtype)
    kw = {"axis": -1} if name in NORMALIZERS and name not in jt.SCALAR_OUTPUT else {}
    if name in NORMALIZERS and shape == ():
      kw = {"axis": None}
    y = self.variant(lambda x: _call(name, x, **kw))(x)
    expected = () if name in jt.SCALAR_OUTPUT else shape
    chex.assert_shape(y, expected)
    chex.assert_type(y, dtype)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(*ELEMENTWISE)
  def test_jit_equals_eager_and_grad_is_finite(self, name):
    x = jnp.asarray(_points(name), jnp.float32)
    f = self.variant(lambda x: _call(name, x))
    np.testing.assert_array_equal(f(x), _call(name, x))
    g = self.variant(jax.vmap(jax.grad(lambda x: _call(name, x))))(x)
    chex.assert_tree_all_finite(g)


@pytest.mark.parametrize("name", ELEMENTWISE)
# float16 is computed as bfloat16 is (in float32, rounded once): bfloat16 stands for both.
# float64 runs the float32 code with other constants; its derivatives are compared across
# modes in test_check_grads_order_2, and its values under jit with mpmath by the battery.
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_transforms_compose(name, dtype):
  # jit == eager, vmap == batched call, jit(vmap(grad)) == grad per element, jvp == vjp.
  # Three points: one negative, one in (-1, 1), one positive (eager calls are slow).
  points = _points(name)[[0, 2, 3]]
  jt.check_transforms(jaxact.get(name), dtype, params=jt.required_params(name), points=points)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_check_grads_order_2(name):
  # All points at once (element-wise: the Jacobian is diagonal, check_grads probes it
  # along random directions). Reverse mode of order 2 differentiates the forward rule
  # and transposes it; forward-over-forward is compared below (jacfwd of jacfwd).
  f = lambda x: _call(name, x)
  x = jnp.asarray(_points(name), jnp.float64)
  check_grads(f, (x,), order=2, modes=("rev",))
  total = lambda x: jnp.sum(f(x))
  d2 = jax.jit(jax.vmap(jax.grad(jax.grad(f))))(x)
  hess_rev = jax.jit(jax.hessian(total))(x)
  hess_fwd = jax.jit(jax.jacfwd(jax.jacfwd(total)))(x)
  # check_grads lets NaN through: assert finiteness of every derivative.
  chex.assert_tree_all_finite((jax.jit(jax.vmap(jax.grad(f)))(x), d2, hess_rev, hess_fwd))
  np.testing.assert_allclose(hess_rev, np.diag(d2), rtol=1e-14, atol=0)
  np.testing.assert_allclose(hess_fwd, np.diag(d2), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", NORMALIZERS)
def test_normalizer_check_grads_order_2(name):
  x = jnp.asarray([[0.3, -1.2, 2.0, 0.0], [5.0, -3.0, 1.0, 1.0]], jnp.float64)
  f = lambda x: jaxact.get(name)(x, axis=-1)
  check_grads(f, (x,), order=2, modes=("fwd", "rev"))
  chex.assert_tree_all_finite((jax.jacfwd(f)(x), jax.jacrev(f)(x), jax.hessian(f)(x)))
  np.testing.assert_allclose(jax.jacfwd(f)(x), jax.jacrev(f)(x), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE + NORMALIZERS)
def test_checkpoint_and_vmap(name):
  x = jnp.asarray(np.linspace(-3, 3, 12).reshape(3, 4), jnp.float32)
  f = lambda x: jnp.sum(_call(name, x) ** 2)
  g = jax.grad(f)(x)
  g_remat = jax.jit(jax.grad(jax.checkpoint(f)))(x)
  np.testing.assert_allclose(g_remat, g, rtol=1e-6)
  rows = jax.vmap(lambda r: _call(name, r))(x)
  np.testing.assert_allclose(rows, jnp.stack([_call(name, r) for r in x]), rtol=1e-6)


def test_prelu_is_differentiable_in_alpha_per_channel():
  x = jnp.asarray(np.linspace(-2, 2, 12).reshape(4, 3), jnp.float64)
  alpha = jnp.array([0.1, 0.2, 0.3])
  ga = jax.grad(lambda a: jnp.sum(jaxact.prelu(x, a)))(alpha)
  np.testing.assert_allclose(ga, np.sum(np.where(x < 0, x, 0.0), axis=0), rtol=1e-15)
  check_grads(lambda a: jaxact.prelu(x, a), (alpha,), order=2)
  check_grads(lambda x: jaxact.prelu(x, alpha), (x + 0.05,), order=2)
  # Same as leaky_relu with the same slope.
  np.testing.assert_array_equal(jaxact.prelu(x, 0.01), jaxact.leaky_relu(x))


def test_hyperparameters_are_traced():
  # A new hyperparameter value does not recompile, and may be a tracer.
  x = jnp.linspace(-2, 2, 5)
  f = jax.jit(lambda a: jaxact.elu(x, a))
  np.testing.assert_allclose(f(2.0), 2.0 * np.where(x > 0, x / 2.0, np.expm1(x)))
  ga = jax.grad(lambda a: jnp.sum(jaxact.elu(x, a)))(1.5)
  np.testing.assert_allclose(ga, np.sum(np.where(x > 0, 0.0, np.expm1(x))), rtol=1e-14)
  gs = jax.grad(lambda s: jnp.sum(jaxact.leaky_relu(x, s)))(0.2)
  np.testing.assert_allclose(gs, np.sum(np.where(x < 0, x, 0.0)), rtol=1e-14)


def _exact_d1(name, xs):
  # The exact derivative at xs (mpmath), at the parameters _call passes.
  import inspect

  ref = jt.ELEMENTWISE[jaxact.info(name).name]
  info = jaxact.info(name)
  params = {k: info.params[k] for k in list(inspect.signature(ref.d1).parameters)[1:] if k in info.params}
  params.update(ref.params)
  params.update(jt.required_params(name))
  # The function computes with its hyperparameters rounded to float32 (as the battery
  # measures it): the exact derivative is the one at those values.
  params = {k: float(np.float32(v)) for k, v in params.items()}
  return jt.reference_values(ref, np.asarray(xs, np.float64), params)["d1"]


def test_sharded_input():
  # Sharded over every device the backend has (8 here: tests/conftest.py): the
  # result is the same values, sharded the same way.
  devices = np.array(jax.devices())
  mesh = jax.sharding.Mesh(devices, ("d",))
  spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("d"))
  x = jax.device_put(jnp.linspace(-5, 5, 8 * len(devices), dtype=jnp.float32), spec)
  xs = np.asarray(x)
  # Every activation and its gradient in one compiled function (one compile, not 2 x 45).
  values_and_grads = jax.jit(
    lambda x: {n: (_call(n, x), jax.grad(lambda x, n=n: jnp.sum(_call(n, x)))(x)) for n in ELEMENTWISE}
  )
  sharded = values_and_grads(x)
  plain = values_and_grads(xs)
  # (log1mexp and its derivatives are NaN below 0, its domain.)
  for name in ELEMENTWISE:
    (y, g), (y0, g0) = sharded[name], plain[name]
    assert y.sharding.is_equivalent_to(spec, y.ndim), name
    # The values bit for bit: so they have been in every run (the forwards compile alike
    # in the two programs, unlike some derivative rules, below).
    np.testing.assert_array_equal(y, y0, err_msg=name)
    # The gradients of the two programs, each against the exact derivative within the
    # battery's bound: the sharded and the plain call are two XLA programs, which may
    # contract a product and a sum into one FMA in one and not the other (measured in
    # the full suite: 1 ULP apart for softcap', once 2 ULP), so they need not agree bit
    # for bit; what sharding must not change is the accuracy the library states.
    inside = xs > 0 if name == "log1mexp" else np.ones(xs.shape, bool)
    hi, lo = _exact_d1(name, xs)
    bound = jaxact.info(name).bounds["float32"][1]
    for which, grad in (("sharded", g), ("plain", g0)):
      err = jt.ulp_error(np.asarray(grad), hi, lo, np.float32)[inside]
      where = xs[inside][np.argmax(err)]
      assert np.max(err) <= bound, f"{name} ({which}): {np.max(err):.2f} ULP at x = {where}"
    assert np.array_equal(np.isnan(g), np.isnan(g0)), name
    assert np.all(np.isfinite(np.asarray(g)[inside])), name
    assert np.all(np.isnan(np.asarray(g)[~inside])), name


@pytest.mark.parametrize("name", jaxact.names(builtin=True))
def test_jaxpr_names_the_function(name):
  # Each function's jit is named after it, so jaxprs, HLO and profiles say "elu", not
  # "impl". gelu dispatches to the form it computes (gelu_tanh by default).
  import re

  fn = jaxact.get(name)
  kw = dict(jt.required_params(name))
  if jaxact.info(name).kind == "stochastic":
    kw["key"] = jax.random.key(0)
  jaxpr = str(jax.make_jaxpr(lambda x: fn(x, **kw))(jnp.ones((2, 4))))
  want = {"gelu": "gelu_tanh"}.get(name, name)
  assert want in set(re.findall(r"name=(\w+)", jaxpr)), jaxpr[:400]
  hlo = jax.jit(lambda x: fn(x, **kw)).lower(jnp.ones((2, 4))).as_text()
  assert want in hlo


@pytest.mark.parametrize("name", ELEMENTWISE + NORMALIZERS + jaxact.names(kind="gated", builtin=True))
def test_scan_linearize_and_hessian(name):
  # lax.scan over rows equals vmap over rows; linearize's tangent map equals jvp; the
  # Hessian of a weighted sum is finite and symmetric.
  x = jnp.asarray(np.abs(POINTS[:4]) + 0.1 if name == "log1mexp" else POINTS[:4], jnp.float64)
  x = jnp.stack([x, -x[::-1] if name != "log1mexp" else x[::-1]])
  f = lambda x: _call(name, x)

  def step(carry, row):
    y = f(row)
    return carry + jnp.sum(y), y

  total, ys = jax.lax.scan(step, jnp.float64(0.0), x)
  np.testing.assert_allclose(ys, jax.vmap(f)(x), rtol=1e-14, atol=1e-300)
  np.testing.assert_allclose(total, jnp.sum(ys), rtol=1e-14)
  v = jnp.sin(jnp.arange(x.size, dtype=x.dtype).reshape(x.shape))
  y, f_jvp = jax.linearize(f, x)
  np.testing.assert_allclose(y, f(x), rtol=1e-14, atol=1e-300)
  np.testing.assert_allclose(f_jvp(v), jax.jvp(f, (x,), (v,))[1], rtol=1e-14, atol=1e-300)

  def weighted(x):
    y = f(x)
    return jnp.sum(y * jnp.arange(1.0, 1.0 + y.size).reshape(y.shape))

  h = jax.jit(jax.hessian(weighted))(x).reshape(x.size, x.size)
  assert np.all(np.isfinite(h))
  np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-12)
