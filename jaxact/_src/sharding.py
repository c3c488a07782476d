"""What explicit sharding needs from jaxact's computations.

Under explicit sharding (``jax.sharding.AxisType.Explicit``, what ``jax.make_mesh``
gives by default) every array's type carries its sharding, and operations whose
output sharding JAX cannot infer raise. jaxact's element-wise arithmetic needs
nothing; these helpers cover the places that do: a table lookup indexed by the data
(snake's argument reduction), a sort along an axis that may be sharded (sparsemax,
entmax15), and a branch that should decide per shard (snake's argument reduction).
Without a mesh, or with automatic sharding, they are the plain operations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType
from jax.sharding import PartitionSpec as P


def explicit_spec(x: jax.Array) -> P | None:
  """The partition spec of ``x`` (one entry per dimension) if it is sharded on a mesh
  with an explicit axis; ``None`` otherwise."""
  sharding = getattr(jax.typeof(x), "sharding", None)
  mesh = getattr(sharding, "mesh", None)
  if mesh is None or mesh.empty or AxisType.Explicit not in tuple(mesh.axis_types):
    return None
  spec = tuple(sharding.spec)
  return P(*spec, *([None] * (x.ndim - len(spec))))


def lookup(table: np.ndarray, index: jax.Array) -> jax.Array:
  """``table[index]``: a row of the constant ``table`` per element of the integer
  ``index``, sharded as ``index`` (JAX cannot infer the sharding of such a gather
  under explicit sharding, and raises)."""
  spec = explicit_spec(index)
  out = None if spec is None else P(*spec, *([None] * (table.ndim - 1)))
  return jnp.asarray(table).at[index].get(out_sharding=out)


def unsharded_along(x: jax.Array, axes: tuple[int, ...]) -> tuple[jax.Array, P | None]:
  """``x`` resharded to be whole along ``axes`` (an all-gather, which a sort along a
  sharded axis needs anyway), and the spec to restore afterwards (``None`` if
  nothing was changed)."""
  spec = explicit_spec(x)
  if spec is None or all(spec[a] is None for a in axes):
    return x, None
  whole = P(*[None if i in axes else s for i, s in enumerate(spec)])
  return jax.sharding.reshard(x, whole), spec


def restore(y: jax.Array, spec: P | None) -> jax.Array:
  """``y`` resharded back to ``spec`` (from :func:`unsharded_along`)."""
  return y if spec is None else jax.sharding.reshard(y, spec)


def per_shard(fn: Callable[..., Any], x: jax.Array, *args: jax.Array) -> Any:
  """``fn(x, *args)`` for element-wise ``fn`` (``args`` broadcast to ``x``), computed
  shard by shard where ``x`` is sharded explicitly, so that a branch inside ``fn`` on
  the whole array (``lax.cond`` on ``any()``) decides on each device's own elements
  instead of all-reducing the predicate across devices. Elsewhere the plain call."""
  spec = explicit_spec(x)
  if spec is None or all(s is None for s in spec):
    return fn(x, *args)
  args = tuple(jax.sharding.reshard(jnp.broadcast_to(a, x.shape), spec) for a in args)
  return jax.shard_map(fn, in_specs=(spec,) * (1 + len(args)), out_specs=spec)(x, *args)


def under_mesh(x: jax.Array) -> bool:
  """Whether ``x`` may be spread over devices that a branch on the whole array would
  synchronise: it is sharded explicitly, or the code runs under a mesh
  (``jax.set_mesh``, ``shard_map``). Without a mesh the array is on one device, or
  sharded by ``jit``'s shardings alone, which the trace cannot see."""
  return explicit_spec(x) is not None or not jax.sharding.get_abstract_mesh().empty
