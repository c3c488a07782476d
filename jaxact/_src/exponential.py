"""Exponential linear units: identity for x > 0, a saturating exponential below."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxact._src import stable
from jaxact._src.core import activation, stable_kernel


def _elu_curve(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # alpha e^x on x <= 0 and 0 above: elu's second derivative, and its own derivative.
  return jnp.where(x > 0, jnp.zeros_like(x), alpha * jnp.exp(jnp.minimum(x, 0.0)))


def _elu_prime(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # exp(min(x, 0)): the branch that is thrown away never overflows, so no 0 * inf
  # reaches a gradient. exp(x) is used, never expm1(x) + 1.
  return jnp.where(x > 0, jnp.ones_like(x), alpha * jnp.exp(jnp.minimum(x, 0.0)))


def _elu_dalpha(x: jax.Array, alpha: jax.Array) -> jax.Array:
  return jnp.where(x > 0, jnp.zeros_like(x), stable.expm1(jnp.minimum(x, 0.0)))


def _elu_dalpha_dx(x: jax.Array, alpha: jax.Array) -> jax.Array:
  return jnp.where(x > 0, jnp.zeros_like(x), jnp.exp(jnp.minimum(x, 0.0)))


elu_curve = stable_kernel(
  _elu_curve,
  derivative=lambda x, alpha: elu_curve(x, alpha),
  param_derivatives={"alpha": lambda x, alpha: _elu_dalpha_dx(x, alpha)},
)
elu_prime = stable_kernel(
  _elu_prime,
  derivative=lambda x, alpha: elu_curve(x, alpha),
  param_derivatives={"alpha": lambda x, alpha: _elu_dalpha_dx(x, alpha)},
)
elu_dalpha = stable_kernel(
  _elu_dalpha,
  derivative=lambda x, alpha: _elu_dalpha_dx(x, alpha),
  param_derivatives={"alpha": lambda x, alpha: stable.zero(x)},
)


@activation(
  derivative=lambda x, alpha: elu_prime(x, alpha),
  param_derivatives={"alpha": lambda x, alpha: elu_dalpha(x, alpha)},
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
)
def elu(x: jax.Array, alpha: jax.Array = 1.0) -> jax.Array:
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

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32 and
  float64; <= 1, 1, 2 ULP in float16 and bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.elu(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.63212055,  0.        ,  1.        ], dtype=float32)
  """
  return jnp.where(x > 0, x, alpha * stable.expm1(jnp.minimum(x, 0.0)))
