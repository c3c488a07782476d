"""Shrinkage units (PyTorch's Hardshrink, Softshrink): zero on [-lambd, lambd].

The derivative is 1 outside the closed interval and 0 on it (at x = +-lambd too, as
PyTorch's autograd); the second derivative is 0. ``lambd`` is keyword-only, as in
PyTorch, and differentiable where the function depends on it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxact._src import stable
from jaxact._src.core import activation, stable_kernel


def _outside(x: jax.Array, lambd: jax.Array) -> jax.Array:
  # 1 for |x| > lambd, 0 on [-lambd, lambd], NaN for NaN.
  return stable.keep_nan(x, jnp.where(jnp.abs(x) > lambd, 1.0, 0.0).astype(x.dtype))


outside = stable_kernel(
  _outside,
  derivative=lambda x, lambd: stable.zero(x),
  param_derivatives={"lambd": lambda x, lambd: stable.zero(x)},
)


def _neg_sign_outside(x: jax.Array, lambd: jax.Array) -> jax.Array:
  # d/dlambd softshrink: -1 above lambd, +1 below -lambd, 0 between.
  return stable.keep_nan(x, jnp.where(x > lambd, -1.0, jnp.where(x < -lambd, 1.0, 0.0)).astype(x.dtype))


neg_sign_outside = stable_kernel(
  _neg_sign_outside,
  derivative=lambda x, lambd: stable.zero(x),
  param_derivatives={"lambd": lambda x, lambd: stable.zero(x)},
)

_CONVENTIONS = (
  "f' = 1 for |x| > lambd, 0 on the closed [-lambd, lambd] (at +-lambd too, as PyTorch); "
  "f'' = 0. lambd is keyword-only (PyTorch's name) and should be >= 0."
)


@activation(
  derivative=lambda x, lambd: outside(x, lambd),
  param_derivatives={"lambd": lambda x, lambd: stable.zero(x)},
  family="shrinkage",
  formula="x if |x| > lambd else 0",
  output_range="{0} and |y| > lambd",
  monotonic=False,
  smoothness="discontinuous",
  zero_centred=True,
  bounded=False,
  conventions=_CONVENTIONS + " d/dlambd = 0 (almost everywhere; the jumps are not differentiated).",
  references=("PyTorch torch.nn.Hardshrink",),
)
def hardshrink(x: jax.Array, *, lambd: jax.Array = 0.5) -> jax.Array:
  r"""Hard shrinkage, as PyTorch's ``hardshrink``.

  .. math::
    \mathrm{hardshrink}(x) = \begin{cases} x & |x| > \lambda \\ 0 & |x| \le \lambda \end{cases}

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    lambd: keyword-only threshold, broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: exact (0 ULP) for the value and both derivatives.

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.hardshrink(jnp.array([-1.0, 0.5, 0.7], dtype=jnp.float32))
    Array([-1. ,  0. ,  0.7], dtype=float32)
  """
  return stable.keep_nan(x, jnp.where(jnp.abs(x) > lambd, x, jnp.zeros_like(x)))


@activation(
  derivative=lambda x, lambd: outside(x, lambd),
  param_derivatives={"lambd": lambda x, lambd: neg_sign_outside(x, lambd)},
  family="shrinkage",
  formula="x - lambd if x > lambd, x + lambd if x < -lambd, else 0",
  output_range="(-inf, inf)",
  monotonic=True,
  smoothness="C^0",
  zero_centred=True,
  bounded=False,
  conventions=_CONVENTIONS + " d/dlambd = -sign(x) outside the interval, 0 on it.",
  references=("Donoho 1995 (soft thresholding); PyTorch torch.nn.Softshrink",),
)
def softshrink(x: jax.Array, *, lambd: jax.Array = 0.5) -> jax.Array:
  r"""Soft shrinkage (soft thresholding), as PyTorch's ``softshrink``.

  .. math::
    \mathrm{softshrink}(x) = \operatorname{sign}(x)\,\max(|x| - \lambda, 0)

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    lambd: keyword-only threshold (>= 0), differentiable, broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 0.5 ULP (one subtraction), derivatives exact.

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.softshrink(jnp.array([-1.0, 0.5, 0.75], dtype=jnp.float32))
    Array([-0.5 ,  0.  ,  0.25], dtype=float32)
  """
  y = jnp.where(x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, jnp.zeros_like(x)))
  return stable.keep_nan(x, y)
