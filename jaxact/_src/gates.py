"""Self-gated units: x times a sigmoid-like gate of x (silu/swish).

Their derivatives have interior zeros (silu' at x = -1.2785, silu'' at +-2.3994),
where the textbook forms cancel; there the cancelling factor is evaluated from
its Taylor series around the zero (``stable.near_zero``), so the derivatives keep
their relative accuracy through the zeros. Factors of sigmoid(z) that would be
subnormal are scaled (``stable.sigmoid_times``), so silu(-89) is -1.98e-37 in
float32, not -0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxact._src import stable
from jaxact._src.core import activation, stable_kernel


def _silu_g2(z: jax.Array) -> jax.Array:
  # 2 - z tanh(z / 2): silu''(z) / sigma'(z); even, with zeros at +-2.3994.
  formula = 2.0 - z * stable.tanh(0.5 * z)
  near_pos, series_pos = stable.near_zero("silu_d2_pos", z)
  near_neg, series_neg = stable.near_zero("silu_d2_neg", z)
  return jnp.where(near_pos, series_pos, jnp.where(near_neg, series_neg, formula))


def _silu_d2(x: jax.Array, beta: jax.Array) -> jax.Array:
  z = beta * x
  g = _silu_g2(z)
  # At +-inf, sigma'(z) = 0 and g = -inf: the limit is 0.
  return beta * stable.sigmoid_prime_times(z, jnp.where(jnp.isinf(z), 0.0, g))


def _silu_d3(x: jax.Array, beta: jax.Array) -> jax.Array:
  # By forward-mode autodiff of the stable form of silu'' (elementwise, so a jvp
  # with unit tangent is the derivative); third derivatives carry no accuracy promise.
  return jax.jvp(lambda t: _silu_d2(t, beta), (x,), (jnp.ones_like(x),))[1]


silu_d2 = stable_kernel(_silu_d2, derivative=_silu_d3)


def _silu_d1(x: jax.Array, beta: jax.Array) -> jax.Array:
  # sigma(z) (1 + z sigma(-z)) from one exponential: e = exp(-|z|), or exp(z + c)
  # below -c, where sigma(z) is e^z to full precision and would be subnormal
  # (see stable.sigmoid_times); there sigma(-z) = 1 and the factor is 1 + z.
  z = beta * x
  c = stable.SCALE_SHIFT[z.dtype]
  low = z < -c
  e = jnp.exp(jnp.where(low, z + c, -jnp.abs(z)))
  r = 1.0 / (1.0 + e)
  s_pos = jnp.where(z >= 0, r, e * r)  # sigma(z)
  s_neg = jnp.where(z >= 0, e * r, r)  # sigma(-z)
  g = 1.0 + jnp.where(low, z, jnp.where(s_neg == 0, 0.0, z * s_neg))
  near, series = stable.near_zero("silu_d1", z)
  g = jnp.where(near, series, g)
  y = jnp.where(low, (g * e) * stable.exp_neg_shift(z.dtype), g * s_pos)
  return jnp.where(z == -jnp.inf, jnp.zeros_like(y), y)


silu_d1 = stable_kernel(_silu_d1, derivative=lambda x, beta: silu_d2(x, beta))


def _silu_dbeta(x: jax.Array, beta: jax.Array) -> jax.Array:
  # d/dbeta x sigma(beta x) = x^2 sigma'(beta x), as (x sigma'(z)) x.
  xs = stable.sigmoid_prime_times(beta * x, x)
  return jnp.where(xs == 0, 0.0, xs * x)


@activation(
  derivative=lambda x, beta: silu_d1(x, beta),
  param_derivatives={"beta": _silu_dbeta},
  family="gates",
  aliases=("swish",),
  formula="x * sigmoid(beta x)",
  output_range="[-0.2785, inf) for beta = 1",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "silu(-inf) = 0 (jax.nn: NaN), silu'(-inf) = 0, silu'(+inf) = 1 (jax.nn: NaN). "
    "beta is keyword-only and differentiable (Swish-beta); beta = 1 is SiLU."
  ),
  references=(
    "Hendrycks, Gimpel 2016, arXiv:1606.08415; Elfwing et al. 2017, arXiv:1702.03118; "
    "Ramachandran, Zoph, Le 2017, arXiv:1710.05941",
  ),
)
def silu(x: jax.Array, *, beta: jax.Array = 1.0) -> jax.Array:
  r"""SiLU / swish, drop-in for ``jax.nn.silu`` and ``jax.nn.swish``, with a gate slope.

  .. math::
    \mathrm{silu}(x) = x\,\sigma(\beta x), \qquad
    \mathrm{silu}'(x) = \sigma(z)\,(1 + z\,\sigma(-z)), \qquad
    \mathrm{silu}''(x) = \beta\,\sigma'(z)\,(2 - z \tanh(z/2)), \quad z = \beta x

  The factors :math:`1 + z\sigma(-z)` and :math:`2 - z\tanh(z/2)` vanish at
  :math:`z = -1.2785` and :math:`z = \pm 2.3994`; within 0.35 of those zeros they are
  evaluated from their Taylor series about the zero, so the derivatives keep their
  relative accuracy there. ``silu(-inf)`` is 0 and ``silu'(inf)`` is 1
  (``jax.nn``: NaN); ``silu(-89.)`` is -1.98e-37 in float32 (``jax.nn``: -0).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    beta: keyword-only gate slope, differentiable, broadcasts to ``x`` (one per
      channel: shape ``(C,)``).

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy (beta = 1): value <= 4 ULP, first derivative <= 8, second <= 16 in
  float32/float64; 1, 1, 2 ULP in float16/bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.silu(jnp.array([-89.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-1.9823535e-37,  0.0000000e+00,  7.3105860e-01], dtype=float32)
  """
  return stable.sigmoid_times(beta * x, x)
