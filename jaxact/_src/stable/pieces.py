"""The derivatives of constant and piecewise-constant pieces (``zero``, ``one``, ``step``,
``interval``), NaN kept through selects, and the twin: a kernel whose derivatives are
those of the same function written in kernels (``with_twin``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxact._src.core import SELF, stable_kernel


def zero_like(x: jax.Array) -> jax.Array:
  """0 where ``x`` is a number, NaN where ``x`` is NaN: the derivative of a constant piece."""
  return jnp.where(jnp.isnan(x), x, jnp.zeros_like(x))


def partial_by_jvp(f, argnum: int):
  """The partial derivative of an element-wise ``f(x, *params)`` in argument ``argnum``,
  by forward-mode autodiff (a jvp with unit tangent, broadcast to the output). ``f``
  must be written in kernels and plain arithmetic (a twin, see ``with_twin``): the
  tower check (``tower.py``) refuses a partial that differentiates through bits.
  """

  def partial(*args):
    def g(t):
      return f(*args[:argnum], t, *args[argnum + 1 :])

    t = jnp.broadcast_to(args[argnum], jnp.broadcast_shapes(*(jnp.shape(a) for a in args)))
    return jax.jvp(g, (t,), (jnp.ones_like(t),))[1]

  return partial


def with_twin(forward, twin, **kwargs):
  """A kernel whose value is ``forward`` and whose partial derivatives (in ``x`` and in
  every parameter) are those of ``twin``, the same function written in kernels and
  plain arithmetic.

  ``forward`` may build its result from bits and series for accuracy (it is never
  differentiated); ``twin`` is what autodiff sees, so every higher order and every
  mixed partial is right by construction, as accurate as the twin's form. Used for the
  derivative kernels at the top of a hand-written tower (the second derivatives) and
  for parameter partials. ``kwargs`` go to ``stable_kernel``.
  """
  names = list(inspect.signature(forward).parameters)[1:]
  return stable_kernel(
    forward,
    derivative=partial_by_jvp(twin, 0),
    param_derivatives={n: partial_by_jvp(twin, i) for i, n in enumerate(names, 1)},
    **kwargs,
  )


def _zero_forward(x: jax.Array) -> jax.Array:
  return zero_like(x)


zero = stable_kernel(_zero_forward, derivative=SELF)


def zero_partial(x: jax.Array, *params: jax.Array) -> jax.Array:
  """:data:`zero` as a partial derivative ``(x, *params)``: of a piece that does not
  depend on the parameters."""
  return zero(x)


def zero_like_partial(x: jax.Array, *params: jax.Array) -> jax.Array:
  """:func:`zero_like` as a partial derivative ``(x, *params)``."""
  return zero_like(x)


def _step_forward(x: jax.Array) -> jax.Array:
  # 1 for x > 0, 0 for x <= 0, NaN for NaN (both tests fail for NaN).
  return jnp.where(x > 0, jnp.ones_like(x), jnp.where(x <= 0, jnp.zeros_like(x), x))


step = stable_kernel(_step_forward, derivative=zero)
"""Heaviside step with step(0) = 0 and step(NaN) = NaN: the derivative of relu."""


def keep_nan(x: jax.Array, y: jax.Array) -> jax.Array:
  """``y`` where ``x`` is a number, NaN where ``x`` is NaN (``where`` chains drop NaN)."""
  return jnp.where(jnp.isnan(x), x, y)


def interval(lo: float, hi: float, *, closed: bool = False):
  """A kernel: 1 on (lo, hi) ([lo, hi] if ``closed``), 0 elsewhere, NaN on NaN; derivative 0.

  The derivatives of piecewise-linear activations, with the convention at the
  kinks made explicit.
  """

  def forward(x: jax.Array) -> jax.Array:
    inside = (x >= lo) & (x <= hi) if closed else (x > lo) & (x < hi)
    return keep_nan(x, jnp.where(inside, jnp.ones_like(x), jnp.zeros_like(x)))

  forward.__name__ = f"interval_{lo:g}_{hi:g}"
  return stable_kernel(forward, derivative=zero)


def _one_forward(x: jax.Array) -> jax.Array:
  return keep_nan(x, jnp.ones_like(x))


one = stable_kernel(_one_forward, derivative=zero)
"""1 where ``x`` is a number, NaN where it is NaN: the derivative of a linear piece."""


def one_partial(x: jax.Array, *params: jax.Array) -> jax.Array:
  """:data:`one` as a partial derivative ``(x, *params)``: of a piece linear in one
  parameter (``bias``)."""
  return one(x)


def scaled_product_kernel(
  forward: Callable[[jax.Array, jax.Array], jax.Array],
  *,
  dz: Callable[[jax.Array, jax.Array], jax.Array],
  scale: Callable[..., jax.Array],
  m_scale: Callable[[jax.Array], jax.Array],
) -> Callable[[jax.Array, jax.Array], jax.Array]:
  """``forward(z, m) = m g(z)`` as a kernel whose partials are given times a power of
  two where g(z) alone would be subnormal and the product is not: ``dz(z, m)`` (the
  z-partial, already times ``scale(z, m)``) and the m-partial ``g(z) m_scale(z)``,
  itself the kernel at ``m = m_scale(z)``. The rule divides the scales out of its
  products with the tangents (``stable_kernel``'s ``tangent_scale``)."""

  def dm(z: jax.Array, m: jax.Array) -> jax.Array:
    return kernel(z, jnp.ones_like(m) * m_scale(z))

  def m_scale_in_z(z: jax.Array, m: jax.Array) -> jax.Array:
    return m_scale(z)

  kernel = stable_kernel(
    forward, derivative=dz, param_derivatives={"m": dm}, tangent_scale={"x": scale, "m": m_scale_in_z}
  )
  return kernel
