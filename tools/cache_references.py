"""Precomputes the mpmath reference values of the battery into tests/references/.

The battery (tests/test_battery.py) takes them from there instead of evaluating
~50,000 points at 50 digits per activation; tests/test_battery.py checks that every
entry it needs is present and that a sample of each agrees with a fresh evaluation.
Rerun after adding an activation or changing a reference, a grid or a parameter set.

Usage: python tools/cache_references.py [name ...]   (default: every built-in)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jaxact  # noqa: E402
from jaxact.testing import _battery, _cache  # noqa: E402

DIRECTORY = os.path.join(os.path.dirname(__file__), "..", "tests", "references")


def build(name: str) -> str:
  t0 = time.perf_counter()
  cache = _cache.ReferenceCache(DIRECTORY)
  fn = jaxact.get(name)
  keys, changed = set(), False
  for ref, dtypes in _cache.battery_cases(name):
    for dname, xs, params in _battery.cases(fn, ref, dtypes):
      key = _cache.entry_key(ref, dname, xs, params)
      keys.add(key)
      if cache.get(name, key) is None:
        cache.put(name, key, dname, _battery.reference_values(ref, xs, params))
        changed = True
  changed |= set(cache.entries(name)) != keys
  if changed:  # an unchanged file is not rewritten (its bytes would differ)
    cache.keep_only(name, keys)
    cache.save(name)
  size = os.path.getsize(os.path.join(DIRECTORY, f"{name}.npz"))
  return f"{name}: {len(keys)} entries, {size / 1024:.0f} KiB ({time.perf_counter() - t0:.1f} s)"


def main(argv: list[str]) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("names", nargs="*", help="element-wise activations (default: every built-in one)")
  args = p.parse_args(argv)
  every = [n for n in jaxact.names(kind="elementwise") if jaxact.info(n).builtin]
  unknown = sorted(set(args.names) - set(every))
  if unknown:
    p.error(f"not built-in element-wise activations: {unknown}")
  names = args.names or every
  with multiprocessing.Pool(min(len(names), os.cpu_count() or 1)) as pool:
    for line in pool.imap_unordered(build, names):
      print(line, flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
