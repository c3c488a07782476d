"""lisht = x tanh(x), the gate of ``gate.py`` at k = 2 in its second derivative."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxact._src import checks, gate, stable
from jaxact._src.core import activation, stable_kernel
from jaxact._src.exact import Reference, mp


def _lisht_d2(x: jax.Array) -> jax.Array:
  # d^2/dx^2 x tanh x = 2 sech^2 x (1 - x tanh x) = 4 sigma'(z) (2 - z tanh(z / 2))
  # with z = 2x (exact): sech^2 x = 4 sigma'(2x), and 2 (1 - x tanh x) is silu's
  # factor 2 - z tanh(z / 2), with its root series at z = +-2.3994 (x = +-1.1997).
  z = 2.0 * x
  g = gate.g2(z, jnp.zeros_like(z))
  return stable.sigmoid_d1_times(z, jnp.where(jnp.isinf(z), 0.0, g), m2=4.0)


def _lisht_d2_twin(x: jax.Array) -> jax.Array:
  return gate.d2_twin(2.0 * x, 4.0)


lisht_d2 = stable.with_twin(_lisht_d2, _lisht_d2_twin)


def _lisht_d1(x: jax.Array) -> jax.Array:
  # tanh x + x sech^2 x: two terms of the same sign. In the tail x sech^2 x =
  # 4 x sigma'(2x), scaled where sigma'(2x) alone would be subnormal; near 0 as
  # x sech^2 x, with no intermediate (x sigma'(2x) ~ x / 4) flushed below x.
  tail = stable.sigmoid_d1_times(2.0 * x, x, m2=4.0)
  return stable.tanh(x) + jnp.where(jnp.abs(x) < 1.0, x * stable.sech2(x), tail)


lisht_d1 = stable_kernel(_lisht_d1, derivative=lisht_d2)


def _exact_lisht_d1(x):
  if mp.isinf(x):
    return mp.sign(x)
  return mp.tanh(x) + x * mp.sech(x) ** 2


def _exact_lisht_d2(x):
  if mp.isinf(x):
    return mp.mpf(0)
  return 2 * mp.sech(x) ** 2 * (1 - x * mp.tanh(x))


@activation(
  derivative=lisht_d1,
  family="gates",
  formula="x * tanh(x)",
  output_range="[0, inf)",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions="lisht(+-inf) = inf; lisht'(+-inf) = +-1, lisht''(+-inf) = 0.",
  references=("Roy et al. 2019, LiSHT, arXiv:1901.05894",),
  exact=Reference(
    f=lambda x: x * mp.tanh(x) if not mp.isinf(x) else abs(x),
    d1=_exact_lisht_d1,
    d2=_exact_lisht_d2,
    kinks=(0.0, -1.19967864, 1.19967864),
  ),
)
def lisht(x: ArrayLike) -> jax.Array:
  r"""LiSHT: the linearly scaled hyperbolic tangent.

  .. math::
    \mathrm{lisht}(x) = x \tanh x, \qquad f'(x) = \tanh x + x\,\mathrm{sech}^2 x, \qquad
    f''(x) = 2\,\mathrm{sech}^2 x\,(1 - x \tanh x)

  The factor :math:`1 - x\tanh x` vanishes at :math:`x = \pm 1.1997`; near there it
  is evaluated from its Taylor series about the zero.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.lisht(jnp.array([-2.0, 0.0, 1.0], dtype=jnp.float32))
    Array([1.9280552, 0.       , 0.7615942], dtype=float32)
  """
  x = checks.received(x)
  return x * stable.tanh(x)
