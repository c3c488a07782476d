"""Hard (piecewise) activations: clipped, piecewise-linear and piecewise-quadratic units.

Their derivatives are piecewise constant or linear; each kink has an explicit
convention, the same as ``jax.nn``'s, written in the docstring and in
``jaxact.info(name).conventions``. Every function is computed without the
cancellations of its textbook form, and the branch that is not taken is never
evaluated where it would overflow (no ``0 * inf`` in a gradient).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxact._src import checks, stable
from jaxact._src.core import activation, stable_kernel
from jaxact._src.exact import Reference, box, mp

_box_11 = stable.interval(-1.0, 1.0, closed=True)
_open_11 = stable.interval(-1.0, 1.0)
_open_33 = stable.interval(-3.0, 3.0)


def _hard_sigmoid_d1(x: jax.Array) -> jax.Array:
  return _open_33(x) / 6.0


def _hard_silu_d2(x: jax.Array) -> jax.Array:
  return _open_33(x) / 3.0


def _sparse_sigmoid_d1(x: jax.Array) -> jax.Array:
  return _open_11(x) / 2.0


@activation(
  derivative=_box_11,
  family="hard",
  formula="min(max(x, -1), 1)",
  output_range="[-1, 1]",
  monotonic=True,
  smoothness="C^0",
  zero_centred=True,
  bounded=True,
  conventions="hard_tanh'(x) = 1 on the closed [-1, 1] (at +-1 too, as jax.nn), 0 outside.",
  exact=Reference(
    f=lambda x: min(max(x, mp.mpf(-1)), mp.mpf(1)),
    d1=lambda x: box(x, -1, 1, True),
    d2=lambda x: mp.mpf(0),
    kinks=(-1.0, 1.0),
  ),
)
def hard_tanh(x: ArrayLike) -> jax.Array:
  r"""Hard tanh, drop-in for ``jax.nn.hard_tanh``.

  .. math::
    \mathrm{hard\_tanh}(x) = \min(\max(x, -1), 1)

  Convention at the kinks: derivative 1 at :math:`x = \pm 1` (as ``jax.nn``).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: exact (the value and both derivatives).

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.hard_tanh(jnp.array([-2.0, 0.5, 2.0], dtype=jnp.float32))
    Array([-1. ,  0.5,  1. ], dtype=float32)
  """
  x = checks.received(x)
  return jnp.minimum(jnp.maximum(x, -1.0), 1.0)


@activation(
  derivative=_hard_sigmoid_d1,
  family="hard",
  formula="relu6(x + 3) / 6",
  output_range="[0, 1]",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=True,
  conventions="hard_sigmoid'(x) = 1/6 on the open (-3, 3), 0 at x = +-3 and outside (as jax.nn).",
  references=("Howard et al. 2019, arXiv:1905.02244",),
  exact=Reference(
    f=lambda x: min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6,
    d1=lambda x: box(x, -3, 3, False) / 6,
    d2=lambda x: mp.mpf(0),
    kinks=(-3.0, 3.0),
  ),
)
def hard_sigmoid(x: ArrayLike) -> jax.Array:
  r"""Hard sigmoid, drop-in for ``jax.nn.hard_sigmoid``.

  .. math::
    \mathrm{hard\_sigmoid}(x) = \frac{\mathrm{relu6}(x + 3)}{6}

  Convention at the kinks: derivative 0 at :math:`x = \pm 3` (as ``jax.nn``). Keras'
  ``hard_sigmoid`` is this function; PyTorch's ``Hardsigmoid`` too.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: The derivatives are exact up to one rounding.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.hard_sigmoid(jnp.array([-4.0, 0.0, 1.5], dtype=jnp.float32))
    Array([0.  , 0.5 , 0.75], dtype=float32)
  """
  x = checks.received(x)
  return jnp.minimum(jnp.maximum(x + 3.0, 0.0), 6.0) / 6.0


def _hard_silu_d1(x: jax.Array) -> jax.Array:
  # (2x + 3)/6 inside: 2x is exact and 2x + 3 cancels exactly (Sterbenz) near
  # x = -1.5, where jax.nn's x/6 + (x + 3)/6 is off by 3 %.
  inside = (2.0 * jnp.clip(x, -3.0, 3.0) + 3.0) / 6.0
  return stable.keep_nan(x, jnp.where(x >= 3.0, 1.0, jnp.where(x > -3.0, inside, 0.0)))


hard_silu_d1 = stable_kernel(_hard_silu_d1, derivative=_hard_silu_d2)


@activation(
  derivative=hard_silu_d1,
  family="hard",
  aliases=("hard_swish",),
  formula="x * relu6(x + 3) / 6",
  output_range="[-0.375, inf)",
  monotonic=False,
  smoothness="C^0",
  zero_centred=False,
  bounded=False,
  conventions=(
    "hard_silu'(x) = (2x + 3)/6 on (-3, 3), 0 for x <= -3, 1 for x >= 3 (as jax.nn); "
    "hard_silu'' = 1/3 on the open (-3, 3), 0 elsewhere. hard_silu(-inf) = 0 (jax.nn: NaN)."
  ),
  references=("Howard et al. 2019, arXiv:1905.02244",),
  exact=Reference(
    f=lambda x: mp.mpf(0) if x <= -3 else x * min(x + 3, mp.mpf(6)) / 6,
    d1=lambda x: mp.mpf(1) if x >= 3 else ((2 * x + 3) / 6 if x > -3 else mp.mpf(0)),
    d2=lambda x: box(x, -3, 3, False) / 3,
    kinks=(-3.0, -1.5, 3.0),
  ),
)
def hard_silu(x: ArrayLike) -> jax.Array:
  r"""Hard SiLU (hard swish), drop-in for ``jax.nn.hard_silu`` and ``jax.nn.hard_swish``.

  .. math::
    \mathrm{hard\_silu}(x) = x \, \frac{\mathrm{relu6}(x + 3)}{6}, \qquad
    \mathrm{hard\_silu}'(x) = \frac{2x + 3}{6} \text{ on } (-3, 3)

  The derivative is computed as :math:`(2x + 3)/6`, exact near its zero at
  :math:`x = -1.5` (``jax.nn``'s is 3 % off at :math:`-1.5 + 2^{-20}`). Conventions:
  derivative 0 at :math:`x = -3` and 1 at :math:`x = 3` (as ``jax.nn``);
  :math:`\mathrm{hard\_silu}(-\infty) = 0` (``jax.nn``: NaN).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: The derivatives are exact up to one rounding.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.hard_silu(jnp.array([-4.0, -1.5, 3.0], dtype=jnp.float32))
    Array([-0.   , -0.375,  3.   ], dtype=float32)
  """
  x = checks.received(x)
  inside = jnp.clip(x, -3.0, 3.0)
  inside = inside * (inside + 3.0) / 6.0
  return stable.keep_nan(x, jnp.where(x >= 3.0, x, jnp.where(x > -3.0, inside, -0.0)))


def _sparse_sigmoid(x: jax.Array) -> jax.Array:
  inside = (jnp.clip(x, -1.0, 1.0) + 1.0) / 2.0
  return stable.keep_nan(x, jnp.where(x >= 1.0, 1.0, jnp.where(x > -1.0, inside, 0.0)))


sparse_sigmoid_kernel = stable_kernel(_sparse_sigmoid, derivative=_sparse_sigmoid_d1)


@activation(
  derivative=_sparse_sigmoid_d1,
  family="hard",
  formula="clip((x + 1) / 2, 0, 1)",
  output_range="[0, 1]",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=True,
  conventions="sparse_sigmoid'(x) = 1/2 on the open (-1, 1), 0 at x = +-1 and outside.",
  references=("Peters, Niculae, Martins 2019 (sparse-sigmoid as the 2-class sparsemax)",),
  exact=Reference(
    f=lambda x: min(max(x + 1, mp.mpf(0)), mp.mpf(2)) / 2,
    d1=lambda x: box(x, -1, 1, False) / 2,
    d2=lambda x: mp.mpf(0),
    kinks=(-1.0, 1.0),
  ),
)
def sparse_sigmoid(x: ArrayLike) -> jax.Array:
  r"""Sparse sigmoid, drop-in for ``jax.nn.sparse_sigmoid``.

  .. math::
    \mathrm{sparse\_sigmoid}(x) = \tfrac{1}{2}\,\mathrm{clip}(x + 1, 0, 2)

  The derivative is taken from the input, not from a rounded :math:`x + 1`: in
  bfloat16 ``jax.nn`` gives 0.25 at :math:`x = 1.0078125` (exact 0). Convention:
  derivative 0 at :math:`x = \pm 1`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: The derivatives are exact up to one rounding.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.sparse_sigmoid(jnp.array([-2.0, 0.0, 0.5], dtype=jnp.float32))
    Array([0.  , 0.5 , 0.75], dtype=float32)
  """
  x = checks.received(x)
  return _sparse_sigmoid(x)


@activation(
  derivative=sparse_sigmoid_kernel,
  family="hard",
  formula="0 if x <= -1, (x + 1)^2 / 4 if -1 < x < 1, x if x >= 1",
  output_range="[0, inf)",
  monotonic=True,
  smoothness="C^1",
  zero_centred=False,
  bounded=False,
  conventions="sparse_plus'' = 1/2 on the open (-1, 1), 0 at x = +-1 and outside.",
  references=("Blondel, Martins, Niculae 2020, JMLR 21(35)",),
  exact=Reference(
    f=lambda x: mp.mpf(0) if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4),
    d1=lambda x: min(max(x + 1, mp.mpf(0)), mp.mpf(2)) / 2,
    d2=lambda x: box(x, -1, 1, False) / 2,
    kinks=(-1.0, 1.0),
  ),
)
def sparse_plus(x: ArrayLike) -> jax.Array:
  r"""Sparse plus, drop-in for ``jax.nn.sparse_plus``.

  .. math::
    \mathrm{sparse\_plus}(x) = \begin{cases} 0 & x \le -1 \\ \tfrac14 (x + 1)^2 & -1 < x < 1 \\
    x & x \ge 1 \end{cases}, \qquad \mathrm{sparse\_plus}' = \mathrm{sparse\_sigmoid}

  The quadratic branch is evaluated on the clipped input only, so it never
  overflows (``jax.nn``: NaN gradient at 40000 in float16).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: The derivatives are exact up to one rounding.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.sparse_plus(jnp.array([-2.0, 0.0, 3.0], dtype=jnp.float32))
    Array([0.  , 0.25, 3.  ], dtype=float32)
  """
  x = checks.received(x)
  c = jnp.clip(x, -1.0, 1.0) + 1.0
  return stable.keep_nan(x, jnp.where(x >= 1.0, x, jnp.where(x > -1.0, c * c / 4.0, 0.0)))
