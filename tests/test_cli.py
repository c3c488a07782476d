"""``python -m jaxact``: the conformance report's command line."""

import json

import ml_dtypes
import numpy as np

import jaxact.testing as jt
from jaxact.__main__ import main


def test_report_passes_and_writes_json(tmp_path, capsys):
  out = tmp_path / "report.json"
  status = main(["--only", "relu,swish", "--dtypes", "float32,float16", "--quiet", "--json", str(out)])
  assert status == 0
  table = capsys.readouterr().out
  assert "relu" in table and "silu" in table  # the alias is reported under its name
  assert "2/2 activations pass" in table
  result = json.loads(out.read_text())
  assert result["passed"] is True and result["dtypes"] == ["float32", "float16"]
  assert [r["name"] for r in result["reports"]] == ["relu", "silu"]


def test_usage_errors_exit_with_2(capsys):
  assert main(["--only", "no_such_activation", "--quiet"]) == 2
  assert main(["--dtypes", "float8", "--quiet"]) == 2
  assert "unknown" in capsys.readouterr().err


def test_every_value_of_the_16_bit_dtypes():
  for dtype, count in ((ml_dtypes.bfloat16, 65281), (np.float16, 63489)):
    x = jt.every_value(dtype)
    # Every bit pattern but NaN, +0 and -0 counted once: 2^16 - NaNs - 1.
    nans = 2 * (2 ** ml_dtypes.finfo(dtype).nmant - 1)
    assert x.size == count == 2**16 - nans - 1
    assert np.array_equal(x, np.unique(x.astype(dtype).astype(np.float64)))
    assert np.array_equal(jt.grid(dtype, exhaustive=True), x)
  assert jt.grid(np.float32, exhaustive=True).size < 10_000  # a wider dtype keeps its grid


def test_every_value_has_the_same_zero_on_every_machine():
  # -0 and +0 are equal, and which one np.unique keeps is not specified (it differed
  # between machines): every_value keeps +0, so that the grids, and the keys of the
  # reference cache (tests/references), do not depend on the machine.
  for dtype in (ml_dtypes.bfloat16, np.float16, *(np.dtype(getattr(ml_dtypes, d)) for d in jt._ulp.NARROW)):
    x = jt.every_value(dtype)
    zero = x[x == 0]
    assert zero.size == 1 and not np.signbit(zero[0]), (np.dtype(dtype).name, zero)


def test_exhaustive_report_measures_every_value(capsys):
  assert main(["--only", "relu", "--dtypes", "bfloat16", "--exhaustive", "--quiet"]) == 0
  table = capsys.readouterr().out
  assert "element-wise activations: every value of bfloat16" in table
  assert "largest error: " in table
  # Subnormal inputs are left out on a backend that flushes them (254 of them).
  points = 65281 - (254 if jt.flushes_subnormals("bfloat16") else 0)
  assert f"relu        bfloat16    {points}" in table


def test_narrow_floats_are_reported_at_every_value(capsys):
  assert main(["--only", "relu,tanh", "--dtypes", "float8_e4m3fn,float4_e2m1fn", "--quiet"]) == 0
  table = capsys.readouterr().out
  assert "element-wise activations: every value of float8_e4m3fn, float4_e2m1fn" in table
  assert "tanh        float8_e4m3fn      253" in table
  assert "tanh        float4_e2m1fn       15" in table and "n/a" in table  # float4 has no NaN
  largest = float(table.split("largest error: ")[1].split()[0])
  assert 0.4 < largest <= 0.501, largest  # computed in float32, rounded once
