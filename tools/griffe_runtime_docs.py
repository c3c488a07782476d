"""A griffe extension for the documentation site (mkdocs.yml): the docstring of each
of the package's module-level functions as Python holds it at run time, not as the
source spells it.

The declaration of an activation adds a generated first sentence to its docstring's
``Accuracy:`` paragraph (the bounds the battery asserts, ``registry.with_accuracy``),
and the gated units' docstrings are made by their factory; mkdocstrings reads the
source through griffe, where neither is. Objects whose run-time docstring is the
source's are left as they are.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe


def _runtime_doc(obj: griffe.Object) -> str | None:
  """The run-time docstring of a module-level callable of the package, else None."""
  if not obj.path.startswith("jaxact.") or not obj.parent or not obj.parent.is_module:
    return None
  try:
    value = getattr(importlib.import_module(obj.module.path), obj.name)
  except (ImportError, AttributeError):
    return None
  return inspect.getdoc(value) if callable(value) else None


class RuntimeDocstrings(griffe.Extension):
  def on_function_instance(self, *, node: Any, func: griffe.Function, agent: Any, **kwargs: Any) -> None:
    doc = _runtime_doc(func)
    if doc and func.docstring is not None and doc != func.docstring.value:
      func.docstring.value = doc

  def on_attribute_instance(self, *, node: Any, attr: griffe.Attribute, agent: Any, **kwargs: Any) -> None:
    # A function made by a factory (the gated units: ``glu: _Unit = _builtin(...)``).
    doc = _runtime_doc(attr)
    if doc:
      # Its annotation is the protocol that types the call for a checker
      # (``_Unit``), not what the call returns, which the docstring says.
      attr.annotation = None
      attr.docstring = griffe.Docstring(
        doc,
        parent=attr,
        parser=getattr(agent, "docstring_parser", None),
        parser_options=getattr(agent, "docstring_options", None),
      )
