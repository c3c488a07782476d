"""The derivative tower: orders 3 and 4 of every registered element-wise activation
against mpmath (jaxact/testing/_tower.py), in reverse, forward and mixed mode, eagerly
and under jit; mixed partials in every float parameter; JAX's own check_grads at order
4; and the tower check that refuses a derivative through bits."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxact
from jaxact._src import core, stable
from jaxact.testing import _tower
from jaxact.testing._battery import cases
from jaxact.testing.references import ELEMENTWISE

CACHE = os.path.join(os.path.dirname(__file__), "references", "tower")

NAMES = sorted(n for n in jaxact.names(kind="elementwise") if n in ELEMENTWISE)

# Every registered element-wise activation with a reference (tests/test_references.py
# checks that each has one); the references are cached in tests/references/tower.
MEASURED = NAMES

# (name, dtype, default parameters?) -> (the largest error measured there, in units of
# the bound, on XLA's CPU backend; the intervals of x where it may exceed the bound).
# Each is above the bound only where the result is within a few times the smallest
# normal number or where sigma'(z) < 2^-100 (docs/tower.md, "Cases above the bound"):
# there the test asserts the recorded figure as a ceiling (so a regression fails) and
# reports an xfail; everywhere else the bound holds as for the other cases. Once a case
# is within the bound, the test fails until its entry is removed.
_NEAR_TINY = {"float32": [(-(2.0**-100), 2.0**-100)], "float64": [(-(2.0**-1000), 2.0**-1000)]}


def _both(lo, hi):
  # [lo, hi] and [-hi, -lo], and |x| near tiny in float32.
  return [(-hi, -lo), (lo, hi), *_NEAR_TINY["float32"]]


KNOWN: dict[tuple[str, str, bool], tuple[float, list[tuple[float, float]]]] = {
  # The result within 16 times the smallest normal number (tiny = 1.2e-38 in float32,
  # 2.2e-308 in float64; |x| near tiny, or the tails of mish at x = 47 and squareplus at
  # x = -6.3e7): terms of it below tiny are flushed to 0 on the way.
  ("gelu", "float64", True): (1.7, _NEAR_TINY["float64"]),  # order 3 at x = -2.2e-308
  ("gelu_tanh", "float64", True): (1.7, _NEAR_TINY["float64"]),  # order 3 at x = -2.2e-308
  ("gelu_erf", "float64", True): (1.7, _NEAR_TINY["float64"]),  # order 3 at x = -2.2e-308
  ("mish", "float32", True): (2.1, [(40.0, 60.0)]),  # order 4 (fwd, jit) at x = 47, the result 2 tiny
  ("quick_gelu", "float64", True): (2.5, _NEAR_TINY["float64"]),  # order 3 at x = -2.2e-308
  ("sigmoid", "float32", True): (3.7, _NEAR_TINY["float32"]),  # order 4 (fwd, jit) at x = -1.7e-37
  ("silu", "float32", True): (1.3, _NEAR_TINY["float32"]),  # order 3 at x = -3.0e-38
  ("silu", "float64", False): (2.5, _NEAR_TINY["float64"]),  # order 3 at x = -2.2e-308 (beta 1.702)
  ("softcap", "float32", True): (1.1, _NEAR_TINY["float32"]),  # order 4 (fwd, jit) at x = -1.2e-33
  ("squareplus", "float32", True): (2.0, [(-1e9, -1e7), (1e7, 1e9)]),  # order 4 (fwd, jit) at x = -6.3e7
  ("tanh", "float32", True): (11.0, _NEAR_TINY["float32"]),  # order 4 at x = -3.0e-38
  ("tanh", "float64", True): (8.1, _NEAR_TINY["float64"]),  # order 4 at x = -2.2e-308
  ("tanhshrink", "float32", True): (11.0, _NEAR_TINY["float32"]),  # as tanh
  ("tanhshrink", "float64", True): (8.1, _NEAR_TINY["float64"]),
  # Reverse mode where sigma'(z) < 2^-100 (|z| > 69 in float32): a term sigma'(z) m'
  # is flushed in the transposed rule (forward and mixed mode are right there).
  # At |x| near tiny too, as above (order 3, 1.6 and 2.5 of the bound).
  ("gelu", "float32", True): (25.0, _both(9.0, 13.0)),  # order 4 at x = -10.5 (z = -99, the result 24 tiny)
  ("gelu_tanh", "float32", True): (25.0, _both(9.0, 13.0)),  # the same
  ("gelu_erf", "float32", True): (12.0, _both(10.0, 14.0)),  # order 4 at x = -11.75 (phi(x) = 4e-31)
  ("quick_gelu", "float32", True): (11.0, _both(40.0, 55.0)),  # order 4 at x = -47 (z = -80)
}


def _case_list():
  return _tower.cases(MEASURED)


def test_tower_references_are_cached_and_nothing_else():
  # Every case's references are stored under their current digest: one whose reference
  # or differencing code changed would be recomputed at every run (about 30 s a case)
  # until tools/write_tower.py stores it again. And no other entry: a stale one is only
  # weight in the repository.
  keys: dict[str, set[str]] = {}
  for name, dname, params in _case_list():
    keys.setdefault(name, set()).add(_tower.cache_key(name, dname, params))
  stored = {}
  for name in keys:
    with np.load(os.path.join(CACHE, f"{name}.npz")) as f:
      stored[name] = set(f.files)
  missing = {n: sorted(keys[n] - stored[n]) for n in keys if keys[n] - stored[n]}
  assert not missing, f"not in tests/references/tower; run tools/write_tower.py: {missing}"
  extra = {n: sorted(stored[n] - keys[n]) for n in keys if stored[n] - keys[n]}
  assert not extra, f"stale entries in tests/references/tower: {extra}"
  files = {f[: -len(".npz")] for f in os.listdir(CACHE) if f.endswith(".npz")}
  assert files == set(keys), f"files of no case: {sorted(files - set(keys))}"


@pytest.mark.parametrize(("name", "dname", "params"), _case_list())
def test_orders_3_and_4_within_the_bound(name, dname, params):
  key = (name, dname, params is None)
  ceiling, region = KNOWN.get(key, (1.0, []))
  results = _tower.measure_activation(name, dname, params, cache=CACHE, region=region)
  failed = [r for r in results if not r.passed]
  if key in KNOWN:
    assert failed, f"{key} is within the bound now: remove it from KNOWN"
    over = [r for r in failed if r.nonfinite or r.worst > ceiling or r.worst_outside > 1.0]
    assert not over, f"above the known {ceiling} or above the bound off {region}:\n" + "\n".join(
      f"{r} ({r.worst_outside:.3g} of the bound off the region)" for r in over
    )
    worst = max(failed, key=lambda r: r.worst)
    pytest.xfail(f"known: {len(failed)} (order, mode) cases above the bound; worst {worst}")
  assert not failed, "\n".join(map(str, failed))


def _ordinary_points(dtype):
  return jnp.asarray([-2.7, -0.8, 0.35, 1.3, 4.2], dtype)


# JAX's own test of its activations, check_grads at order 4 in both modes, for every
# element-wise, gated and normalizer function. It costs 10 to 140 s per function on a
# CPU core (tracing and compiling the 124 nested derivatives it builds, most of it
# also for jax.nn's functions), so the suite runs it on the selection below and
# JAXACT_FULL_CHECK_GRADS=1 runs it on all (docs/tower.md).
# The gated unit selected is reglu: the split and the product rule at order 4 are
# those of every gated unit, and its gate's derivatives are cheap (glu's and swiglu's
# cost 120-140 s; their gates' towers are measured by test_orders_3_and_4_within_the_bound).
CHECK_GRADS_SELECTION = {"tanh", "softplus", "elu", "reglu", "softmax"}
FULL_CHECK_GRADS = os.environ.get("JAXACT_FULL_CHECK_GRADS") == "1"


def _check_grads_selected(name):
  if not (FULL_CHECK_GRADS or name in CHECK_GRADS_SELECTION):
    pytest.skip("run by JAXACT_FULL_CHECK_GRADS=1 (slow)")


@pytest.mark.parametrize("name", NAMES)
def test_check_grads_order_4(name):
  _check_grads_selected(name)
  ref = ELEMENTWISE[name]
  fn = jaxact.get(name)
  p = dict(cases(fn, ref, ("float64",))[0][2])
  x = _ordinary_points(jnp.float64)
  if name == "log1mexp":  # defined for x >= 0
    x = jnp.abs(x)
  # Away from kinks: check_grads compares with finite differences.
  x = x[np.min(np.abs(np.asarray(x)[:, None] - np.asarray(ref.kinks)[None, :]), axis=1) > 0.1]
  f = lambda x: fn(x, **p)
  check_grads(f, (x,), order=4, modes=["fwd", "rev"])
  for k in range(1, 5):
    assert np.all(np.isfinite(_tower.derivative(f, k, "mixed")(x))), k


@pytest.mark.parametrize("name", jaxact.names(kind="gated"))
def test_check_grads_order_4_gated(name):
  _check_grads_selected(name)
  fn = jaxact.get(name)
  x = jnp.asarray([[-2.7, 0.35, 1.3, -0.8], [4.2, -1.1, 0.6, 2.2]], jnp.float64)
  check_grads(fn, (x,), order=4, modes=["fwd", "rev"])


@pytest.mark.parametrize("name", jaxact.names(kind="normalizer"))
def test_check_grads_order_4_normalizers(name):
  _check_grads_selected(name)
  fn = jaxact.get(name)
  x = jnp.asarray([[-2.7, 0.35, 1.3], [4.2, -1.1, 0.6]], jnp.float64)
  check_grads(lambda x: fn(x, axis=-1), (x,), order=4, modes=["fwd", "rev"])


# ---- mixed partials in (x, p), total order <= 3 -------------------------------------

_PARAM_POINTS = (-7.5, -2.3, -0.4, 0.7, 3.1, 11.0)


def _float_params(name):
  ref = ELEMENTWISE[name]
  fn = jaxact.get(name)
  p = dict(cases(fn, ref, ("float64",))[0][2])
  return [(name, k) for k, v in p.items() if isinstance(v, float)]


PARAM_CASES = [c for n in NAMES for c in _float_params(n)]


def _mixed(f, i, j, mode):
  # d^(i + j) f / dx^i dp^j; mode "rev", "fwd" or "mixed" (alternating).
  g = f
  for k, arg in enumerate([0] * i + [1] * j):
    m = mode if mode != "mixed" else ("rev" if k % 2 == 0 else "fwd")
    if m == "rev":
      g = jax.grad(g, argnums=arg)
    else:
      g = (
        lambda h, a: (
          lambda *v: jax.jvp(
            h, v, tuple(jnp.ones_like(u) if n == a else jnp.zeros_like(u) for n, u in enumerate(v))
          )[1]
        )
      )(g, arg)
  return g


@pytest.mark.parametrize(("name", "param"), PARAM_CASES)
def test_mixed_partials_in_every_parameter(name, param):
  import mpmath as mp

  ref = ELEMENTWISE[name]
  fn = jaxact.get(name)
  p = dict(cases(fn, ref, ("float64",))[0][2])
  p0 = p[param]

  def f(x, v):
    return fn(x, **dict(p, **{param: v}))

  def exact(i, j, x):
    with mp.workdps(60):
      q = {k: mp.mpf(v) for k, v in p.items()}

      def g(t, v):
        return [ref.f, ref.d1, ref.d2][min(i, 2)](t, **dict(q, **{param: v}))

      xm, pm = mp.mpf(x), mp.mpf(p0)
      di = max(i - 2, 0)
      return float(mp.diff(g, (xm, pm), (di, j), h=mp.mpf(2) ** -70, addprec=60))

  eps = np.finfo(np.float64).eps / 2
  xs = [x for x in _PARAM_POINTS if min(abs(x - k) for k in ref.kinks) >= 1e-3]
  bad = []
  for i, j in [(0, 1), (1, 1), (0, 2), (2, 1), (1, 2), (0, 3)]:
    # every point at once (one trace and compilation per partial and mode)
    got = {
      mode: np.asarray(jax.jit(jax.vmap(_mixed(f, i, j, mode), (0, None)))(jnp.asarray(xs), jnp.float64(p0)))
      for mode in ("rev", "fwd", "mixed")
    }
    for n, x in enumerate(xs):
      want = exact(i, j, x)
      dx, dp = exact(i + 1, j, x), exact(i, j + 1, x)
      # (+ 2^-120: the finite differences' own absolute error, at these moderate points,
      # where the partial is exactly 0, as those of a function linear in the parameter.)
      bound = _tower.FACTOR * eps * (abs(want) + abs(x * dx) + abs(p0 * dp)) + 2.0**-120
      for mode, values in got.items():
        g = float(values[n])
        if not (np.isfinite(g) and abs(g - want) <= bound):
          bad.append(f"d^{i}x d^{j}{param} {mode} at x = {x}: {g!r}, exact {want!r}")
  assert not bad, "\n".join(bad)


def test_mixed_partials_are_symmetric():
  f = lambda x, b: jaxact.silu(x, beta=b)
  x, b = jnp.float64(-1.7), jnp.float64(0.8)
  xb = jax.grad(jax.grad(f, 0), 1)(x, b)
  bx = jax.grad(jax.grad(f, 1), 0)(x, b)
  assert xb == pytest.approx(float(bx), rel=1e-14)


# ---- the reproducers of the issue ---------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_tanh_third_derivative(dtype):
  g3 = jax.grad(jax.grad(jax.grad(jaxact.tanh)))
  # tanh''' = -2 sech^4 + 4 tanh^2 sech^2: -2 at 0.
  assert float(g3(dtype(0.0))) == pytest.approx(-2.0, rel=1e-6)
  assert float(g3(dtype(-0.4))) == pytest.approx(-0.97017, rel=1e-4)
  assert float(g3(dtype(1.0))) == pytest.approx(0.62162, rel=1e-4)


def test_tanh_fourth_derivative_forward_and_reverse_agree():
  x = jnp.float64(-0.4)
  rev = _tower.derivative(jaxact.tanh, 4, "rev")(x)
  fwd = _tower.derivative(jaxact.tanh, 4, "fwd")(x)
  # 16 tanh sech^4 - 8 tanh^3 sech^2 ... = -4.0753 at -0.4 (mpmath).
  assert float(rev) == pytest.approx(-4.07527, rel=1e-4)
  assert float(fwd) == pytest.approx(float(rev), rel=1e-13)


@pytest.mark.parametrize("x", [1e-8, 0.3])
@pytest.mark.parametrize("name", ["tanh", "lisht", "quick_gelu", "gelu", "softplus", "silu"])
def test_forward_mode_order_4_is_finite(name, x):
  g = _tower.derivative(jaxact.get(name), 4, "fwd")
  assert np.isfinite(float(g(jnp.float64(x))))


def test_jax_check_grads_softplus_fwd_order_4():
  check_grads(jaxact.softplus, (1e-8,), order=4, modes=["fwd"])


@pytest.mark.parametrize(
  ("fn", "param"),
  [
    (lambda x, b: jaxact.silu(x, beta=b), 0.9),
    (lambda x, a: jaxact.celu(x, alpha=a), 0.7),
    (lambda x, b: jaxact.squareplus(x, b=b), 4.0),
  ],
)
def test_parameters_jax_nn_differentiates(fn, param):
  x = jnp.float64(-1.3)
  v = jax.grad(lambda p: jax.grad(fn)(x, p))(jnp.float64(param))
  assert np.isfinite(float(v))


def test_celu_alpha_gradient_matches_the_formula():
  # d/dalpha alpha expm1(x / alpha) = expm1(u) - u e^u, u = x / alpha.
  x, a = -1.3, 0.7
  u = x / a
  want = np.expm1(u) - u * np.exp(u)
  got = jax.grad(lambda a: jaxact.celu(jnp.float64(x), alpha=a))(jnp.float64(a))
  assert float(got) == pytest.approx(want, rel=1e-14)


# ---- the tower check ----------------------------------------------------------------


def test_a_derivative_through_bits_is_refused():
  bad = core.stable_kernel(
    lambda x: x * x,
    # 2x with its sign copied by bit masks: right value, but its derivative would be 0.
    derivative=lambda x: stable.with_sign_of(2.0 * jnp.abs(x), x),
  )
  # Refused when the rule is first traced, at the first order already: the rule's
  # partial would be differentiated at the next.
  with pytest.raises(TypeError, match="bitcast_convert_type"):
    jax.grad(bad)(3.0)
  with pytest.raises(TypeError, match="bitcast_convert_type"):
    jax.jvp(bad, (3.0,), (1.0,))


@pytest.mark.parametrize(
  ("op", "name"),
  [(jnp.round, "round"), (jnp.floor, "floor"), (jax.lax.stop_gradient, "stop_gradient")],
)
def test_a_derivative_through_rounding_is_refused(op, name):
  bad = core.stable_kernel(lambda x: x * x, derivative=lambda x: 2.0 * x + 0.0 * op(x))
  with pytest.raises(TypeError, match=name):
    jax.jvp(jax.grad(bad), (1.5,), (1.0,))


def test_predicates_and_kernels_pass_the_check():
  # A mask from bits (signbit) decides a select: no value goes through the bits.
  ok = core.stable_kernel(
    lambda x: jnp.abs(x) ** 3,
    derivative=lambda x: jnp.where(jnp.signbit(x), -3.0, 3.0) * x * x,
  )
  assert float(jax.grad(jax.grad(ok))(-2.0)) == pytest.approx(12.0)


# ---- log1mexp at and below 0 --------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_log1mexp_at_zero_takes_the_right_limits(dtype):
  # Its conventions: log1mexp(0) = -inf, derivative +inf (the limit from the right,
  # also at -0); f'' -> -inf, f''' -> +inf.
  for x in (dtype(0.0), dtype(-0.0)):
    assert float(jaxact.log1mexp(x)) == -np.inf
    for k, want in ((1, np.inf), (2, -np.inf), (3, np.inf)):
      for mode in ("rev", "fwd"):
        assert float(_tower.derivative(jaxact.log1mexp, k, mode)(x)) == want, (k, mode, x)


def test_log1mexp_below_zero_is_nan_with_every_derivative():
  x = jnp.asarray([-1e-30, -0.5, -3.0, -jnp.inf], jnp.float64)
  assert np.all(np.isnan(jaxact.log1mexp(x)))
  for k in range(1, 5):
    for mode in ("rev", "fwd"):
      assert np.all(np.isnan(_tower.derivative(jaxact.log1mexp, k, mode)(x))), (k, mode)
