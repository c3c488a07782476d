"""A griffe extension for the documentation site (mkdocs.yml): the package's
module-level functions documented as Python holds them at run time, where that
differs from what the source spells.

The declaration of an activation adds a generated first sentence to its docstring's
``Accuracy:`` paragraph (the bounds the battery asserts, ``registry.with_accuracy``):
a function's docstring is replaced by the run-time one where they differ. The gated
units are made by a factory (``glu: _Unit = _builtin(...)``), so the source shows an
attribute without a docstring: such an attribute whose value is a function becomes a
function, with the value's signature and docstring.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe


def _runtime_function(obj: griffe.Object) -> Any:
  """The value of a module-level name of the package at run time, if it is a
  function, else None."""
  if not obj.path.startswith("jaxact.") or not obj.parent or not obj.parent.is_module:
    return None
  try:
    value = getattr(importlib.import_module(obj.module.path), obj.name)
  except (ImportError, AttributeError):
    return None
  return value if inspect.isfunction(value) else None


def _parameters(fn: Any) -> griffe.Parameters:
  out = []
  for p in inspect.signature(fn).parameters.values():
    annotation = None if p.annotation is p.empty else p.annotation
    out.append(
      griffe.Parameter(
        p.name,
        annotation=annotation if annotation is None or isinstance(annotation, str) else str(annotation),
        kind=griffe.ParameterKind(p.kind.description),
        default=None if p.default is p.empty else repr(p.default),
      )
    )
  return griffe.Parameters(*out)


class RuntimeDocstrings(griffe.Extension):
  def on_function_instance(self, *, node: Any, func: griffe.Function, agent: Any, **kwargs: Any) -> None:
    fn = _runtime_function(func)
    doc = inspect.getdoc(fn) if fn is not None else None
    if doc and func.docstring is not None and doc != func.docstring.value:
      func.docstring.value = doc

  def on_attribute_instance(self, *, node: Any, attr: griffe.Attribute, agent: Any, **kwargs: Any) -> None:
    fn = _runtime_function(attr)
    doc = inspect.getdoc(fn) if fn is not None else None
    if not doc:
      return
    func = griffe.Function(
      attr.name,
      lineno=attr.lineno,
      endlineno=attr.endlineno,
      parameters=_parameters(fn),
      docstring=griffe.Docstring(
        doc,
        parser=getattr(agent, "docstring_parser", None),
        parser_options=getattr(agent, "docstring_options", None),
      ),
    )
    attr.parent.set_member(attr.name, func)
