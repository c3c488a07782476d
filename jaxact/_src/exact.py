"""Exact references: what each activation declares beside its code (``exact=``).

An activation's mpmath reference is written in its own module, next to the code it
checks, and given to the decorator (``@activation(..., exact=Reference(...))``); the
registry keeps it and :mod:`jaxact.testing` measures the activation against it.

mpmath is an optional dependency (the ``conformance`` extra): ``mp`` here imports it
on first use, so that declaring a reference costs nothing at import. The closed forms
that several references share (the logistic function, softplus, steps) are below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

DPS = 50
"""The working precision of the references, in significant digits."""


class _Mpmath:
  """The ``mpmath`` module, imported when an attribute is first asked for (and the
  attribute kept, so that a reference evaluates as fast as with mpmath itself). Read
  only: set the precision on ``mpmath.mp`` (the harness uses ``mpmath.workdps``)."""

  def __getattr__(self, name: str) -> Any:
    import mpmath

    value = getattr(mpmath, name)
    self.__dict__[name] = value
    return value

  def __setattr__(self, name: str, value: Any) -> None:
    raise AttributeError(f"jaxact's mp proxy is read-only: set mpmath.{name} on mpmath itself")


mp: Any = _Mpmath()


@dataclasses.dataclass(frozen=True, eq=False)
class Reference:
  """mpmath value, first and second derivative of an element-wise activation.

  Attributes:
    f, d1, d2: callables ``g(x, **params) -> mpf`` (``x`` an ``mpf``, possibly +-inf).
    params: the hyperparameters to test at (defaults of the function if empty).
    kinks: points where a derivative jumps (added to the test grid).
    poles: f'' has a pole at the kinks (log1mexp at 0): the derivative tower's finite
      differences then step a small fraction of the distance to it.
    periodic: f'' is periodic (snake): the derivative tower's finite differences step
      2^-70, not 2^-70 |x|, which would span many periods at large |x|.
    also: further hyperparameter sets the battery measures (float32 and float64),
      besides ``params`` or the defaults.
  """

  f: Callable[..., Any]
  d1: Callable[..., Any]
  d2: Callable[..., Any]
  params: Mapping[str, float] = dataclasses.field(default_factory=dict)
  kinks: tuple[float, ...] = (0.0,)
  poles: bool = False
  periodic: bool = False
  also: tuple[Mapping[str, float], ...] = ()


# ---- closed forms shared by the references (on mpf numbers) ---------------------------


def em(x):
  """exp(-|x|), the stable building block of the logistic family."""
  return mp.exp(-abs(x))


def sig(x):
  """The logistic function 1 / (1 + e^-x)."""
  return 1 / (1 + mp.exp(-x))


def sig1(x):
  """Its derivative, e^-|x| / (1 + e^-|x|)^2."""
  e = em(x)
  return e / (1 + e) ** 2


def step(x, at0):
  """1 for x > 0, ``at0`` at 0, 0 below."""
  return mp.mpf(1) if x > 0 else (mp.mpf(at0) if x == 0 else mp.mpf(0))


def box(x, lo, hi, closed, inside=1):
  """``inside`` on [lo, hi] (``closed``) or (lo, hi), 0 elsewhere."""
  ok = (lo <= x <= hi) if closed else (lo < x < hi)
  return mp.mpf(inside) if ok else mp.mpf(0)


def pos(x):
  """x for x > 0 else 0 (the right branch of a kink at 0)."""
  return x if x > 0 else mp.mpf(0)


def sp(z):
  """softplus, log(1 + e^z), without overflow."""
  return mp.log1p(mp.exp(z)) if z < 0 else z + mp.log1p(mp.exp(-z))


def dot(a, b):
  """The exactly summed inner product of two rows."""
  return mp.fsum(ai * bi for ai, bi in zip(a, b))
