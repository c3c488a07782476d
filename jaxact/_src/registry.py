"""Name -> activation, aliases and metadata.

Every activation made with :func:`jaxact.activation` (or a normalizer of the
library) records an :class:`Info` here. ``jaxact.get`` resolves names and aliases,
``jaxact.names`` lists them, ``jaxact.info`` returns the metadata.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

# The 8- and 4-bit floats XLA computes with; jaxact computes them in float32 and
# rounds once (checks.compute_dtype), and the battery measures them at every value.
NARROW_FLOATS = (
  "float8_e4m3fn",
  "float8_e5m2",
  "float8_e4m3fnuz",
  "float8_e5m2fnuz",
  "float8_e4m3b11fnuz",
  "float8_e3m4",
  "float8_e4m3",
  "float4_e2m1fn",
)

REQUIRED = "required"
"""The default recorded in ``Info.params`` for a hyperparameter without one (``threshold``)."""

KINDS = ("elementwise", "normalizer", "gated", "stochastic")
"""What ``Info.kind`` can be (see :class:`Info`)."""

# Accuracy bounds the test battery asserts, in ULPs of the output dtype at the
# exact value: (value, first derivative, second derivative).
DEFAULT_BOUNDS: Mapping[str, tuple[float, float, float]] = MappingProxyType(
  {
    "float64": (4.0, 8.0, 16.0),
    "float32": (4.0, 8.0, 16.0),
    "bfloat16": (1.0, 1.0, 2.0),
    "float16": (1.0, 1.0, 2.0),
    # The 8- and 4-bit floats, computed in float32 and rounded once.
    **dict.fromkeys(NARROW_FLOATS, (0.501, 0.501, 0.501)),
  }
)


def normwise_bounds(bounds: Mapping[str, tuple[float, float, float]]) -> Mapping[str, Any]:
  """The bounds a normalizer's docstring states: those of the four wide dtypes (the
  battery measures normalizers in them, and in two of the narrow floats only,
  float8_e4m3fn and float4_e2m1fn, where rows need care)."""
  return MappingProxyType({k: v for k, v in bounds.items() if k not in NARROW_FLOATS})


NORMALIZER_BOUNDS = normwise_bounds(DEFAULT_BOUNDS)
"""What a built-in normalizer's docstring states (the battery asserts them)."""


def accuracy_sentence(bounds: Mapping[str, tuple[float, float, float]], normwise: bool = False) -> str:
  """The bounds as the first sentence of a docstring's accuracy paragraph: value, first
  and second derivative per group of dtypes with the same bounds; ``normwise``: a
  normalizer's (value, gradient, Hessian-vector product, each measured against a scale
  of the whole row)."""
  groups: dict[tuple[float, ...], list[str]] = {}
  first = ("float32", "float64", "float16", "bfloat16")
  for dtype, b in sorted(bounds.items(), key=lambda kv: first.index(kv[0]) if kv[0] in first else 9):
    groups.setdefault(tuple(b), []).append(dtype)
  parts = []
  for (v, d1, d2), dtypes in groups.items():
    narrow = [d for d in dtypes if d in NARROW_FLOATS]
    names = [d for d in dtypes if d not in NARROW_FLOATS]
    if len(narrow) == len(NARROW_FLOATS):
      names.append("the 8- and 4-bit floats")
    else:
      names += narrow
    where = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
    parts.append(f"{v:g}, {d1:g} and {d2:g} in {where}" if (v, d1) != (d1, d2) else f"{v:g} in {where}")
  if normwise:
    return (
      "value, gradient and Hessian-vector product within "
      + "; ".join(parts)
      + ", in ULPs of the output dtype of a scale of the row (normwise): its largest exact"
      " entry in magnitude for the value, the largest sum of the sizes of the terms that make up an"
      " entry (what cancels) for the derivatives; asserted by the battery on rows across"
      " each dtype's range."
    )
  return (
    "value, first and second derivative within "
    + "; ".join(parts)
    + ", in ULPs of the output dtype at the exact value (asserted by the battery over each"
    " dtype's whole range)."
  )


def with_accuracy(
  doc: str | None, bounds: Mapping[str, tuple[float, float, float]], normwise: bool = False
) -> str | None:
  """``doc`` with :func:`accuracy_sentence` at the start of its ``Accuracy:`` paragraph
  (added before ``Examples:`` or ``Example:`` if it has none), the paragraph wrapped again."""
  if not doc:
    return doc
  lines = doc.split("\n")
  start = next((i for i, line in enumerate(lines) if line.strip().startswith("Accuracy:")), None)
  if start is None:
    start = next((i for i, line in enumerate(lines) if line.strip() in ("Examples:", "Example:")), len(lines))
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())] if start < len(lines) else "  "
    lines[start:start] = [f"{indent}Accuracy:", ""]
  end = start + 1
  while end < len(lines) and lines[end].strip():
    end += 1
  indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
  rest = " ".join(" ".join(lines[start:end]).split())[len("Accuracy:") :].strip()
  text = f"Accuracy: {accuracy_sentence(bounds, normwise)}"
  text += f" {rest[0].upper()}{rest[1:]}" if rest else ""
  wrapped = textwrap.fill(
    text, width=88, initial_indent=indent, subsequent_indent=indent, break_long_words=False
  )
  return "\n".join([*lines[:start], wrapped, *lines[end:]])


@dataclasses.dataclass(frozen=True)
class Info:
  """Metadata of one registered activation.

  Attributes:
    name: canonical name (``jaxact.<name>``).
    fn: the public function.
    kind: one of :data:`KINDS`: ``"elementwise"`` (``f(x, **params)`` entry by
      entry), ``"normalizer"`` (reduces along ``axis``: softmax, logsumexp ...),
      ``"gated"`` (splits its input in two halves along ``axis`` and multiplies one
      by a function of the other: glu, swiglu ...) or ``"stochastic"`` (draws from a
      ``key``: gumbel_softmax).
    family: the module it belongs to (``"rectifiers"``, ``"sigmoidal"`` ...).
    formula: the definition, in plain text.
    params: hyperparameter names and defaults (the input excluded); :data:`REQUIRED`
      for a hyperparameter without a default.
    output_range: the image of the real line, in plain text.
    monotonic: non-decreasing in its input.
    smoothness: ``"C^inf"``, ``"C^1"``, ``"C^0"`` ... (for the default parameters).
    zero_centred: ``f(0) == 0`` and takes both signs.
    bounded: the output is bounded.
    conventions: derivative at every kink, meaning of masks and infinities.
    aliases: other names that resolve to this activation.
    compute_dtype: how each input dtype is computed.
    bounds: the accuracy bounds the battery asserts, per dtype.
    references: literature.
    builtin: part of jaxact (``False`` for user activations).
    exact: the high-precision reference the battery measures it against: an
      :class:`~jaxact._src.exact.Reference` for an element-wise activation, a function
      of a row for a normalizer (see :mod:`jaxact.testing.references`); ``None`` for
      none (a gated unit is measured through its gate's).
  """

  name: str
  fn: Callable[..., Any]
  kind: str = "elementwise"
  family: str = "user"
  formula: str = ""
  params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  output_range: str = ""
  monotonic: bool | None = None
  smoothness: str = ""
  zero_centred: bool | None = None
  bounded: bool | None = None
  conventions: str = ""
  aliases: tuple[str, ...] = ()
  compute_dtype: str = "float16/bfloat16 in float32, rounded once; float32/float64 natively"
  bounds: Mapping[str, tuple[float, float, float]] = dataclasses.field(
    default_factory=lambda: dict(DEFAULT_BOUNDS)
  )
  references: tuple[str, ...] = ()
  builtin: bool = False
  exact: Any = dataclasses.field(default=None, repr=False)

  def as_dict(self) -> dict[str, Any]:
    """The metadata as plain Python values (no function), e.g. for JSON."""
    out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("fn", "exact")}
    out["params"] = dict(self.params)
    out["bounds"] = {k: list(v) for k, v in self.bounds.items()}
    return out


_REGISTRY: dict[str, Info] = {}
_ALIASES: dict[str, str] = {}


def register(info: Info) -> Info:
  """Adds ``info`` to the registry.

  Raises ``ValueError`` for a kind not in :data:`KINDS`.

  A user activation may replace an earlier user activation of the same name (a
  notebook cell run twice); replacing a built-in activation raises ``ValueError``.
  """
  if info.kind not in KINDS:
    raise ValueError(f"jaxact.register: kind {info.kind!r} of {info.name!r} is not one of {KINDS}")
  for key in (info.name, *info.aliases):
    owner = _REGISTRY.get(_ALIASES.get(key, key))
    if owner is not None and owner.builtin and (owner.name != info.name or not info.builtin):
      raise ValueError(f"jaxact.register: {key!r} is already the name of a built-in activation")
  _REGISTRY[info.name] = info
  for alias in info.aliases:
    _ALIASES[alias] = info.name
  return info


def _canonical(name: str) -> str:
  key = _ALIASES.get(name, name)
  if key not in _REGISTRY:
    known = ", ".join(sorted([*_REGISTRY, *_ALIASES]))
    raise ValueError(f"jaxact.get: unknown activation {name!r}; known: {known}")
  return key


def get(name: str | Callable[..., Any]) -> Callable[..., Any]:
  """Returns the activation called ``name`` (an alias works too); a callable passes through.

  Raises:
    ValueError: no activation has that name.
    TypeError: ``name`` is neither a string nor a callable.
  """
  if callable(name):
    return name
  if not isinstance(name, str):
    raise TypeError(f"jaxact.get: expected a name or a callable, got {type(name).__name__}")
  return _REGISTRY[_canonical(name)].fn


def info(name: str | Callable[..., Any]) -> Info:
  """Returns the :class:`Info` metadata of an activation (by name, alias or function)."""
  if callable(name):
    for item in _REGISTRY.values():
      if item.fn is name:
        return item
    raise ValueError(f"jaxact.info: {name!r} is not a registered activation")
  if not isinstance(name, str):
    raise TypeError(f"jaxact.info: expected a name or a callable, got {type(name).__name__}")
  return _REGISTRY[_canonical(name)]


def names(
  *, kind: str | None = None, include_aliases: bool = False, builtin: bool | None = None
) -> list[str]:
  """Sorted names of the registered activations (optionally of one ``kind``; with
  ``builtin=True`` jaxact's own only, with ``builtin=False`` the ones registered
  since import)."""
  out = [
    n
    for n, i in _REGISTRY.items()
    if (kind is None or i.kind == kind) and (builtin is None or i.builtin == builtin)
  ]
  if include_aliases:
    out += [a for a, n in _ALIASES.items() if kind is None or _REGISTRY[n].kind == kind]
  return sorted(out)
