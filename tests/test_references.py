"""The closed-form mpmath references are themselves right: checked against mpmath.diff."""

import mpmath as mp
import pytest

import jaxact
import jaxact.testing as jt

POINTS = ["-30.5", "-3.25", "-0.7", "-1e-6", "1e-6", "0.4", "2.5", "17.25"]


@pytest.mark.parametrize("name", sorted(jt.ELEMENTWISE))
def test_derivatives_of_the_reference(name):
  ref = jt.ELEMENTWISE[name]
  defaults = jt._battery._default_params(jaxact.get(name))
  params = {k: mp.mpf(v) for k, v in dict(defaults, **ref.params).items()}
  with mp.workdps(60):
    checked = 0
    for p in POINTS:
      x = mp.mpf(p)
      f = lambda t: ref.f(t, **params)
      d1 = lambda t: ref.d1(t, **params)
      try:
        exact1, exact2 = ref.d1(x, **params), ref.d2(x, **params)
      except ValueError:  # outside the domain (log1mexp at x < 0)
        continue
      scale = max(abs(exact1), mp.mpf(10) ** -40)
      assert abs(mp.diff(f, x) - exact1) <= mp.mpf(10) ** -30 * scale, (name, p)
      scale = max(abs(exact2), mp.mpf(10) ** -40)
      assert abs(mp.diff(d1, x) - exact2) <= mp.mpf(10) ** -30 * scale, (name, p)
      checked += 1
    assert checked >= 4


def _num_grad(f, x, i):
  return mp.diff(lambda t: f([*x[:i], t, *x[i + 1 :]]), x[i])


def _projection(x, power):
  # The defining property, not the sort: p = max(x / power - tau, 0)^power sums to 1;
  # tau by bisection on the monotone sum.
  lo, hi = min(x) / power - 1, max(x) / power
  for _ in range(240):
    tau = (lo + hi) / 2
    total = mp.fsum(max(xi / power - tau, 0) ** power for xi in x)
    lo, hi = (tau, hi) if total > 1 else (lo, tau)
  return [max(xi / power - tau, 0) ** power for xi in x]


def _direct_value(name, x):
  # The definitions, without the max shift the references use.
  s = mp.fsum(mp.exp(xi) for xi in x)
  s_neg = mp.fsum(mp.exp(-xi) for xi in x)
  return {
    "softmax": [mp.exp(xi) / s for xi in x],
    "softmin": [mp.exp(-xi) / s_neg for xi in x],
    "log_softmax": [xi - mp.log(s) for xi in x],
    "logsumexp": [mp.log(s)],
    "logmeanexp": [mp.log(s / len(x))],
    "sparsemax": _projection(x, 1),
    "entmax15": _projection(x, 2),
  }[name]


@pytest.mark.parametrize("name", sorted(jt.NORMALIZERS))
def test_normalizer_references(name):
  ref = jt.NORMALIZERS[name]
  with mp.workdps(60):
    x = [mp.mpf(v) for v in ("0.3", "-1.2", "2.5", "0.0")]
    w = [mp.mpf(v) for v in ("0.7", "-0.4", "1.1", "0.25")]
    v = [mp.mpf(v) for v in ("-0.2", "0.9", "0.5", "-1.3")]
    (value, grad, hvp), _ = ref(x, w, v)
    for a, b in zip(value, _direct_value(name, x), strict=True):
      assert abs(a - b) < mp.mpf(10) ** -50

    def inner(x):
      y = ref(x, w, v)[0][0]
      return w[0] * y[0] if len(y) == 1 else mp.fsum(wi * yi for wi, yi in zip(w, y))

    for i in range(4):
      assert abs(_num_grad(inner, x, i) - grad[i]) < mp.mpf(10) ** -30

    def grad_along_v(t):
      return ref([xi + t * vi for xi, vi in zip(x, v)], w, v)[0][1]

    for i in range(4):
      assert abs(mp.diff(lambda t, i=i: grad_along_v(t)[i], 0) - hvp[i]) < mp.mpf(10) ** -30
