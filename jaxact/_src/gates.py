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


def _beta_z(x: jax.Array, beta: jax.Array) -> tuple[jax.Array, jax.Array]:
  # z = beta x as a double word: in the tail sigma(z) = e^z, and a z rounded once
  # would cost |z| / 2 ULP there.
  return stable.two_prod(beta, x)


def _const_z(x: jax.Array, k: str) -> tuple[jax.Array, jax.Array]:
  # z = k x for a decimal constant k (quick_gelu's 1.702), as a double word.
  hi, lo = stable.split_constant(k, x.dtype)
  z, e = stable.two_prod(jnp.full_like(x, hi), x)
  return z, jnp.where(jnp.isfinite(z), e + lo * x, 0.0)


def _gate_g2(z: jax.Array, z_lo: jax.Array) -> jax.Array:
  # 2 - z tanh(z / 2): silu''(z) / sigma'(z); even, with zeros at +-2.3994.
  formula = 2.0 - z * stable.tanh(0.5 * z)
  near_pos, series_pos = stable.near_zero("silu_d2_pos", z, z_lo)
  near_neg, series_neg = stable.near_zero("silu_d2_neg", z, z_lo)
  return jnp.where(near_pos, series_pos, jnp.where(near_neg, series_neg, formula))


def _gate_d2(z: jax.Array, z_lo: jax.Array, k: jax.Array) -> jax.Array:
  # d^2/dx^2 of x sigma(k x) = k sigma'(z) (2 - z tanh(z / 2)).
  g = _gate_g2(z, z_lo)
  # At +-inf, sigma'(z) = 0 and g = -inf: the limit is 0.
  return k * stable.sigmoid_prime_times(z, jnp.where(jnp.isinf(z), 0.0, g), z_lo)


def _gate_d1(z: jax.Array, z_lo: jax.Array) -> jax.Array:
  # d/dx of x sigma(k x) = sigma(z) (1 + z sigma(-z)), from one exponential:
  # e = exp(-|z|), or exp(z + c) below -c, where sigma(z) is e^z to full precision
  # and would be subnormal (see stable.sigmoid_times); there sigma(-z) = 1 and the
  # factor is 1 + z.
  c = stable.SCALE_SHIFT[z.dtype]
  low = z < -c
  e = jnp.exp(jnp.where(low, z + c, -jnp.abs(z)))
  e = e * (1.0 + jnp.where(low | (z < 0), z_lo, -z_lo))
  r = 1.0 / (1.0 + e)
  s_pos = jnp.where(z >= 0, r, e * r)  # sigma(z)
  s_neg = jnp.where(z >= 0, e * r, r)  # sigma(-z)
  g = 1.0 + jnp.where(low, z, jnp.where(s_neg == 0, 0.0, z * s_neg))
  near, series = stable.near_zero("silu_d1", z, z_lo)
  g = jnp.where(near, series, g)
  y = jnp.where(low, (g * e) * stable.exp_neg_shift(z.dtype), g * s_pos)
  return jnp.where(z == -jnp.inf, jnp.zeros_like(y), y)


def _third(d2):
  # Third derivatives by forward-mode autodiff of the stable second derivative
  # (elementwise, so a jvp with unit tangent is the derivative); they carry no
  # accuracy promise.
  def d3(x, *params):
    return jax.jvp(lambda t: d2(t, *params), (x,), (jnp.ones_like(x),))[1]

  return d3


def _silu_d2(x: jax.Array, beta: jax.Array) -> jax.Array:
  return _gate_d2(*_beta_z(x, beta), beta)


silu_d2 = stable_kernel(_silu_d2, derivative=_third(_silu_d2))


def _silu_d1(x: jax.Array, beta: jax.Array) -> jax.Array:
  return _gate_d1(*_beta_z(x, beta))


silu_d1 = stable_kernel(_silu_d1, derivative=lambda x, beta: silu_d2(x, beta))


def _silu_dbeta(x: jax.Array, beta: jax.Array) -> jax.Array:
  # d/dbeta x sigma(beta x) = x^2 sigma'(beta x), as (x sigma'(z)) x.
  z, z_lo = _beta_z(x, beta)
  xs = stable.sigmoid_prime_times(z, x, z_lo)
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
  relative accuracy there. :math:`z` is computed as a double word (its rounding
  error would be amplified :math:`|z|` times in the tail, where
  :math:`\sigma(z) = e^z`), so any ``beta`` keeps the bounds. ``silu(-inf)`` is 0 and ``silu'(inf)`` is 1
  (``jax.nn``: NaN); ``silu(-89.)`` is -1.98e-37 in float32 (``jax.nn``: -0).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    beta: keyword-only gate slope, differentiable, broadcasts to ``x`` (one per
      channel: shape ``(C,)``).

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in
  float32/float64; 1, 1, 2 ULP in float16/bfloat16 (the tests assert it at beta = 1
  and, in float32/float64, at beta = 1.702 and 0.3).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.silu(jnp.array([-89.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-1.9823535e-37,  0.0000000e+00,  7.3105860e-01], dtype=float32)
  """
  z, z_lo = _beta_z(x, beta)
  return stable.sigmoid_times(z, x, z_lo)


_QUICK_GELU_K = "1.702"


def _quick_gelu_d2(x: jax.Array) -> jax.Array:
  return _gate_d2(*_const_z(x, _QUICK_GELU_K), float(_QUICK_GELU_K))


quick_gelu_d2 = stable_kernel(_quick_gelu_d2, derivative=_third(_quick_gelu_d2))


def _quick_gelu_d1(x: jax.Array) -> jax.Array:
  return _gate_d1(*_const_z(x, _QUICK_GELU_K))


quick_gelu_d1 = stable_kernel(_quick_gelu_d1, derivative=quick_gelu_d2)


@activation(
  derivative=lambda x: quick_gelu_d1(x),
  family="gates",
  formula="x * sigmoid(1.702 x)",
  output_range="[-0.1637, inf)",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "The constant is 1.702 exactly (carried as two floats), as in CLIP and OpenAI's GPT-2 "
    "code; quick_gelu(-inf) = 0, quick_gelu'(+inf) = 1."
  ),
  references=("Hendrycks, Gimpel 2016, arXiv:1606.08415 (sigmoid approximation of GELU)",),
)
def quick_gelu(x: jax.Array) -> jax.Array:
  r"""Quick GELU: the sigmoid approximation of GELU used by CLIP.

  .. math::
    \mathrm{quick\_gelu}(x) = x\,\sigma(1.702\,x)

  It is ``silu`` with gate slope 1.702; the slope is carried as two floats and
  :math:`1.702\,x` as a double word, so the value is that of the formula with the
  decimal constant, to a few ULP, down to the underflow of the result.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32/float64;
  1, 1, 2 ULP in float16/bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.quick_gelu(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.15420423,  0.        ,  0.8457958 ], dtype=float32)
  """
  z, z_lo = _const_z(x, _QUICK_GELU_K)
  return stable.sigmoid_times(z, x, z_lo)
