"""The check that keeps the derivative tower closed.

A kernel's forward may build its result from bits (a power of two from an integer's
exponent field, a sign copied by masks) or round its argument: the kernel is never
differentiated through, its ``jax.custom_jvp`` rule is. That rule's partial
derivatives, though, are themselves differentiated at the next order. If one of them
passes a value that depends on ``x`` (or a parameter) through a bit cast, an integer
conversion, a rounding or ``stop_gradient`` and then uses it as a number, autodiff
sees derivative zero there and the next order is silently wrong (this is how
``tanh'''`` once came out as 0 at 0).

:func:`check_partial` traces a partial derivative to a jaxpr and follows every value
that depends on the differentiated inputs. A value that such an operation made from
them is *cut*; a cut value may decide a comparison or a ``select`` (a predicate has no
derivative in the mathematics either), but a cut value that reaches the output is
refused with a ``TypeError``. Calls of other kernels (``custom_jvp_call``) are not
entered: their own rules are checked when they are differentiated, so by induction
every order of every kernel is right in forward, reverse and mixed mode.
:func:`~jaxact._src.core.stable_kernel` runs the check the first time each rule is
traced for a dtype, for built-in and user activations alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np
from jax.extend import core as jcore

# Primitives whose derivative JAX takes as zero, while their output still carries
# (part of) the input's value.
CUTTING = frozenset(
  {
    "bitcast_convert_type",
    "round",
    "floor",
    "ceil",
    "sign",
    "stop_gradient",
    "nextafter",
    "reduce_precision",
    "shift_left",
    "shift_right_logical",
    "shift_right_arithmetic",
    "and",
    "or",
    "xor",
    "not",
    "population_count",
    "clz",
  }
)

# Kernels: differentiated by their own rules, which are checked on their own.
_OPAQUE = frozenset({"custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr"})

_CONST, _LIVE, _CUT = 0, 1, 2


def _is_float(aval) -> bool:
  dtype = getattr(aval, "dtype", None)
  return dtype is not None and np.issubdtype(dtype, np.floating)


def _is_bool(aval) -> bool:
  dtype = getattr(aval, "dtype", None)
  return dtype is not None and np.dtype(dtype) == np.dtype(bool)


def _sub_jaxprs(params) -> list:
  out = []
  for value in params.values():
    for v in value if isinstance(value, (tuple, list)) else (value,):
      if isinstance(v, jcore.ClosedJaxpr):
        out.append(v.jaxpr)
      elif isinstance(v, jcore.Jaxpr):
        out.append(v)
  return out


def _walk(jaxpr, states: Sequence[int], where: list[str]) -> list[int]:
  """The state of each output of ``jaxpr`` given those of its inputs; appends to
  ``where`` the primitives that cut a live value."""
  env: dict = {}

  def read(v) -> int:
    return env.get(v, _CONST) if isinstance(v, jcore.Var) else _CONST

  for v in jaxpr.constvars:
    env[v] = _CONST
  for v, s in zip(jaxpr.invars, states):
    env[v] = s
  for eqn in jaxpr.eqns:
    name = eqn.primitive.name
    ins = [read(v) for v in eqn.invars]
    if name == "select_n":
      out = [max(ins[1:], default=_CONST)]  # the predicate decides, it is not a value
    elif name in _OPAQUE:
      out = [max(ins, default=_CONST)] * len(eqn.outvars)
    elif name == "cond":
      outs = [_walk(b.jaxpr, ins[1:], where) for b in eqn.params["branches"]]
      out = [max(col) for col in zip(*outs)]
    elif "jaxpr" in eqn.params and name not in ("while", "scan"):
      sub = eqn.params["jaxpr"]
      out = _walk(getattr(sub, "jaxpr", sub), ins, where)
    else:
      top = max(ins, default=_CONST)
      for sub in _sub_jaxprs(eqn.params):  # loops: every input taken at the worst state
        top = max([top, *_walk(sub, [top] * len(sub.invars), where)])
      cuts = name in CUTTING or (
        name == "convert_element_type" and not _is_float(eqn.outvars[0].aval) and eqn.invars
      )
      if cuts and top == _LIVE:
        where.append(name)
        top = _CUT
      out = [top] * len(eqn.outvars)
    for v, s in zip(eqn.outvars, out):
      # A boolean (a comparison, a mask) decides; it carries no value.
      env[v] = _CONST if _is_bool(v.aval) else s
  return [read(v) for v in jaxpr.outvars]


def cut_paths(fn: Callable[..., jax.Array], *avals) -> list[str]:
  """The primitives through which an output of ``fn(*avals)`` depends on an input
  with derivative zero (empty when every path is differentiable)."""
  jaxpr = jax.make_jaxpr(fn)(*avals).jaxpr
  where: list[str] = []
  states = [_LIVE if _is_float(v.aval) else _CONST for v in jaxpr.invars]
  outs = _walk(jaxpr, states, where)
  return sorted(set(where)) if any(s == _CUT for s in outs) else []


def check_partial(owner: str, which: str, partial: Callable[..., jax.Array], dtypes: Sequence) -> None:
  """Raises ``TypeError`` if the partial derivative ``which`` of the kernel ``owner``
  would be differentiated through a cut (see the module docstring)."""
  avals = [jax.ShapeDtypeStruct((), d) for d in dtypes]
  cuts = cut_paths(partial, *avals)
  if cuts:
    raise TypeError(
      f"jaxact.{owner}: the derivative in {which!r} depends on its input through "
      f"{', '.join(cuts)}, whose derivative autodiff takes as zero, so the next order "
      "would be wrong; write it with kernels (jaxact.stable_kernel) and plain arithmetic"
    )
