"""Drop-in for jax.nn: every activation of jax.nn exists in jaxact with a compatible signature.

Compatible: each parameter of jax.nn's function is in jaxact's, in the same position
and of the same kind, with the same default; jaxact's extra parameters are
keyword-only with defaults. (Only the API is compared here; values are measured
against mpmath elsewhere.)
"""

import inspect

import jax
import pytest

import jaxact

PUBLIC = sorted(n for n in dir(jax.nn) if not n.startswith("_"))
JAX_NN = sorted(n for n in PUBLIC if callable(getattr(jax.nn, n)) and n not in jaxact.FROM_JAX_NN)


def test_every_public_name_of_jax_nn_is_in_jaxact():
  """``import jaxact as nn`` is a swap for all of jax.nn: every public name is either a
  registered jaxact activation or one of the documented ``FROM_JAX_NN`` names, which
  are jax.nn's own objects. A name a new JAX release adds fails here until it is
  placed in one of the two."""
  registered = set(jaxact.names())
  ours = {id(jaxact.get(n)) for n in registered}  # aliases (swish) included
  missing = [n for n in PUBLIC if not hasattr(jaxact, n)]
  assert not missing, f"jax.nn names missing from jaxact: {missing}"
  unplaced = [n for n in PUBLIC if id(getattr(jaxact, n)) not in ours and n not in jaxact.FROM_JAX_NN]
  assert not unplaced, f"jax.nn names neither a jaxact activation nor in FROM_JAX_NN: {unplaced}"
  for n in jaxact.FROM_JAX_NN:
    assert n not in registered, n
    assert getattr(jaxact, n) is getattr(jax.nn, n), n
    assert n in jaxact.__all__, n


def test_code_written_for_jax_nn_runs_after_the_swap():
  import jax.numpy as jnp
  import numpy as np

  import jaxact as nn

  labels = nn.one_hot(jnp.array([0, 2]), 3)
  np.testing.assert_array_equal(labels, [[1, 0, 0], [0, 0, 1]])
  w = nn.initializers.glorot_uniform()(jax.random.key(0), (4, 3))
  assert w.shape == (4, 3)
  z = nn.standardize(jnp.arange(4.0))
  np.testing.assert_allclose(float(z.mean()), 0.0, atol=1e-6)
  q = jnp.ones((1, 2, 1, 4))
  out = nn.dot_product_attention(q, q, q, is_causal=True)
  np.testing.assert_allclose(out, q, rtol=1e-6)


@pytest.mark.parametrize("name", JAX_NN)
def test_signature_is_compatible(name):
  assert hasattr(jaxact, name), f"jaxact.{name} is missing"
  theirs = list(inspect.signature(getattr(jax.nn, name)).parameters.values())
  ours = list(inspect.signature(getattr(jaxact, name)).parameters.values())
  for i, p in enumerate(theirs):
    if p.kind == p.KEYWORD_ONLY:
      q = next((q for q in ours if q.name == p.name), None)
    else:
      q = ours[i] if i < len(ours) else None
    assert q is not None and q.name == p.name, (name, p.name)
    # jaxact may accept more ways of passing it (jax.nn.tanh's x is positional-only).
    assert q.kind == p.kind or (p.kind == p.POSITIONAL_ONLY and q.kind == q.POSITIONAL_OR_KEYWORD), (name, p)
    assert q.default == p.default, (name, p.name, q.default, p.default)
  extra = [q for q in ours if q.name not in {p.name for p in theirs}]
  assert all(q.kind == q.KEYWORD_ONLY and q.default is not q.empty for q in extra), (name, extra)
