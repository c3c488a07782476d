"""Rectifiers: piecewise-linear units with a kink at 0."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxact._src import checks, sharding, stable
from jaxact._src.core import activation, registered, stable_kernel
from jaxact._src.exact import Reference, box, mp, pos, step


def _leaky_step(x: jax.Array, slope: jax.Array) -> jax.Array:
  # 1 for x >= 0, slope for x < 0, NaN for NaN.
  return jnp.where(x >= 0, jnp.ones_like(x), jnp.where(x < 0, slope, x))


def _leaky_step_dslope(x: jax.Array, slope: jax.Array) -> jax.Array:
  return jnp.where(x < 0, jnp.ones_like(x), stable.zero_like(x))


leaky_step = stable_kernel(
  _leaky_step, derivative=stable.zero_partial, param_derivatives={"slope": _leaky_step_dslope}
)


def _leaky_dslope(x: jax.Array, slope: jax.Array) -> jax.Array:
  return jnp.where(x >= 0, jnp.zeros_like(x), x)


leaky_dslope = stable_kernel(
  _leaky_dslope, derivative=_leaky_step_dslope, param_derivatives={"slope": stable.zero_partial}
)


def _leaky(x: jax.Array, slope: jax.Array) -> jax.Array:
  return jnp.where(x >= 0, x, slope * x)


_LEAKY_CONVENTIONS = (
  "At x = 0 the right branch is used: derivative 1 (as jax.nn.leaky_relu); the second "
  "derivative is 0 everywhere. NaN gives NaN for the value and every derivative."
)


@activation(
  derivative=stable.step,
  keep_integers=True,
  family="rectifiers",
  formula="max(x, 0)",
  output_range="[0, inf)",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=False,
  conventions=(
    "relu'(0) = 0 (as jax.nn.relu and PyTorch); relu'' = 0 everywhere. NaN gives NaN for "
    "the value and every derivative (jax.nn: relu'(NaN) = 0). Integer input stays integer."
  ),
  references=("Nair, Hinton 2010; Glorot, Bordes, Bengio 2011",),
  exact=Reference(
    f=lambda x: max(x, mp.mpf(0)),
    d1=lambda x: step(x, 0),
    d2=lambda x: mp.mpf(0),
  ),
)
def relu(x: ArrayLike) -> jax.Array:
  r"""Rectified linear unit, drop-in for ``jax.nn.relu``.

  .. math::
    \mathrm{relu}(x) = \max(x, 0), \qquad
    \mathrm{relu}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}

  Convention at the kink: :math:`\mathrm{relu}'(0) = 0`, as ``jax.nn.relu`` and
  PyTorch. The derivative of NaN is NaN (``jax.nn.relu`` returns 0). Integer and
  bool input give integer output, as ``jax.nn.relu``.

  Args:
    x: input array.

  Returns:
    An array of the same shape and dtype.

  Accuracy: exact (0 ULP) for the value and both derivatives.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.relu(jnp.array([-1.0, 0.0, 2.0], dtype=jnp.float32))
    Array([0., 0., 2.], dtype=float32)
  """
  x = checks.received(x)
  return jnp.maximum(x, 0)


@activation(
  derivative=leaky_step,
  param_derivatives={"negative_slope": leaky_dslope},
  family="rectifiers",
  formula="x if x >= 0 else negative_slope * x",
  output_range="(-inf, inf) for negative_slope > 0",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=False,
  conventions=_LEAKY_CONVENTIONS + " Default slope 0.01 (as jax.nn, PyTorch; Keras: 0.3).",
  references=("Maas, Hannun, Ng 2013",),
  exact=Reference(
    f=lambda x, negative_slope: x if x >= 0 else negative_slope * x,
    d1=lambda x, negative_slope: mp.mpf(1) if x >= 0 else negative_slope,
    d2=lambda x, negative_slope: mp.mpf(0),
  ),
)
def leaky_relu(x: ArrayLike, negative_slope: ArrayLike = 0.01) -> jax.Array:
  r"""Leaky rectified linear unit, drop-in for ``jax.nn.leaky_relu``.

  .. math::
    \mathrm{leaky\_relu}(x) = \begin{cases} x & x \ge 0 \\ s\,x & x < 0 \end{cases}

  Convention at the kink: derivative 1 at 0 (the right branch), as
  ``jax.nn.leaky_relu``. Default slope :math:`s = 0.01` as ``jax.nn`` and PyTorch
  (Keras' ``LeakyReLU`` defaults to 0.3). Differentiable in ``negative_slope``.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    negative_slope: slope for :math:`x < 0`; a scalar or an array that broadcasts
      to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value within 0.5 ULP (one rounding), derivatives exact.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.leaky_relu(jnp.array([-2.0, 0.0, 2.0], dtype=jnp.float32))
    Array([-0.02,  0.  ,  2.  ], dtype=float32)
  """
  x, negative_slope = checks.received(x, negative_slope)
  return _leaky(x, negative_slope)


@activation(
  derivative=leaky_step,
  param_derivatives={"alpha": leaky_dslope},
  family="rectifiers",
  formula="x if x >= 0 else alpha * x, alpha learned (per channel)",
  output_range="(-inf, inf) for alpha > 0",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=False,
  conventions=_LEAKY_CONVENTIONS + " alpha has no default (PyTorch initialises it to 0.25).",
  references=("He, Zhang, Ren, Sun 2015, arXiv:1502.01852",),
  exact=Reference(
    f=lambda x, alpha: x if x >= 0 else alpha * x,
    d1=lambda x, alpha: mp.mpf(1) if x >= 0 else alpha,
    d2=lambda x, alpha: mp.mpf(0),
    params={"alpha": 0.25},
  ),
)
def prelu(x: ArrayLike, alpha: ArrayLike) -> jax.Array:
  r"""Parametric ReLU: a leaky ReLU whose slope is a learned parameter.

  .. math::
    \mathrm{prelu}(x, \alpha) = \begin{cases} x & x \ge 0 \\ \alpha x & x < 0 \end{cases}
    \qquad \frac{\partial}{\partial \alpha} = \begin{cases} 0 & x \ge 0 \\ x & x < 0 \end{cases}

  ``alpha`` is an ordinary differentiable argument: a scalar, or one slope per
  channel (shape ``(C,)`` for ``x`` of shape ``(..., C)``), or any shape that
  broadcasts to ``x``; its gradient is summed over the broadcast axes. With
  ``alpha = 0.01`` it equals :func:`leaky_relu`. Convention at 0: derivative 1.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    alpha: the slopes; must broadcast to ``x.shape`` (``ValueError`` otherwise).

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value within 0.5 ULP (one rounding), derivatives exact.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> x = jnp.array([[-1.0, -1.0], [2.0, 2.0]], dtype=jnp.float32)
    >>> jaxact.prelu(x, jnp.array([0.1, 0.2], dtype=jnp.float32))
    Array([[-0.1, -0.2],
           [ 2. ,  2. ]], dtype=float32)
  """
  x, alpha = checks.received(x, alpha)
  return _leaky(x, alpha)


_open_06 = stable.interval(0.0, 6.0)


@activation(
  derivative=_open_06,
  family="rectifiers",
  formula="min(max(x, 0), 6)",
  output_range="[0, 6]",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=True,
  conventions="relu6'(x) = 1 on the open (0, 6), 0 at x = 0 and x = 6 and outside (as jax.nn).",
  references=("Krizhevsky 2010; Howard et al. 2017, arXiv:1704.04861",),
  exact=Reference(
    f=lambda x: min(max(x, mp.mpf(0)), mp.mpf(6)),
    d1=lambda x: box(x, 0, 6, False),
    d2=lambda x: mp.mpf(0),
    kinks=(0.0, 6.0),
  ),
)
def relu6(x: ArrayLike) -> jax.Array:
  r"""ReLU capped at 6, drop-in for ``jax.nn.relu6``.

  .. math::
    \mathrm{relu6}(x) = \min(\max(x, 0), 6)

  Convention at the kinks: derivative 0 at :math:`x = 0` and :math:`x = 6`, as
  ``jax.nn``. The derivative of NaN is NaN.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: exact (the value and both derivatives).

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.relu6(jnp.array([-1.0, 3.0, 7.0], dtype=jnp.float32))
    Array([0., 3., 6.], dtype=float32)
  """
  x = checks.received(x)
  return jnp.minimum(jnp.maximum(x, 0.0), 6.0)


@activation(
  derivative=stable.one,
  family="rectifiers",
  formula="x",
  output_range="(-inf, inf)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=True,
  bounded=False,
  conventions="identity' = 1 and identity'' = 0 everywhere; NaN for NaN, as every jaxact derivative.",
  exact=Reference(f=lambda x: x, d1=lambda x: mp.mpf(1), d2=lambda x: mp.mpf(0)),
)
def identity(x: ArrayLike) -> jax.Array:
  r"""The identity, drop-in for ``jax.nn.identity``.

  .. math::
    \mathrm{identity}(x) = x

  Args:
    x: input array.

  Returns:
    ``x`` with the dtype policy applied (bool and integers promoted to float).

  Accuracy: exact.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.identity(jnp.array([-1.0, 3.0], dtype=jnp.float32))
    Array([-1.,  3.], dtype=float32)
  """
  x = checks.received(x)
  return x


# max(x, 0) and max(x, 0)^2 as kernels of a float x, for the derivatives below (relu
# itself keeps integers, so its forward compares with an integer 0).
def _relu_float(x: jax.Array) -> jax.Array:
  return jnp.maximum(x, 0.0)


relu_float = stable_kernel(_relu_float, derivative=stable.step)


def _squared_relu_d1(x: jax.Array) -> jax.Array:
  return 2.0 * relu_float(x)


def _squared_relu(x: jax.Array) -> jax.Array:
  r = jnp.maximum(x, 0.0)
  return r * r


squared_relu_kernel = stable_kernel(_squared_relu, derivative=_squared_relu_d1)


# Without the barrier on the derivative (see stable_kernel): the derivative 2 max(x, 0)
# shares nothing costly with the value, and in a transformer's MLP (x of shape
# (batch, tokens, width)) the barrier made XLA write the backward product transposed
# and keep one more array per block: benchmarks/models.py's GPT step 1.07-1.09x of
# relu(x) ** 2 with it (--barrier on), 0.98-1.00x without, peak memory 62.3 and
# 61.3 MiB (61.3 for relu(x) ** 2). tests/test_mechanism.py asserts the memory side.
@activation(
  derivative=_squared_relu_d1,
  separate_derivative=False,
  family="rectifiers",
  formula="max(x, 0)^2",
  output_range="[0, inf)",
  monotonic=True,
  smoothness="C^1",
  zero_centred=False,
  bounded=False,
  conventions="f' = 2 max(x, 0); f''(x) = 2 for x > 0, 0 for x <= 0 (f''(0) = 0, the left branch).",
  references=("So et al. 2021, Primer, arXiv:2109.08668",),
  exact=Reference(
    f=lambda x: pos(x) ** 2,
    d1=lambda x: 2 * pos(x),
    d2=lambda x: 2 * step(x, 0),
  ),
)
def squared_relu(x: ArrayLike) -> jax.Array:
  r"""Squared ReLU (Primer).

  .. math::
    \mathrm{squared\_relu}(x) = \max(x, 0)^2, \qquad f'(x) = 2 \max(x, 0)

  Convention at the kink of the second derivative: :math:`f''(0) = 0`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value within 0.5 ULP (one rounding), derivatives exact.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.squared_relu(jnp.array([-1.0, 0.5, 3.0], dtype=jnp.float32))
    Array([0.  , 0.25, 9.  ], dtype=float32)
  """
  x = checks.received(x)
  return _squared_relu(x)


def _star_d1(x: jax.Array, scale: jax.Array) -> jax.Array:
  return (2.0 * scale) * jnp.maximum(x, 0.0)


def _star_d2(x: jax.Array, scale: jax.Array) -> jax.Array:
  return (2.0 * scale) * stable.step(x)


def _star_d1_dscale(x: jax.Array, scale: jax.Array) -> jax.Array:
  return _squared_relu_d1(x)


star_d1 = stable_kernel(_star_d1, derivative=_star_d2, param_derivatives={"scale": _star_d1_dscale})


def _star_d1_of_x_scale(x: jax.Array, scale: jax.Array, bias: jax.Array) -> jax.Array:
  return star_d1(x, scale)


def _star_dscale(x: jax.Array, scale: jax.Array, bias: jax.Array) -> jax.Array:
  return squared_relu_kernel(x)


@activation(
  derivative=_star_d1_of_x_scale,
  param_derivatives={"scale": _star_dscale, "bias": stable.one_partial},
  family="rectifiers",
  formula="scale * max(x, 0)^2 + bias",
  output_range="[bias, inf) for scale > 0",
  monotonic=True,
  smoothness="C^1",
  zero_centred=False,
  bounded=False,
  conventions=(
    "f' = 2 scale max(x, 0); f''(0) = 0 (the left branch). Defaults scale = 0.8944, "
    "bias = -0.4472 (MetaFormer: 1/sqrt(1.25) and -0.5/sqrt(1.25), rounded). Both are "
    "differentiable and broadcast per channel."
  ),
  references=("Yu et al. 2022, MetaFormer Baselines for Vision, arXiv:2210.13452",),
  exact=Reference(
    f=lambda x, scale, bias: scale * pos(x) ** 2 + bias,
    d1=lambda x, scale, bias: 2 * scale * pos(x),
    d2=lambda x, scale, bias: 2 * scale * step(x, 0),
    kinks=(0.0, 0.70710678),
    also=({"scale": 1.5, "bias": 0.1},),
  ),
)
def star_relu(x: ArrayLike, *, scale: ArrayLike = 0.8944, bias: ArrayLike = -0.4472) -> jax.Array:
  r"""StarReLU (MetaFormer): a scaled and shifted squared ReLU.

  .. math::
    \mathrm{star\_relu}(x) = s \max(x, 0)^2 + b

  The sum is formed in double-word arithmetic, so the value keeps its relative
  accuracy next to its zero (:math:`x = \sqrt{-b/s}`, 0.7071 at the defaults)
  where ``s x^2`` and ``b`` cancel. ``s x^2`` is formed as ``(s x) x``, so it
  overflows only where the exact value does.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    scale: keyword-only, differentiable, broadcasts to ``x`` (one per channel).
    bias: keyword-only, differentiable, broadcasts to ``x``.

  Returns:
    An array of the same shape and dtype as ``x``.

  Accuracy: value within 1 ULP; f' within 0.5 ULP; f'' exact.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.star_relu(jnp.array([-1.0, 1.0], dtype=jnp.float32))
    Array([-0.4472,  0.4472], dtype=float32)
  """
  x, scale, bias = checks.received(x, scale, bias)
  r = jnp.maximum(x, 0.0)
  a, a_lo = stable.two_prod(jnp.broadcast_to(scale, r.shape), r)
  q, q_lo = stable.two_prod(a, r)
  t, t_lo = stable.two_sum(q, jnp.broadcast_to(bias, q.shape))
  y = t + (t_lo + (q_lo + a_lo * r))
  return jnp.where(jnp.isfinite(t), y, t)


_RRELU_DOC_CONVENTIONS = (
  "Evaluation (training=False): leaky_relu with slope (lower + upper) / 2. Training: one "
  "slope per element drawn uniformly from [lower, upper) with `key` (a clear error without "
  "one). f'(0) = 1 (the right branch, as leaky_relu); f'' = 0. lower and upper are "
  "differentiable. Defaults 1/8 and 1/3 as PyTorch. lower > upper: ValueError for Python or "
  "NumPy numbers, NaN where JAX arrays have it."
)


@registered(
  kind="elementwise",
  family="rectifiers",
  formula="x if x >= 0 else a x, a ~ U[lower, upper) (training) or (lower + upper) / 2",
  output_range="(-inf, inf)",
  monotonic=True,
  smoothness="C^0",
  zero_centred=False,
  bounded=False,
  conventions=_RRELU_DOC_CONVENTIONS,
  references=("Xu et al. 2015, arXiv:1505.00853; PyTorch torch.nn.RReLU",),
  exact=Reference(
    f=lambda x, lower, upper: x if x >= 0 else (lower + upper) / 2 * x,
    d1=lambda x, lower, upper: mp.mpf(1) if x >= 0 else (lower + upper) / 2,
    d2=lambda x, lower, upper: mp.mpf(0),
  ),
)
def rrelu(
  x: ArrayLike,
  *,
  key: jax.Array | None = None,
  lower: ArrayLike = 1.0 / 8.0,
  upper: ArrayLike = 1.0 / 3.0,
  training: bool = False,
) -> jax.Array:
  r"""Randomised leaky ReLU, as PyTorch's ``rrelu``.

  .. math::
    \mathrm{rrelu}(x) = \begin{cases} x & x \ge 0 \\ a x & x < 0 \end{cases}, \qquad
    a \sim U[l, u) \text{ per element (training)}, \quad a = \tfrac{l + u}{2} \text{ (evaluation)}

  In training the slopes are drawn from ``key`` (``jax.random``), one per element
  of ``x``: the same key gives the same slopes, so a step can be replayed. The
  slope enters as :func:`leaky_relu`'s ``negative_slope``, so the derivatives are
  leaky_relu's, exact.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    key: keyword-only ``jax.random`` key; required when ``training`` is true.
    lower: keyword-only lower bound of the slope (default 1/8), differentiable.
    upper: keyword-only upper bound of the slope (default 1/3), differentiable.
    training: keyword-only; draw random slopes (``True``) or use their mean.

  Returns:
    An array of the same shape and dtype as ``x``.

  Raises:
    ValueError: ``training`` is true and ``key`` is ``None``, or ``lower > upper``
      given as Python or NumPy numbers (where JAX arrays have ``lower > upper``, the
      result and its derivatives are NaN).
    TypeError: ``key`` is not a ``jax.random`` key.

  Accuracy: value within 0.5 ULP (one rounding), derivatives exact.

  Examples:
    >>> import jax, jax.numpy as jnp, jaxact
    >>> jaxact.rrelu(jnp.array([-2.0, 3.0], dtype=jnp.float32))
    Array([-0.45833334,  3.        ], dtype=float32)
  """
  checks.check_input("rrelu", x)
  checks.check_param("rrelu", "lower", lower)
  checks.check_param("rrelu", "upper", upper)
  if not isinstance(training, bool):
    raise TypeError(f"jaxact.rrelu: training must be a bool, got {type(training).__name__}")
  for pname, p in (("lower", lower), ("upper", upper)):
    checks.check_broadcast("rrelu", pname, jnp.shape(x), jnp.shape(p))
  if not isinstance(lower, jax.Array) and not isinstance(upper, jax.Array):
    if not np.all(np.asarray(lower, np.float64) <= np.asarray(upper, np.float64)):
      raise ValueError(f"jaxact.rrelu: lower must be at most upper, got lower={lower!r}, upper={upper!r}")
  if training and key is None:
    raise ValueError("jaxact.rrelu: training=True draws random slopes and needs a key (jax.random.key)")
  if key is not None:  # checked in evaluation too, where it is not used
    checks.check_key("rrelu", key)
  x = checks.as_input(x)
  lower, upper = jnp.asarray(lower), jnp.asarray(upper)
  return _rrelu(x, lower, upper, key, training)


def _rrelu(x: jax.Array, lower: jax.Array, upper: jax.Array, key: jax.Array | None, training: bool):
  if jnp.issubdtype(x.dtype, jnp.floating):
    x = checks.nan_outside(x, lower <= upper)  # a JAX array lower > upper: NaN there
  if not training:
    return leaky_relu(x, (lower + upper) / 2.0)
  ctype = checks.compute_dtype(x.dtype)
  lo, hi = checks.as_param(lower, ctype), checks.as_param(upper, ctype)
  assert key is not None  # rrelu requires one when training
  u = jax.random.uniform(key, x.shape, ctype, out_sharding=sharding.explicit_spec(x))
  return leaky_relu(x, lo + (hi - lo) * u)


_rrelu.__name__ = _rrelu.__qualname__ = "rrelu"  # jaxprs, HLO and profiles say "rrelu"
_rrelu = jax.jit(_rrelu, static_argnames=("training",))
