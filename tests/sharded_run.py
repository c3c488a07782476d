"""Runs every jaxact function on 8 host devices, explicitly and automatically sharded.

Run by tests/test_sharding.py in a fresh process (the device count is fixed when JAX
starts): ``python tests/sharded_run.py [name ...]``. For each function, each of
batch- and feature-sharded input, and each of explicit sharding (``jax.set_mesh``
with ``AxisType.Explicit``, what ``jax.make_mesh`` gives by default) and automatic
sharding (``AxisType.Auto``), it computes under ``jit`` the value, the gradient of a
weighted sum and the second derivative (``jvp`` of that gradient), for element-wise
functions also that gradient row by row under ``vmap``, and compares them
with the same computation on one device, unsharded (snake with arguments beyond
2^24 among them). It prints one JSON line per case:
``{"name", "mode", "axis", "ok", "error", "sharding_kept"}``. Then, in mode
``shard_map``, the same computed per shard of batch-sharded input (normalizers along
the last axis) inside ``jax.shard_map``, for every function but the random ones
(rrelu, gumbel_softmax); for normalizers also along the last axis in the four modes
above (``explicit-rows``, ``auto-rows``), on rows that hold +-inf and NaN, both
within a device's part of a row and across devices.
"""

from __future__ import annotations

import json
import os
import sys

# Only when run as a script: pytest collects this file too (--doctest-modules), and the
# test process's device count is set in tests/conftest.py.
if __name__ == "__main__":
  os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxact
import jaxact.testing as jt

SHAPE = (16, 32)
# Hyperparameters away from their defaults, so that the parameter path runs sharded too.
PARAMS = {
  "elu": {"alpha": 0.7},
  "celu": {"alpha": 0.7},
  "leaky_relu": {"negative_slope": 0.2},
  "snake": {"frequency": 0.7},
  "softcap": {"cap": 2.5},
  "silu": {"beta": 1.5},
  "softplus": {"beta": 2.0},
  "squareplus": {"b": 2.0},
  "threshold": {"threshold": 0.1, "value": 0.0},
  "softshrink": {"lambd": 0.3},
  "xielu": {"alpha_n": 0.6},
}


def kwargs(name: str) -> dict:
  kw = {**jt.required_params(name), **PARAMS.get(name, {})}
  if jaxact.info(name).kind == "stochastic" or (name == "rrelu"):
    kw["key"] = jax.random.key(3)
    if name == "rrelu":
      kw["training"] = True
  return kw


def computations(name: str, rowwise: bool = False):
  """Value, gradient of a weighted sum, and second derivative along a direction. The
  weights and the direction depend on each element's own value only, so that a
  computation over a shard (shard_map) is the same as over the whole array.
  ``rowwise``: normalizers reduce the last axis only (keeping it), as a batch-sharded
  shard_map needs."""
  fn, kw = jaxact.get(name), kwargs(name)
  if rowwise and jaxact.info(name).kind == "normalizer":
    kw["axis"] = -1
    if name in ("logsumexp", "logmeanexp"):
      kw["keepdims"] = True

  def value(x):
    y = fn(x, **kw)
    return y[0] if isinstance(y, tuple) else y

  def total(x):
    y = value(x)
    y = jnp.where(jnp.isfinite(y), y, 0.0)
    return jnp.sum(y * (1.0 + 0.5 * jnp.sin(3.0 * y)))

  grad = jax.grad(total)

  def second(x):
    # along a direction that is not the softmax family's invariant one (ones)
    return jax.jvp(grad, (x,), (jnp.cos(2.0 * x) + 0.5,))[1]

  comps = {"value": value, "grad": grad, "second": second}
  if jaxact.info(name).kind == "elementwise" and "key" not in jaxact.info(name).params:
    # row by row under vmap (the same numbers: the weights are element-wise)
    comps["vmap_grad"] = jax.vmap(grad)
  return comps


def compare(row: dict, comps, outputs, reference, x, spec, elementwise: bool) -> None:
  for k, y in zip(comps, outputs):
    got = np.asarray(y)
    want = reference[k]
    # Normwise: a sum over a sharded axis is added in another order (and XLA may fuse
    # a sharded computation differently), so results may differ by a few rounding
    # errors of the largest term, no more.
    scale = float(np.nanmax(np.abs(np.where(np.isfinite(want), want, 0.0)), initial=0.0))
    with np.errstate(invalid="ignore"):
      diff = np.abs(np.where(np.isfinite(want), got - want, 0.0))
    same = (np.isnan(got) == np.isnan(want)) & (np.isinf(got) == np.isinf(want))
    # An element-wise result relative to itself (snake's far arguments are 1e30 where
    # the rest are O(1)); a reduction's error relative to its terms, O(1) here.
    tol = 2e-6 * (np.maximum(np.abs(np.nan_to_num(want)), 1.0) if elementwise else max(scale, 1.0))
    if got.shape != want.shape or not np.all(same) or np.any(diff > tol):
      row["ok"] = False
      worst = np.nanmax(diff, initial=0.0)
      row["error"] += f"{k}: differs from unsharded (max |diff| {worst:.3g}, scale {scale:.3g}); "
    if y.shape == x.shape and not y.sharding.is_equivalent_to(x.sharding, y.ndim):
      row["sharding_kept"] = False
      row["error"] += f"{k}: sharding {y.sharding.spec} (input {spec}); "


def run_case(row: dict, mesh, spec, x_host, together, reference, comps, elementwise: bool) -> None:
  try:
    with jax.set_mesh(mesh):
      x = jax.device_put(x_host, NamedSharding(mesh, spec))
      run = together
      if row["mode"] == "shard_map":
        run = jax.jit(jax.shard_map(together, in_specs=spec, out_specs=spec))
      compare(row, comps, run(x), reference, x, spec, elementwise)
  except Exception as e:  # reported, not raised: every case is run
    row["ok"] = False
    row["error"] += f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
  print(json.dumps(row), flush=True)


def special_rows(x: np.ndarray) -> np.ndarray:
  """``x`` with rows that hold +-inf and NaN, spread over the columns, so over the
  shards of a feature-sharded row: a maximum across devices can drop a NaN, and
  the row must still come out as it does on one device."""
  x = x.copy()
  x[0, [3, 29]] = [np.nan, np.inf]  # NaN and +inf on different devices
  x[1, 30] = np.inf
  x[2, [0, 17]] = -np.inf
  x[3, :] = -np.inf
  x[4, 9] = np.nan
  return x


def far_arguments(x: np.ndarray) -> np.ndarray:
  """``x`` with arguments beyond 2^24 (snake's reduction of them, a branch taken only
  where some element needs it) in some rows and columns."""
  x = x.copy()
  x[1, [2, 19]] = [3.0e7, -1.0e30]
  x[9, [5, 30]] = [-2.5e12, 7.0e20]
  return x


def main(names: list[str]) -> None:
  assert len(jax.devices()) == 8, jax.devices()
  normal = np.asarray(jax.random.normal(jax.random.key(0), SHAPE, jnp.float32)) * 3.0
  sharded = [
    (mode, axis, spec)
    for mode in ("explicit", "auto")
    for axis, spec in (("batch", P("d", None)), ("feature", P(None, "d")))
  ]
  for name in names:
    kind = jaxact.info(name).kind
    elementwise = kind == "elementwise"
    for rowwise in (False, True):
      if rowwise and "key" in jaxact.info(name).params:
        continue  # one key on every shard draws the same noise there: not the same sample
      x_host = normal
      cases = [("shard_map", "batch", P("d", None))] if rowwise else sharded
      if name == "snake":
        x_host = far_arguments(normal)
      if rowwise and kind == "normalizer":
        # rows of their own (the last axis reduced): +-inf and NaN in some, split
        # over the devices too
        x_host = special_rows(normal)
        cases = cases + [(f"{mode}-rows", axis, spec) for mode, axis, spec in sharded]
      comps = computations(name, rowwise)
      # all in one jit: one compilation per case
      together = jax.jit(lambda x, comps=comps: tuple(f(x) for f in comps.values()))
      reference = dict(zip(comps, (np.asarray(y) for y in together(jnp.asarray(x_host)))))
      for mode, axis, spec in cases:
        row = {"name": name, "mode": mode, "axis": axis, "ok": True, "error": "", "sharding_kept": True}
        types = (AxisType.Auto,) if mode.startswith("auto") else (AxisType.Explicit,)
        mesh = jax.make_mesh((8,), ("d",), axis_types=types)
        run_case(row, mesh, spec, x_host, together, reference, comps, elementwise)


if __name__ == "__main__":
  main(sys.argv[1:] or jaxact.names())
