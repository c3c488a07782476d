"""tools/bitwise.py records results as bits and finds a changed one."""

import os
import subprocess
import sys

import numpy as np

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "bitwise.py")


def _run(*args):
  return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=600)


def test_a_record_equals_itself_and_a_changed_bit_is_found(tmp_path):
  a, b = tmp_path / "a.npz", tmp_path / "b.npz"
  rec = _run("record", str(a), "--only", "identity", "--jobs", "1")
  assert rec.returncode == 0, rec.stderr[-2000:]
  same = _run("compare", str(a), str(a))
  assert same.returncode == 0 and "0 of" in same.stdout, same.stdout
  with np.load(a) as data:
    arrays = {k: data[k] for k in data.files}
  key = "identity/default/float32/rev2"
  assert key in arrays and arrays[key].dtype == np.uint32
  arrays[key] = arrays[key].copy()
  arrays[key][7] ^= 1  # one bit of one second derivative
  np.savez(b, **arrays)
  diff = _run("compare", str(a), str(b))
  assert diff.returncode == 1 and f"{key}: 1 of" in diff.stdout, diff.stdout
  assert "1 of" in diff.stdout.splitlines()[-1]


def test_program_records_compare_and_name_a_changed_program(tmp_path):
  a, b = tmp_path / "a.npz", tmp_path / "b.npz"
  rec = _run("programs", str(a), "--only", "identity", "--jobs", "1")
  assert rec.returncode == 0, rec.stderr[-2000:]
  same = _run("compare", str(a), str(a))
  assert same.returncode == 0 and "0 of" in same.stdout, same.stdout
  with np.load(a) as data:
    digests = {k: data[k] for k in data.files}
  # one digest per program: each dtype, and the special values, have programs of their
  # own; the quantities computed together (value and orders 1-4) share theirs
  keys = [f"identity/{g}/{d}/f" for g in ("default", "special") for d in ("float32", "float64", "bfloat16")]
  assert all(digests[k].dtype == np.uint8 and digests[k].size == 32 for k in keys)
  assert len({digests[k].tobytes() for k in keys}) == len(keys), "programs share a digest"
  assert (digests["identity/default/float32/rev4"] == digests["identity/default/float32/f"]).all()
  key = "identity/default/float32/rev2"
  digests[key] = digests[key].copy()
  digests[key][0] ^= 1
  np.savez(b, **digests)
  diff = _run("compare", str(a), str(b))
  assert diff.returncode == 1 and f"{key}: the program differs" in diff.stdout, diff.stdout
  assert diff.stdout.splitlines()[-1].startswith("1 of"), diff.stdout
