"""Bitwise before/after comparison of every result jaxact computes.

A refactor of the package must change no result. This script records, for every
built-in function, the values and derivatives the test battery and the derivative
tower look at, as raw bits, and compares two such records:

* element-wise functions: the value and the derivatives of orders 1 to 4 in
  reverse mode (nested ``grad``) and in forward mode (nested ``jvp``), on the
  battery's grid and at NaN, +-inf, +-0 and the smallest subnormals, in float64,
  float32, bfloat16 and float16, at the default hyperparameters; the value and the
  first two derivatives (reverse mode) in every 8- and 4-bit float; orders 1 to 4
  (reverse) in float32 and float64 at every set of ``OTHER_PARAMS`` (the parameter
  grid); rrelu in training mode too (value and gradient);
* the partial derivatives in each float hyperparameter, mixed with ``x`` in both
  orders up to order 4 (``d/dp``, ``d2/dx dp``, ``d2/dp2``, ``d3/dx2 dp``,
  ``d4/dx2 dp2``, and the x-first ``d2/dp dx``, ``d3/dp dx2``, ``d3/dp2 dx``,
  ``d4/dp dx3``, which reach the parameter partials of the derivative kernels; one in
  forward mode), in float32 and float64;
* normalizers (with and without ``where=``; over several axes; logsumexp and
  logmeanexp over every axis; logsumexp with ``b`` and ``return_sign``), gated units
  (swiglu at other ``beta`` with its partials, geglu's erf form) and gumbel_softmax
  (soft and hard, with its ``tau``-partial): the value, directional derivatives of
  orders 1 to 4 (nested ``jvp``) and reverse-mode derivatives of orders 1 to 4
  (``grad`` of the previous order's product with a direction), on the battery's rows
  or random arrays at scales 1e-3 to 1e4, in float64, float32, bfloat16 and float16.

Usage::

  python tools/bitwise.py record before.npz      # on the commit before the change
  python tools/bitwise.py record after.npz       # on the commit after it
  python tools/bitwise.py compare before.npz after.npz

``compare`` lists every quantity whose bits differ (how many entries, and the largest
difference in units of the dtype's spacing at the larger value) and exits 1 if any
does, 0 if all are equal. ``record --only NAME[,NAME]`` records a few functions.

A quicker first check (about 5 minutes on 2 cores, against 20 or more)::

  python tools/bitwise.py programs before.npz    # and after.npz; then compare them

records, for every quantity above, a digest of the program XLA is given to compute it
instead of its results (the same quantities: every order, mode, dtype, parameter set
and partial; quantities computed in one program, as a function's value and its
derivatives on one grid, share its digest). A program that is the same computes the
same bits on the same backend for every input, so where every program is the same the
change is proved neutral; ``compare`` names the quantities whose programs differ, and
``record --only`` those functions settles whether their results do. The programs name
the functions they call, so a renamed helper alone makes its callers' programs differ.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import inspect
import multiprocessing
import sys
import time
from collections.abc import Callable

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxact  # noqa: E402
from jaxact._src import registry  # noqa: E402
from jaxact.testing import _battery, _ulp  # noqa: E402
from jaxact.testing.references import ELEMENTWISE, OTHER_PARAMS  # noqa: E402

WIDE = ("float64", "float32", "bfloat16", "float16")
PARAM_DTYPES = ("float64", "float32")
ORDERS = (1, 2, 3, 4)


def _bits(a) -> np.ndarray:
  """The raw bits of ``a`` (an unsigned integer array of its width)."""
  a = np.asarray(a)
  return a.view(np.dtype(f"uint{8 * a.dtype.itemsize}"))


# ``programs``: every quantity is the digest of the program that computes it (below).
_PROGRAMS = False


def _call(f: Callable, *args):
  """``jax.jit(f)(*args)``; for ``programs``, the digest of the program instead, one
  copy per output (32 bytes of SHA-256 of its StableHLO text)."""
  if not _PROGRAMS:
    return jax.jit(f)(*args)
  lowered = jax.jit(f).lower(*args)
  digest = np.frombuffer(hashlib.sha256(lowered.as_text().encode()).digest(), np.uint8)
  return jax.tree.map(lambda _: digest, lowered.out_info)


def _store(out: dict[str, np.ndarray], key: str, value) -> None:
  a = np.asarray(value)
  out[key] = _bits(a)
  out[key + "#dtype"] = np.array(str(a.dtype))


def _grad_tower(f: Callable, order: int) -> Callable:
  for _ in range(order):
    f = jax.grad(f)
  return f


def _jvp_tower(f: Callable, order: int) -> Callable:
  """The order-th derivative of the scalar function f by nested ``jvp``."""
  if order == 0:
    return f
  inner = _jvp_tower(f, order - 1)
  return lambda x: jax.jvp(inner, (x,), (jnp.ones_like(x),))[1]


def _quantities(f: Callable, orders: tuple[int, ...], forward: bool) -> dict[str, Callable]:
  out = {"f": f}
  for k in orders:
    out[f"rev{k}"] = _grad_tower(f, k)
    if forward:
      out[f"fwd{k}"] = _jvp_tower(f, k)
  return out


def _elementwise(name: str, out: dict[str, np.ndarray]) -> None:
  fn = jaxact.get(name)
  ref = ELEMENTWISE[name]
  defaults = {**_battery._default_params(fn), **ref.params, **_battery.required_params(name)}
  # (label, hyperparameters, dtypes, orders, forward mode too)
  sets = [("default", defaults, WIDE, ORDERS, True), ("default", defaults, _ulp.NARROW, (1, 2), False)]
  sets += [
    (",".join(f"{k}={v:g}" for k, v in sorted(p.items())), {**defaults, **p}, PARAM_DTYPES, ORDERS, False)
    for n, p in OTHER_PARAMS
    if n == name
  ]
  for label, params, dtypes, orders, forward in sets:
    for dname, xs, p in _battery.cases(fn, ref, dtypes, params=params):
      x = jnp.asarray(xs.astype(_ulp.DTYPES[dname]))
      quantities = _quantities(lambda t, p=p: fn(t, **p), orders, forward)
      results = _call(jax.vmap(lambda t, q=quantities: {k: g(t) for k, g in q.items()}), x)
      for k, v in results.items():
        _store(out, f"{name}/{label}/{dname}/{k}", v)
      if label == "default" and dname in WIDE:
        # NaN, +-inf, +-0 and the smallest subnormals (the battery's grid has none):
        # what a change in NaN handling or flushing would show.
        tiny = float(_ulp.finfo(_ulp.DTYPES[dname]).smallest_subnormal)
        special = jnp.asarray(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny]), x.dtype)
        results = _call(jax.vmap(lambda t, q=quantities: {k: g(t) for k, g in q.items()}), special)
        for k, v in results.items():
          _store(out, f"{name}/special/{dname}/{k}", v)
      if label == "default" and dname in PARAM_DTYPES:
        _param_partials(name, fn, p, x, dname, out)


def _param_partials(name: str, fn: Callable, params: dict, x, dname: str, out) -> None:
  """Mixed partials in each float hyperparameter, at every grid point."""
  ctype = x.dtype
  for pname in params:
    if name == "rrelu":  # lower/upper only choose the slope when training (no derivative)
      continue

    def g(t, q, pname=pname):
      return fn(t, **{**params, pname: q})

    q0 = jnp.asarray(params[pname], ctype)
    # (reading right to left: "dxdp" is d/dx of the p-partial, "dpdx" d/dp of f'.) The
    # x-first orders reach the parameter partials of the derivative kernels.
    dx = jax.grad(g, 0)
    partials = {
      "dp": jax.grad(g, 1),
      "dxdp": jax.grad(jax.grad(g, 1), 0),
      "dpdp": jax.grad(jax.grad(g, 1), 1),
      "dxdxdp": jax.grad(jax.grad(jax.grad(g, 1), 0), 0),
      "dxdxdpdp": jax.grad(jax.grad(jax.grad(jax.grad(g, 1), 1), 0), 0),
      "dpdx": jax.grad(dx, 1),
      "dpdxdx": jax.grad(jax.grad(dx, 0), 1),
      "dpdpdx": jax.grad(jax.grad(dx, 1), 1),
      "dpdxdxdx": jax.grad(jax.grad(jax.grad(dx, 0), 0), 1),
      "fwd-dpdx": lambda t, q, dx=dx: jax.jvp(lambda r: dx(t, r), (q,), (jnp.ones_like(q),))[1],
    }
    try:
      every = lambda t, q, partials=partials: {k: h(t, q) for k, h in partials.items()}
      results = _call(jax.vmap(every, (0, None)), x, q0)
    except TypeError as e:  # a hyperparameter with no derivative defined
      out[f"{name}/partials/{dname}/{pname}#skipped"] = np.array(str(e))
      continue
    for k, v in results.items():
      _store(out, f"{name}/partials/{dname}/{pname}/{k}", v)


def _towers(f: Callable, x, v, w) -> dict[str, Callable]:
  """Value, forward directional derivatives along v and reverse derivatives of <w, f>."""

  def scalar(t):
    y = f(t)
    return jnp.sum(w[: y.size].reshape(y.shape) * y) if y.ndim else w[0] * y

  out: dict[str, Callable] = {"f": f}
  d = f
  for k in ORDERS:
    d = (lambda g: lambda t: jax.jvp(g, (t,), (v,))[1])(d)
    out[f"fwd{k}"] = d
  r = jax.grad(scalar)
  out["rev1"] = r
  for k in ORDERS[1:]:
    r = (lambda g: jax.grad(lambda t: jnp.vdot(g(t), v)))(r)
    out[f"rev{k}"] = r
  return out


def _run_towers(key: str, f: Callable, x, v, w, out, cache: dict | None = None) -> None:
  """Records :func:`_towers` of ``f`` at ``x``; ``cache`` keeps the jitted function
  between calls with the same ``f`` (it is retraced only for a new shape)."""
  if cache is None or f not in cache:
    run = lambda t, v, w: {k: g(t) for k, g in _towers(f, t, v, w).items()}
    if cache is None:
      cache = {}
    cache[f] = run
  results = _call(cache[f], x, v, w)
  for k, val in results.items():
    _store(out, f"{key}/{k}", val)


def _directions(x: np.ndarray, dtype, seed: int):
  rng = np.random.default_rng(seed)
  v = rng.standard_normal(x.shape).astype(dtype)
  w = rng.standard_normal(max(x.size, 1)).astype(dtype)
  return jnp.asarray(v), jnp.asarray(w)


def _normalizer(name: str, out) -> None:
  fn = jaxact.get(name)
  takes_where = "where" in inspect.signature(fn).parameters
  plain = lambda t: fn(t, axis=-1)
  masked = lambda t: fn(t, axis=-1, where=jnp.arange(t.shape[-1]) % 3 != 1)
  cache: dict = {}
  for dname in WIDE:
    dtype = _ulp.DTYPES[dname]
    for i, row in enumerate(_battery.rows(dtype)):
      x = jnp.asarray(row.astype(dtype))
      v, w = _directions(row, dtype, i)
      _run_towers(f"{name}/row{i}/{dname}", plain, x, v, w, out, cache)
      if takes_where and row.size > 1:
        _run_towers(f"{name}/row{i}-where/{dname}", masked, x, v, w, out, cache)
    rng = np.random.default_rng(11)
    block = (rng.standard_normal((3, 4, 5)) * 4).astype(dtype)
    x = jnp.asarray(block)
    v, w = _directions(block, dtype, 11)
    variants = {"axis=(0,2)": lambda t: fn(t, axis=(0, 2))} if name not in ("sparsemax", "entmax15") else {}
    if name in ("logsumexp", "logmeanexp"):
      variants["axis=None"] = lambda t: fn(t, axis=None)
    if name == "logsumexp":
      b = jnp.asarray(np.where(rng.random(block.shape) < 0.3, -1.0, 2.0).astype(dtype))
      variants["b"] = lambda t, b=b: fn(t, axis=-1, b=b)
      variants["return_sign"] = lambda t, b=b: fn(t, axis=-1, b=b, return_sign=True)[0]
    for label, f in variants.items():
      _run_towers(f"{name}/block-{label}/{dname}", f, x, v, w, out)


def _gated(name: str, out) -> None:
  fn = jaxact.get(name)
  f = lambda t: fn(t, axis=-1)
  cache: dict = {}
  for dname in WIDE:
    dtype = _ulp.DTYPES[dname]
    for i, scale in enumerate((1e-3, 1.0, 10.0, 1e4)):
      rng = np.random.default_rng(100 + i)
      row = np.clip(rng.standard_normal((3, 16)) * scale, -6e4, 6e4).astype(dtype)
      x = jnp.asarray(row)
      v, w = _directions(row, dtype, i)
      _run_towers(f"{name}/scale{scale:g}/{dname}", f, x, v, w, out, cache)
    rng = np.random.default_rng(200)
    x = jnp.asarray(np.clip(rng.standard_normal((3, 16)) * 4, -6e4, 6e4).astype(dtype))
    v, w = _directions(np.asarray(x), dtype, 200)
    if name == "swiglu":
      for beta in (1.702, 0.3):
        _run_towers(f"{name}/beta={beta}/{dname}", lambda t, b=beta: fn(t, axis=-1, beta=b), x, v, w, out)
        wb = w[:24].reshape(3, 8)
        dbeta = jax.grad(lambda b, t, wb=wb: jnp.sum(fn(t, axis=-1, beta=b) * wb))
        dxdbeta = jax.grad(dbeta, 1)
        b0 = jnp.asarray(beta, dtype)
        _store(out, f"{name}/beta={beta}/{dname}/dbeta", _call(dbeta, b0, x))
        _store(out, f"{name}/beta={beta}/{dname}/dxdbeta", _call(dxdbeta, b0, x))
    if name == "geglu":
      _run_towers(f"{name}/erf/{dname}", lambda t: fn(t, axis=-1, approximate=False), x, v, w, out)


def _gumbel(out) -> None:
  key = jax.random.key(0)
  for dname in WIDE:
    dtype = _ulp.DTYPES[dname]
    rng = np.random.default_rng(7)
    row = (rng.standard_normal((4, 10)) * 3).astype(dtype)
    x = jnp.asarray(row)
    v, w = _directions(row, dtype, 7)
    for hard in (False, True):
      f = lambda t, h=hard: jaxact.gumbel_softmax(t, key=key, tau=0.5, hard=h)
      _run_towers(f"gumbel_softmax/hard={hard}/{dname}", f, x, v, w, out)
      wt = w.reshape(4, 10)
      dtau = jax.grad(
        lambda tau, h=hard, x=x, wt=wt: jnp.sum(jaxact.gumbel_softmax(x, key=key, tau=tau, hard=h) * wt)
      )
      _store(out, f"gumbel_softmax/hard={hard}/{dname}/dtau", _call(dtau, jnp.asarray(0.5, dtype)))


def _rrelu_training(out) -> None:
  key = jax.random.key(0)
  for dname in WIDE:
    rx = jnp.asarray(np.linspace(-5, 5, 101).astype(_ulp.DTYPES[dname]))
    f = lambda t: jaxact.rrelu(t, key=key, training=True)
    _store(out, f"rrelu/training/{dname}/f", _call(f, rx))
    _store(out, f"rrelu/training/{dname}/rev1", _call(jax.grad(lambda t, f=f: jnp.sum(f(t))), rx))


def _record_one(name: str, programs: bool = False) -> tuple[dict[str, np.ndarray], float]:
  global _PROGRAMS
  _PROGRAMS = programs
  out: dict[str, np.ndarray] = {}
  t0 = time.perf_counter()
  kind = registry.info(name).kind
  if kind == "elementwise":
    _elementwise(name, out)
    if name == "rrelu":
      _rrelu_training(out)
  elif kind == "normalizer":
    _normalizer(name, out)
  elif kind == "gated":
    _gated(name, out)
  elif name == "gumbel_softmax":
    _gumbel(out)
  else:
    raise SystemExit(f"bitwise.py: no recipe for {name} (kind {kind!r})")
  return out, time.perf_counter() - t0


def record(path: str, only: set[str] | None, jobs: int, programs: bool = False) -> None:
  """Records every built-in function (or those in ``only``), ``jobs`` at a time, each
  in its own process (tracing the order-4 derivatives is most of the time);
  ``programs``: the digests of the programs instead of their results."""
  names = [n for n in registry.names(builtin=True) if not only or n in only]
  unknown = (only or set()) - set(names)
  if unknown:
    raise SystemExit(f"bitwise.py: unknown names {sorted(unknown)}")
  out: dict[str, np.ndarray] = {}
  started = time.perf_counter()
  context = multiprocessing.get_context("spawn")
  with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, max_tasks_per_child=1) as pool:
    futures = {pool.submit(_record_one, n, programs): n for n in names}
    for done in concurrent.futures.as_completed(futures):
      part, seconds = done.result()
      out.update(part)
      print(f"{futures[done]:16s} {seconds:6.1f} s", flush=True)
  np.savez_compressed(path, **out)
  n = sum(1 for k in out if "#" not in k)
  print(f"{n} quantities in {path} ({time.perf_counter() - started:.0f} s)")


def _spacing(a: np.ndarray, b: np.ndarray, dtype) -> float:
  """Largest |a - b| in units of the dtype's spacing at max(|a|, |b|), finite pairs."""
  a64, b64 = a.astype(np.float64), b.astype(np.float64)
  both = np.isfinite(a64) & np.isfinite(b64)
  if not both.any():
    return float("inf")
  mag = np.maximum(np.abs(a64[both]), np.abs(b64[both]))
  spacing = np.maximum(_ulp.ulp(mag, dtype), float(_ulp.finfo(dtype).smallest_subnormal))
  return float(np.max(np.abs(a64[both] - b64[both]) / spacing))


def compare(before: str, after: str) -> int:
  a, b = np.load(before), np.load(after)
  keys = sorted(k for k in set(a.files) | set(b.files) if not k.endswith("#dtype"))
  differ = 0
  for k in keys:
    if k not in a.files or k not in b.files:
      print(f"{k}: only in {'after' if k not in a.files else 'before'}")
      differ += 1
      continue
    if "#" in k:  # a skipped partial's reason
      if str(a[k]) != str(b[k]):
        print(f"{k}: {a[k]} -> {b[k]}")
        differ += 1
      continue
    if str(a[k + "#dtype"]) != str(b[k + "#dtype"]):
      print(f"{k}: dtype {a[k + '#dtype']} -> {b[k + '#dtype']}")
      differ += 1
      continue
    x, y = a[k], b[k]
    if x.shape != y.shape:
      print(f"{k}: shape {x.shape} -> {y.shape}")
      differ += 1
      continue
    bad = x != y
    if bad.any() and str(a[k + "#dtype"]) == "uint8":  # a program's digest
      print(f"{k}: the program differs")
      differ += 1
    elif bad.any():
      dname = str(a[k + "#dtype"])
      dtype = _ulp.DTYPES.get(dname, np.dtype(dname))
      fx, fy = x.view(dtype)[bad], y.view(dtype)[bad]
      largest = _spacing(fx, fy, dtype)
      what = f"largest {largest:.3g} spacings" if largest else "signs of zero or NaN payloads only"
      print(f"{k}: {int(bad.sum())} of {bad.size} differ, {what}")
      differ += 1
  total = sum(1 for k in keys if "#" not in k)
  print(f"{differ} of {total} quantities differ")
  return 1 if differ else 0


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  sub = parser.add_subparsers(dest="command", required=True)
  rec = sub.add_parser("record", help="record every result into an .npz file")
  rec.add_argument("path")
  rec.add_argument("--only", default="", help="comma-separated names (default: all)")
  rec.add_argument("--jobs", type=int, default=2, help="processes at a time (default 2)")
  prog = sub.add_parser("programs", help="record the digests of the programs instead, into an .npz file")
  prog.add_argument("path")
  prog.add_argument("--only", default="", help="comma-separated names (default: all)")
  prog.add_argument("--jobs", type=int, default=2, help="processes at a time (default 2)")
  cmp_ = sub.add_parser("compare", help="compare two records (of results or of programs) bit by bit")
  cmp_.add_argument("before")
  cmp_.add_argument("after")
  args = parser.parse_args(argv)
  if args.command in ("record", "programs"):
    record(args.path, set(filter(None, args.only.split(","))) or None, args.jobs, args.command == "programs")
    return 0
  return compare(args.before, args.after)


if __name__ == "__main__":
  sys.exit(main())
