"""A type checker sees each public function's real signature (the package ships py.typed).

mypy checks a script that calls the public API as users do (it must pass, and the
results must be arrays) and one whose every line misuses a keyword or an argument
(each line must be an error). It runs outside the repository, so that it reads the
installed package (which it reads only with its ``py.typed``); the package's own
modules are read for their types, their errors not reported
(``--follow-imports=silent``): this checks what users see. A second test checks the
package's own modules (``[tool.mypy]`` in pyproject.toml): they must pass.
"""

import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("mypy")

USE = """\
import jax
import jax.numpy as jnp

import jaxact

x = jnp.ones((2, 4))
a: jax.Array = jaxact.silu(x, beta=2.0)
b: jax.Array = jaxact.elu(x, 0.5)
c = jaxact.softmax(x, axis=-1, where=x > 0)
d: jax.Array = jaxact.swiglu(x, axis=-1, beta=1.5)
e: jax.Array = jaxact.gelu(1.0, approximate=False)
f = jaxact.logsumexp(x, axis=0, b=x)
g: jax.Array = jaxact.rrelu(x, key=jax.random.key(0), training=True)
h: jax.Array = jaxact.glu(x)
i: jax.Array = jaxact.geglu(x, approximate="tanh")
j: jax.Array = jaxact.snake(x, frequency=jnp.ones(4))
k: jax.Array = jaxact.relu(3)
m = jaxact.gumbel_softmax(x, key=jax.random.key(1), tau=0.5, hard=True)
n = jaxact.sparsemax(x, axis=-1)
o: jax.Array = jaxact.threshold(x, threshold=0.1, value=0.0)
p = jaxact.softmax(x, axis=[0, 1])
q: bool = jaxact.glu.subnormal_gates
reveal_type(jaxact.silu(x))
reveal_type(jaxact.softmax(x))
reveal_type(jaxact.swiglu(x, beta=2.0))
reveal_type(jaxact.geglu(x))
reveal_type(jaxact.logmeanexp(x))
"""
REVEALED = 5

# Each line after the header must be an error: (call, what mypy says).
MISUSE = [
  ("jaxact.silu(x, bta=2.0)", 'Unexpected keyword argument "bta"'),
  ("jaxact.softmax(x, axs=-1)", 'Unexpected keyword argument "axs"'),
  ("jaxact.swiglu(x, bta=1.0)", 'Unexpected keyword argument "bta"'),
  ("jaxact.glu(x, beta=1.0)", 'Unexpected keyword argument "beta"'),
  ("jaxact.reglu(x, beta=1.0)", 'Unexpected keyword argument "beta"'),
  ("jaxact.geglu(x, beta=1.0)", 'Unexpected keyword argument "beta"'),
  ("jaxact.elu(x, alfa=1.0)", 'Unexpected keyword argument "alfa"'),
  ("jaxact.gelu(x, approximated=False)", 'Unexpected keyword argument "approximated"'),
  ("jaxact.logmeanexp(x, axes=0)", 'Unexpected keyword argument "axes"'),
  ("jaxact.threshold(x, 0.1, 0.0)", "Too many positional arguments"),
  ("jaxact.relu([1.0, 2.0])", "incompatible type"),
]
HEADER = "import jax.numpy as jnp\n\nimport jaxact\n\nx = jnp.ones((2, 4))\n"


def _mypy(tmp_path, *files):
  proc = subprocess.run(
    [
      sys.executable,
      "-m",
      "mypy",
      "--follow-imports=silent",
      "--no-error-summary",
      "--cache-dir",
      str(tmp_path / "cache"),
      *files,
    ],
    capture_output=True,
    text=True,
    cwd=str(tmp_path),
    timeout=600,
  )
  return proc.stdout + proc.stderr


def test_public_signatures_seen_by_a_type_checker(tmp_path):
  use, misuse = tmp_path / "use.py", tmp_path / "misuse.py"
  use.write_text(USE)
  misuse.write_text(HEADER + "".join(call + "\n" for call, _ in MISUSE))
  out = _mypy(tmp_path, use.name, misuse.name)
  errors = [line for line in out.splitlines() if ": error:" in line]
  assert not [e for e in errors if e.startswith(f"{use.name}:")], out
  revealed = [line for line in out.splitlines() if "Revealed type is" in line]
  assert len(revealed) == REVEALED and all('"jax._src.basearray.Array"' in r for r in revealed), out
  first = HEADER.count("\n") + 1
  for k, (call, says) in enumerate(MISUSE):
    here = [e for e in errors if re.match(rf"{re.escape(misuse.name)}:{first + k}: error", e)]
    assert any(says in e for e in here), f"{call}: no error {says!r}\n{out}"


def test_the_package_passes_a_type_check(tmp_path):
  # The package's own modules, with the configuration in pyproject.toml ([tool.mypy]).
  root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
  proc = subprocess.run(
    [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
    capture_output=True,
    text=True,
    cwd=root,
    timeout=900,
  )
  assert proc.returncode == 0 and "Success: no issues found" in proc.stdout, proc.stdout + proc.stderr
