"""What is special about the normalizers: axes, masks, b/return_sign, keepdims, residuals."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
import jaxact.testing as jt

mp.mp.dps = 50


def _mp_lse(row):
  return mp.log(mp.fsum(mp.exp(mp.mpf(float(v))) for v in row))


def test_axis_tuple_and_none():
  x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 3, 4)))
  s = jaxact.softmax(x, axis=(0, 2))
  np.testing.assert_allclose(jnp.sum(s, axis=(0, 2)), np.ones(3), rtol=1e-15)
  s = jaxact.softmax(x, axis=None)
  assert abs(float(jnp.sum(s)) - 1) < 1e-15
  lse = jaxact.logsumexp(x, axis=(1, 2), keepdims=True)
  assert lse.shape == (2, 1, 1)
  for i in range(2):
    assert abs(float(lse[i, 0, 0]) - float(_mp_lse(np.asarray(x[i]).ravel()))) < 1e-15 * 4


def test_logsumexp_b_and_return_sign():
  x = jnp.array([1.0, 2.0, 0.5])
  b = jnp.array([1.0, -2.0, 0.5])
  value, sign = jaxact.logsumexp(x, b=b, return_sign=True)
  exact = mp.fsum(mp.mpf(float(bi)) * mp.exp(mp.mpf(float(xi))) for xi, bi in zip(x, b))
  assert float(sign) == -1.0
  assert abs(float(value) - float(mp.log(abs(exact)))) < 4e-16 * 2
  # (Without return_sign the value of a negative sum is NaN, as jax.nn and SciPy.)
  gx, gb = jax.grad(lambda x, b: jaxact.logsumexp(x, b=b, return_sign=True)[0], argnums=(0, 1))(x, b)
  w = [float(mp.mpf(float(bi)) * mp.exp(mp.mpf(float(xi))) / exact) for xi, bi in zip(x, b)]
  np.testing.assert_allclose(gx, w, rtol=1e-14)
  np.testing.assert_allclose(gb, [float(mp.exp(mp.mpf(float(xi))) / exact) for xi in x], rtol=1e-14)


def test_logsumexp_sign_without_b():
  value, sign = jaxact.logsumexp(jnp.array([[0.0, 1.0], [-np.inf, -np.inf]]), axis=1, return_sign=True)
  np.testing.assert_array_equal(sign, [1.0, 0.0])
  assert value[1] == -np.inf


def test_logsumexp_b_with_where():
  x = jnp.array([1.0, 100.0, 0.5])
  where = jnp.array([True, False, True])
  np.testing.assert_allclose(
    jaxact.logsumexp(x, b=2.0 * jnp.ones(3), where=where),
    float(mp.log(2 * (mp.e + mp.exp(0.5)))),
    rtol=1e-15,
  )


def test_where_broadcasts():
  x = jnp.asarray(np.arange(6.0).reshape(2, 3))
  where = jnp.array([True, False, True])
  s = jaxact.softmax(x, where=where)
  np.testing.assert_array_equal(s[:, 1], [0.0, 0.0])
  np.testing.assert_allclose(jnp.sum(s, -1), [1.0, 1.0], rtol=1e-15)


# float16 takes bfloat16's path (computed in float32, one residual of the input dtype).
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("name", [n for n in jaxact.names() if jaxact.info(n).kind != "stochastic"])
def test_a_single_residual_of_the_input_dtype(name, dtype):
  # The backward pass keeps one array of the input's shape and dtype: the output
  # for softmax, the input for half precision (recomputed in float32 backward).
  # Constants of a fixed size (snake's table of 2/pi, which the float32 recomputation
  # uses) are the same for every input and are left out: those that do not change
  # with the input's shape.
  def residuals(shape):
    fn = jaxact.get(name)
    _, vjp = jax.vjp(lambda x: fn(x, **jt.required_params(name)), jnp.ones(shape, dtype))
    return [(r.shape, r.dtype) for r in jax.tree_util.tree_leaves(vjp) if r.size > 1]

  small, fixed = residuals((4, 16)), []
  out = residuals((8, 16))
  for r in out:
    if r in small and r[0] != (4, 16):
      fixed.append(r)
  assert all(np.prod(s) <= 4096 for s, _ in fixed), fixed
  out = [r for r in out if r not in fixed]
  if jaxact.info(name).family == "sparse" and dtype == jnp.float32:
    # The support weights and one number per row (1 / |S| or 1 / sum(sqrt p)).
    assert out == [((8, 16), np.dtype(dtype)), ((8, 1), np.dtype(dtype))], out
    return
  if jaxact.info(name).kind == "gated":
    # The two halves of the input, in its dtype: its bytes, split once in the forward
    # pass (not again in the backward pass, which along a sharded axis is communication).
    assert out == [((8, 8), np.dtype(dtype))] * 2, out
    return
  assert out == [((8, 16), np.dtype(dtype))], out


def test_ties_and_one_element_rows():
  np.testing.assert_array_equal(jaxact.softmax(jnp.array([2.0, 2.0, 2.0, 2.0])), [0.25] * 4)
  np.testing.assert_array_equal(jaxact.softmax(jnp.array([[3.0], [-1e30]]), axis=-1), [[1.0], [1.0]])
  np.testing.assert_array_equal(jax.grad(lambda x: jaxact.softmax(x)[0])(jnp.array([3.0])), [0.0])


def _lme_ulps(value, row, dtype):
  # Normwise error against mpmath, in ULPs of the battery's scale for logmeanexp.
  xs = [mp.mpf(float(v)) for v in row]
  ((exact,), _, _), (scale, _, _) = jt.NORMALIZERS["logmeanexp"](xs, [mp.mpf(1)], [mp.mpf(0)] * len(xs))
  ulp = 2.0 ** (np.floor(np.log2(float(scale))) - np.finfo(dtype).nmant)
  return abs(float(value) - float(exact)) / ulp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logmeanexp_both_forms(dtype):
  # (mean, deviation, length): -30, 10, 4096 cancels (max about 5, result about 0),
  # and its terms e^d - 1 round to -1 (log1p of their mean was 104 ULP off in
  # float32); -3, 0.3, 8 puts log1p's argument where XLA's float64 log1p is 128 ULP
  # off; 3, 0.3 and 1, 4 give |result| >= 2 (the two-pass form alone); 0, 0.01 is
  # centred at its mean.
  rng = np.random.default_rng(7)
  cases = [(-30, 10, 4096), (-3, 0.3, 8), (3, 0.3, 1024), (1, 4, 1024), (0, 0.01, 8), (-1, 0.3, 1024)]
  rows = [(mu + sigma * rng.standard_normal(n)).astype(dtype) for mu, sigma, n in cases]
  for row in rows:
    alone = jaxact.logmeanexp(jnp.asarray(row))
    masked = jaxact.logmeanexp(jnp.asarray(row), where=jnp.ones(row.shape, bool))
    # Batched with a row that needs the centred form: the same value.
    batch = jaxact.logmeanexp(jnp.stack([jnp.asarray(row[:8]), jnp.zeros(8, dtype)]), axis=-1)
    assert np.isfinite(float(alone))
    assert _lme_ulps(alone, row, dtype) <= 4, (row[:4], _lme_ulps(alone, row, dtype))
    assert _lme_ulps(masked, row, dtype) <= 4
    assert float(batch[0]) == float(jaxact.logmeanexp(jnp.asarray(row[:8])))
    assert _lme_ulps(batch[0], row[:8], dtype) <= 4


def test_count_of_maxima_on_a_row_longer_than_float32_counts_exactly():
  # The number of maxima k is n + sum(sign(z)) for a row of n <= 2^23; beyond, the sum
  # of 2^24 + 3 terms -1 rounds (k came out 0). A row of 2^24 + 4 entries: one 0, one
  # -20, the rest -200 (e^-200 is 0 in float32).
  from jaxact._src import normalizers

  n = 2**24 + 4
  x = jnp.full((n,), -200.0, jnp.float32).at[0].set(0.0).at[1].set(-20.0)
  k, _ = jax.jit(lambda z: normalizers._count_rest(z, (0,)))(x)
  assert float(k[0]) == 1.0, k
  exact = -float(mp.log1p(mp.exp(-20)))  # -2.06e-9
  head = np.asarray(jaxact.log_softmax(x)[:2])
  assert abs(head[0] - exact) <= 2 * np.spacing(np.float32(abs(exact))), head
  assert head[1] == np.float32(-20.0 + exact)
  assert abs(float(jaxact.logsumexp(x)) + exact) <= 2 * np.spacing(np.float32(abs(exact)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_both_forms(dtype):
  # A result >= 2 in magnitude, or a sum s >= 3/2, takes the one-pass form; [0, -20]
  # (2.06e-9) needs the maxima summed apart. Each row alone and batched with that
  # one: the same value, within 4 ULP of mpmath's.
  rng = np.random.default_rng(3)
  rows = [
    (4 * rng.standard_normal(1024)).astype(dtype),
    (-0.5 - rng.random(6)).astype(dtype),
    np.array([3.0, 3.0, -1.0], dtype),
    np.array([-2.5, -30.0, -40.0], dtype),
    np.array([1e-3, -25.0, -26.0], dtype),
  ]
  hard = np.array([0.0, -20.0], dtype)
  for row in [*rows, hard]:
    exact = _mp_lse(row)
    alone = jaxact.logsumexp(jnp.asarray(row))
    assert abs(float(alone) - float(exact)) <= 4 * np.spacing(np.abs(dtype(exact))), (row[:4], alone, exact)
    batch = jaxact.logsumexp(jnp.stack([jnp.asarray(row[:2]), jnp.asarray(hard)]), axis=-1)
    assert float(batch[0]) == float(jaxact.logsumexp(jnp.asarray(row[:2])))
    assert float(batch[1]) == float(jaxact.logsumexp(jnp.asarray(hard)))


@pytest.mark.parametrize("name", ["logsumexp", "logmeanexp"])
@pytest.mark.parametrize("masked", [False, True])
def test_the_careful_form_is_a_branch_where_nothing_is_split(name, masked):
  # On one device, on a mesh of one device (explicit), and inside shard_map, the
  # careful form is a branch taken only when a row needs it (a cond in the jaxpr),
  # not computed for every row (tests/test_collectives.py: split inputs select).
  fn = jaxact.get(name)
  x = jnp.linspace(-1.0, 1.0, 32, dtype=jnp.float32).reshape(4, 8)
  kw = {"axis": -1, "where": x > -0.9} if masked else {"axis": -1}
  f = lambda v: fn(v, **kw)
  assert "cond[" in str(jax.make_jaxpr(f)(x))
  mesh = jax.make_mesh((1,), ("d",), axis_types=(jax.sharding.AxisType.Explicit,))
  with jax.set_mesh(mesh):
    xs = jax.device_put(x, jax.sharding.PartitionSpec("d", None))
    assert "cond[" in str(jax.make_jaxpr(f)(xs))
    per_shard = jax.shard_map(
      f, in_specs=jax.sharding.PartitionSpec("d", None), out_specs=jax.sharding.PartitionSpec("d")
    )
    assert "cond[" in str(jax.make_jaxpr(per_shard)(xs))
