"""mish = x tanh(softplus(x))."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxact._src import checks, gate, smooth, stable
from jaxact._src.core import activation, stable_kernel
from jaxact._src.exact import Reference, mp, sig, sp

# mish = x tanh(softplus(x)). With e = exp(-|x|): for x <= 0, tanh(softplus x) =
# e (2 + e) / D, D = 2 + 2e + e^2; for x > 0, (1 + 2e) / D', D' = 1 + 2e + 2e^2.
# Below -c the factor e is shifted by e^c (it would be subnormal while x e is not),
# and e's higher powers, negligible there, are dropped.
_MISH_CLAMP = 1e4


def _mish_parts(x: jax.Array, split: bool = False):
  # split (the value, float64): e from stable.exp_split, and its relative rounding
  # error rel (else None), for the factor e of the numerator.
  xc = jnp.clip(x, -_MISH_CLAMP, _MISH_CLAMP)
  if split and xc.dtype == np.dtype(np.float64):
    arg, low = stable.neg_abs_shifted(xc)
    e, rel = stable.exp_split(arg)  # shifted where low
  else:
    e, low = stable.exp_neg_abs_shifted(xc)  # shifted where low
    rel = None
  ed = jnp.where(low, 0.0, e)  # e, where it is not negligible next to 1
  d_neg = 2.0 + ed * (2.0 + ed)
  d_pos = 1.0 + 2.0 * ed * (1.0 + ed)
  return xc, e, ed, low, d_neg, d_pos, rel


def _mish_d2(x: jax.Array) -> jax.Array:
  # mish'' = sech^2(softplus x) sigma(x) g, g = 2 + x (sigma(-x) - 2 tanh(softplus x) sigma(x)),
  # g vanishing at 1.4906 and -2.2564 (Taylor series there). The prefactor is
  # 4 e (1 + e) / D^2 (x <= 0) and 4 e^2 (1 + e) / D'^2 (x > 0).
  xc, e, ed, low, d_neg, d_pos, _ = _mish_parts(x)
  neg = xc <= 0
  inv = 1.0 / (1.0 + ed)
  s_pos = jnp.where(neg, ed * inv, inv)
  s_neg = jnp.where(neg, inv, ed * inv)
  t = jnp.where(neg, ed * (2.0 + ed) / d_neg, (1.0 + 2.0 * ed) / d_pos)
  g = 2.0 + xc * (s_neg - 2.0 * t * s_pos)
  near_pos, series_pos = stable.near_zero("mish_d2_pos", xc)
  near_neg, series_neg = stable.near_zero("mish_d2_neg", xc)
  g = jnp.where(near_pos, series_pos, jnp.where(near_neg, series_neg, g))
  c = stable.scaling.shift(x.dtype)
  low2 = 2.0 * xc > c
  e2 = jnp.exp(jnp.where(low2, c - 2.0 * xc, -2.0 * xc))  # e^2 for x > 0, shifted
  p_neg = 4.0 * e * (1.0 + ed) / (d_neg * d_neg)
  p_pos = 4.0 * e2 * (1.0 + ed) / (d_pos * d_pos)
  y = jnp.where(neg, p_neg, p_pos) * g
  return jnp.where(low | (low2 & ~neg), y * stable.scaling.exp_neg_shift(x.dtype), y)


def _mish_d2_twin(x: jax.Array) -> jax.Array:
  # mish = x t, t = tanh(softplus x), t' = sech^2(softplus x) sigma(x):
  # mish'' = 2 t' + x t'', t'' = tanh''(softplus x) sigma^2 + sech^2(softplus x) sigma'.
  sp, sig = smooth.softplus1(x), stable.sigmoid(x)
  t1 = stable.sech2(sp) * sig
  t2 = stable.tanh_d2(sp) * (sig * sig) + stable.sech2(sp) * stable.sigmoid_d1(x)
  return 2.0 * t1 + gate.finite(x) * t2


mish_d2 = stable.with_twin(_mish_d2, _mish_d2_twin)


def _mish_d1(x: jax.Array) -> jax.Array:
  # x <= 0: e / D^2 ((2 + e) D + 4 x (1 + e)), the factor vanishing at -1.1924
  # (Taylor series there); x > 0: ((1 + 2e) D' + 4 x e^2 (1 + e)) / D'^2, no cancellation.
  xc, e, ed, low, d_neg, d_pos, _ = _mish_parts(x)
  g = (2.0 + ed) * d_neg + 4.0 * xc * (1.0 + ed)
  near, series = stable.near_zero("mish_d1", xc)
  g = jnp.where(near, series, g)
  y_neg = e / (d_neg * d_neg) * g
  y_neg = jnp.where(low, y_neg * stable.scaling.exp_neg_shift(x.dtype), y_neg)
  y_pos = ((1.0 + 2.0 * ed) * d_pos + 4.0 * xc * (ed * ed) * (1.0 + ed)) / (d_pos * d_pos)
  return jnp.where(xc <= 0, y_neg, y_pos)


mish_d1 = stable_kernel(_mish_d1, derivative=mish_d2)


def _exact_mish(x):
  if mp.isinf(x):
    return x if x > 0 else mp.mpf(0)
  return x * mp.tanh(sp(x))


def _exact_mish_d1(x):
  if mp.isinf(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)
  t = mp.tanh(sp(x))
  return t + x * mp.sech(sp(x)) ** 2 * sig(x)


def _exact_mish_d2(x):
  if mp.isinf(x):
    return mp.mpf(0)
  t = mp.tanh(sp(x))
  # sech^2(softplus x) = 1 - t^2, written without cancellation for large x.
  sech2 = mp.sech(sp(x)) ** 2
  return sech2 * sig(x) * (2 + x * (sig(-x) - 2 * t * sig(x)))


@activation(
  derivative=mish_d1,
  family="gates",
  formula="x * tanh(softplus(x))",
  output_range="[-0.3088, inf)",
  monotonic=False,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions="mish(-inf) = 0 (jax.nn: NaN), mish'(+inf) = 1, mish''(+-inf) = 0.",
  references=("Misra 2019, arXiv:1908.08681",),
  exact=Reference(f=_exact_mish, d1=_exact_mish_d1, d2=_exact_mish_d2),
)
def mish(x: ArrayLike) -> jax.Array:
  r"""Mish, drop-in for ``jax.nn.mish``.

  .. math::
    \mathrm{mish}(x) = x \tanh(\operatorname{softplus}(x)) =
    \begin{cases} x\,\dfrac{e(2 + e)}{2 + 2e + e^2} & x \le 0 \\[1ex]
    x\,\dfrac{1 + 2e}{1 + 2e + 2e^2} & x > 0 \end{cases}, \quad e = e^{-|x|}

  One exponential, no ``tanh`` of a ``softplus``; the derivatives are rational in
  :math:`e` with their factors' zeros (:math:`x = -1.1924` for mish′, 1.4906 and
  -2.2564 for mish″) evaluated from Taylor series. Results that are normal numbers
  are computed without subnormal intermediates (``mish(-89.)`` in float32).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.mish(jnp.array([-1.0, 0.0, 1.0], dtype=jnp.float32))
    Array([-0.30340147,  0.        ,  0.8650984 ], dtype=float32)
  """
  x = checks.received(x)
  xc, e, ed, low, d_neg, d_pos, rel = _mish_parts(x, split=True)
  # One quotient of selected parts, scaled before the division: with a quotient per
  # branch, or the scaling after it, XLA's CPU backend writes the exponential and the
  # quotient out (three passes over memory instead of one; 2x the time). In float64
  # the rounding error of e goes into the factor 2 + e (with XLA's exp alone the value
  # is 4.23 ULP off at x = -5.0973).
  neg = xc <= 0
  f = 2.0 + ed
  if rel is not None:
    f = f + f * rel
  num = jnp.where(neg, e * f, 1.0 + 2.0 * ed)
  scale = jnp.where(low, stable.scaling.exp_neg_shift(x.dtype), 1.0)
  return ((jnp.where(neg, xc, x) * num) * scale) / jnp.where(neg, d_neg, d_pos)
