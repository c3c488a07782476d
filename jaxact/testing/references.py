"""High-precision references (mpmath) for the built-in activations.

Each reference gives the value and the first and second derivative in closed form,
written here independently of the implementation and evaluated at 50 significant
digits. The closed forms are themselves checked against ``mpmath.diff`` in the
test suite. Where a function has a kink, the reference encodes the documented
convention.

Element-wise references: ``Reference(f, d1, d2)``, each ``g(x, **params)`` on
``mpmath.mpf``. Normalizer references: functions of a row (list of ``mpf``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import mpmath as mp

DPS = 50


@dataclasses.dataclass(frozen=True, eq=False)
class Reference:
  """mpmath value, first and second derivative of an element-wise activation.

  Attributes:
    f, d1, d2: callables ``g(x, **params) -> mpf`` (``x`` an ``mpf``, possibly +-inf).
    params: the hyperparameters to test at (defaults of the function if empty).
    kinks: points where a derivative jumps (added to the test grid).
  """

  f: Callable[..., Any]
  d1: Callable[..., Any]
  d2: Callable[..., Any]
  params: Mapping[str, float] = dataclasses.field(default_factory=dict)
  kinks: tuple[float, ...] = (0.0,)
  poles: bool = False
  """f'' has a pole at the kinks (log1mexp at 0): the derivative tower's finite
  differences (``_tower.reference_tower_near_poles``) then step a small fraction of the
  distance to it."""
  periodic: bool = False
  """f'' is periodic (snake): the derivative tower's finite differences step 2^-70,
  not 2^-70 |x|, which would span many periods at large |x|."""


def _em(x):
  # exp(-|x|), the stable building block of the logistic family.
  return mp.exp(-abs(x))


def _sig(x):
  return 1 / (1 + mp.exp(-x))


def _sig1(x):
  e = _em(x)
  return e / (1 + e) ** 2


def _step(x, at0):
  return mp.mpf(1) if x > 0 else (mp.mpf(at0) if x == 0 else mp.mpf(0))


ELEMENTWISE: dict[str, Reference] = {
  "sigmoid": Reference(
    f=_sig,
    d1=_sig1,
    d2=lambda x: -_sig1(x) * mp.tanh(x / 2),
  ),
  "tanh": Reference(
    f=mp.tanh,
    d1=lambda x: mp.sech(x) ** 2,
    d2=lambda x: -2 * mp.tanh(x) * mp.sech(x) ** 2,
  ),
  "relu": Reference(
    f=lambda x: max(x, mp.mpf(0)),
    d1=lambda x: _step(x, 0),
    d2=lambda x: mp.mpf(0),
  ),
  "leaky_relu": Reference(
    f=lambda x, negative_slope: x if x >= 0 else negative_slope * x,
    d1=lambda x, negative_slope: mp.mpf(1) if x >= 0 else negative_slope,
    d2=lambda x, negative_slope: mp.mpf(0),
  ),
  "prelu": Reference(
    f=lambda x, alpha: x if x >= 0 else alpha * x,
    d1=lambda x, alpha: mp.mpf(1) if x >= 0 else alpha,
    d2=lambda x, alpha: mp.mpf(0),
    params={"alpha": 0.25},
  ),
  "elu": Reference(
    f=lambda x, alpha: x if x > 0 else alpha * mp.expm1(x),
    d1=lambda x, alpha: mp.mpf(1) if x > 0 else alpha * mp.exp(x),
    d2=lambda x, alpha: mp.mpf(0) if x > 0 else alpha * mp.exp(x),
  ),
}


def _box(x, lo, hi, closed, inside=1):
  ok = (lo <= x <= hi) if closed else (lo < x < hi)
  return mp.mpf(inside) if ok else mp.mpf(0)


def _pos(x):
  # x for x > 0 else 0 (the right branch of a kink at 0).
  return x if x > 0 else mp.mpf(0)


def _sp(z):
  return mp.log1p(mp.exp(z)) if z < 0 else z + mp.log1p(mp.exp(-z))


def _log1mexp(x):
  if x < 0:
    raise ValueError("log1mexp: x < 0")
  if x == 0:
    return -mp.inf
  # log1p above ln 2: 1 - exp(-x) would round to 1 at any fixed precision for large x.
  return mp.log(-mp.expm1(-x)) if x < mp.ln2 else mp.log1p(-mp.exp(-x))


def _log1mexp_d1(x):
  if x <= 0:
    raise ValueError("log1mexp': x <= 0")
  return 1 / mp.expm1(x)


def _log1mexp_d2(x):
  if x <= 0:
    raise ValueError("log1mexp'': x <= 0")
  return -1 / (mp.expm1(x) * (-mp.expm1(-x)))


def _silu_d1(z):
  if mp.isinf(z):
    return mp.mpf(1) if z > 0 else mp.mpf(0)
  return _sig(z) * (1 + z * _sig(-z))


def _gate_f(x, beta):
  return mp.mpf(0) if x == -mp.inf else x * _sig(beta * x)


def _gate_d1(x, beta):
  return _silu_d1(beta * x)


def _gate_d2(x, beta):
  if mp.isinf(x):
    return mp.mpf(0)
  z = beta * x
  return beta * _sig1(z) * (2 - z * mp.tanh(z / 2))


def _gelu_tanh_parts(x):
  a = 2 * mp.sqrt(2 / mp.pi)
  b = mp.mpf("0.044715") * a
  return x * (a + b * x * x), a + 3 * b * x * x, 6 * b * x


def _gelu_tanh_f(x):
  if mp.isinf(x):
    return x if x > 0 else mp.mpf(0)
  return x * _sig(_gelu_tanh_parts(x)[0])


def _gelu_tanh_d1(x):
  if mp.isinf(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)
  z, zp, _ = _gelu_tanh_parts(x)
  return _sig(z) + x * zp * _sig1(z)


def _gelu_tanh_d2(x):
  if mp.isinf(x):
    return mp.mpf(0)
  z, zp, zpp = _gelu_tanh_parts(x)
  return _sig1(z) * (2 * zp + x * zpp - x * zp * zp * mp.tanh(z / 2))


def _ncdf(x):
  # mpmath's erfc overflows a float conversion below about -1e150 with its pure-Python
  # backend (not with gmpy2); there the asymptotic series, truncated after x^-8, is exact
  # to far more than 50 digits.
  if x < -1e10:
    t = 1 / (x * x)
    return mp.npdf(x) / -x * (1 - t * (1 - 3 * t * (1 - 5 * t * (1 - 7 * t))))
  return mp.ncdf(x)


def _gelu_erf_f(x):
  if mp.isinf(x):
    return x if x > 0 else mp.mpf(0)
  return x * _ncdf(x)


def _gelu_erf_d1(x):
  if mp.isinf(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)
  return _ncdf(x) + x * mp.npdf(x)


def _gelu_erf_d2(x):
  if mp.isinf(x):
    return mp.mpf(0)
  return mp.npdf(x) * (2 - x * x)


def _xielu_f(x, alpha_p, alpha_n, beta, eps):
  if x > 0:
    return alpha_p * x * x + beta * x
  if mp.isinf(x):  # -alpha_n + (beta - alpha_n) x
    return -alpha_n if beta == alpha_n else (beta - alpha_n) * x
  return alpha_n * (mp.expm1(min(x, eps)) - x) + beta * x


def _xielu_d1(x, alpha_p, alpha_n, beta, eps):
  if x > 0:
    return 2 * alpha_p * x + beta
  return beta - alpha_n if x > eps else alpha_n * mp.expm1(x) + beta


def _xielu_d2(x, alpha_p, alpha_n, beta, eps):
  if x > 0:
    return 2 * alpha_p
  return mp.mpf(0) if x > eps else alpha_n * mp.exp(x)


def _mish_t(x):
  return mp.tanh(_sp(x))


def _mish_f(x):
  if mp.isinf(x):
    return x if x > 0 else mp.mpf(0)
  return x * _mish_t(x)


def _mish_d1(x):
  if mp.isinf(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)
  t = _mish_t(x)
  return t + x * mp.sech(_sp(x)) ** 2 * _sig(x)


def _mish_d2(x):
  if mp.isinf(x):
    return mp.mpf(0)
  t = _mish_t(x)
  # sech^2(softplus x) = 1 - t^2, written without cancellation for large x.
  sech2 = mp.sech(_sp(x)) ** 2
  return sech2 * _sig(x) * (2 + x * (_sig(-x) - 2 * t * _sig(x)))


_QUICK_GELU_K = "1.702"  # converted at the working precision
_SELU_A = mp.mpf("1.6732632423543772848170429916717")
_SELU_L = mp.mpf("1.0507009873554804934193349852946")


def _sq_h(x, b):
  return mp.sqrt(x * x + b)


def _sq_f(x, b):
  if mp.isinf(x):
    return x if x > 0 else mp.mpf(0)
  return (x + _sq_h(x, b)) / 2 if x >= 0 else b / (2 * (_sq_h(x, b) - x))


def _sq_d1(x, b):
  if mp.isinf(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)
  h = _sq_h(x, b)
  return (1 + x / h) / 2 if x >= 0 else b / (2 * h * (h - x))


ELEMENTWISE.update(
  {
    "relu6": Reference(
      f=lambda x: min(max(x, mp.mpf(0)), mp.mpf(6)),
      d1=lambda x: _box(x, 0, 6, False),
      d2=lambda x: mp.mpf(0),
      kinks=(0.0, 6.0),
    ),
    "identity": Reference(f=lambda x: x, d1=lambda x: mp.mpf(1), d2=lambda x: mp.mpf(0)),
    "hard_tanh": Reference(
      f=lambda x: min(max(x, mp.mpf(-1)), mp.mpf(1)),
      d1=lambda x: _box(x, -1, 1, True),
      d2=lambda x: mp.mpf(0),
      kinks=(-1.0, 1.0),
    ),
    "hard_sigmoid": Reference(
      f=lambda x: min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6,
      d1=lambda x: _box(x, -3, 3, False) / 6,
      d2=lambda x: mp.mpf(0),
      kinks=(-3.0, 3.0),
    ),
    "hard_silu": Reference(
      f=lambda x: mp.mpf(0) if x <= -3 else x * min(x + 3, mp.mpf(6)) / 6,
      d1=lambda x: mp.mpf(1) if x >= 3 else ((2 * x + 3) / 6 if x > -3 else mp.mpf(0)),
      d2=lambda x: _box(x, -3, 3, False) / 3,
      kinks=(-3.0, -1.5, 3.0),
    ),
    "sparse_sigmoid": Reference(
      f=lambda x: min(max(x + 1, mp.mpf(0)), mp.mpf(2)) / 2,
      d1=lambda x: _box(x, -1, 1, False) / 2,
      d2=lambda x: mp.mpf(0),
      kinks=(-1.0, 1.0),
    ),
    "sparse_plus": Reference(
      f=lambda x: mp.mpf(0) if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4),
      d1=lambda x: min(max(x + 1, mp.mpf(0)), mp.mpf(2)) / 2,
      d2=lambda x: _box(x, -1, 1, False) / 2,
      kinks=(-1.0, 1.0),
    ),
    "celu": Reference(
      f=lambda x, alpha: x if x > 0 else alpha * mp.expm1(x / alpha),
      d1=lambda x, alpha: mp.mpf(1) if x > 0 else mp.exp(x / alpha),
      d2=lambda x, alpha: mp.mpf(0) if x > 0 else mp.exp(x / alpha) / alpha,
    ),
    "exponential": Reference(f=lambda x: mp.exp(x), d1=lambda x: mp.exp(x), d2=lambda x: mp.exp(x)),
    "selu": Reference(
      f=lambda x: _SELU_L * (x if x > 0 else _SELU_A * mp.expm1(x)),
      d1=lambda x: _SELU_L * (mp.mpf(1) if x > 0 else _SELU_A * mp.exp(x)),
      d2=lambda x: mp.mpf(0) if x > 0 else _SELU_L * _SELU_A * mp.exp(x),
    ),
    "softplus": Reference(
      f=lambda x, beta: _sp(beta * x) / beta,
      d1=lambda x, beta: _sig(beta * x),
      d2=lambda x, beta: beta * _sig1(beta * x),
    ),
    "log_sigmoid": Reference(
      f=lambda x: -_sp(-x),
      d1=lambda x: _sig(-x),
      d2=lambda x: -_sig1(x),
    ),
    "soft_sign": Reference(
      f=lambda x: x / (1 + abs(x)) if not mp.isinf(x) else mp.sign(x),
      d1=lambda x: 1 / (1 + abs(x)) ** 2,
      d2=lambda x: -2 * mp.sign(x) / (1 + abs(x)) ** 3,
    ),
    "squareplus": Reference(f=_sq_f, d1=_sq_d1, d2=lambda x, b: b / (2 * _sq_h(x, b) ** 3)),
    "hardshrink": Reference(
      f=lambda x, lambd: x if abs(x) > lambd else mp.mpf(0),
      d1=lambda x, lambd: mp.mpf(1) if abs(x) > lambd else mp.mpf(0),
      d2=lambda x, lambd: mp.mpf(0),
      kinks=(-0.5, 0.5),
    ),
    "softshrink": Reference(
      f=lambda x, lambd: x - lambd if x > lambd else (x + lambd if x < -lambd else mp.mpf(0)),
      d1=lambda x, lambd: mp.mpf(1) if abs(x) > lambd else mp.mpf(0),
      d2=lambda x, lambd: mp.mpf(0),
      kinks=(-0.5, 0.5),
    ),
    "log1mexp": Reference(f=_log1mexp, d1=_log1mexp_d1, d2=_log1mexp_d2, poles=True),
    "silu": Reference(f=_gate_f, d1=_gate_d1, d2=_gate_d2),
    "gelu_erf": Reference(f=_gelu_erf_f, d1=_gelu_erf_d1, d2=_gelu_erf_d2),
    "gelu_tanh": Reference(f=_gelu_tanh_f, d1=_gelu_tanh_d1, d2=_gelu_tanh_d2),
    "gelu": Reference(f=_gelu_tanh_f, d1=_gelu_tanh_d1, d2=_gelu_tanh_d2),
    "mish": Reference(f=_mish_f, d1=_mish_d1, d2=_mish_d2),
    "quick_gelu": Reference(
      f=lambda x: _gate_f(x, mp.mpf(_QUICK_GELU_K)),
      d1=lambda x: _gate_d1(x, mp.mpf(_QUICK_GELU_K)),
      d2=lambda x: _gate_d2(x, mp.mpf(_QUICK_GELU_K)),
    ),
  }
)


def _tanhshrink(x):
  if mp.isinf(x):
    return x
  if x == 0:
    return mp.mpf(0)
  # x - tanh x cancels about 2 log2(1/|x|) bits: carry that many more.
  with mp.extraprec(max(0, -2 * int(mp.log(abs(x), 2))) + 20):
    return x - mp.tanh(x)


def _lisht_d1(x):
  if mp.isinf(x):
    return mp.sign(x)
  return mp.tanh(x) + x * mp.sech(x) ** 2


def _lisht_d2(x):
  if mp.isinf(x):
    return mp.mpf(0)
  return 2 * mp.sech(x) ** 2 * (1 - x * mp.tanh(x))


def _star_f(x, scale, bias):
  return scale * _pos(x) ** 2 + bias


ELEMENTWISE.update(
  {
    "squared_relu": Reference(
      f=lambda x: _pos(x) ** 2,
      d1=lambda x: 2 * _pos(x),
      d2=lambda x: 2 * _step(x, 0),
    ),
    "star_relu": Reference(
      f=_star_f,
      d1=lambda x, scale, bias: 2 * scale * _pos(x),
      d2=lambda x, scale, bias: 2 * scale * _step(x, 0),
      kinks=(0.0, 0.70710678),
    ),
    "rrelu": Reference(
      f=lambda x, lower, upper: x if x >= 0 else (lower + upper) / 2 * x,
      d1=lambda x, lower, upper: mp.mpf(1) if x >= 0 else (lower + upper) / 2,
      d2=lambda x, lower, upper: mp.mpf(0),
    ),
    "snake": Reference(
      f=lambda x, frequency: x if mp.isinf(x) else x + mp.sin(frequency * x) ** 2 / frequency,
      d1=lambda x, frequency: mp.nan if mp.isinf(x) else 1 + mp.sin(2 * frequency * x),
      d2=lambda x, frequency: mp.nan if mp.isinf(x) else 2 * frequency * mp.cos(2 * frequency * x),
      kinks=(0.0, -0.78539816, 2.35619449),
      periodic=True,
    ),
    # The kinks, and the zeros of f and f' (where terms cancel) at both parameter sets.
    "xielu": Reference(
      f=_xielu_f,
      d1=_xielu_d1,
      d2=_xielu_d2,
      kinks=(
        0.0,
        -1e-6,
        -1e-4,
        -2.4324842769314479,
        -0.98082925301172624,
        -1.7590613298243787,
        -0.7537718023763802,
      ),
    ),
    "threshold": Reference(
      f=lambda x, threshold, value: x if x > threshold else value,
      d1=lambda x, threshold, value: _step(x - threshold, 0),
      d2=lambda x, threshold, value: mp.mpf(0),
      params={"threshold": 0.5, "value": 20.0},
      kinks=(0.5,),
    ),
    "tanhshrink": Reference(
      f=_tanhshrink,
      d1=lambda x: mp.tanh(x) ** 2,
      d2=lambda x: 2 * mp.tanh(x) * mp.sech(x) ** 2 if not mp.isinf(x) else mp.mpf(0),
    ),
    "lisht": Reference(
      f=lambda x: x * mp.tanh(x) if not mp.isinf(x) else abs(x),
      d1=_lisht_d1,
      d2=_lisht_d2,
      kinks=(0.0, -1.19967864, 1.19967864),
    ),
    "softcap": Reference(
      f=lambda x, cap: cap * mp.tanh(x / cap),
      d1=lambda x, cap: mp.sech(x / cap) ** 2,
      d2=lambda x, cap: -2 * mp.tanh(x / cap) * mp.sech(x / cap) ** 2 / cap,
      params={"cap": 30.0},
    ),
  }
)


# Hyperparameters other than the defaults that the battery measures too (float32 and
# float64). A gate slope that is not a power of two makes beta * x inexact, whose
# rounding error the tail amplifies |beta x| times unless it is carried.
OTHER_PARAMS: tuple[tuple[str, dict[str, float]], ...] = (
  ("elu", {"alpha": 2.5}),
  ("celu", {"alpha": 0.3}),
  ("silu", {"beta": 1.702}),
  ("silu", {"beta": 0.3}),
  ("softplus", {"beta": 0.3}),
  ("softcap", {"cap": 2.5}),
  ("star_relu", {"scale": 1.5, "bias": 0.1}),
  ("snake", {"frequency": 0.3}),
  ("xielu", {"alpha_p": 0.3, "alpha_n": 1.7, "beta": 0.9, "eps": -1e-4}),
)


# Normalizers: value, gradient of <w, f(x)> and Hessian-vector product along v,
# for one row (entries of -inf allowed), and for each of the three the scale the
# error is measured against: the largest entry of the value, and for the
# derivatives the largest sum of the absolute values of the terms that make up an
# entry (the size of what cancels; for a one-element row the exact gradient of
# softmax is 0, and only its terms have a size).


def _softmax_row(x):
  m = max(x)
  e = [mp.exp(xi - m) if xi != -mp.inf else mp.mpf(0) for xi in x]
  s = mp.fsum(e)
  return [ei / s for ei in e]


def _lse_row(x):
  m = max(x)
  return m + mp.log(mp.fsum(mp.exp(xi - m) if xi != -mp.inf else mp.mpf(0) for xi in x))


def _dot(a, b):
  return mp.fsum(ai * bi for ai, bi in zip(a, b))


def _abs_terms(s, a):
  # |a_i| + sum_j s_j |a_j|: the size of the terms of a_i - <s, a>, before they cancel.
  sa = _dot(s, [abs(ai) for ai in a])
  return [abs(ai) + sa for ai in a]


def _softmax_refs(x, w, v):
  s = _softmax_row(x)
  sw, sv = _dot(s, w), _dot(s, v)
  u = [vi - sv for vi in v]
  g = [si * (wi - sw) for si, wi in zip(s, w)]
  ds = [si * ui for si, ui in zip(s, u)]
  dsw = _dot(ds, w)
  h = [dsi * (wi - sw) - si * dsw for dsi, si, wi in zip(ds, s, w)]
  aw, av = _abs_terms(s, w), _abs_terms(s, v)
  sav = mp.fsum(si * avi * abs(wi) for si, avi, wi in zip(s, av, w))
  scales = (
    max(s),
    max(si * awi for si, awi in zip(s, aw)),
    max(si * avi * awi + si * sav for si, avi, awi in zip(s, av, aw)),
  )
  return (s, g, h), scales


def _log_softmax_refs(x, w, v):
  s = _softmax_row(x)
  lse = _lse_row(x)
  y = [xi - lse for xi in x]
  sw = mp.fsum(w)
  g = [wi - si * sw for wi, si in zip(w, s)]
  sv = _dot(s, v)
  h = [-sw * si * (vi - sv) for si, vi in zip(s, v)]
  aw = mp.fsum(abs(wi) for wi in w)
  av = _abs_terms(s, v)
  finite = [abs(yi) for yi in y if yi != -mp.inf]
  scales = (
    max(finite),
    max(abs(wi) + si * aw for wi, si in zip(w, s)),
    max(aw * si * avi for si, avi in zip(s, av)),
  )
  return (y, g, h), scales


def _logsumexp_refs(x, w, v):
  # f(x) is a scalar: <w, f> = w[0] * lse.
  s = _softmax_row(x)
  sv = _dot(s, v)
  lse = _lse_row(x)
  g = [w[0] * si for si in s]
  h = [w[0] * si * (vi - sv) for si, vi in zip(s, v)]
  av = _abs_terms(s, v)
  scales = (abs(lse), max(abs(gi) for gi in g), max(abs(w[0]) * si * avi for si, avi in zip(s, av)))
  return ([lse], g, h), scales


def _logmeanexp_refs(x, w, v):
  # logsumexp(x) - log(n): the same derivatives as logsumexp. The value is the sum
  # of two terms, sum_i s_i x_i - KL(s || uniform) (s = softmax(x)); its scale is the
  # sum of their sizes, which is |value| unless they cancel: a row of scale 1e-3
  # has a value 50 times smaller than its entries, and the rounding of the entries'
  # mean alone (which no algorithm in the working precision avoids) costs that much.
  ((lse,), g, h), (_, s1, s2) = _logsumexp_refs(x, w, v)
  n = len(x)
  lme = lse - mp.log(n)
  s = _softmax_row(x)
  mean_term = mp.fsum(si * abs(xi) for si, xi in zip(s, x) if si != 0)
  kl = mp.fsum(si * mp.log(n * si) for si in s if si != 0)
  return ([lme], g, h), (max(abs(lme), mean_term + kl), s1, s2)


def _softmin_refs(x, w, v):
  # softmin(x) = softmax(-x): the gradient changes sign, the Hessian does not. With
  # -inf entries, the limit: they are tied, infinitely below the rest, so the row is
  # the softmax of (0 on them, -inf elsewhere).
  if any(xi == -mp.inf for xi in x):
    x = [mp.mpf(0) if xi == -mp.inf else mp.inf for xi in x]
  (s, g, h), scales = _softmax_refs([-xi for xi in x], w, v)
  return (s, [-gi for gi in g], h), scales


def _sparse_threshold(z, power):
  # tau with sum max(z - tau, 0)^power = 1 (power 1: sparsemax, 2: 1.5-entmax on z = x / 2):
  # the largest support size k whose threshold lies below its k-th entry (sorted row).
  zs = sorted((zi for zi in z if zi != -mp.inf), reverse=True)
  best, s1, s2 = None, mp.mpf(0), mp.mpf(0)
  for k, zk in enumerate(zs, 1):
    s1, s2 = s1 + zk, s2 + zk * zk
    if power == 1:
      tau = (s1 - 1) / k
    else:
      mu = s1 / k
      delta = 1 / mp.mpf(k) - (s2 / k - mu * mu)
      if delta < 0:
        break
      tau = mu - mp.sqrt(delta)
    if zk > tau:
      best = tau
    else:
      break
  if best is None:
    raise ValueError("no support")
  return best


def _sparse_refs(x, w, v, power):
  # value p; gradient of <w, p> = J w with J = diag(g) - g g^T / sum(g) on the support
  # (g = 1 for sparsemax, sqrt(p) for 1.5-entmax); its derivative along v.
  if all(xi == -mp.inf for xi in x):
    zero = [mp.mpf(0)] * len(x)
    return (zero, zero, zero), (0.0, 0.0, 0.0)
  z = [xi / power for xi in x]
  tau = _sparse_threshold(z, power)
  p = [max(zi - tau, mp.mpf(0)) ** power for zi in z]
  g = [mp.mpf(1) if pi > 0 else mp.mpf(0) for pi in p] if power == 1 else [mp.sqrt(pi) for pi in p]
  gs = mp.fsum(g)

  def jac(u):
    gu = _dot(g, u)
    return [gi * ui - gi * gu / gs for gi, ui in zip(g, u)]

  grad = jac(w)
  if power == 1:
    hvp = [mp.mpf(0)] * len(x)
    h_scale = 0.0
  else:
    dp = jac(v)
    dg = [dpi / (2 * gi) if gi > 0 else mp.mpf(0) for dpi, gi in zip(dp, g)]
    gw, dgw, dgs = _dot(g, w), _dot(dg, w), mp.fsum(dg)
    hvp = [dgi * wi - dgi * gw / gs - gi * dgw / gs + gi * gw * dgs / gs**2 for dgi, gi, wi in zip(dg, g, w)]
    aw = _dot(g, [abs(wi) for wi in w])
    adg = mp.fsum(abs(d) for d in dg)
    adgw = _dot([abs(d) for d in dg], [abs(wi) for wi in w])
    h_scale = max(
      abs(dgi * wi) + abs(dgi) * aw / gs + gi * adgw / gs + gi * aw * adg / gs**2
      for dgi, gi, wi in zip(dg, g, w)
    )
  aw = _dot(g, [abs(wi) for wi in w])
  g_scale = max(gi * abs(wi) + gi * aw / gs for gi, wi in zip(g, w))
  return (p, grad, hvp), (max(p), g_scale, h_scale)


# Normalizers that reduce the row to one value.
SCALAR_OUTPUT = frozenset({"logsumexp", "logmeanexp"})

NORMALIZERS: dict[str, Callable[..., Any]] = {
  "softmax": _softmax_refs,
  "softmin": _softmin_refs,
  "log_softmax": _log_softmax_refs,
  "logsumexp": _logsumexp_refs,
  "logmeanexp": _logmeanexp_refs,
  "sparsemax": lambda x, w, v: _sparse_refs(x, w, v, 1),
  "entmax15": lambda x, w, v: _sparse_refs(x, w, v, 2),
}
