"""Sigmoidal activations: bounded, smooth, S-shaped."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxact._src import stable
from jaxact._src.core import activation, stable_kernel


@activation(
  derivative=lambda x: stable.sigmoid_prime(x),
  family="sigmoidal",
  aliases=("logistic",),
  formula="1 / (1 + exp(-x))",
  output_range="(0, 1)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=False,
  bounded=True,
  conventions="sigmoid(-inf) = 0, sigmoid(+inf) = 1; derivatives 0 at +-inf.",
  references=("Verhulst 1838; the logistic function",),
)
def sigmoid(x: jax.Array) -> jax.Array:
  r"""Logistic sigmoid, drop-in for ``jax.nn.sigmoid``.

  .. math::
    \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad
    \sigma'(x) = \frac{e^{-|x|}}{(1 + e^{-|x|})^2}, \qquad
    \sigma''(x) = -\sigma'(x) \tanh(x/2).

  The derivatives are computed in these forms, never as :math:`\sigma(1-\sigma)`,
  so they keep full relative accuracy in both tails (``jax.nn.sigmoid``'s gradient
  is 0 from x = 16.6 in float32; the exact value at 20 is 2.06e-9).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32 and
  float64; <= 1, 1, 2 ULP in float16 and bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.sigmoid(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([0.26894143, 0.5       , 0.7310586 ], dtype=float32)
  """
  return stable.sigmoid(x)


@activation(
  derivative=lambda x: stable.sech2(x),
  family="sigmoidal",
  formula="(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
  output_range="(-1, 1)",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=True,
  bounded=True,
  conventions="tanh(+-inf) = +-1; derivatives 0 at +-inf.",
)
def tanh(x: jax.Array) -> jax.Array:
  r"""Hyperbolic tangent, drop-in for ``jax.nn.tanh`` (``jnp.tanh``).

  .. math::
    \tanh x = \operatorname{sign}(x) \frac{1 - e^{-2|x|}}{1 + e^{-2|x|}}, \qquad
    \tanh' x = \operatorname{sech}^2 x = \frac{4 e^{-2|x|}}{(1 + e^{-2|x|})^2}, \qquad
    \tanh'' x = -2 \tanh x \operatorname{sech}^2 x.

  For small :math:`|x|` the value is :math:`-m/(2+m)` with :math:`m =
  \operatorname{expm1}(-2|x|)`. The derivative is never :math:`1 - \tanh^2 x`,
  which is 0 from x = 8.5 in float32 (exact 1.66e-7 there).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32 and
  float64; <= 1, 1, 2 ULP in float16 and bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.tanh(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.7615942,  0.       ,  0.7615942], dtype=float32)
  """
  return stable.tanh(x)


def _r4x6(x: jax.Array) -> jax.Array:
  r = 1.0 / (1.0 + jnp.abs(x))
  return (((6.0 * r) * r) * r) * r


def _soft_sign_prime(x: jax.Array) -> jax.Array:
  r = 1.0 / (1.0 + jnp.abs(x))
  return r * r


def _soft_sign_curve(x: jax.Array) -> jax.Array:
  # -2 sign(x) / (1 + |x|)^3, 0 at x = 0 (the mean of the one-sided limits +-2).
  r = 1.0 / (1.0 + jnp.abs(x))
  # (2r) r r: r^3 alone is subnormal where the result is not (|x| ~ 5e12 in float32).
  return -jnp.sign(x) * (((2.0 * r) * r) * r)


soft_sign_curve = stable_kernel(
  _soft_sign_curve,
  derivative=lambda x: jnp.abs(jnp.sign(x)) * (_r4x6(x)),
)
soft_sign_prime = stable_kernel(_soft_sign_prime, derivative=lambda x: soft_sign_curve(x))


@activation(
  derivative=lambda x: soft_sign_prime(x),
  family="sigmoidal",
  formula="x / (1 + |x|)",
  output_range="(-1, 1)",
  monotonic=True,
  smoothness="C^1",
  zero_centred=True,
  bounded=True,
  conventions=(
    "soft_sign(+-inf) = +-1 (jax.nn: NaN). soft_sign'' jumps at 0 (from +2 to -2): "
    "soft_sign''(0) = 0, the mean."
  ),
  references=("Turian, Bergstra, Bengio 2009",),
)
def soft_sign(x: jax.Array) -> jax.Array:
  r"""Soft sign, drop-in for ``jax.nn.soft_sign``.

  .. math::
    \mathrm{soft\_sign}(x) = \frac{x}{1 + |x|}, \qquad
    \mathrm{soft\_sign}'(x) = \frac{1}{(1 + |x|)^2}

  For :math:`|x| > 1` the value is :math:`\operatorname{sign}(x)/(1 + 1/|x|)`, so
  :math:`\pm\infty` gives :math:`\pm 1` (``jax.nn``: NaN), and the derivative is
  computed directly (``jax.nn``'s is 0 at 1e8 in float32, exact 1e-16).
  Convention: :math:`\mathrm{soft\_sign}''(0) = 0`.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype.

  Accuracy: value <= 4 ULP, first derivative <= 8, second <= 16 in float32/float64;
  1, 1, 2 ULP in float16/bfloat16 (the tests assert it).

  Example:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.soft_sign(jnp.array([-1.0, 0.0, jnp.inf], dtype=jnp.float32))
    Array([-0.5,  0. ,  1. ], dtype=float32)
  """
  a = jnp.abs(x)
  return jnp.where(a > 1.0, jnp.sign(x) / (1.0 + 1.0 / a), x / (1.0 + a))
