"""Error-free transformations and double words: products, sums and quotients with
their rounding errors (Dekker, Knuth), constants split into floats, the sign copied
bitwise."""

from __future__ import annotations

import decimal
import fractions
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# Error-free transformations (double-word arithmetic), for arguments whose rounding
# error is amplified, as that of z in exp(z) for large |z|. split() keeps the high
# half of the significand by masking bits, so no step can be folded away by the
# compiler (Veltkamp's splitting by a multiply-subtract could be).
_SPLIT: dict[np.dtype, tuple[type, Any]] = {
  np.dtype(np.float32): (np.uint32, np.uint32(0xFFFFF000)),  # 12 of 24 bits
  np.dtype(np.float64): (np.uint64, np.uint64(0xFFFFFFFFF8000000)),  # 26 of 53 bits
}


def _int_type(dtype) -> type:
  """The signed integer type of the width of the float ``dtype`` (for bit operations)."""
  return np.int32 if np.dtype(dtype) == np.dtype(np.float32) else np.int64


def split(a: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(hi, lo) with hi + lo = a exactly and hi holding the high half of the significand."""
  utype, mask = _SPLIT[np.dtype(a.dtype)]
  bits = jax.lax.bitcast_convert_type(a, utype)
  hi = jax.lax.bitcast_convert_type(bits & mask, a.dtype)
  return hi, a - hi


def two_prod(a: jax.Array, b: jax.Array, *, guard: bool = True) -> tuple[jax.Array, jax.Array]:
  """(p, e) with p = fl(a b) and p + e = a b (to 2^-100 or so relative; Dekker).

  ``guard=False`` leaves out the select that zeroes e where p is inf or NaN, for a
  caller that bounds a and b so that p is finite for finite input (a NaN input gives
  a NaN e, which leaves a NaN result NaN); two operations less per product.
  """
  p = a * b
  ah, al = split(a)
  bh, bl = split(b)
  e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
  if not guard:
    return p, e
  # At inf, NaN or overflow the error term is meaningless (inf - inf): 0.
  return p, jnp.where(jnp.isfinite(p), e, jnp.zeros_like(e))


def two_sum(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
  # The barrier keeps XLA from folding (c + b) - c into b for a constant c.
  s = jax.lax.optimization_barrier(a + b)
  bb = s - a
  return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(s, e) with s = fl(a + b) and s + e = a + b exactly, for |a| >= |b| (Dekker)."""
  s = jax.lax.optimization_barrier(a + b)
  return s, b - (s - a)


def times_dw(a: jax.Array, b_hi: jax.Array, b_lo: jax.Array) -> tuple[jax.Array, jax.Array]:
  """a (b_hi + b_lo) as an unnormalised pair (p, e): p = fl(a b_hi), e its error plus
  a b_lo. Cheaper than :func:`_dw_times` (no renormalisation), for a sum that
  :func:`sum_dw` ends."""
  p, e = two_prod(a, b_hi)
  return p, e + a * b_lo


def sum_dw(*terms: tuple[jax.Array, jax.Array]) -> jax.Array:
  """The sum of the pairs (hi, lo), rounded once at the end: the his summed by
  :func:`two_sum`, their errors and the los in working precision (where the first
  sum is not finite, that sum)."""
  (s, e), *rest = terms
  for hi, lo in rest:
    s, e2 = two_sum(s, hi)
    e = e + (e2 + lo)
  y = s + e
  return jnp.where(jnp.isfinite(s), y, s)


def _dw_times(a_hi, a_lo, b_hi, b_lo):
  # (a_hi + a_lo)(b_hi + b_lo) to about 2^-2p relative, renormalised.
  p, e = two_prod(a_hi, b_hi)
  return fast_two_sum(p, e + (a_hi * b_lo + a_lo * b_hi))


def _dw_plus(a_hi, a_lo, b_hi, b_lo):
  s, e = two_sum(a_hi, b_hi)
  return fast_two_sum(s, e + (a_lo + b_lo))


def quotient(x: jax.Array, d: jax.Array) -> jax.Array:
  """x / d, the same under any jit: the barrier keeps XLA from turning a division by
  a constant d into a multiplication by its (rounded) reciprocal."""
  return x / jax.lax.optimization_barrier(d)


def quotient_dw(x: jax.Array, d: jax.Array) -> tuple[jax.Array, jax.Array]:
  """x / d as a double word (u, u_lo): u = fl(x / d) and u_lo its rounding error to
  about 2^-p relative, from the exact residual x - u d. For an exponential of the
  quotient, whose rounding error its tail amplifies |u| times. u_lo = 0 where u or
  u d is not finite.

  The residual is x minus the four products of the halves of u and d (Dekker), each
  exact in one multiply: the same value whether or not XLA contracts a multiply and
  an add into an FMA (its CPU backend does), where x - fl(u d) - (its error) would
  count the error twice.
  """
  u = quotient(x, d)
  d = jnp.broadcast_to(d, u.shape)
  uh, ul = split(u)
  dh, dl = split(d)
  r = (((x - uh * dh) - uh * dl) - ul * dh) - ul * dl
  return u, jnp.where(jnp.isfinite(u) & jnp.isfinite(u * d), r / d, jnp.zeros_like(u))


def with_sign_of(t: jax.Array, x: jax.Array) -> jax.Array:
  """|t| with the sign bit of ``x``, for t >= 0 (or NaN), by bit operations: an and
  and an or, where ``jnp.copysign`` compiles to an abs, a negation, a compare and a
  select."""
  dt = np.dtype(t.dtype)
  itype = _int_type(dt)
  sign = itype(np.array(-0.0, dt).view(itype))
  bits = jax.lax.bitcast_convert_type(t, itype) | (jax.lax.bitcast_convert_type(x, itype) & sign)
  return jax.lax.bitcast_convert_type(bits, dt)


def split_constant(c: str, dtype, parts: int = 2) -> tuple[float, ...]:
  """A decimal constant as a sum of ``parts`` floats of ``dtype``: each the nearest
  to what the ones before leave (hi, lo for two)."""
  dt = np.dtype(dtype)
  out = []
  with decimal.localcontext() as ctx:
    ctx.prec = 100
    rest = decimal.Decimal(c)
    for _ in range(parts):
      v = dt.type(float(rest))
      out.append(float(v))
      rest -= decimal.Decimal(float(v))
  return tuple(out)


def constant_pieces(c: str, bits: int, n: int) -> tuple[float, ...]:
  """A decimal constant as a sum of ``n`` floats of ``bits`` significant bits each,
  each the nearest to what the ones before leave (Cody and Waite's constants: a
  product of a piece with an integer of 53 - ``bits`` bits, or 24 - ``bits`` in
  float32, is exact)."""
  rest = fractions.Fraction(decimal.Decimal(c))
  out = []
  for _ in range(n):
    _, e = math.frexp(float(rest))
    piece = fractions.Fraction(round(rest * fractions.Fraction(2) ** (bits - e))) * fractions.Fraction(2) ** (
      e - bits
    )
    out.append(float(piece))
    rest -= piece
  return tuple(out)
