"""The ``## heading`` sections of the Markdown reports in docs/, which scripts rewrite
one section at a time (each backend or machine writes its own).

A section runs from its heading line to the next ``## `` heading or the end of the file.
"""

from __future__ import annotations

import os
import re


def _pattern(heading: str) -> re.Pattern[str]:
  return re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)


def read_section(text: str, heading: str) -> str:
  """The section ``heading`` (a ``## ...`` line) of ``text``; ValueError if there is none."""
  m = _pattern(heading).search(text)
  if m is None:
    raise ValueError(f"no section {heading!r}")
  return m.group(0)


def replace_section(text: str, heading: str, block: str) -> str:
  """``text`` with the section ``heading`` replaced by ``block`` (which starts with the
  heading), or with ``block`` appended if there is no such section."""
  block = block.rstrip("\n") + "\n"
  pattern = _pattern(heading)
  if pattern.search(text):
    return pattern.sub(lambda _: block + "\n", text, count=1).rstrip("\n") + "\n"
  return text.rstrip("\n") + "\n\n" + block


def write_between(path: str, start: str, end: str, body: str, check: bool, what: str) -> int:
  """Puts ``body`` between the markers ``start`` and ``end`` of the file ``path``; with
  ``check``, writes nothing and returns 1 (saying which script to run) if the file
  is out of date. ``what`` names the generated part and its script in that message."""
  with open(path) as f:
    text = f.read()
  i, j = text.index(start) + len(start), text.index(end)
  new = text[:i] + "\n" + body + "\n" + text[j:]
  if check:
    if new != text:
      print(f"{os.path.basename(path)}: {what} is out of date")
      return 1
    return 0
  with open(path, "w") as f:
    f.write(new)
  return 0
