"""A griffe extension for the documentation site (mkdocs.yml): the package's
module-level functions documented as Python holds them at run time, where that
differs from what the source spells.

The declaration of an activation adds a generated first sentence to its docstring's
``Accuracy:`` paragraph (the bounds the battery asserts, ``registry.with_accuracy``):
a function's docstring is replaced by the run-time one where they differ. The gated
units are made by a factory (``glu: _Unit = _builtin(...)``), so the source shows an
attribute without a docstring: such an attribute whose value is a function becomes a
function, with the value's signature and docstring.

The docstrings are written for ``help()``, in reStructuredText's markup; the site
renders Markdown. Once the package is loaded every docstring's markup is translated:
``.. math::`` blocks and ``:math:`` roles to the site's math (pymdownx.arithmatex,
typeset by MathJax), literal blocks after ``::`` to fenced code, and cross-reference
roles (``:func:`` and the like) to code spans.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
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


_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_ROLE = re.compile(r":(?:func|class|meth|attr|data|mod|obj):`(~?)([^`]+)`")


def _indent(line: str) -> int:
  return len(line) - len(line.lstrip())


def _markdown(doc: str) -> str:
  """``doc`` with its reStructuredText markup in Markdown (see the module docstring)."""
  lines = doc.split("\n")
  out: list[str] = []
  i = 0
  while i < len(lines):
    line = lines[i]
    math = line.strip() == ".. math::"
    literal = not math and line.rstrip().endswith("::") and not line.strip().startswith("..")
    if not (math or literal):
      out.append(line)
      i += 1
      continue
    # The block: the lines after it that are blank or indented more than it.
    i += 1
    block = []
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > _indent(line)):
      block.append(lines[i])
      i += 1
    body = textwrap.dedent("\n".join(block)).strip("\n").split("\n")
    pad = " " * _indent(line)
    body = [pad + b if b else b for b in body]
    if math:
      out += [f"{pad}$$", *body, f"{pad}$$", ""]
    else:
      out += [line.rstrip()[:-1], "", f"{pad}```python", *body, f"{pad}```", ""]
  text = _MATH_ROLE.sub(lambda m: f"${m.group(1)}$", "\n".join(out))
  return _ROLE.sub(lambda m: f"`{m.group(2).split('.')[-1] if m.group(1) else m.group(2)}`", text)


def _objects(obj: griffe.Object) -> Any:
  """``obj`` and every object defined in it (not the names it imports)."""
  yield obj
  for member in obj.members.values():
    if not member.is_alias:
      yield from _objects(member)


class RuntimeDocstrings(griffe.Extension):
  def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
    for obj in _objects(pkg):
      if obj.docstring is not None:
        obj.docstring.value = _markdown(obj.docstring.value)

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
