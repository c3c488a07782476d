"""tools/bitwise.py records results as bits and finds a changed one."""

import os
import subprocess
import sys

import numpy as np

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "bitwise.py")


def _run(*args):
  return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=600)


def _recorded(tmp_path, command):
  """Records identity (``record`` or ``programs``), checks that the record equals
  itself, and returns its path and arrays."""
  a = tmp_path / "a.npz"
  rec = _run(command, str(a), "--only", "identity", "--jobs", "1")
  assert rec.returncode == 0, rec.stderr[-2000:]
  same = _run("compare", str(a), str(a))
  assert same.returncode == 0 and "0 of" in same.stdout, same.stdout
  with np.load(a) as data:
    return a, {k: data[k] for k in data.files}


def _compared_with_a_bit_flipped(tmp_path, a, arrays, key, index) -> str:
  """``compare``'s output (it must exit 1) against ``a`` with one bit of ``key`` flipped."""
  arrays = dict(arrays)
  arrays[key] = arrays[key].copy()
  arrays[key][index] ^= 1
  b = tmp_path / "b.npz"
  np.savez(b, **arrays)
  diff = _run("compare", str(a), str(b))
  assert diff.returncode == 1, diff.stdout
  assert diff.stdout.splitlines()[-1].startswith("1 of"), diff.stdout
  return diff.stdout


def test_a_record_equals_itself_and_a_changed_bit_is_found(tmp_path):
  a, arrays = _recorded(tmp_path, "record")
  key = "identity/default/float32/rev2"
  assert key in arrays and arrays[key].dtype == np.uint32
  out = _compared_with_a_bit_flipped(tmp_path, a, arrays, key, 7)  # one bit of one second derivative
  assert f"{key}: 1 of" in out, out


def test_program_records_compare_and_name_a_changed_program(tmp_path):
  a, digests = _recorded(tmp_path, "programs")
  # one digest per program: each dtype, and the special values, have programs of their
  # own; the quantities computed together (value and orders 1-4) share theirs
  keys = [f"identity/{g}/{d}/f" for g in ("default", "special") for d in ("float32", "float64", "bfloat16")]
  assert all(digests[k].dtype == np.uint8 and digests[k].size == 32 for k in keys)
  assert len({digests[k].tobytes() for k in keys}) == len(keys), "programs share a digest"
  assert (digests["identity/default/float32/rev4"] == digests["identity/default/float32/f"]).all()
  key = "identity/default/float32/rev2"
  out = _compared_with_a_bit_flipped(tmp_path, a, digests, key, 0)
  assert f"{key}: the program differs" in out, out
