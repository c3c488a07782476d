"""The benchmark scripts run and print their tables (tiny sizes, no file written). What
they measure is not asserted here: timings are not tests. (The cases of
jaxnn_defects.py are the regression tests.)"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


@pytest.mark.parametrize(
  ("script", "args", "rows"),
  [
    ("speed_memory.py", ["--only", "relu", "--log2-size", "12", "--rounds", "1", "--repeats", "1"], 2),
    ("derivative_barrier.py", ["--only", "elu", "--log2-size", "12", "--rounds", "1", "--repeats", "1"], 2),
  ],
)
def test_script_prints_its_table(script, args, rows):
  out = subprocess.run(
    [sys.executable, os.path.join(ROOT, "benchmarks", script), *args, "--out", "-"],
    capture_output=True,
    text=True,
    timeout=300,
    check=True,
  ).stdout
  table = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| function")]
  table = [line for line in table if not line.startswith("| expression")]
  assert len(table) >= rows, out
