"""silu (swish) and quick_gelu: x sigma(beta x), the gate of ``gate.py`` with a
learned or a constant slope. silu(-89) is -1.98e-37 in float32, not -0: the factor
sigmoid(z) is scaled where it alone would be subnormal."""

from __future__ import annotations

import jax
from jax.typing import ArrayLike

from jaxact._src import checks, gate, stable
from jaxact._src.core import activation, stable_kernel
from jaxact._src.exact import Reference, mp, sig, sig1


def _silu_d2(x: jax.Array, beta: jax.Array) -> jax.Array:
  return gate.d2(*gate.beta_z(x, beta), beta)


def _silu_d2_twin(x: jax.Array, beta: jax.Array) -> jax.Array:
  return gate.d2_twin(beta * x, beta)


silu_d2 = stable.with_twin(_silu_d2, _silu_d2_twin)


def _silu_d1(x: jax.Array, beta: jax.Array) -> jax.Array:
  return gate.d1(*gate.beta_z(x, beta))


def _silu_d1_dbeta(x: jax.Array, beta: jax.Array) -> jax.Array:
  # d/dbeta sigma(z) (1 + z sigma(-z)) = x sigma'(z) (2 - z tanh(z / 2)) = silu'' x / beta.
  return gate.d2_twin(beta * x, gate.finite(x))


silu_d1 = stable_kernel(_silu_d1, derivative=silu_d2, param_derivatives={"beta": _silu_d1_dbeta})


def _silu_dbeta(x: jax.Array, beta: jax.Array) -> jax.Array:
  # d/dbeta x sigma(beta x) = x^2 sigma'(beta x), both factors x inside the scaling.
  z, z_lo = gate.beta_z(x, beta)
  return stable.sigmoid_d1_times(z, x, z_lo, m2=x)


def _silu_dbeta_twin(x: jax.Array, beta: jax.Array) -> jax.Array:
  return stable.sigmoid_d1_scaled(beta * x, gate.finite(x) * gate.finite(x))


silu_dbeta = stable.with_twin(_silu_dbeta, _silu_dbeta_twin)


# beta = 1 (silu proper; also swish's default): z = x is exact, no double word.
def _silu1_d2(x: jax.Array) -> jax.Array:
  return gate.d2(x, None, 1.0)


def _silu1_d2_twin(x: jax.Array) -> jax.Array:
  return gate.d2_twin(x, 1.0)


def _silu1_d1(x: jax.Array) -> jax.Array:
  return gate.d1(x, None)


def _silu1(x: jax.Array) -> jax.Array:
  return stable.sigmoid_times(x, x)


silu1_d2 = stable.with_twin(_silu1_d2, _silu1_d2_twin)
silu1_d1 = stable_kernel(_silu1_d1, derivative=silu1_d2)
silu1 = stable_kernel(_silu1, derivative=silu1_d1)


def _exact_gate(x, beta):
  return mp.mpf(0) if x == -mp.inf else x * sig(beta * x)


def _exact_gate_d1(x, beta):
  z = beta * x
  if mp.isinf(z):
    return mp.mpf(1) if z > 0 else mp.mpf(0)
  return sig(z) * (1 + z * sig(-z))


def _exact_gate_d2(x, beta):
  if mp.isinf(x):
    return mp.mpf(0)
  z = beta * x
  return beta * sig1(z) * (2 - z * mp.tanh(z / 2))


@activation(
  derivative=silu_d1,
  param_derivatives={"beta": silu_dbeta},
  constant_kernels={"beta": (1.0, silu1)},
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
  exact=Reference(
    f=_exact_gate,
    d1=_exact_gate_d1,
    d2=_exact_gate_d2,
    also=({"beta": 1.702}, {"beta": 0.3}),
  ),
)
def silu(x: ArrayLike, *, beta: ArrayLike = 1.0) -> jax.Array:
  r"""SiLU / swish, drop-in for ``jax.nn.silu`` and ``jax.nn.swish``, with a gate slope.

  .. math::
    \mathrm{silu}(x) = x\,\sigma(\beta x), \qquad
    \mathrm{silu}'(x) = \sigma(z)\,(1 + z\,\sigma(-z)), \qquad
    \mathrm{silu}''(x) = \beta\,\sigma'(z)\,(2 - z \tanh(z/2)), \quad z = \beta x

  The factors :math:`1 + z\sigma(-z)` and :math:`2 - z\tanh(z/2)` vanish at
  :math:`z = -1.2785` and :math:`z = \pm 2.3994`, so the derivatives keep their
  relative accuracy there: the first as :math:`(1 + z + e^z)\,\sigma(-z)` with
  :math:`1 + z + e^z` summed from exact parts of :math:`e^z` (within 1/4 of the
  zero :math:`z_0`, :math:`e^z = e^{z_0} e^{z - z_0}`, so that it is
  :math:`(z - z_0) + e^{z_0}(e^{z - z_0} - 1)`, two terms of one sign); the second
  from its Taylor series within 0.5 of its zeros. :math:`z` is computed as a double word (its rounding
  error would be amplified :math:`|z|` times in the tail, where
  :math:`\sigma(z) = e^z`), so any ``beta`` keeps the bounds; where ``beta`` is the
  Python number 1 (the default), :math:`z = x` is exact and a kernel without the
  double word runs (same values). ``silu(-inf)`` is 0 and ``silu'(inf)`` is 1
  (``jax.nn``: NaN); ``silu(-89.)`` is -1.98e-37 in float32 (``jax.nn``: -0).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    beta: keyword-only gate slope, differentiable, broadcasts to ``x`` (one per
      channel: shape ``(C,)``).

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: Measured at beta = 1 and, in float32/float64, at beta = 1.702 and 0.3.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.silu(jnp.array([-89.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-1.9823535e-37,  0.0000000e+00,  7.3105860e-01], dtype=float32)
  """
  x, beta = checks.received(x, beta)
  z, z_lo = gate.beta_z(x, beta)
  return stable.sigmoid_times(z, x, z_lo)


_QUICK_GELU_K = "1.702"


def _quick_gelu_d2(x: jax.Array) -> jax.Array:
  return gate.d2(*gate.const_z(x, _QUICK_GELU_K), float(_QUICK_GELU_K))


def _quick_gelu_d2_twin(x: jax.Array) -> jax.Array:
  return gate.d2_twin(float(_QUICK_GELU_K) * x, float(_QUICK_GELU_K))


quick_gelu_d2 = stable.with_twin(_quick_gelu_d2, _quick_gelu_d2_twin)


def _quick_gelu_d1(x: jax.Array) -> jax.Array:
  return gate.d1(*gate.const_z(x, _QUICK_GELU_K))


quick_gelu_d1 = stable_kernel(_quick_gelu_d1, derivative=quick_gelu_d2)


@activation(
  derivative=quick_gelu_d1,
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
  exact=Reference(
    f=lambda x: _exact_gate(x, mp.mpf("1.702")),
    d1=lambda x: _exact_gate_d1(x, mp.mpf("1.702")),
    d2=lambda x: _exact_gate_d2(x, mp.mpf("1.702")),
  ),
)
def quick_gelu(x: ArrayLike) -> jax.Array:
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

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.quick_gelu(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.15420423,  0.        ,  0.8457958 ], dtype=float32)
  """
  x = checks.received(x)
  z, z_lo = gate.const_z(x, _QUICK_GELU_K)
  return stable.sigmoid_times(z, x, z_lo)
