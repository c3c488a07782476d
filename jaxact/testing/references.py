"""High-precision references (mpmath) for the built-in activations.

Each activation declares its reference beside its code: the ``exact=`` argument of its
decorator (``jaxact/_src/<module>.py``; the type and the shared closed forms are in
``jaxact/_src/exact.py``). This module collects them from the registry.

Element-wise references: :class:`Reference` (value, first and second derivative in
closed form, written independently of the implementation, evaluated at :data:`DPS`
significant digits; the closed forms are checked against ``mpmath.diff`` in the test
suite; at a kink they encode the documented convention). Normalizer references:
functions ``(x, w, v) -> ((value, gradient of <w, f(x)>, Hessian-vector product along
v), (their three scales))`` of one row (lists of ``mpf``, entries of -inf allowed);
each scale is what the error is measured against: the largest entry of the value, and
for the derivatives the largest sum of the absolute values of the terms that make up
an entry (the size of what cancels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import mpmath  # noqa: F401  (the references evaluate with it: without it, fail here)

import jaxact  # noqa: F401  (registers the built-ins)
from jaxact._src import registry
from jaxact._src.exact import DPS as DPS
from jaxact._src.exact import Reference as Reference


def _declared(kind: str) -> dict[str, Any]:
  infos = [registry.info(name) for name in registry.names(kind=kind, builtin=True)]
  return {info.name: info.exact for info in infos if info.exact is not None}


ELEMENTWISE: dict[str, Reference] = _declared("elementwise")
"""The built-in element-wise activations' references, by name."""

NORMALIZERS: dict[str, Callable[..., Any]] = _declared("normalizer")
"""The built-in normalizers' row references, by name."""

OTHER_PARAMS: tuple[tuple[str, Mapping[str, float]], ...] = tuple(
  (name, dict(params)) for name, ref in ELEMENTWISE.items() for params in ref.also
)
"""Hyperparameters other than the defaults that the battery measures too (float32 and
float64; each reference's ``also``). A gate slope that is not a power of two makes
beta * x inexact, whose rounding error the tail amplifies |beta x| times unless it is
carried."""

SCALAR_OUTPUT = frozenset({"logsumexp", "logmeanexp"})
"""Normalizers that reduce the row to one value."""
