"""``python -m jaxact``: the conformance report on this machine's backend.

For every registered activation: the largest error in ULPs of the value and the
first and second derivative against an mpmath reference, in float32 and bfloat16
by default, the count of non-finite derivatives, and pass/fail against the bounds.
Exit status 0 if everything passes, 1 if anything fails, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def _parser() -> argparse.ArgumentParser:
  p = argparse.ArgumentParser(
    prog="python -m jaxact",
    description="Conformance report: jaxact's activations against mpmath on this backend.",
  )
  p.add_argument("--only", metavar="NAMES", help="comma-separated activation names (aliases work)")
  p.add_argument(
    "--dtypes",
    default="float32,bfloat16",
    help=(
      "comma-separated dtypes among float32, float64, bfloat16, float16 and the 8- and 4-bit "
      "floats (float8_e4m3fn, float8_e5m2, ..., float4_e2m1fn; measured at every value) "
      "(default: %(default)s); float64 turns on jax_enable_x64 for this run"
    ),
  )
  p.add_argument(
    "--exhaustive",
    action="store_true",
    help=(
      "measure the element-wise activations on every float16 and bfloat16 value "
      "(about 64,000 each; minutes per activation) instead of a spread of about 4,000"
    ),
  )
  p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
  p.add_argument("--quiet", action="store_true", help="no progress on stderr")
  return p


def main(argv: list[str] | None = None) -> int:
  args = _parser().parse_args(argv)
  try:
    import mpmath  # noqa: F401
  except ImportError:
    print("python -m jaxact needs mpmath: pip install 'jaxact[conformance]'", file=sys.stderr)
    return 2
  import jax

  from jaxact.testing import _conformance

  dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
  if "float64" in dtypes:
    # This is the report's own process: measuring float64 needs x64 (importing
    # jaxact never changes the configuration).
    jax.config.update("jax_enable_x64", True)
  only = [n.strip() for n in args.only.split(",")] if args.only else None
  try:
    result = _conformance.run(
      names=only, dtypes=dtypes, progress=None if args.quiet else sys.stderr, exhaustive=args.exhaustive
    )
  except ValueError as e:
    print(f"python -m jaxact: {e}", file=sys.stderr)
    return 2
  print(_conformance.format_table(result))
  if args.json:
    with open(args.json, "w") as f:
      json.dump(result, f, indent=2, default=float)
      f.write("\n")
  return 0 if result["passed"] else 1


if __name__ == "__main__":
  t0 = time.perf_counter()
  status = main()
  print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
  sys.exit(status)
