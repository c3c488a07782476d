"""Exponential linear units: identity for x > 0, a saturating exponential below."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxact._src import checks, stable
from jaxact._src.core import SELF, activation, stable_kernel
from jaxact._src.exact import Reference, mp


def _elu_d2(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # alpha e^x on x <= 0 and 0 above: elu's second derivative, and its own derivative.
  # Scaled (stable.exp_times): for alpha > 1 it is normal where e^x is not.
  return jnp.where(x > 0, jnp.zeros_like(x), stable.exp_times(jnp.minimum(x, 0.0), alpha))


def _elu_d1(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # exp(min(x, 0)): the branch that is thrown away never overflows, so no 0 * inf
  # reaches a gradient. exp(x) is used, never expm1(x) + 1.
  return jnp.where(x > 0, jnp.ones_like(x), stable.exp_times(jnp.minimum(x, 0.0), alpha))


def _elu_dalpha(x: jax.Array, alpha: jax.Array) -> jax.Array:
  return jnp.where(x > 0, jnp.zeros_like(x), stable.expm1(jnp.minimum(x, 0.0)))


def _elu_dalpha_dx(x: jax.Array, alpha: jax.Array) -> jax.Array:
  return jnp.where(x > 0, jnp.zeros_like(x), jnp.exp(jnp.minimum(x, 0.0)))


elu_d2 = stable_kernel(_elu_d2, derivative=SELF, param_derivatives={"alpha": _elu_dalpha_dx})
elu_d1 = stable_kernel(_elu_d1, derivative=elu_d2, param_derivatives={"alpha": _elu_dalpha_dx})
elu_dalpha = stable_kernel(
  _elu_dalpha, derivative=_elu_dalpha_dx, param_derivatives={"alpha": stable.zero_partial}
)


@activation(
  derivative=elu_d1,
  param_derivatives={"alpha": elu_dalpha},
  family="exponential",
  formula="x if x > 0 else alpha * (exp(x) - 1)",
  output_range="(-alpha, inf)",
  monotonic=True,
  smoothness="C^1 for alpha = 1, else C^0",
  zero_centred=False,
  bounded=False,
  conventions=(
    "At x = 0 the left branch is used: elu(0) = 0, elu'(0) = alpha, elu''(0) = alpha "
    "(jax.nn: elu'(0) = alpha). elu(-inf) = -alpha, elu'(-inf) = 0, elu'(+inf) = 1."
  ),
  references=("Clevert, Unterthiner, Hochreiter 2016, arXiv:1511.07289",),
  exact=Reference(
    f=lambda x, alpha: x if x > 0 else alpha * mp.expm1(x),
    d1=lambda x, alpha: mp.mpf(1) if x > 0 else alpha * mp.exp(x),
    d2=lambda x, alpha: mp.mpf(0) if x > 0 else alpha * mp.exp(x),
    also=({"alpha": 2.5},),
  ),
)
def elu(x: ArrayLike, alpha: ArrayLike = 1.0) -> jax.Array:
  r"""Exponential linear unit, drop-in for ``jax.nn.elu``.

  .. math::
    \mathrm{elu}(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}
    \qquad
    \mathrm{elu}'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^x & x \le 0 \end{cases}

  The derivative is computed as :math:`\alpha e^{x}`, never as
  ``expm1(x) + 1`` (``jax.nn.elu``'s gradient is 0 from x = -17 in float32; the
  exact value at -20 is 2.06e-9). Differentiable in ``alpha`` too
  (:math:`\partial/\partial\alpha = e^x - 1` for :math:`x \le 0`).

  Convention at the kink: the left branch, so :math:`\mathrm{elu}'(0) = \alpha`
  and :math:`\mathrm{elu}''(0) = \alpha`, as ``jax.nn.elu``. PyTorch and Keras
  also use :math:`\alpha = 1` by default.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    alpha: scale of the negative part; a scalar or an array that broadcasts to
      ``x`` (one value per channel: shape ``(C,)``).

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: Measured at alpha = 1 and 2.5. Below -c, alpha e^x is scaled: it is normal
  where e^x alone is not.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.elu(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.63212055,  0.        ,  1.        ], dtype=float32)
  """
  x, alpha = checks.received(x, alpha)
  return jnp.where(x > 0, x, alpha * stable.expm1(jnp.minimum(x, 0.0)))


# u = x / alpha is a double word (stable.quotient_dw) in the derivatives: their tail
# e^u amplifies the rounding of u |u| times (78 ULP at x = -26 for alpha = 0.3).
def _celu_d1(x: jax.Array, alpha: jax.Array) -> jax.Array:
  u, u_lo = stable.quotient_dw(jnp.minimum(x, 0.0), alpha)
  return jnp.where(x > 0, jnp.ones_like(x), jnp.exp(u) * (1.0 + u_lo))


def _celu_exp_times(x: jax.Array, alpha: jax.Array, m: jax.Array) -> jax.Array:
  # m exp(x / alpha) on x <= 0, 0 above; scaled where exp(u) alone would be
  # subnormal and the product is not (alpha < 1).
  u, u_lo = stable.quotient_dw(jnp.minimum(x, 0.0), alpha)
  return jnp.where(x > 0, jnp.zeros_like(x), stable.exp_times(u, m, u_lo))


def _celu_d2(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # celu'' = exp(x / alpha) / alpha on x <= 0, 0 above.
  return _celu_exp_times(x, alpha, 1.0 / alpha)


def _celu_u(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # Not jnp.minimum(x, 0), whose derivative at the tie x = 0 is 1/2: the left branch's,
  # 1, as in the value's convention (celu''(0) = 1/alpha, so celu'''(0) = 1/alpha^2).
  return jnp.where(x > 0, 0.0, x) / alpha


# The twins (e^u times a factor by stable.exp_times, plain differentiable arithmetic
# scaled where e^u alone is subnormal and the product is not, as (u / alpha) e^u for
# alpha = 0.01, x = -0.9 in float32): the third and higher derivatives, and the
# partials in alpha.
def _celu_d2_twin(x: jax.Array, alpha: jax.Array) -> jax.Array:
  return jnp.where(x > 0, 0.0, stable.exp_times(_celu_u(x, alpha), 1.0 / alpha))


def _celu_d1_twin(x: jax.Array, alpha: jax.Array) -> jax.Array:
  return jnp.where(x > 0, 1.0, stable.exp_times(_celu_u(x, alpha), jnp.ones_like(x)))


celu_d2 = stable.with_twin(_celu_d2, _celu_d2_twin)
celu_d1 = stable_kernel(
  _celu_d1, derivative=celu_d2, param_derivatives={"alpha": stable.partial_by_jvp(_celu_d1_twin, 1)}
)


def _celu_dalpha(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # d/dalpha alpha expm1(u) = expm1(u) - u e^u (u = x / alpha <= 0; 0 for x > 0), which
  # cancels as u -> 0: for |u| < 1 from its series -sum_{n>=2} (n - 1) u^n / n!.
  u = _celu_u(x, alpha)
  small = u > -1.0
  w = jnp.where(small, u, 0.0)
  degree = 20 if x.dtype == jnp.float64 else 12
  series = -(w * w) * stable.horner(w, [(n - 1) / math.factorial(n) for n in range(degree, 1, -1)])
  ud = jnp.where(small, -1.0, u)
  direct = stable.expm1(ud) - ud * jnp.exp(ud)
  return jnp.where(x > 0, jnp.zeros_like(u), jnp.where(small, series, direct))


# Its partials, d/dx = -(u / alpha) e^u and d/dalpha = (u^2 / alpha) e^u, do not cancel.
def _celu_dalpha_dx(x: jax.Array, alpha: jax.Array) -> jax.Array:
  return jnp.where(x > 0, 0.0, stable.exp_times(_celu_u(x, alpha), -(_celu_u(x, alpha) / alpha)))


def _celu_dalpha_dalpha(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # u computed three times, not once: the same value, but the shared u changes how
  # autodiff orders the sums of the fourth mixed partial (up to 256 ULP apart where it
  # cancels; tools/bitwise.py).
  return jnp.where(
    x > 0, 0.0, stable.exp_times(_celu_u(x, alpha), (_celu_u(x, alpha) * _celu_u(x, alpha)) / alpha)
  )


celu_dalpha = stable_kernel(
  _celu_dalpha, derivative=_celu_dalpha_dx, param_derivatives={"alpha": _celu_dalpha_dalpha}
)


@activation(
  derivative=celu_d1,
  param_derivatives={"alpha": celu_dalpha},
  family="exponential",
  formula="x if x > 0 else alpha * (exp(x / alpha) - 1)",
  output_range="(-alpha, inf)",
  monotonic=True,
  smoothness="C^1",
  zero_centred=False,
  bounded=False,
  conventions=(
    "At x = 0 the left branch is used: celu'(0) = 1, celu''(0) = 1/alpha. celu(-inf) = -alpha. "
    "alpha is traced and differentiable."
  ),
  references=("Barron 2017, arXiv:1704.07483",),
  exact=Reference(
    f=lambda x, alpha: x if x > 0 else alpha * mp.expm1(x / alpha),
    d1=lambda x, alpha: mp.mpf(1) if x > 0 else mp.exp(x / alpha),
    d2=lambda x, alpha: mp.mpf(0) if x > 0 else mp.exp(x / alpha) / alpha,
    also=({"alpha": 0.3},),
  ),
)
def celu(x: ArrayLike, alpha: ArrayLike = 1.0) -> jax.Array:
  r"""Continuously differentiable ELU, drop-in for ``jax.nn.celu``.

  .. math::
    \mathrm{celu}(x) = \begin{cases} x & x > 0 \\ \alpha\,\mathrm{expm1}(x/\alpha) & x \le 0 \end{cases}

  Convention at 0: the left branch, :math:`\mathrm{celu}'(0) = 1` and
  :math:`\mathrm{celu}''(0) = 1/\alpha`. ``alpha`` is traced (no recompilation per
  value) and differentiable, as in ``jax.nn.celu``.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    alpha: the saturation value; a scalar or an array that broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: Measured at alpha = 1 and 0.3. In the derivatives :math:`u = x/\alpha` is a
  double word: their tail :math:`e^u` would amplify its rounding :math:`|u|` times.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.celu(jnp.array([-1.0, 2.0], dtype=jnp.float32), alpha=2.0)
    Array([-0.7869387,  2.       ], dtype=float32)
  """
  x, alpha = checks.received(x, alpha)
  return jnp.where(x > 0, x, alpha * stable.expm1(jnp.minimum(x, 0.0) / alpha))


@activation(
  derivative=SELF,
  family="exponential",
  formula="exp(x)",
  output_range="(0, inf)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "Its own derivative at every order. exponential(-inf) = 0 and exponential(inf) = inf, "
    "and so every derivative; above log(max) (88.72 in float32) the value and the "
    "derivatives overflow to inf, as the exact values round. NaN gives NaN (value and "
    "every derivative). No kink."
  ),
  references=("Keras: keras.activations.exponential",),
  exact=Reference(f=lambda x: mp.exp(x), d1=lambda x: mp.exp(x), d2=lambda x: mp.exp(x)),
)
def exponential(x: ArrayLike) -> jax.Array:
  r"""The exponential, drop-in for ``keras.activations.exponential``.

  .. math::
    \mathrm{exponential}(x) = e^x, \qquad \mathrm{exponential}^{(k)}(x) = e^x

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: Computed with arithmetic alone (``stable.exp``), not XLA's exp, whose
  compiled form differs between programs (1 ULP at e^0.3 in float32 between a jitted,
  vmapped gradient and the same gradient taken element by element); the same bits in
  every jitted program measured.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.exponential(jnp.array([0.0, 1.0], dtype=jnp.float32))
    Array([1.       , 2.7182817], dtype=float32)
  """
  x = checks.received(x)
  return stable.exp(x)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu_d2(x: jax.Array) -> jax.Array:
  return jnp.where(x > 0, jnp.zeros_like(x), stable.exp_times(jnp.minimum(x, 0.0), _SELU_SCALE * _SELU_ALPHA))


def _selu_d1(x: jax.Array) -> jax.Array:
  return jnp.where(x > 0, _SELU_SCALE, _selu_d2(x))


selu_d2 = stable_kernel(_selu_d2, derivative=SELF)
selu_d1 = stable_kernel(_selu_d1, derivative=selu_d2)


# The definition's constants as float64 numbers (converted exactly by mpmath).
_EXACT_SELU_A = 1.6732632423543772848170429916717
_EXACT_SELU_L = 1.0507009873554804934193349852946


@activation(
  derivative=selu_d1,
  family="exponential",
  formula="scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.67326..., scale = 1.05070...",
  output_range="(-scale * alpha, inf)",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=False,
  conventions="At x = 0 the left branch is used: selu'(0) = scale * alpha = 1.7581 (as jax.nn).",
  references=("Klambauer et al. 2017, arXiv:1706.02515",),
  exact=Reference(
    f=lambda x: _EXACT_SELU_L * (x if x > 0 else _EXACT_SELU_A * mp.expm1(x)),
    d1=lambda x: _EXACT_SELU_L * (mp.mpf(1) if x > 0 else _EXACT_SELU_A * mp.exp(x)),
    d2=lambda x: mp.mpf(0) if x > 0 else mp.mpf(_EXACT_SELU_L) * _EXACT_SELU_A * mp.exp(x),
  ),
)
def selu(x: ArrayLike) -> jax.Array:
  r"""Scaled exponential linear unit, drop-in for ``jax.nn.selu``.

  .. math::
    \mathrm{selu}(x) = \lambda \begin{cases} x & x > 0 \\ \alpha\,\mathrm{expm1}(x) & x \le 0
    \end{cases}, \quad \alpha = 1.6732632423543772, \ \lambda = 1.0507009873554805

  Convention at 0: the left branch, :math:`\mathrm{selu}'(0) = \lambda\alpha`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.selu(jnp.array([-1.0, 1.0], dtype=jnp.float32))
    Array([-1.1113307,  1.050701 ], dtype=float32)
  """
  x = checks.received(x)
  return jnp.where(x > 0, _SELU_SCALE * x, (_SELU_SCALE * _SELU_ALPHA) * stable.expm1(jnp.minimum(x, 0.0)))


# xIELU. On x <= 0 it is alpha_n expm1(y) + (beta - alpha_n) x with y = min(x, eps): the
# two terms cancel at its negative zero (-2.43 at the defaults) and those of its
# derivative alpha_n expm1(x) + beta at theirs (ln(1 - beta / alpha_n) = -0.98), so both
# are summed in double words, with expm1 as a double word.


def _xielu_negative(x, alpha_n, beta, eps):
  y = jnp.minimum(jnp.minimum(x, eps), 0.0)
  m_hi, m_lo = stable.expm1_dw(y)
  d, d_lo = stable.two_sum(beta, -alpha_n)
  q, q_lo = stable.times_dw(x, d, d_lo)
  # (beta - alpha_n) x is 0 for beta = alpha_n, also at x = -inf.
  q, q_lo = jnp.where(d == 0, 0.0, q), jnp.where(d == 0, 0.0, q_lo)
  return stable.sum_dw(stable.times_dw(alpha_n, m_hi, m_lo), (q, q_lo))


def _xielu_forward(x, alpha_p, alpha_n, beta, eps):
  pos = jnp.maximum(x, 0.0)
  return jnp.where(x > 0, pos * (alpha_p * pos + beta), _xielu_negative(x, alpha_n, beta, eps))


def _xielu_d1(x, alpha_p, alpha_n, beta, eps):
  pos = jnp.maximum(x, 0.0)
  m_hi, m_lo = stable.expm1_dw(jnp.minimum(x, 0.0))
  tail = stable.sum_dw(stable.times_dw(alpha_n, m_hi, m_lo), (beta, jnp.zeros_like(beta)))
  middle = beta - alpha_n
  return jnp.where(x > 0, (2.0 * alpha_p) * pos + beta, jnp.where(x > eps, middle, tail))


def _xielu_d2(x, alpha_p, alpha_n, beta, eps):
  # f'': 2 alpha_p above 0, 0 on (eps, 0], alpha_n e^x on x <= eps.
  tail = stable.exp_times(jnp.minimum(x, 0.0), alpha_n)
  return jnp.where(x > 0, 2.0 * alpha_p, jnp.where(x > eps, 0.0, tail)) + stable.zero_like(x)


def _xielu_d3(x, alpha_p, alpha_n, beta, eps):
  return jnp.where(x > eps, 0.0, stable.exp_times(jnp.minimum(x, 0.0), alpha_n)) + stable.zero_like(x)


def _xielu_dalpha_n(x, alpha_p, alpha_n, beta, eps):
  # expm1(y) - x on x <= 0 (e^x - 1 - x on x <= eps): a double word minus x.
  y = jnp.minimum(jnp.minimum(x, eps), 0.0)
  m_hi, m_lo = stable.expm1_dw(y)
  return jnp.where(x > 0, 0.0, stable.sum_dw((m_hi, m_lo), (-x, jnp.zeros_like(x))))


def _positive(x, value):
  return jnp.where(x > 0, value, 0.0) + stable.zero_like(x)


def _tail(x, eps, value):
  return jnp.where(x > eps, 0.0, value) + stable.zero_like(x)


def _middle(x, eps, value):
  # + zero(x), a kernel: NaN at NaN in the value and in its x-derivative too.
  return jnp.where((x > eps) & (x <= 0), value, 0.0) + stable.zero(x)


# The partials of the tower. Every one takes (x, alpha_p, alpha_n, beta, eps); the
# names say which derivative of the value each is (d2_dalpha_p: d/dalpha_p of f'').


def _xielu_d2_dalpha_p(x, alpha_p, alpha_n, beta, eps):
  return _positive(x, 2.0)


def _xielu_d2_dalpha_n(x, alpha_p, alpha_n, beta, eps):
  return _tail(x, eps, jnp.exp(jnp.minimum(x, 0.0)))


def _xielu_d1_dalpha_p(x, alpha_p, alpha_n, beta, eps):
  return _positive(x, 2.0 * jnp.maximum(x, 0.0))


def _xielu_d1_dalpha_n(x, alpha_p, alpha_n, beta, eps):
  # Also the x-derivative of f's alpha_n-partial.
  return jnp.where(
    x > 0, 0.0, jnp.where(x > eps, -1.0, stable.expm1(jnp.minimum(x, 0.0)))
  ) + stable.zero_like(x)


def _xielu_d1_dbeta(x, alpha_p, alpha_n, beta, eps):
  return stable.one(x)


def _xielu_dalpha_n_deps(x, alpha_p, alpha_n, beta, eps):
  return _middle(x, eps, jnp.exp(jnp.minimum(eps, 0.0)))


def _xielu_dalpha_p(x, alpha_p, alpha_n, beta, eps):
  return _positive(x, jnp.square(jnp.maximum(x, 0.0)))


def _xielu_dbeta_forward(x, alpha_p, alpha_n, beta, eps):
  return x + jnp.zeros_like(alpha_p + alpha_n + beta + eps)


# d/dbeta f = x, a kernel so that its x-derivative is one(x): NaN at NaN.
_xielu_dbeta = stable_kernel(
  _xielu_dbeta_forward,
  derivative=_xielu_d1_dbeta,
  param_derivatives={p: stable.zero_partial for p in ("alpha_p", "alpha_n", "beta", "eps")},
)


def _xielu_deps(x, alpha_p, alpha_n, beta, eps):
  return _middle(x, eps, alpha_n * jnp.exp(jnp.minimum(eps, 0.0)))


xielu_d2 = stable_kernel(
  _xielu_d2,
  derivative=_xielu_d3,
  param_derivatives={
    "alpha_p": _xielu_d2_dalpha_p,
    "alpha_n": _xielu_d2_dalpha_n,
    "beta": stable.zero_like_partial,
    "eps": stable.zero_like_partial,
  },
)
xielu_d1 = stable_kernel(
  _xielu_d1,
  derivative=xielu_d2,
  param_derivatives={
    "alpha_p": _xielu_d1_dalpha_p,
    "alpha_n": _xielu_d1_dalpha_n,
    "beta": _xielu_d1_dbeta,
    "eps": stable.zero_like_partial,
  },
)
xielu_dalpha_n = stable_kernel(
  _xielu_dalpha_n,
  derivative=_xielu_d1_dalpha_n,
  param_derivatives={
    "alpha_p": stable.zero_like_partial,
    "alpha_n": stable.zero_like_partial,
    "beta": stable.zero_like_partial,
    "eps": _xielu_dalpha_n_deps,
  },
)


def _exact_xielu_f(x, alpha_p, alpha_n, beta, eps):
  if x > 0:
    return alpha_p * x * x + beta * x
  if mp.isinf(x):  # -alpha_n + (beta - alpha_n) x
    return -alpha_n if beta == alpha_n else (beta - alpha_n) * x
  return alpha_n * (mp.expm1(min(x, eps)) - x) + beta * x


def _exact_xielu_d1(x, alpha_p, alpha_n, beta, eps):
  if x > 0:
    return 2 * alpha_p * x + beta
  return beta - alpha_n if x > eps else alpha_n * mp.expm1(x) + beta


def _exact_xielu_d2(x, alpha_p, alpha_n, beta, eps):
  if x > 0:
    return 2 * alpha_p
  return mp.mpf(0) if x > eps else alpha_n * mp.exp(x)


@activation(
  derivative=xielu_d1,
  param_derivatives={
    "alpha_p": _xielu_dalpha_p,
    "alpha_n": xielu_dalpha_n,
    "beta": _xielu_dbeta,
    "eps": _xielu_deps,
  },
  family="exponential",
  formula=("alpha_p x^2 + beta x if x > 0 else alpha_n (expm1(min(x, eps)) - x) + beta x"),
  output_range="[f(ln(1 - beta / alpha_n)), inf) for alpha_n > beta > 0; (-inf, inf) otherwise",
  monotonic=False,
  smoothness="C^0 on x != 0; a jump of alpha_n expm1(eps) (-8e-7 at the defaults) at x = 0",
  zero_centred=False,
  bounded=False,
  conventions=(
    "x = 0 takes the lower branch: f(0) = alpha_n expm1(eps), f'(0) = beta - alpha_n, "
    "f''(0) = 0. x = eps takes the exponential branch: f'(eps) = alpha_n expm1(eps) + beta, "
    "f''(eps) = alpha_n e^eps. f(-inf) = +inf for alpha_n > beta, f'(-inf) = beta - alpha_n. "
    "alpha_p, alpha_n, beta and eps are used as given (the reference implementation "
    "reparametrises alpha_p = softplus(a_p), alpha_n = beta + softplus(a_n) in its module; "
    "apply that outside if wanted). All four are differentiable and broadcast per channel."
  ),
  references=("Huang, Schlag 2024, Deriving Activation Functions Using Integration, arXiv:2411.13010",),
  exact=Reference(
    f=_exact_xielu_f,
    d1=_exact_xielu_d1,
    d2=_exact_xielu_d2,
    # The kinks, and the zeros of f and f' (where terms cancel) at both parameter sets.
    kinks=(
      0.0,
      -1e-6,
      -1e-4,
      -2.4324842769314479,
      -0.98082925301172624,
      -1.7590613298243787,
      -0.7537718023763802,
    ),
    also=({"alpha_p": 0.3, "alpha_n": 1.7, "beta": 0.9, "eps": -1e-4},),
  ),
)
def xielu(
  x: ArrayLike,
  *,
  alpha_p: ArrayLike = 0.8,
  alpha_n: ArrayLike = 0.8,
  beta: ArrayLike = 0.5,
  eps: ArrayLike = -1e-6,
) -> jax.Array:
  r"""Expanded integral of the exponential linear unit (xIELU).

  .. math::
    \mathrm{xielu}(x) = \begin{cases} \alpha_p x^2 + \beta x & x > 0 \\
      \alpha_n\,(\mathrm{expm1}(\min(x, \epsilon)) - x) + \beta x & x \le 0 \end{cases}

  Its gradient is linear with slope :math:`2\alpha_p` above 0 and
  :math:`\alpha_n e^x + \beta - \alpha_n` below :math:`\epsilon`. At the defaults it
  has a minimum at :math:`\ln(1 - \beta/\alpha_n) = -0.98` and a zero at -2.43, and
  grows as :math:`(\alpha_n - \beta)|x|` to the left. Near both zeros the terms
  cancel; value and derivative are summed in double words there (with
  :math:`e^x - 1` as a double word), so they keep their relative accuracy.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    alpha_p: keyword-only, the quadratic coefficient above 0; differentiable,
      broadcasts to ``x``.
    alpha_n: keyword-only, the scale of the exponential part; differentiable.
    beta: keyword-only, the linear coefficient; differentiable.
    eps: keyword-only, the small negative number at which the exponential part
      stops (its derivative is constant on (eps, 0]); differentiable.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.xielu(jnp.array([-2.0, 1.0], dtype=jnp.float32))
    Array([-0.09173176,  1.3       ], dtype=float32)
  """
  x, alpha_p, alpha_n, beta, eps = checks.received(x, alpha_p, alpha_n, beta, eps)
  return _xielu_forward(x, alpha_p, alpha_n, beta, eps)
