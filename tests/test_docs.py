"""The README's activation table is generated from the registry and kept up to date."""

import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")


def test_readme_activation_table_is_current():
  out = subprocess.run(
    [sys.executable, os.path.join(ROOT, "tools", "activation_table.py"), "--check"],
    capture_output=True,
    text=True,
    check=False,
  )
  assert out.returncode == 0, out.stdout + out.stderr
