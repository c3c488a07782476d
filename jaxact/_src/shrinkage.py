"""Shrinkage and thresholding units (PyTorch's Hardshrink, Softshrink, Tanhshrink, Threshold).

hardshrink and softshrink are zero on [-lambd, lambd]. Their derivative is 1
outside the closed interval and 0 on it (at x = +-lambd too, as PyTorch's
autograd); the second derivative is 0. ``lambd`` is keyword-only, as in PyTorch,
and differentiable where the function depends on it. tanhshrink is x - tanh x,
computed without the cancellation of that form; threshold replaces what is not
above a threshold by a value.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxact._src import checks, stable
from jaxact._src.core import activation, stable_kernel
from jaxact._src.exact import Reference, mp, step


def _outside(x: jax.Array, lambd: jax.Array) -> jax.Array:
  # 1 for |x| > lambd, 0 on [-lambd, lambd], NaN for NaN.
  return stable.keep_nan(x, jnp.where(jnp.abs(x) > lambd, 1.0, 0.0).astype(x.dtype))


outside = stable_kernel(
  _outside,
  derivative=stable.zero_partial,
  param_derivatives={"lambd": stable.zero_partial},
)


def _neg_sign_outside(x: jax.Array, lambd: jax.Array) -> jax.Array:
  # d/dlambd softshrink: -1 above lambd, +1 below -lambd, 0 between.
  return stable.keep_nan(x, jnp.where(x > lambd, -1.0, jnp.where(x < -lambd, 1.0, 0.0)).astype(x.dtype))


neg_sign_outside = stable_kernel(
  _neg_sign_outside,
  derivative=stable.zero_partial,
  param_derivatives={"lambd": stable.zero_partial},
)

_CONVENTIONS = (
  "f' = 1 for |x| > lambd, 0 on the closed [-lambd, lambd] (at +-lambd too, as PyTorch); "
  "f'' = 0. lambd is keyword-only (PyTorch's name) and should be >= 0."
)


@activation(
  derivative=outside,
  param_derivatives={"lambd": stable.zero_partial},
  family="shrinkage",
  formula="x if |x| > lambd else 0",
  output_range="{0} and |y| > lambd",
  monotonic=False,
  smoothness="discontinuous",
  zero_centred=True,
  bounded=False,
  conventions=_CONVENTIONS + " d/dlambd = 0 (almost everywhere; the jumps are not differentiated).",
  references=("PyTorch torch.nn.Hardshrink",),
  exact=Reference(
    f=lambda x, lambd: x if abs(x) > lambd else mp.mpf(0),
    d1=lambda x, lambd: mp.mpf(1) if abs(x) > lambd else mp.mpf(0),
    d2=lambda x, lambd: mp.mpf(0),
    kinks=(-0.5, 0.5),
  ),
)
def hardshrink(x: ArrayLike, *, lambd: ArrayLike = 0.5) -> jax.Array:
  r"""Hard shrinkage, as PyTorch's ``hardshrink``.

  .. math::
    \mathrm{hardshrink}(x) = \begin{cases} x & |x| > \lambda \\ 0 & |x| \le \lambda \end{cases}

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    lambd: keyword-only threshold, broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: exact (0 ULP) for the value and both derivatives.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.hardshrink(jnp.array([-1.0, 0.5, 0.7], dtype=jnp.float32))
    Array([-1. ,  0. ,  0.7], dtype=float32)
  """
  x, lambd = checks.received(x, lambd)
  return stable.keep_nan(x, jnp.where(jnp.abs(x) > lambd, x, jnp.zeros_like(x)))


@activation(
  derivative=outside,
  param_derivatives={"lambd": neg_sign_outside},
  family="shrinkage",
  formula="x - lambd if x > lambd, x + lambd if x < -lambd, else 0",
  output_range="(-inf, inf)",
  monotonic=True,
  smoothness="C^0",
  zero_centred=True,
  bounded=False,
  conventions=_CONVENTIONS
  + " d/dlambd = -sign(x) outside the interval, 0 on it. lambd < 0 (which would map 0 to"
  " -lambd): a Python or NumPy value raises ValueError, as PyTorch; a JAX array gives NaN"
  " where it is negative.",
  references=("Donoho 1995 (soft thresholding); PyTorch torch.nn.Softshrink",),
  param_domains={"lambd": (lambda v: v >= 0, "at least 0")},
  exact=Reference(
    f=lambda x, lambd: x - lambd if x > lambd else (x + lambd if x < -lambd else mp.mpf(0)),
    d1=lambda x, lambd: mp.mpf(1) if abs(x) > lambd else mp.mpf(0),
    d2=lambda x, lambd: mp.mpf(0),
    kinks=(-0.5, 0.5),
  ),
)
def softshrink(x: ArrayLike, *, lambd: ArrayLike = 0.5) -> jax.Array:
  r"""Soft shrinkage (soft thresholding), as PyTorch's ``softshrink``.

  .. math::
    \mathrm{softshrink}(x) = \operatorname{sign}(x)\,\max(|x| - \lambda, 0)

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    lambd: keyword-only threshold (>= 0), differentiable, broadcasts to ``x``. A
      negative Python or NumPy value raises ``ValueError`` (as PyTorch); where a JAX
      array is negative, the result and its derivatives are NaN.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value <= 0.5 ULP (one subtraction), derivatives exact.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.softshrink(jnp.array([-1.0, 0.5, 0.75], dtype=jnp.float32))
    Array([-0.5 ,  0.  ,  0.25], dtype=float32)
  """
  x, lambd = checks.received(x, lambd)
  y = jnp.where(x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, jnp.zeros_like(x)))
  return stable.keep_nan(x, y)


def _exact_tanhshrink(x):
  if mp.isinf(x):
    return x
  if x == 0:
    return mp.mpf(0)
  # x - tanh x cancels about 2 log2(1/|x|) bits: carry that many more.
  with mp.extraprec(max(0, -2 * int(mp.log(abs(x), 2))) + 20):
    return x - mp.tanh(x)


@activation(
  derivative=stable.tanh_squared,
  family="shrinkage",
  formula="x - tanh(x)",
  output_range="(-inf, inf)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=True,
  bounded=False,
  conventions="f' = tanh^2 x and f'' = 2 tanh x sech^2 x, written so (no 1 - sech^2 x).",
  references=("PyTorch torch.nn.Tanhshrink",),
  exact=Reference(
    f=_exact_tanhshrink,
    d1=lambda x: mp.tanh(x) ** 2,
    d2=lambda x: 2 * mp.tanh(x) * mp.sech(x) ** 2 if not mp.isinf(x) else mp.mpf(0),
  ),
)
def tanhshrink(x: ArrayLike) -> jax.Array:
  r"""Tanh shrinkage, as PyTorch's ``tanhshrink``.

  .. math::
    \mathrm{tanhshrink}(x) = x - \tanh x, \qquad f'(x) = \tanh^2 x

  ``x - tanh x`` loses most of its digits for small ``|x|`` (both terms are
  nearly ``x``): for :math:`|x| \le 1` the value is :math:`x^3 T(x^2)` with ``T`` a
  polynomial fitted to the exact ratio; above, :math:`|x| - 1 + 2e/(1+e)` with
  :math:`e = e^{-2|x|}`, a sum of positive terms.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value within 3 ULP, f' within 4, f'' within 8 (float32, float64).

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.tanhshrink(jnp.array([-2.0, 0.001, 1.0], dtype=jnp.float32))
    Array([-1.0359725e+00,  3.3333325e-10,  2.3840585e-01], dtype=float32)
  """
  x = checks.received(x)
  return stable.x_minus_tanh_forward(x)


def _above(x: jax.Array, threshold: jax.Array) -> jax.Array:
  # 1 for x > threshold, 0 otherwise, NaN for NaN.
  return stable.keep_nan(x, jnp.where(x > threshold, 1.0, 0.0).astype(x.dtype))


def _not_above(x: jax.Array, threshold: jax.Array) -> jax.Array:
  return stable.keep_nan(x, jnp.where(x > threshold, 0.0, 1.0).astype(x.dtype))


above = stable_kernel(
  _above,
  derivative=stable.zero_partial,
  param_derivatives={"threshold": stable.zero_partial},
)
not_above = stable_kernel(
  _not_above,
  derivative=stable.zero_partial,
  param_derivatives={"threshold": stable.zero_partial},
)


def _threshold_d1(x: jax.Array, threshold: jax.Array, value: jax.Array) -> jax.Array:
  return above(x, threshold)


def _threshold_dvalue(x: jax.Array, threshold: jax.Array, value: jax.Array) -> jax.Array:
  return not_above(x, threshold)


@activation(
  derivative=_threshold_d1,
  param_derivatives={"threshold": stable.zero_partial, "value": _threshold_dvalue},
  family="shrinkage",
  formula="x if x > threshold else value",
  output_range="{value} and (threshold, inf)",
  monotonic=None,
  smoothness="discontinuous",
  zero_centred=False,
  bounded=False,
  conventions=(
    "f' = 1 for x > threshold, 0 for x <= threshold (at x = threshold too: the value "
    "branch, as PyTorch); d/dvalue = 1 where x <= threshold; d/dthreshold = 0 (the jump "
    "is not differentiated). Both are required keyword arguments (PyTorch's names)."
  ),
  references=("PyTorch torch.nn.Threshold",),
  exact=Reference(
    f=lambda x, threshold, value: x if x > threshold else value,
    d1=lambda x, threshold, value: step(x - threshold, 0),
    d2=lambda x, threshold, value: mp.mpf(0),
    params={"threshold": 0.5, "value": 20.0},
    kinks=(0.5,),
  ),
)
def threshold(x: ArrayLike, *, threshold: ArrayLike, value: ArrayLike) -> jax.Array:
  r"""Thresholding, as PyTorch's ``threshold``: ``x`` above the threshold, ``value`` elsewhere.

  .. math::
    \mathrm{threshold}(x) = \begin{cases} x & x > \theta \\ v & x \le \theta \end{cases}

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    threshold: keyword-only and required; broadcasts to ``x``.
    value: keyword-only and required, differentiable; broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: exact (the value and both derivatives).

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.threshold(jnp.array([-1.0, 0.1, 2.0], dtype=jnp.float32), threshold=0.1, value=20.0)
    Array([20., 20.,  2.], dtype=float32)
  """
  x, threshold, value = checks.received(x, threshold, value)
  # value broadcast by where itself (jnp.broadcast_to would give it no sharding, which
  # explicit sharding refuses to select against x's).
  y = jnp.where(x > threshold, x, value.astype(x.dtype))
  return stable.keep_nan(x, y)
