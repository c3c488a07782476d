"""The benchmark scripts run and print their tables (tiny sizes, no file written). What
they measure is not asserted here: timings are not tests. (The cases of
jaxnn_defects.py are the regression tests.)"""

import importlib
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _run(script, *args) -> str:
  """The standard output of ``python benchmarks/<script> args`` (which must succeed)."""
  return subprocess.run(
    [sys.executable, os.path.join(ROOT, "benchmarks", script), *args],
    capture_output=True,
    text=True,
    timeout=300,
    check=True,
  ).stdout


def _module(directory, name):
  """The script ``<directory>/<name>.py`` of the repository, imported."""
  sys.path.insert(0, os.path.join(ROOT, directory))
  try:
    return importlib.import_module(name)
  finally:
    sys.path.pop(0)


@pytest.mark.parametrize(
  ("script", "args", "rows"),
  [
    ("speed_memory.py", ["--only", "relu", "--log2-size", "12", "--rounds", "1", "--repeats", "1"], 2),
    ("derivative_barrier.py", ["--only", "elu", "--log2-size", "12", "--rounds", "1", "--repeats", "1"], 2),
    ("trace_orders.py", ["--only", "elu", "--rounds", "1"], 1),
    # one model of each kind: the GPT (softmax, log_softmax, a gated unit), the MLP,
    # and a checkpointed MLP
    (
      "models.py",
      ["--small", "--rounds", "1", "--repeats", "1", "--only", "gpt-swiglu,mlp-gelu,mlp-tanh-checkpointed"],
      4,
    ),
  ],
)
def test_script_prints_its_table(script, args, rows):
  out = _run(script, *args, "--out", "-")
  table = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| function")]
  table = [line for line in table if not line.startswith("| expression")]
  assert len(table) >= rows, out


def test_dense_sweep_tool():
  # tools/dense_sweep.py, in process, on relu (whose reference is cheap): the line
  # reports the three quantities within their bounds; parameters parse.
  dense_sweep = _module("tools", "dense_sweep")
  import numpy as np

  assert dense_sweep.parse_case("celu:alpha=0.3") == ("celu", {"alpha": 0.3})
  assert dense_sweep.parse_case("selu") == ("selu", {})
  xs = dense_sweep.points(np.dtype(np.float32))
  assert xs.dtype == np.float32 and xs.size > 60_000 and np.all(np.diff(xs) > 0)
  line = dense_sweep.sweep("leaky_relu", {"negative_slope": 0.2}, np.dtype(np.float32))
  assert line.startswith("leaky_relu") and line.count(" at ") == 3 and "!" not in line, line


def test_accelerator_command_steps_exist():
  # The accelerator command (benchmarks/accelerator.py) runs scripts of this
  # repository: each exists and takes the options given (--help parses them only
  # partly, so each small form is checked by running the fusion step, the one
  # written in the command itself, and by the other tests of this module).
  accelerator = _module("benchmarks", "accelerator")
  for small in (False, True):
    for _, cmd in accelerator.steps(small):
      script = next((a for a in cmd[1:] if a.endswith(".py")), None)
      assert script is None or os.path.exists(os.path.join(ROOT, script)), cmd
  out = _run("accelerator.py", "--fusion", "--small")
  assert "jax.nn.gelu:" in out and "jaxact.gelu:" in out and "grad: jaxact / jax.nn" in out, out


def test_models_barrier_option_forces_the_barrier(monkeypatch):
  # --barrier on puts the derivative barrier in every rule, --barrier off takes it out
  # of every rule: squared_relu is built without it, silu with it. In process:
  # models.main with its run() replaced by the lowering of jaxact's small GPT step
  # under whatever setting main is in, and its optimization barriers counted.
  import jax

  models = _module("benchmarks", "models")

  class Counted(Exception):
    pass

  def lowered_only(names, *args, **kwargs):
    ((_, model, act, size),) = models.cases(names, small=True)
    step, step_args = model(models.LIBRARIES["jaxact"], act, **size)
    raise Counted(jax.jit(step).lower(*step_args).as_text().count("optimization_barrier"))

  monkeypatch.setattr(models, "run", lowered_only)
  for model in ("gpt-squared_relu", "gpt-silu"):
    counts = {}
    for setting in ("on", "off", None):
      with pytest.raises(Counted) as counted:
        models.main(["--small", "--only", model, "--out", "-", *(["--barrier", setting] if setting else [])])
      counts[setting] = counted.value.args[0]
    assert counts["on"] > counts["off"], (model, counts)
    # as built: squared_relu's rule without the barrier, silu's with it
    assert counts[None] == counts["off" if model == "gpt-squared_relu" else "on"], (model, counts)


def test_models_writes_the_docs_only_at_full_size_as_built():
  models = _module("benchmarks", "models")
  parse = models.parser().parse_args
  assert models.written(parse([]))
  assert not models.written(parse(["--out", "-"]))
  assert not models.written(parse(["--small"]))
  assert not models.written(parse(["--barrier", "on"]))
  assert not models.written(parse(["--barrier", "off"]))
