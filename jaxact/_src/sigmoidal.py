"""Sigmoidal activations: bounded, smooth, S-shaped."""

from __future__ import annotations

import jax

from jaxact._src import stable
from jaxact._src.core import activation


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
