"""Sparse normalizers: sparsemax and 1.5-entmax, exact (sort-based), with masks.

Both map a row to a probability vector with exact zeros: sparsemax is the
Euclidean projection onto the simplex, ``max(x - tau, 0)``; 1.5-entmax is
``max(x / 2 - tau, 0)^2``. The threshold tau is found by sorting; it is then
recomputed from the support alone, centred, so that it carries the rounding of a
few terms of its own size instead of the running sums' (``x`` is shifted by its
maximum first, which is exact for the entries that can be in the support).

Derivatives are closed-form custom rules:

* sparsemax: ``dp = s * (dx - mean_S(dx))``, ``s`` the support indicator; the
  second derivative is 0 (the function is piecewise linear).
* 1.5-entmax: ``dp = g * dx - g <g, dx> / sum(g)``, ``g = sqrt(p)``; its own
  derivative follows from the rule (``g`` is differentiable on the support).

Masks and infinities as softmax: ``where=False`` and ``-inf`` entries get 0 and a
zero gradient; a fully masked or all ``-inf`` row gives 0 with a zero gradient; a
``+inf`` entry or a NaN makes the row NaN.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxact._src import checks, sharding
from jaxact._src.core import normalizer
from jaxact._src.exact import dot, mp

_CONVENTIONS = (
  "where=False and -inf entries get exactly 0 and a zero gradient; a fully masked or all "
  "-inf row gives 0 with a zero gradient; +inf or NaN makes the row NaN. Ties are exact "
  "(the sort is stable and the threshold is recomputed from the support). At a point "
  "where an entry enters the support the derivative is the one-sided rule with that "
  "entry outside."
)


def _last(fn):
  """Runs ``fn`` on the last axis of ``x`` for a single ``axis`` of the normalizer."""

  def run(x, axis, where):
    if x.ndim == 0:  # a one-element row
      return run(x.reshape(1), (0,), None if where is None else jnp.reshape(where, 1)).reshape(())
    if len(axis) != 1:
      raise ValueError(f"jaxact.{fn.__name__.strip('_')}: reduces one axis, got axis={axis}")
    (ax,) = axis
    if x.shape[ax] == 0:
      return x
    x = x if where is None else jnp.where(where, x, -jnp.inf)
    # The sort needs the whole row: an axis sharded explicitly is gathered first.
    x, spec = sharding.unsharded_along(x, (ax,))
    y = fn(jnp.moveaxis(x, ax, -1))
    return sharding.restore(jnp.moveaxis(y, -1, ax), spec)

  return run


def _prepare(x):
  # Shift by the max (exact for the entries within 1 of it, the only ones that can
  # be in the support), sort descending. Rows with NaN or +inf are NaN at the end.
  m = jnp.max(x, -1, keepdims=True)
  bad = jnp.any(jnp.isnan(x), -1, keepdims=True) | (m == jnp.inf)
  empty = m == -jnp.inf
  z = x - jnp.where(jnp.isfinite(m), m, 0.0)
  zs = -jnp.sort(-z, axis=-1)
  k = jnp.arange(1, x.shape[-1] + 1, dtype=x.dtype)
  return z, zs, k, bad, empty


def _finish(p, bad, empty):
  p = jnp.where(empty, 0.0, p)
  return jnp.where(bad, jnp.nan, p)


@jax.custom_jvp
def _sparsemax(x):
  z, zs, k, bad, empty = _prepare(x)
  cs = jnp.cumsum(zs, -1)
  ksup = jnp.sum(1.0 + k * zs > cs, -1, keepdims=True)
  kth = jnp.take_along_axis(zs, jnp.maximum(ksup - 1, 0).astype(jnp.int32), -1)
  # tau from the support, summed again (its entries lie in [-1, 0]).
  on = z >= kth
  tau = (jnp.sum(jnp.where(on, z, 0.0), -1, keepdims=True) - 1.0) / jnp.maximum(ksup, 1.0)
  return _finish(jnp.maximum(z - tau, 0.0), bad, empty)


@_sparsemax.defjvp
def _sparsemax_jvp(primals, tangents):
  (x,), (t,) = primals, tangents
  p = _sparsemax(x)
  # s + 0 p: NaN for a NaN row, through the rule, its transpose and its derivative
  # (0 dp is exactly 0 where p is finite).
  s = (p > 0).astype(p.dtype) + 0.0 * p
  st = s * t  # 0 off the support (t there is finite: the input is -inf or masked)
  mean = jnp.sum(st, -1, keepdims=True) / jnp.maximum(jnp.sum(s, -1, keepdims=True), 1.0)
  return p, st - s * mean


@jax.custom_jvp
def _entmax15(x):
  z, zs, k, bad, empty = _prepare(x)
  z, zs = z / 2.0, zs / 2.0
  mean = jnp.cumsum(zs, -1) / k
  msq = jnp.cumsum(zs * zs, -1) / k
  delta = (1.0 - k * (msq - mean * mean)) / k
  tau_k = mean - jnp.sqrt(jnp.maximum(delta, 0.0))
  ksup = jnp.sum(tau_k <= zs, -1, keepdims=True)
  kth = jnp.take_along_axis(zs, jnp.maximum(ksup - 1, 0).astype(jnp.int32), -1)
  # tau from the support alone, with a centred variance (no cancellation).
  on = z >= kth
  n = jnp.maximum(ksup, 1.0)
  mu = jnp.sum(jnp.where(on, z, 0.0), -1, keepdims=True) / n
  var = jnp.sum(jnp.where(on, (z - mu) ** 2, 0.0), -1, keepdims=True) / n
  tau = mu - jnp.sqrt(jnp.maximum(1.0 / n - var, 0.0))
  r = jnp.maximum(z - tau, 0.0)
  return _finish(r * r, bad, empty)


@_entmax15.defjvp
def _entmax15_jvp(primals, tangents):
  (x,), (t,) = primals, tangents
  p = _entmax15(x)
  pos = p > 0
  g = jnp.where(pos, jnp.sqrt(jnp.where(pos, p, 1.0)), 0.0)
  g = jnp.where(jnp.isnan(p), jnp.nan, g)  # a NaN row: NaN through the rule and its transpose
  gt = g * t  # 0 off the support (t there is finite: the input is -inf or masked)
  q = jnp.sum(gt, -1, keepdims=True) / jnp.maximum(jnp.sum(g, -1, keepdims=True), jnp.finfo(p.dtype).tiny)
  return p, gt - q * g


def _exact_sparse_threshold(z, power):
  # tau with sum max(z - tau, 0)^power = 1 (power 1: sparsemax, 2: 1.5-entmax on z = x / 2):
  # the largest support size k whose threshold lies below its k-th entry (sorted row).
  zs = sorted((zi for zi in z if zi != -mp.inf), reverse=True)
  best, s1, s2 = None, mp.mpf(0), mp.mpf(0)
  for k, zk in enumerate(zs, 1):
    s1, s2 = s1 + zk, s2 + zk * zk
    if power == 1:
      tau = (s1 - 1) / k
    else:
      mu = s1 / k
      delta = 1 / mp.mpf(k) - (s2 / k - mu * mu)
      if delta < 0:
        break
      tau = mu - mp.sqrt(delta)
    if zk > tau:
      best = tau
    else:
      break
  if best is None:
    raise ValueError("no support")
  return best


def _exact_sparse_refs(x, w, v, power):
  # value p; gradient of <w, p> = J w with J = diag(g) - g g^T / sum(g) on the support
  # (g = 1 for sparsemax, sqrt(p) for 1.5-entmax); its derivative along v.
  if all(xi == -mp.inf for xi in x):
    zero = [mp.mpf(0)] * len(x)
    return (zero, zero, zero), (0.0, 0.0, 0.0)
  z = [xi / power for xi in x]
  tau = _exact_sparse_threshold(z, power)
  p = [max(zi - tau, mp.mpf(0)) ** power for zi in z]
  g = [mp.mpf(1) if pi > 0 else mp.mpf(0) for pi in p] if power == 1 else [mp.sqrt(pi) for pi in p]
  gs = mp.fsum(g)

  def jac(u):
    gu = dot(g, u)
    return [gi * ui - gi * gu / gs for gi, ui in zip(g, u)]

  grad = jac(w)
  if power == 1:
    hvp = [mp.mpf(0)] * len(x)
    h_scale = 0.0
  else:
    dp = jac(v)
    dg = [dpi / (2 * gi) if gi > 0 else mp.mpf(0) for dpi, gi in zip(dp, g)]
    gw, dgw, dgs = dot(g, w), dot(dg, w), mp.fsum(dg)
    hvp = [dgi * wi - dgi * gw / gs - gi * dgw / gs + gi * gw * dgs / gs**2 for dgi, gi, wi in zip(dg, g, w)]
    aw = dot(g, [abs(wi) for wi in w])
    adg = mp.fsum(abs(d) for d in dg)
    adgw = dot([abs(d) for d in dg], [abs(wi) for wi in w])
    h_scale = max(
      abs(dgi * wi) + abs(dgi) * aw / gs + gi * adgw / gs + gi * aw * adg / gs**2
      for dgi, gi, wi in zip(dg, g, w)
    )
  aw = dot(g, [abs(wi) for wi in w])
  g_scale = max(gi * abs(wi) + gi * aw / gs for gi, wi in zip(g, w))
  return (p, grad, hvp), (max(p), g_scale, h_scale)


def _exact_sparsemax(x, w, v):
  return _exact_sparse_refs(x, w, v, 1)


def _exact_entmax15(x, w, v):
  return _exact_sparse_refs(x, w, v, 2)


@normalizer(
  family="sparse",
  formula="argmin_{p in simplex} ||p - x||^2 = max(x - tau, 0)",
  output_range="[0, 1], rows sum to 1, exact zeros",
  monotonic=None,
  smoothness="C^0 (piecewise linear)",
  zero_centred=False,
  bounded=True,
  conventions=_CONVENTIONS,
  references=("Martins, Astudillo 2016, arXiv:1602.02068",),
  exact=_exact_sparsemax,
)
def sparsemax(x: ArrayLike, axis: int = -1, where: ArrayLike | None = None) -> jax.Array:
  r"""Sparsemax: the Euclidean projection of a row onto the probability simplex.

  .. math::
    \mathrm{sparsemax}(x)_i = \max(x_i - \tau, 0), \qquad \sum_i \max(x_i - \tau, 0) = 1,
    \qquad \dot p = s \odot (\dot x - \tfrac{1}{|S|}\textstyle\sum_{j \in S} \dot x_j)

  with :math:`S` the support and :math:`s` its indicator. :math:`\tau` is found by
  sorting, then recomputed from the support. The second derivative is 0.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    axis: the one axis to normalise over.
    where: boolean mask that broadcasts to ``x``; ``False`` entries get 0.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.sparsemax(jnp.array([1.0, 0.5, -1.0], dtype=jnp.float32))
    Array([0.75, 0.25, 0.  ], dtype=float32)
  """
  x = checks.received(x)
  return _last(_sparsemax)(x, axis, where)


@normalizer(
  family="sparse",
  formula="max(x / 2 - tau, 0)^2, tau such that the row sums to 1",
  output_range="[0, 1], rows sum to 1, exact zeros",
  monotonic=None,
  smoothness="C^1",
  zero_centred=False,
  bounded=True,
  conventions=_CONVENTIONS,
  references=("Peters, Niculae, Martins 2019, Sparse Sequence-to-Sequence Models, arXiv:1905.05702",),
  exact=_exact_entmax15,
)
def entmax15(x: ArrayLike, axis: int = -1, where: ArrayLike | None = None) -> jax.Array:
  r"""1.5-entmax: between softmax (alpha = 1) and sparsemax (alpha = 2), with exact zeros.

  .. math::
    \mathrm{entmax15}(x)_i = \max(x_i / 2 - \tau, 0)^2, \qquad
    \dot p = g \odot \dot x - g\,\frac{\langle g, \dot x\rangle}{\sum_j g_j}, \quad g = \sqrt{p}

  :math:`\tau` is found by sorting (Peters et al., exact), then recomputed from the
  support with a centred variance.

  Args:
    x: input array. float16/bfloat16 are computed in float32 and rounded once.
    axis: the one axis to normalise over.
    where: boolean mask that broadcasts to ``x``; ``False`` entries get 0.

  Returns:
    An array of the same shape and dtype as ``x``.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.entmax15(jnp.array([1.0, 0.5, -1.0], dtype=jnp.float32))
    Array([0.67399263, 0.32600737, 0.        ], dtype=float32)
  """
  x = checks.received(x)
  return _last(_entmax15)(x, axis, where)
