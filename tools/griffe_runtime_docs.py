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
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|data|const|mod|obj|exc|ref|code):`(~?)([^`]+)`")
_LITERAL = re.compile(r"``.+?``", re.S)
_DOCTEST = re.compile(r"\s*(>>>|\.\.\.)( |$)")


def _indent(line: str) -> int:
  return len(line) - len(line.lstrip())


def _roles(text: str) -> str:
  """Prose with its roles translated; ``literals`` left as they are."""
  kept: list[str] = []

  def keep(m: re.Match[str]) -> str:
    kept.append(m.group(0))
    return f"\x00{len(kept) - 1}\x00"

  text = _LITERAL.sub(keep, text)
  text = _MATH_ROLE.sub(lambda m: f"${m.group(1)}$", text)
  text = _ROLE.sub(lambda m: f"`{m.group(2).split('.')[-1] if m.group(1) else m.group(2)}`", text)
  return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _block(lines: list[str], i: int, after: int) -> tuple[list[str], int, int]:
  """The indented block that starts at ``lines[i]`` (blank lines first allowed) under a
  line of indent ``after``: its lines dedented, the index after it, and its indent;
  no block (an empty list) unless its first line is indented more than ``after``."""
  j = i
  while j < len(lines) and not lines[j].strip():
    j += 1
  if j == len(lines) or _indent(lines[j]) <= after:
    return [], i, 0
  indent = _indent(lines[j])
  block = []
  while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) >= indent):
    block.append(lines[j])
    j += 1
  while block and not block[-1].strip():
    block.pop()
  return textwrap.dedent("\n".join(block)).split("\n"), j, indent


def _markdown(doc: str) -> str:
  """``doc`` with its reStructuredText markup in Markdown (see the module docstring)."""
  lines = doc.split("\n")
  out: list[tuple[bool, str]] = []  # (verbatim, line)
  i = 0
  while i < len(lines):
    line = lines[i]
    i += 1
    stripped = line.strip()
    if stripped.startswith(".. math::"):
      body, i, indent = _block(lines, i, _indent(line))
      first = stripped[len(".. math::") :].strip()
      # the formula (on the directive's line too), without options and blank lines
      body = [b for b in ([first] if first else []) + body if b.strip() and not re.match(r":\w+:", b.strip())]
      pad = " " * (indent or _indent(line))
      out += [(True, f"{pad}$$"), *((True, pad + b) for b in body), (True, f"{pad}$$"), (False, "")]
      continue
    doctest = bool(_DOCTEST.match(line))
    if doctest or not stripped.endswith("::") or stripped.startswith(".."):
      out.append((doctest, line))
      continue
    body, after, indent = _block(lines, i, _indent(line))
    if not body:  # "::" ending prose, no literal block after it
      out.append((False, line))
      continue
    i = after
    # reStructuredText: "text::" shows "text:", "text ::" shows "text", "::" nothing
    head = line.rstrip()[:-2]
    head = head.rstrip() if head.endswith(" ") or not head.strip() else head + ":"
    pad = " " * indent
    if head.strip():
      out += [(False, head), (False, "")]
    out += [(True, f"{pad}```python"), *((True, pad + b if b else b) for b in body), (True, f"{pad}```")]
    out.append((False, ""))
  # Roles translated in the prose only (a role may run over lines of one paragraph).
  text: list[str] = []
  prose: list[str] = []
  for verbatim, line in out:
    if not verbatim:
      prose.append(line)
      continue
    if prose:
      text.append(_roles("\n".join(prose)))
      prose = []
    text.append(line)
  if prose:
    text.append(_roles("\n".join(prose)))
  return "\n".join(text)


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
