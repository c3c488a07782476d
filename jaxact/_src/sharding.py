"""What explicit sharding needs from jaxact's computations.

Under explicit sharding (``jax.sharding.AxisType.Explicit``, what ``jax.make_mesh``
gives by default) every array's type carries its sharding, and operations whose
output sharding JAX cannot infer raise. jaxact's element-wise arithmetic needs
nothing; these helpers cover the places that do: a constant table that a branch
reads (snake's argument reduction), a sort along an axis that may be sharded
(sparsemax, entmax15), a branch that should decide per shard (snake's argument
reduction), and a branch on the whole batch that must not synchronise devices
(logsumexp, logmeanexp). Without a mesh they are the plain operations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import AxisType
from jax.sharding import PartitionSpec as P
from jax.typing import ArrayLike


def explicit_spec(x: jax.Array) -> P | None:
  """The partition spec of ``x`` (one entry per dimension) if it is sharded on a mesh
  with an explicit axis; ``None`` otherwise."""
  sharding = getattr(jax.typeof(x), "sharding", None)
  mesh = getattr(sharding, "mesh", None)
  if sharding is None or mesh is None or mesh.empty or AxisType.Explicit not in tuple(mesh.axis_types):
    return None
  spec = tuple(sharding.spec)
  return P(*spec, *([None] * (x.ndim - len(spec))))


def constant(value: ArrayLike, like: jax.Array) -> jax.Array:
  """``value`` as an array, replicated on the mesh of ``like`` where that is sharded
  explicitly. A constant without a mesh that a branch closes over fails, when vmap
  batches the branch over an explicitly sharded axis, to be given that axis (JAX
  0.10); created outside the branch and placed, it enters as an operand that can.
  Inside ``shard_map``, a constant invariant across devices fails the same way, so
  it is made varying as ``like``."""
  varying = tuple(sorted(getattr(getattr(jax.typeof(like), "mat", None), "varying", ())))
  if varying:  # inside shard_map: varying over the devices as ``like`` is
    return jax.lax.pcast(jnp.asarray(value), varying, to="varying")
  if explicit_spec(like) is None:
    return jnp.asarray(value)
  return jax.sharding.reshard(jnp.asarray(value), P())


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
  if spec is None:
    return fn(x, *args)
  if all(s is None for s in spec):  # replicated: the args placed on its mesh
    return fn(x, *(constant(a, x) for a in args))
  args = tuple(jax.sharding.reshard(jnp.broadcast_to(a, x.shape), spec) for a in args)
  return jax.shard_map(fn, in_specs=(spec,) * (1 + len(args)), out_specs=spec)(x, *args)


def _spread(names: Any, mesh: Any) -> bool:
  """Whether a partition-spec entry splits a dimension over more than one device."""
  if names is None:
    return False
  names = names if isinstance(names, tuple) else (names,)
  return math.prod(mesh.shape[n] for n in names) > 1


def spread(x: jax.Array) -> bool:
  """Whether ``x`` may be split over several devices, so that a reduction of the
  whole array (the predicate of a branch on it) is an all-reduce across them.

  Explicitly sharded: whether some dimension is split. Otherwise, whether the code
  runs under a mesh (``jax.set_mesh``) with an automatic axis of more than one
  device, where the partitioner decides the sharding after the trace. Inside
  ``shard_map`` each device holds its own block (manual axes), and on a mesh of one
  device there is nothing to synchronise. Without a mesh the array is on one device,
  or sharded by ``jit``'s shardings alone, which the trace cannot see.
  """
  sharding = getattr(jax.typeof(x), "sharding", None)
  if sharding is not None and explicit_spec(x) is not None:
    return any(_spread(s, sharding.mesh) for s in sharding.spec)
  mesh = jax.sharding.get_abstract_mesh()
  return not mesh.empty and any(
    t == AxisType.Auto and n > 1 for t, n in zip(mesh.axis_types, mesh.axis_sizes)
  )


def unless_needed(
  arrays: tuple[jax.Array | None, ...], ok: jax.Array, fast: Callable[[], Any], careful: Callable[[], Any]
) -> Any:
  """``fast()`` if ``ok`` holds everywhere, else ``careful()``, for a ``careful()``
  that equals ``fast()`` wherever ``ok`` holds (it selects by ``ok`` itself), so
  that an element's value does not depend on the rest of its batch.

  For a careful form that costs about as much again as the fast one (an extra pass
  over the data). On one device, a branch (``lax.cond``; under ``vmap``, both and a
  select): the care is paid only by calls that need it. Where any of ``arrays`` (the
  inputs ``ok`` is computed from; ``None`` is skipped) is spread over devices
  (:func:`spread`), ``careful()`` always: the branch's predicate would be an
  all-reduce across them, a synchronisation that the mathematics does not need. A
  careful form much dearer than that is taken per shard instead (:func:`per_shard`).
  """
  if any(spread(a) for a in arrays if a is not None):
    return careful()
  return jax.lax.cond(jnp.all(ok), fast, careful)
