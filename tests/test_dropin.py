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

NOT_ACTIVATIONS = {
  "dot_product_attention",
  "get_scaled_dot_general_config",
  "one_hot",
  "scaled_dot_general",
  "scaled_matmul",
  "standardize",
}
JAX_NN = sorted(
  n
  for n in dir(jax.nn)
  if not n.startswith("_") and callable(getattr(jax.nn, n)) and n not in NOT_ACTIVATIONS
)


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
