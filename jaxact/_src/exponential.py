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


def _celu_prime(x: jax.Array, alpha: jax.Array) -> jax.Array:
  return jnp.where(x > 0, jnp.ones_like(x), jnp.exp(jnp.minimum(x, 0.0) / alpha))


def _celu_curve(x: jax.Array, alpha: jax.Array) -> jax.Array:
  # celu'' = exp(x / alpha) / alpha on x <= 0, 0 above.
  return jnp.where(x > 0, jnp.zeros_like(x), jnp.exp(jnp.minimum(x, 0.0) / alpha) / alpha)


celu_curve = stable_kernel(
  _celu_curve, derivative=lambda x, alpha: jnp.where(x > 0, 0.0, _celu_curve(x, alpha) / alpha)
)
celu_prime = stable_kernel(_celu_prime, derivative=lambda x, alpha: celu_curve(x, alpha))


@activation(
  derivative=lambda x, alpha: celu_prime(x, alpha),
  family="exponential",
  formula="x if x > 0 else alpha * (exp(x / alpha) - 1)",
  output_range="(-alpha, inf)",
  monotonic=True,
  smoothness="C^1",
  zero_centred=False,
  bounded=False,
  conventions=(
    "At x = 0 the left branch is used: celu'(0) = 1, celu''(0) = 1/alpha. celu(-inf) = -alpha. "
    "alpha is not differentiable (TypeError if differentiated)."
  ),
  references=("Barron 2017, arXiv:1704.07483",),
)
def celu(x: jax.Array, alpha: jax.Array = 1.0) -> jax.Array:
  r"""Continuously differentiable ELU, drop-in for ``jax.nn.celu``.

  .. math::
    \mathrm{celu}(x) = \begin{cases} x & x > 0 \\ \alpha\,\mathrm{expm1}(x/\alpha) & x \le 0 \end{cases}

  Convention at 0: the left branch, :math:`\mathrm{celu}'(0) = 1` and
  :math:`\mathrm{celu}''(0) = 1/\alpha`. ``alpha`` is traced (no recompilation per
  value) but not differentiable.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    alpha: the saturation value; a scalar or an array that broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy (alpha = 1): value <= 4 ULP, first derivative <= 8, second <= 16 in
  float32/float64; 1, 1, 2 ULP in float16/bfloat16. For other alpha the quotient
  :math:`x/\alpha` is rounded first.

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.celu(jnp.array([-1.0, 2.0], dtype=jnp.float32), alpha=2.0)
    Array([-0.7869387,  2.       ], dtype=float32)
  """
  return jnp.where(x > 0, x, alpha * stable.expm1(jnp.minimum(x, 0.0) / alpha))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu_curve(x: jax.Array) -> jax.Array:
  return jnp.where(x > 0, jnp.zeros_like(x), (_SELU_SCALE * _SELU_ALPHA) * jnp.exp(jnp.minimum(x, 0.0)))


selu_curve = stable_kernel(_selu_curve, derivative=lambda x: selu_curve(x))
selu_prime = stable_kernel(
  lambda x: jnp.where(x > 0, _SELU_SCALE, _selu_curve(x)), derivative=lambda x: selu_curve(x)
)


@activation(
  derivative=lambda x: selu_prime(x),
  family="exponential",
  formula="scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.67326..., scale = 1.05070...",
  output_range="(-scale * alpha, inf)",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=False,
  conventions="At x = 0 the left branch is used: selu'(0) = scale * alpha = 1.7581 (as jax.nn).",
  references=("Klambauer et al. 2017, arXiv:1706.02515",),
)
def selu(x: jax.Array) -> jax.Array:
  r"""Scaled exponential linear unit, drop-in for ``jax.nn.selu``.

  .. math::
    \mathrm{selu}(x) = \lambda \begin{cases} x & x > 0 \\ \alpha\,\mathrm{expm1}(x) & x \le 0
    \end{cases}, \quad \alpha = 1.6732632423543772, \ \lambda = 1.0507009873554805

  Convention at 0: the left branch, :math:`\mathrm{selu}'(0) = \lambda\alpha`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32/float64;
  1, 1, 2 ULP in float16/bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.selu(jnp.array([-1.0, 1.0], dtype=jnp.float32))
    Array([-1.1113307,  1.050701 ], dtype=float32)
  """
  return jnp.where(x > 0, _SELU_SCALE * x, (_SELU_SCALE * _SELU_ALPHA) * stable.expm1(jnp.minimum(x, 0.0)))
