"""Normalizers: softmax, softmin, log_softmax, logsumexp and logmeanexp along an axis, with masks.

Conventions shared by all three (they are one convention, since the gradient of
logsumexp is softmax):

* ``where=False`` entries are treated as ``-inf``: softmax 0, log_softmax ``-inf``,
  and their gradient is exactly 0 whatever their value (inf, NaN, 1e4).
* an entry of ``-inf`` contributes nothing and gets a zero gradient; a row that is
  all ``-inf`` or fully masked gives softmax 0, log_softmax and logsumexp ``-inf``
  (softmax and logsumexp with zero gradients; a fully masked row's gradient is 0).
* a ``+inf`` entry makes logsumexp ``+inf``; softmax and log_softmax of a row with
  ``+inf`` entries are NaN (as ``jax.nn``): with two or more the limit depends on
  how they grow, so there is no value to return.
* a NaN anywhere in a row makes the whole row NaN.
* reducing an axis of length 0: softmax and log_softmax return the empty input,
  logsumexp returns ``-inf`` (the log of an empty sum).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxact._src import checks, sharding, stable
from jaxact._src.core import normalizer, registered
from jaxact._src.exact import dot, mp

_NORMALIZER_CONVENTIONS = (
  "where=False entries act as -inf: output 0 (softmax) or -inf (log_softmax), gradient "
  "exactly 0 whatever their value. A fully masked or all -inf row gives softmax 0, "
  "log_softmax/logsumexp -inf, and no NaN gradient. A +inf entry gives logsumexp +inf and "
  "a NaN softmax/log_softmax row (as jax.nn). NaN anywhere makes the row NaN."
)


def _empty(x: jax.Array, axis: tuple[int, ...]) -> bool:
  return any(x.shape[a] == 0 for a in axis)


def _masked(x: jax.Array, where: jax.Array | None) -> jax.Array:
  return x if where is None else jnp.where(where, x, -jnp.inf)


def _shift(x: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  """z = x - max(x) along ``axis``; an all ``-inf`` row gives z = -inf (not NaN).

  Arithmetic only, with no select: XLA's CPU backend then fuses the max, the
  exponential, the sums and the output into a single pass, as it does for
  ``jax.nn.softmax``. A row with ``+inf`` entries gives NaN (inf - inf).
  """
  return x - _finite(jnp.max(x, axis, keepdims=True))


def _finite(m: jax.Array) -> jax.Array:
  """A row maximum to shift by: -inf (an all -inf row) becomes the lowest float."""
  return jnp.maximum(m, float(jnp.finfo(m.dtype).min))


def _clamped(m: jax.Array) -> jax.Array:
  """A row maximum to shift a sum of exponentials by: -inf and +inf become the
  lowest and the largest float. Shifted by the largest float, a row with a +inf
  entry sums to +inf, or to NaN if it holds a NaN as well (a +inf shift would make
  every term NaN); the maximum across devices of a row sharded over them can drop a
  NaN, and this sum cannot."""
  info = jnp.finfo(m.dtype)
  return jnp.clip(m, float(info.min), float(info.max))


def _rest(z: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  """sum(exp(z)) along ``axis`` over the entries below the maximum, for shifted z (max
  0): -sum(sign(z) e^z), sign(z) being -1 below the maximum and 0 at it (arithmetic,
  no select, so XLA fuses it with the reduction)."""
  return -jnp.sum(jnp.sign(z) * jnp.exp(z), axis, keepdims=True)


def _count_rest(z: jax.Array, axis: tuple[int, ...]) -> tuple[jax.Array, jax.Array]:
  """sum(exp(z)) along ``axis`` split as (k, rest), for shifted z (max 0).

  k is the number of maxima (z = 0, exp exactly 1) and rest the sum over the
  others, summed apart so that the small terms are not rounded away against the
  1 of the maximum: log(k + rest) = log1p((k - 1) + rest) is 2.06e-9 for
  x = [0, -20], where log(sum(exp(z))) rounds to 0. Arithmetic only, from s =
  sign(z) (-1 below the maximum, 0 at it): rest = -sum(s e^z) and k = n + sum(s)
  for a row of n, so XLA fuses it into the same pass, with no constant or
  indicator written out as an array (its CPU backend writes out what feeds a
  reduction: 1 + s, or a broadcast constant, cost one buffer each). Where n is
  beyond the integers the dtype holds exactly, or not known while tracing (a
  symbolic dimension of jax.export), k is the sum of 1 + s.
  """
  sgn = jnp.sign(z)
  rest = _rest(z, axis)
  n = math.prod(z.shape[a] for a in axis)  # symbolic under jax.export
  if isinstance(n, int) and n <= 2 ** jnp.finfo(z.dtype).nmant:
    k = n + jnp.sum(sgn, axis, keepdims=True)
  else:
    k = jnp.sum(1.0 + sgn, axis, keepdims=True)
  return k, rest


def _log_normalizer(z: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  """log(sum(exp(z))) for shifted z, accurate when it is small; -inf for an all -inf row."""
  k, rest = _count_rest(z, axis)
  return jnp.log1p((k - 1.0) + rest)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _softmax(x: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  return _normalized_exp(_shift(x, axis), axis)


def _normalized_exp(z: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  """exp(z) / sum(exp(z)) along ``axis`` for shifted z (max 0, or an all -inf row)."""
  e = jnp.exp(z)
  if z.dtype == jnp.float64:
    # Summing the maxima apart keeps float64 within 4 ULP on every test row
    # (4.15 ULP otherwise); float32 (and half precision, computed in float32)
    # meets its bounds with the plain sum, which costs a reduction less.
    k, rest = _count_rest(z, axis)
    s = k + rest
  else:
    s = jnp.sum(e, axis, keepdims=True)
  # s >= 1 (the maximum contributes exp(0) = 1) except for an all -inf row, s = 0.
  return e / jnp.maximum(s, 1.0)


def _softmax_tangent(y: jax.Array, t: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  # One residual, y: the tangent is linear in t with y as its only primal input.
  return y * (t - jnp.sum(y * t, axis, keepdims=True))


@_softmax.defjvp
def _softmax_jvp(axis, primals, tangents):
  (x,), (t,) = primals, tangents
  y = _softmax(x, axis)
  return y, _softmax_tangent(y, t, axis)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _softmin(z: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  # softmax(z), z = -x, where +inf entries of z (-inf of x) are tied maxima infinitely
  # above the rest: the row is uniform on them. The tangent is softmax's, from y
  # alone (one residual), which is the limit's: the Jacobian of the uniform softmax
  # over the tied entries. Whether a row has such an entry is read from its maximum,
  # which the shift needs anyway: over a sharded axis, one reduction (and one
  # all-reduce) fewer than testing the entries, as many as jax.nn.softmax. NaN
  # entries stay NaN in the +inf branch: XLA's maximum across devices can drop a
  # NaN, and the row must still come out NaN.
  m = jnp.max(z, axis, keepdims=True)
  top = jnp.where(z == jnp.inf, 0.0, jnp.where(jnp.isnan(z), z, -jnp.inf))
  return _normalized_exp(jnp.where(m == jnp.inf, top, z - _finite(m)), axis)


@_softmin.defjvp
def _softmin_jvp(axis, primals, tangents):
  (z,), (t,) = primals, tangents
  y = _softmin(z, axis)
  return y, _softmax_tangent(y, t, axis)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _log_softmax(x: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  z = _shift(x, axis)
  # The normaliser is >= 0, or -inf for an all -inf row, whose output is z = -inf.
  return z - jnp.maximum(_log_normalizer(z, axis), 0.0)


@_log_softmax.defjvp
def _log_softmax_jvp(axis, primals, tangents):
  (x,), (t,) = primals, tangents
  y = _log_softmax(x, axis)
  p = _softmax(x, axis)
  return y, t - jnp.sum(p * t, axis, keepdims=True)


def _one_pass_suffices(m: jax.Array, r: jax.Array) -> jax.Array:
  """Where the one-pass m + log(...) of logsumexp and logmeanexp is the answer: its
  absolute error, a few units of 2^-p, is under an ULP of |r| >= 2; and a row with
  +-inf or NaN (its max m is not finite; an all -inf row has m = -inf) needs nothing
  more (its result is +-inf or NaN)."""
  return (jnp.abs(r) >= 2.0) | ~jnp.isfinite(m)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _logsumexp(x: jax.Array, axis: tuple[int, ...]) -> jax.Array:
  # A +inf entry gives +inf, NaN if the row holds a NaN as well (r, selected on the
  # reduced result, which keeps the reductions in one fused pass; see _clamped); an
  # all -inf row gives -inf (log1p(-1)).
  m = jnp.max(x, axis, keepdims=True)
  m_shift = _clamped(m)
  # First m + log(s), s = sum(exp(z)) in one fused pass, as jax.nn. Its absolute
  # error is a few units of 2^-p, under an ULP of a result of magnitude >= 2; and
  # where s >= 3/2 log(s) is within about an ULP (relative) itself. A row that is
  # neither needs the rest of the row summed apart from its maximum: it has a single
  # maximum (two would make s >= 2) and finite m, and its result is m + log1p(rest)
  # (_rest), a reduction that XLA fuses with its operands (the count of maxima as a
  # further one had its CPU backend write z and sign(z) out, two buffers more in a
  # training step).
  s = jnp.sum(jnp.exp(x - m_shift), axis, keepdims=True)
  r = m_shift + jnp.log(s)
  ok = _one_pass_suffices(m, r) | (s >= 1.5)

  def rest_apart():
    # (x - m_shift is formed here: passed in, it would be written out.)
    return m_shift + jnp.log1p(_rest(x - m_shift, axis))

  # Only when some row needs it: its care costs about as much again.
  out = sharding.unless_needed((x,), ok, lambda: r, lambda: jnp.where(ok, r, rest_apart()))
  return jnp.where(m == jnp.inf, r, out)


@_logsumexp.defjvp
def _logsumexp_jvp(axis, primals, tangents):
  (x,), (t,) = primals, tangents
  p = _softmax(x, axis)
  return _logsumexp(x, axis), jnp.sum(p * t, axis, keepdims=True)


# Normalizers: value, gradient of <w, f(x)> and Hessian-vector product along v,
# for one row (entries of -inf allowed), and for each of the three the scale the
# error is measured against: the largest entry of the value, and for the
# derivatives the largest sum of the absolute values of the terms that make up an
# entry (the size of what cancels; for a one-element row the exact gradient of
# softmax is 0, and only its terms have a size).


def _exact_softmax_row(x):
  m = max(x)
  e = [mp.exp(xi - m) if xi != -mp.inf else mp.mpf(0) for xi in x]
  s = mp.fsum(e)
  return [ei / s for ei in e]


def _exact_lse_row(x):
  m = max(x)
  return m + mp.log(mp.fsum(mp.exp(xi - m) if xi != -mp.inf else mp.mpf(0) for xi in x))


def _exact_abs_terms(s, a):
  # |a_i| + sum_j s_j |a_j|: the size of the terms of a_i - <s, a>, before they cancel.
  sa = dot(s, [abs(ai) for ai in a])
  return [abs(ai) + sa for ai in a]


def _exact_softmax_refs(x, w, v):
  s = _exact_softmax_row(x)
  sw, sv = dot(s, w), dot(s, v)
  u = [vi - sv for vi in v]
  g = [si * (wi - sw) for si, wi in zip(s, w)]
  ds = [si * ui for si, ui in zip(s, u)]
  dsw = dot(ds, w)
  h = [dsi * (wi - sw) - si * dsw for dsi, si, wi in zip(ds, s, w)]
  aw, av = _exact_abs_terms(s, w), _exact_abs_terms(s, v)
  sav = mp.fsum(si * avi * abs(wi) for si, avi, wi in zip(s, av, w))
  scales = (
    max(s),
    max(si * awi for si, awi in zip(s, aw)),
    max(si * avi * awi + si * sav for si, avi, awi in zip(s, av, aw)),
  )
  return (s, g, h), scales


def _exact_log_softmax_refs(x, w, v):
  s = _exact_softmax_row(x)
  lse = _exact_lse_row(x)
  y = [xi - lse for xi in x]
  sw = mp.fsum(w)
  g = [wi - si * sw for wi, si in zip(w, s)]
  sv = dot(s, v)
  h = [-sw * si * (vi - sv) for si, vi in zip(s, v)]
  aw = mp.fsum(abs(wi) for wi in w)
  av = _exact_abs_terms(s, v)
  finite = [abs(yi) for yi in y if yi != -mp.inf]
  scales = (
    max(finite),
    max(abs(wi) + si * aw for wi, si in zip(w, s)),
    max(aw * si * avi for si, avi in zip(s, av)),
  )
  return (y, g, h), scales


def _exact_logsumexp_refs(x, w, v):
  # f(x) is a scalar: <w, f> = w[0] * lse.
  s = _exact_softmax_row(x)
  sv = dot(s, v)
  lse = _exact_lse_row(x)
  g = [w[0] * si for si in s]
  h = [w[0] * si * (vi - sv) for si, vi in zip(s, v)]
  av = _exact_abs_terms(s, v)
  scales = (abs(lse), max(abs(gi) for gi in g), max(abs(w[0]) * si * avi for si, avi in zip(s, av)))
  return ([lse], g, h), scales


def _exact_logmeanexp_refs(x, w, v):
  # logsumexp(x) - log(n): the same derivatives as logsumexp. The value is the sum
  # of two terms, sum_i s_i x_i - KL(s || uniform) (s = softmax(x)); its scale is the
  # sum of their sizes, which is |value| unless they cancel: a row of scale 1e-3
  # has a value 50 times smaller than its entries, and the rounding of the entries'
  # mean alone (which no algorithm in the working precision avoids) costs that much.
  ((lse,), g, h), (_, s1, s2) = _exact_logsumexp_refs(x, w, v)
  n = len(x)
  lme = lse - mp.log(n)
  s = _exact_softmax_row(x)
  mean_term = mp.fsum(si * abs(xi) for si, xi in zip(s, x) if si != 0)
  kl = mp.fsum(si * mp.log(n * si) for si in s if si != 0)
  return ([lme], g, h), (max(abs(lme), mean_term + kl), s1, s2)


def _exact_softmin_refs(x, w, v):
  # softmin(x) = softmax(-x): the gradient changes sign, the Hessian does not. With
  # -inf entries, the limit: they are tied, infinitely below the rest, so the row is
  # the softmax of (0 on them, -inf elsewhere).
  if any(xi == -mp.inf for xi in x):
    x = [mp.mpf(0) if xi == -mp.inf else mp.inf for xi in x]
  (s, g, h), scales = _exact_softmax_refs([-xi for xi in x], w, v)
  return (s, [-gi for gi in g], h), scales


@normalizer(
  family="normalizers",
  formula="exp(x_i) / sum_j exp(x_j)",
  output_range="[0, 1], rows sum to 1",
  monotonic=None,
  smoothness="C^inf",
  zero_centred=False,
  bounded=True,
  conventions=_NORMALIZER_CONVENTIONS,
  exact=_exact_softmax_refs,
)
def softmax(x: ArrayLike, axis: int | Sequence[int] | None = -1, where: ArrayLike | None = None) -> jax.Array:
  r"""Softmax along ``axis``, drop-in for ``jax.nn.softmax``.

  .. math::
    \mathrm{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \quad m = \max_j x_j,
    \qquad \dot y = y \odot (\dot x - \langle y, \dot x \rangle).

  The backward pass saves one residual, the output ``y``.

  Masks and infinities: ``where=False`` entries and ``-inf`` entries get 0 and an
  exactly zero gradient; a fully masked or all ``-inf`` row gives 0 (``jax.nn``:
  NaN) with a zero gradient; a row with ``+inf`` entries, or a NaN, gives NaN.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    axis: axis or axes to normalise over (``None``: all).
    where: boolean mask that broadcasts to ``x``; ``False`` entries are excluded.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.softmax(jnp.array([0.0, 1.0, -jnp.inf], dtype=jnp.float32))
    Array([0.26894143, 0.7310586 , 0.        ], dtype=float32)
  """
  x = checks.received(x)
  axis, where = checks.received_axes(axis), checks.received_mask(where)
  if _empty(x, axis):
    return x
  return _softmax(_masked(x, where), axis)


@normalizer(
  family="normalizers",
  formula="exp(-x_i) / sum_j exp(-x_j)",
  output_range="[0, 1], rows sum to 1",
  monotonic=None,
  smoothness="C^inf",
  zero_centred=False,
  bounded=True,
  conventions=(
    "softmax(-x): where=False and +inf entries get 0 with a gradient exactly 0; a fully "
    "masked or all +inf row gives 0 and no NaN gradient; a row with -inf entries gives the "
    "limit, 1/k on each of its k -inf entries (ties infinitely below the rest; Jacobian "
    "of the uniform softmax over them). PyTorch's dim is axis here."
  ),
  exact=_exact_softmin_refs,
)
def softmin(x: ArrayLike, axis: int | Sequence[int] | None = -1, where: ArrayLike | None = None) -> jax.Array:
  r"""Softmin along ``axis``: ``softmax(-x)``, as PyTorch's ``softmin``.

  .. math::
    \mathrm{softmin}(x)_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}}

  The negation is exact, so it has softmax's accuracy. ``+inf`` entries and
  ``where=False`` entries get 0 and an exactly zero gradient; a fully masked row
  gives 0. A row with ``-inf`` entries gives its limit, the mass shared equally by
  those entries, as ties infinitely below the rest: the Jacobian is that of the
  uniform softmax over them (0 for a single one). ``softmax`` with ``+inf`` gives
  NaN, as ``jax.nn``.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    axis: axis or axes to normalise over (``None``: all); PyTorch's ``dim``.
    where: boolean mask that broadcasts to ``x``; ``False`` entries are excluded.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.softmin(jnp.array([0.0, 1.0, jnp.inf], dtype=jnp.float32))
    Array([0.7310586 , 0.26894143, 0.        ], dtype=float32)
  """
  x = checks.received(x)
  axis, where = checks.received_axes(axis), checks.received_mask(where)
  if _empty(x, axis):
    return x
  return _softmin(_masked(-x, where), axis)


@normalizer(
  family="normalizers",
  formula="x_i - log(sum_j exp(x_j))",
  output_range="[-inf, 0]",
  monotonic=None,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=_NORMALIZER_CONVENTIONS,
  exact=_exact_log_softmax_refs,
)
def log_softmax(
  x: ArrayLike, axis: int | Sequence[int] | None = -1, where: ArrayLike | None = None
) -> jax.Array:
  r"""Log-softmax along ``axis``, drop-in for ``jax.nn.log_softmax``.

  .. math::
    \mathrm{log\_softmax}(x)_i = (x_i - m) - \log\bigl(k + \textstyle\sum_{x_j < m} e^{x_j - m}\bigr),

  with :math:`m = \max_j x_j` attained :math:`k` times, computed as ``log1p`` so
  the small terms are not rounded away (``jax.nn.log_softmax([0., -20.])[0]`` is
  0 in float32; the exact value is -2.06e-9). The tangent is
  :math:`\dot x - \langle \mathrm{softmax}(x), \dot x \rangle`. float16 input is
  computed in float32, so long rows do not overflow (JAX issue 40409).

  Masks and infinities: ``where=False`` and ``-inf`` entries give ``-inf`` with a
  zero gradient from masked entries; a fully masked row gives ``-inf``.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    axis: axis or axes to normalise over (``None``: all).
    where: boolean mask that broadcasts to ``x``; ``False`` entries are excluded.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.log_softmax(jnp.array([0.0, -20.0], dtype=jnp.float32))
    Array([-2.0611537e-09, -2.0000000e+01], dtype=float32)
  """
  x = checks.received(x)
  axis, where = checks.received_axes(axis), checks.received_mask(where)
  if _empty(x, axis):
    return x
  return _log_softmax(_masked(x, where), axis)


def _logsumexp_b(x, b, axis):
  # With weights b (any sign): log|sum b exp(x)| and its sign, by autodiff with the
  # max held constant (it cancels exactly in the derivative).
  m = jax.lax.stop_gradient(jnp.max(jnp.where(b != 0, x, -jnp.inf), axis, keepdims=True))
  m_safe = jnp.where(jnp.isfinite(m), m, 0.0)
  e = jnp.exp(jnp.where(b != 0, x - m_safe, -jnp.inf))
  s = jnp.sum(b * e, axis, keepdims=True)
  return m_safe + jnp.log(jnp.abs(s)), jnp.sign(s)


@normalizer(
  static_argnames=("axis", "keepdims", "return_sign"),
  family="normalizers",
  formula="log(sum_i b_i exp(x_i))",
  output_range="[-inf, inf]",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=_NORMALIZER_CONVENTIONS,
  exact=_exact_logsumexp_refs,
)
def logsumexp(
  a: ArrayLike,
  axis: int | Sequence[int] | None = None,
  b: ArrayLike | None = None,
  keepdims: bool = False,
  return_sign: bool = False,
  where: ArrayLike | None = None,
):
  r"""Log of the sum of exponentials, drop-in for ``jax.nn.logsumexp``.

  .. math::
    \mathrm{lse}(x) = m + \operatorname{log1p}\bigl((k - 1) + \textstyle\sum_{x_j < m} e^{x_j - m}\bigr),
    \qquad \nabla \mathrm{lse} = \mathrm{softmax}(x),

  with :math:`m = \max_j x_j` attained :math:`k` times, so
  ``logsumexp([0., -20.])`` is 2.06e-9 in float32 (``jax.nn``: 0). The gradient of
  an all ``-inf`` or fully masked row is 0 (``jax.nn``: NaN, JAX issue 6811).
  Speed: the one-pass :math:`m + \log \sum_j e^{x_j - m}` (as ``jax.nn``) is as
  accurate as the split sum for a row whose result is at least 2 in magnitude (its
  absolute error, a few units of :math:`2^{-p}`, is under an ULP there) or whose sum
  is at least 3/2 (its log is then within about an ULP), and is the answer there; the
  split sum, a second reduction of the same exponentials, is the answer elsewhere.
  The split sum is computed only when some row of the batch needs it (a
  ``lax.cond``, which ``vmap`` turns into computing both), except where ``x`` is
  split over devices (explicitly sharded, or under a mesh with automatic axes): there
  it is computed for every row and selected, since the branch's predicate would
  synchronise the devices (inside ``shard_map`` each device branches on its block).

  With ``b``: :math:`\log \sum_i b_i e^{x_i}`, NaN where the sum is negative (as
  ``jax.nn`` and SciPy; its derivative there is 0, so a ``jnp.where`` that masks those
  entries out has finite gradients); with ``return_sign=True`` the pair
  (:math:`\log|\sum_i b_i e^{x_i}|`, sign of the sum). Differentiable in ``a`` and
  ``b`` (where the sum is 0 the value is ``-inf`` and the derivative is not finite).

  Args:
    a: input array. float16/bfloat16 are computed in float32 and rounded once.
    axis: axis or axes to reduce (``None``: all).
    b: optional weights that broadcast to ``a``.
    keepdims: keep the reduced axes with size 1.
    return_sign: also return the sign of the sum.
    where: boolean mask that broadcasts to ``a``; ``False`` entries are excluded.

  Returns:
    The reduced array, or ``(value, sign)`` if ``return_sign``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.logsumexp(jnp.array([0.0, -20.0], dtype=jnp.float32))
    Array(2.0611537e-09, dtype=float32)
  """
  a = checks.received(a)
  axis, where = checks.received_axes(axis), checks.received_mask(where)
  x = _masked(a, where)
  if _empty(x, axis):
    shape = [1 if i in axis else n for i, n in enumerate(x.shape)]
    out = jnp.full(shape, -jnp.inf, x.dtype)
    sign = jnp.zeros(shape, x.dtype)
    if not keepdims:
      out, sign = jnp.squeeze(out, axis), jnp.squeeze(sign, axis)
    return (out, sign) if return_sign else out
  if b is None:
    out = _logsumexp(x, axis)
    sign = jnp.where(out == -jnp.inf, 0.0, 1.0).astype(out.dtype)
    sign = jnp.where(jnp.isnan(out), out, sign)
  else:
    if where is not None:
      b = jnp.where(where, b, 0.0)
    out, sign = _logsumexp_b(x, jnp.broadcast_to(b, x.shape), axis)
    if not return_sign:
      # The log of a negative sum is NaN, as jax.nn and SciPy (return_sign gives |sum|).
      # A select, as jax.nn: the derivative there is 0, so that a jnp.where masking
      # these entries out gets finite gradients (a product would give 0 * NaN).
      out = jnp.where(sign < 0, jnp.asarray(jnp.nan, out.dtype), out)
  if not keepdims:
    out, sign = jnp.squeeze(out, axis), jnp.squeeze(sign, axis)
  return (out, sign) if return_sign else out


# How far the max may lie above the mean for the mean to be the centre (e^d < 1e26 / 1e217).
_LME_SPREAD = {np.dtype(np.float32): 60.0, np.dtype(np.float64): 500.0}


def _logmeanexp_max(x: jax.Array, present: jax.Array | None, axis: tuple[int, ...], n):
  """(m, s, r): the max m, s = sum(e^(x - m)) and r = m + log(s / n), two fused passes.

  The log is carried in two parts (its rounding error from one Newton step), so
  r has an absolute error of a few units of 2^-p (the relative error of s, a sum
  of positive terms), whatever m + log(s / n) cancels.
  """
  xm = x if present is None else jnp.where(present, x, -jnp.inf)
  m = jnp.max(xm, axis, keepdims=True)
  s = jnp.sum(jnp.exp(xm - _clamped(m)), axis, keepdims=True)
  y = s / jnp.maximum(n, 1.0)
  lg = jnp.log(y)
  lg_lo = jnp.where(s > 0.0, (y - jnp.exp(lg)) / y, 0.0)
  r0, e0 = stable.two_sum(m, lg)
  return m, s, jnp.where(jnp.isfinite(r0), r0 + (e0 + lg_lo), r0)


def _logmeanexp_centred(x: jax.Array, present: jax.Array | None, axis: tuple[int, ...], n, m, s, r):
  """log mean e^x row by row, from the centre that cancels least (m, s, r from _logmeanexp_max).

  * the mean c, where the row is finite, nearer 0 than its max and e^(max - mean)
    cannot overflow: c + log1p(S / n), S = sum(e^d - 1 - d) + sum(d), d = x - c.
    The first sum has no negative terms, the second is the rounding error of the
    mean, so nothing cancels: logsumexp(x) - log(n) instead loses 87,507 ULP in
    float64 on a row of scale 1e-3.
  * otherwise the max: r where s / n <= 1/2, else m + log1p(S / n) with
    S = sum(e^d - 1), d = x - m, terms in [-1, 0] (a -inf entry adds -1).
    log1p(S / n) would lose the digits of a small s / n = 1 + S / n (104 ULP,
    normwise, on a float32 row of 4096 entries of mean -30 and deviation 10),
    log(s / n) those of an s / n near 1.

  Per entry one exponential and one polynomial: e^d - 1 - k d with k = 1 (mean)
  or 0 (max), from its series d^2 (1/2! + d/3! + ...) for |d| < 1 and from
  exp(d) - 1 - k d above (cancelling by at most a factor of 2.4). Masked entries
  add nothing.
  """
  total = jnp.sum(x if present is None else jnp.where(present, x, 0.0), axis, keepdims=True)
  mean = total / jnp.maximum(n, 1.0)
  spread = _LME_SPREAD[np.dtype(x.dtype)]
  # Not narrow for a row with an infinite or NaN entry (its mean is not finite).
  narrow = jnp.isfinite(mean) & (jnp.abs(mean) <= jnp.abs(m)) & (m - mean <= spread)
  c = jnp.where(narrow, mean, jnp.where(jnp.isfinite(m), m, 0.0))
  d = x - c
  u = jnp.clip(d, -1.0, 1.0)
  # Selects, not products with k: d is -inf for a -inf entry.
  series = stable.expm1_minus_x_series(u) + jnp.where(narrow, 0.0, u)
  t = jnp.where(jnp.abs(d) < 1.0, series, (jnp.exp(d) - 1.0) - jnp.where(narrow, d, 0.0))
  # The same d, written x + (-c) for the second sum: XLA's CPU backend writes out an
  # expression that both sums read (a buffer more in a training step, and a pass over
  # memory); two expressions are fused into their sums.
  d2 = x + (-c)
  if present is not None:
    t = jnp.where(present, t, 0.0)
    d2 = jnp.where(present, d2, 0.0)
  big_s = jnp.sum(t, axis, keepdims=True) + jnp.where(narrow, jnp.sum(d2, axis, keepdims=True), 0.0)
  out = c + stable.log1p_forward(big_s / jnp.maximum(n, 1.0))
  out = jnp.where(_one_pass_suffices(m, r) | (~narrow & (s <= 0.5 * n)), r, out)
  if present is not None:
    out = jnp.where(n > 0, out, -jnp.inf)
  # A +inf entry gives +inf, or NaN with a NaN in the row (r; see _clamped).
  return jnp.where(m == jnp.inf, r, out)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _logmeanexp(x: jax.Array, present: jax.Array | None, axis: tuple[int, ...]) -> jax.Array:
  size = math.prod(x.shape[a] for a in axis)
  n: float | jax.Array
  if present is None:
    # a Python number, or (a symbolic dimension under jax.export) an array
    n = float(size) if isinstance(size, int) else jnp.asarray(size, x.dtype)
  else:
    # Counted in x's dtype where every count is exact in it: over a sharded axis
    # its all-reduce then joins those of the other sums (an integer count took one
    # of its own under explicit sharding).
    exact = isinstance(size, int) and size <= 2 ** (jnp.finfo(x.dtype).nmant + 1)
    n = jnp.sum(present, axis, dtype=x.dtype if exact else jnp.int32, keepdims=True).astype(x.dtype)
  m, s, r = _logmeanexp_max(x, present, axis, n)
  centred = functools.partial(_logmeanexp_centred, x, present, axis, n, m, s, r)
  # Only when some row needs it (it gives r where r suffices).
  return sharding.unless_needed((x, present), _one_pass_suffices(m, r), lambda: r, centred)


@_logmeanexp.defjvp
def _logmeanexp_jvp(axis, primals, tangents):
  (x, present), (t, _) = primals, tangents
  p = _softmax(x if present is None else jnp.where(present, x, -jnp.inf), axis)
  return _logmeanexp(x, present, axis), jnp.sum(p * t, axis, keepdims=True)


@normalizer(
  static_argnames=("axis", "keepdims"),
  family="normalizers",
  formula="log(mean_i exp(x_i))",
  output_range="[-inf, inf]",
  monotonic=True,
  smoothness="C^inf",
  zero_centred=False,
  bounded=False,
  conventions=(
    "The mean is over the where=True entries; -inf entries count (they add 0 to the "
    "mean of exp). A row whose entries are all -inf, or that is fully masked or empty, "
    "gives -inf with a zero gradient (jax.nn: NaN for the latter two). A +inf entry "
    "gives +inf. NaN anywhere in the row gives NaN."
  ),
  exact=_exact_logmeanexp_refs,
)
def logmeanexp(
  x: ArrayLike,
  axis: int | Sequence[int] | None = None,
  where: ArrayLike | None = None,
  keepdims: bool = False,
) -> jax.Array:
  r"""Log of the mean of exponentials, drop-in for ``jax.nn.logmeanexp``.

  .. math::
    \mathrm{lme}(x) = \log \frac{1}{n} \sum_i e^{x_i}
    = c + \operatorname{log1p}\Bigl(\frac{1}{n}\Bigl[\sum_i \bigl(e^{d_i} - 1 - d_i\bigr)
    + \sum_i d_i\Bigr]\Bigr), \quad d = x - c,

  with :math:`c` the mean of the row: every term of the first sum is non-negative
  and the second is the rounding error of the mean, so nothing cancels inside.
  Where the maximum is nearer 0 than the mean (or far above it), the row is
  centred at its maximum :math:`m` instead: :math:`m + \log(s/n)` with
  :math:`s = \sum_i e^{x_i - m}` and the log carried in two parts where
  :math:`s/n \le 1/2`, else :math:`m + \operatorname{log1p}(\frac1n \sum_i
  \operatorname{expm1}(x_i - m))`. The result lies between the two centres, so
  the centre of smaller magnitude is the one that cancels least against the log
  term. ``logsumexp(x) - log(n)`` loses the digits of a result small next to
  :math:`\log n` (``logmeanexp([1e-3, -1e-3])`` is 5.0e-7, where
  ``jax.nn.logmeanexp`` returns 5.36e-7 in float32). The gradient is
  ``softmax(x)`` over the present entries.

  Speed: without ``where``, :math:`m + \log(s/n)` (two fused passes, as ``jax.nn``)
  has an absolute error of a few units of :math:`2^{-p}`, so it is the answer for
  every row with a result of magnitude at least 2. The centred form is computed only
  when some row's result is smaller (a ``lax.cond``, which ``vmap`` turns into
  computing both), except where ``x`` is split over devices (explicitly sharded, or
  under a mesh with automatic axes): there for every row and selected, since the
  branch's predicate would synchronise the devices (inside ``shard_map`` each device
  branches on its block); over a sharded axis that takes one all-reduce more than
  ``jax.nn`` (the mean, which the centred sum needs before it can start).

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    axis: axis or axes to reduce (``None``: all, as ``jax.nn``).
    where: boolean mask that broadcasts to ``x``; the mean is over the ``True`` entries.
    keepdims: keep the reduced axes with size 1.

  Returns:
    The reduced array.

  Accuracy: The value's scale is its size or, where the mean of the entries and the
  rest cancel (a row of scale 1e-3 has a value 50 times smaller than its entries), the
  sum of their sizes: the rounding of the entries' mean alone costs that much.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.logmeanexp(jnp.array([1e-3, -1e-3], dtype=jnp.float32))
    Array(5.e-07, dtype=float32)
  """
  x = checks.received(x)
  axis, where = checks.received_axes(axis), checks.received_mask(where)
  present = None if where is None else jnp.broadcast_to(where, x.shape)
  if _empty(x, axis):
    shape = [1 if i in axis else n for i, n in enumerate(x.shape)]
    out = jnp.full(shape, -jnp.inf, x.dtype)
  else:
    out = _logmeanexp(x, present, axis)
  return out if keepdims else jnp.squeeze(out, axis)


@registered(
  kind="stochastic",
  family="normalizers",
  formula="softmax((logits + g) / tau), g ~ Gumbel(0, 1) from key",
  output_range="[0, 1], sums to 1 along axis; one-hot if hard",
  monotonic=None,
  smoothness="C^inf (soft); piecewise constant value, straight-through gradient (hard)",
  zero_centred=False,
  bounded=True,
  conventions=(
    "hard=True: the value is exactly one-hot (argmax of the soft sample; ties to the first), "
    "the gradient is the soft sample's (straight-through). -inf logits get 0. PyTorch's dim "
    "is axis here. tau <= 0: ValueError for a Python or NumPy number, NaN where a JAX array is."
  ),
  references=("Jang, Gu, Poole 2017, arXiv:1611.01144; Maddison, Mnih, Teh 2017, arXiv:1611.00712",),
)
def gumbel_softmax(
  logits: ArrayLike,
  *,
  key: jax.Array,
  tau: ArrayLike = 1.0,
  hard: bool = False,
  axis: int = -1,
) -> jax.Array:
  r"""Gumbel-softmax (concrete) sample, as PyTorch's ``gumbel_softmax``.

  .. math::
    y = \mathrm{softmax}\bigl((\ell + g) / \tau\bigr), \qquad g_i = -\log(-\log u_i),\
    u_i \sim U(0, 1)

  The noise is drawn from ``key`` (``jax.random.gumbel``), one value per entry; the
  softmax is :func:`softmax` (``-inf`` logits get probability 0 and a zero
  gradient). With ``hard=True`` the value is exactly the one-hot vector of the
  largest entry of ``y`` and the gradient is that of ``y`` (straight-through):
  ``one_hot + (y - stop_gradient(y))``, whose second term is exactly 0. The
  argmax of ``logits + g`` is a sample of the categorical distribution
  ``softmax(logits)`` (the Gumbel-max trick), whatever ``tau``.

  Args:
    logits: unnormalised log-probabilities. float16/bfloat16 are computed in
      float32 and rounded once.
    key: keyword-only and required, a ``jax.random`` key.
    tau: keyword-only temperature, > 0, differentiable. A Python or NumPy value
      <= 0 raises ``ValueError``; where a JAX array is <= 0 the result is NaN.
    hard: keyword-only; return one-hot samples with straight-through gradients.
    axis: keyword-only axis of the categories.

  Returns:
    An array of the same shape and dtype as ``logits``.

  Accuracy: as :func:`softmax` for the given noise.

  Examples:
    >>> import jax, jax.numpy as jnp, jaxact
    >>> y = jaxact.gumbel_softmax(jnp.zeros(4), key=jax.random.key(0), hard=True)
    >>> float(y.sum()), sorted(set(y.tolist()))
    (1.0, [0.0, 1.0])
  """
  checks.check_input("gumbel_softmax", logits)
  checks.check_param("gumbel_softmax", "tau", tau)
  checks.check_domain("gumbel_softmax", "tau", tau, lambda t: t > 0, "positive")
  if key is None:
    raise ValueError("jaxact.gumbel_softmax: key is required (jax.random.key)")
  checks.check_key("gumbel_softmax", key)
  if not isinstance(hard, bool):
    raise TypeError(f"jaxact.gumbel_softmax: hard must be a bool, got {type(hard).__name__}")
  x = checks.as_input(logits)
  (ax,) = checks.canonical_axes("gumbel_softmax", axis, x.ndim)
  checks.check_broadcast("gumbel_softmax", "tau", x.shape, jnp.shape(tau))
  return _gumbel_softmax(x, key, tau, hard, ax)


def _gumbel_softmax(x: jax.Array, key: jax.Array, tau: ArrayLike, hard: bool, ax: int) -> jax.Array:
  ctype = checks.compute_dtype(x.dtype)
  g = jax.random.gumbel(key, x.shape, ctype, out_sharding=sharding.explicit_spec(x))
  t = checks.as_param(tau, ctype)
  z = checks.nan_outside(x.astype(ctype) + g, t > 0) / t  # a JAX array tau <= 0: NaN
  # Again on the probabilities: a NaN logit in one row is not enough, since the
  # backend may drop a NaN through the softmax's max and exp and give a sample.
  y = checks.nan_outside(softmax(z, axis=ax), t > 0)
  if hard:
    top = jnp.argmax(y, axis=ax, keepdims=True)
    one_hot = jnp.arange(x.shape[ax]).reshape([-1 if i == ax else 1 for i in range(x.ndim)]) == top
    y = one_hot.astype(ctype) + (y - jax.lax.stop_gradient(y))
  return y.astype(x.dtype)


# jaxprs, HLO and profiles say "gumbel_softmax"
_gumbel_softmax.__name__ = _gumbel_softmax.__qualname__ = "gumbel_softmax"
_gumbel_softmax = jax.jit(_gumbel_softmax, static_argnames=("hard", "ax"))
