"""The one place for input validation and dtype promotion.

Every public activation passes its array argument through :func:`as_input`, its
hyperparameters through :func:`as_param`, and its ``axis`` through
:func:`canonical_axes`, so every function raises the same errors, named after the
function, and follows the same dtype policy:

* float16, bfloat16 and the 8-, 6- and 4-bit floats (``float8_e4m3fn``,
  ``float8_e5m2``, ``float4_e2m1fn``, ...) are computed in float32 and rounded once
  to the input dtype;
* float32 and float64 are computed natively;
* bool and integer inputs are promoted as ``jnp.tanh`` and ``jax.nn.softmax``
  promote them (``jaxact.relu`` keeps integers, as ``jax.nn.relu`` does);
* complex numbers, formats without negative numbers (``float8_e8m0fnu``, a scale
  format), strings, lists, ``None`` and other non-arrays raise ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast, overload

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

_convert_element_type: Callable[..., Any] | None
try:  # to keep a weakly typed result weakly typed (see _weak)
  from jax._src.lax.lax import _convert_element_type
except ImportError:  # pragma: no cover
  _convert_element_type = None


@overload
def received(a: ArrayLike, /) -> jax.Array: ...
@overload
def received(a: ArrayLike, b: ArrayLike, /, *rest: ArrayLike) -> tuple[jax.Array, ...]: ...
def received(*args: ArrayLike) -> jax.Array | tuple[jax.Array, ...]:
  """The arguments of a forward function as the decorators pass them: arrays of the
  compute dtype. A forward is declared with the public types (``ArrayLike``), so that a
  type checker sees the public signature; this says what its body receives. It
  returns its arguments unchanged (nothing is converted or traced)."""
  return cast(jax.Array, args[0]) if len(args) == 1 else cast(tuple[jax.Array, ...], args)


def received_axes(axis: int | Sequence[int] | None) -> tuple[int, ...]:
  """``axis`` as the normalizer decorator passes it to a forward: a sorted tuple of
  non-negative ints (see :func:`received`)."""
  return cast(tuple[int, ...], axis)


def received_mask(where: ArrayLike | None) -> jax.Array | None:
  """``where`` as the normalizer decorator passes it to a forward: a boolean array
  that broadcasts to the input, or ``None`` (see :func:`received`)."""
  return cast("jax.Array | None", where)


def _is_low(dtype: np.dtype) -> bool:
  """Whether ``dtype`` is a float narrower than float32 (computed in float32 and
  rounded once to it): float16, bfloat16 and every 8-, 6- and 4-bit float."""
  dtype = np.dtype(dtype)
  return dtype.itemsize < 4 and jnp.issubdtype(dtype, jnp.floating)


def _describe(value: object) -> str:
  dtype = getattr(value, "dtype", None)
  if dtype is not None:
    return f"an array of dtype {dtype}"
  return f"a value of type {type(value).__name__}"


def _is_arraylike(value: object) -> bool:
  if isinstance(value, (jax.Array, np.ndarray, np.generic)):
    return True
  if isinstance(value, (bool, int, float, complex)):
    return True
  # Tracers and other duck arrays (jax.core.Tracer is a jax.Array subclass in
  # recent JAX; this keeps older versions and custom array types working).
  return hasattr(value, "__jax_array__")


def check_input(name: str, x: object) -> None:
  """Raises ``TypeError`` naming ``jaxact.<name>`` unless ``x`` is a real array or scalar.

  Only types and dtypes are inspected: nothing is converted or transferred, so
  this runs outside ``jit`` at no cost.
  """
  if isinstance(x, str) or not _is_arraylike(x):
    raise TypeError(f"jaxact.{name}: expected a real floating-point array or scalar, got {_describe(x)}")
  dtype = np.dtype(getattr(x, "dtype", None) or np.result_type(cast(ArrayLike, x)))
  if jnp.issubdtype(dtype, jnp.complexfloating):
    raise TypeError(f"jaxact.{name}: complex input is not supported, got {_describe(x)}")
  if not (
    jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer) or dtype == np.dtype(bool)
  ):
    raise TypeError(f"jaxact.{name}: unsupported dtype {dtype}")
  if jnp.issubdtype(dtype, jnp.floating) and float(jnp.finfo(dtype).min) >= 0:
    raise TypeError(
      f"jaxact.{name}: {dtype} has no negative numbers (a scale format); "
      "convert the input to a signed float such as float8_e4m3fn or float32"
    )


def as_input(x: object, *, keep_integers: bool = False) -> jax.Array:
  """Returns checked input ``x`` as a floating JAX array (integer if kept).

  Bool and integer input is promoted as ``jnp.tanh`` and ``jax.nn.softmax`` promote
  it: bool and integers of up to 32 bits to float32, 64-bit integers to float64
  (with ``jax_enable_x64``), Python ints to the weakly typed default float.
  (``jax.nn`` itself is not consistent here: ``jax.nn.sigmoid`` rejects integers
  and ``jax.nn.elu`` returns the weakly typed default float.)

  Args:
    x: an argument that passed :func:`check_input`.
    keep_integers: return integer input as it is and bool as the default integer
      (weakly typed), instead of promoting it to float (as ``jax.nn.relu``).
  """
  x = jnp.asarray(x)
  if jnp.issubdtype(x.dtype, jnp.floating):
    return x
  if keep_integers:
    return x * 1 if x.dtype == np.dtype(bool) else x
  target = jax.eval_shape(jnp.tanh, x)
  # A weakly typed int (a Python int) becomes the weakly typed default float.
  return x * 1.0 if target.weak_type else x.astype(target.dtype)


def compute_dtype(dtype: np.dtype) -> np.dtype:
  """The dtype an activation is computed in for inputs of ``dtype``."""
  return np.dtype(jnp.float32) if _is_low(dtype) else np.dtype(dtype)


def upcast(x: jax.Array) -> jax.Array:
  """Converts half-precision ``x`` to float32; other dtypes are returned as they are."""
  return x.astype(jnp.float32) if _is_low(x.dtype) else x


def _is_weak(x: jax.Array) -> bool:
  return bool(getattr(jax.typeof(x), "weak_type", False))


def _weak(y: jax.Array) -> jax.Array:
  """``y`` weakly typed. JAX has no public call for this; without the internal one
  the result stays strongly typed (same dtype and values)."""
  if _is_weak(y) or _convert_element_type is None:
    return y
  return _convert_element_type(y, y.dtype, weak_type=True)


def in_compute_dtype(f: Callable[..., Any], x: jax.Array, *args: Any) -> Any:
  """``f(upcast(x), *args)`` with every output rounded once to ``x.dtype``.

  For dtypes narrower than float32 the computation is wrapped in ``jax.checkpoint``:
  the backward pass keeps the narrow input and recomputes the float32
  intermediates, so such an activation costs no more training memory than one
  computed in the narrow dtype (a float32 residual would be two to four times the
  bytes).
  """

  weak = _is_weak(x)

  def run(x, *args):
    out = f(upcast(x), *args)
    out = jax.tree.map(lambda y: y.astype(x.dtype) if y.dtype != x.dtype else y, out)
    # A weakly typed input (a Python number) gives a weakly typed result, as jnp.tanh
    # does, also where a kernel builds its result from bits (``stable.with_sign_of``).
    return jax.tree.map(lambda y: _weak(y) if weak and y.dtype == x.dtype else y, out)

  if _is_low(x.dtype):
    run = jax.checkpoint(run)
  return run(x, *args)


def check_param(name: str, pname: str, value: object) -> None:
  """Raises ``TypeError`` unless the hyperparameter ``value`` is a real number or array."""
  if isinstance(value, (bool, str)) or value is None or not _is_arraylike(value):
    raise TypeError(f"jaxact.{name}: {pname} must be a real number or array, got {_describe(value)}")
  dtype = np.dtype(getattr(value, "dtype", None) or np.result_type(cast(ArrayLike, value)))
  if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
    raise TypeError(f"jaxact.{name}: {pname} must be a real number or array, got {_describe(value)}")


def as_param(value: object, dtype: np.dtype) -> jax.Array:
  """Casts a checked hyperparameter to the compute dtype ``dtype``.

  Under ``jit`` every value is traced, so a new value does not recompile. Python
  numbers arrive weakly typed and stay so: the output dtype is the input dtype.
  """
  arr = jnp.asarray(value)
  if arr.dtype != dtype:
    arr = arr.astype(dtype)
  return arr


def check_domain(name: str, pname: str, value: object, ok: Callable[[Any], Any], what: str) -> None:
  """Raises ``ValueError`` naming ``jaxact.<name>`` if a Python or NumPy ``value`` is
  outside the parameter's domain (``ok(value)`` false somewhere; NaN is outside).

  JAX arrays are not inspected here (reading one would wait for the device, and a
  traced one has no value): inside the computation the result is NaN wherever the
  parameter is outside its domain (:func:`nan_outside`).
  """
  if isinstance(value, jax.Array):
    return
  v = np.asarray(value, np.float64)
  if not np.all(ok(v)):
    bad = v if v.ndim == 0 else v[~ok(v)].ravel()[0]
    raise ValueError(f"jaxact.{name}: {pname} must be {what}, got {float(bad)!r}")


def nan_outside(x: jax.Array, inside: jax.Array) -> jax.Array:
  """``x`` where ``inside``, NaN elsewhere: an input that makes the value and every
  derivative NaN where a parameter is outside its domain (NaN in gives NaN out)."""
  # A product, not a select: the derivative in x is then that factor (NaN outside),
  # where a select would give 0 there. The factor does not depend differentiably on
  # the parameter (a comparison), so nothing is added to its derivative. full_like
  # and lax.select keep x's weak type (jnp.where does not): softshrink(1.0) is a
  # weakly typed float, as elu(1.0).
  # The factor keeps the parameter's shape (a scalar stays a scalar), so the
  # backward pass keeps no extra array of the input's size.
  inside = jnp.asarray(inside)
  one, nan = (jax.lax.full_like(x, v, shape=inside.shape) for v in (1.0, jnp.nan))
  return x * jax.lax.select(inside, one, nan)


def check_key(name: str, key: object) -> None:
  """Raises ``TypeError`` naming ``jaxact.<name>`` unless ``key`` is a ``jax.random``
  key: one typed key (``jax.random.key``, shape ``()``) or one raw ``uint32`` key
  (``jax.random.PRNGKey``, shape ``(2,)``, or ``(4,)`` for the ``rbg`` generators)."""
  dtype = getattr(key, "dtype", None)
  shape = getattr(key, "shape", None)
  if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key) and shape == ():
    return
  if dtype == np.uint32 and shape in ((2,), (4,)):
    return
  raise TypeError(
    f"jaxact.{name}: key must be a jax.random key (one key: jax.random.key(0)), got {_describe(key)}"
  )


def _same_dim(a: Any, b: Any) -> bool:
  try:
    return bool(a == b)
  except Exception:  # pragma: no cover - a symbolic comparison that cannot be decided
    return False


def check_broadcast(name: str, pname: str, x_shape: tuple[int, ...], p_shape: tuple[int, ...]):
  """Raises ``ValueError`` unless a parameter of ``p_shape`` broadcasts to ``x_shape``."""
  try:
    # jnp's, not NumPy's: it takes the symbolic dimensions of jax.export shapes.
    out = jnp.broadcast_shapes(tuple(x_shape), tuple(p_shape))
  except (ValueError, TypeError):
    out = None
  if out is None or len(out) != len(x_shape) or any(not _same_dim(a, b) for a, b in zip(out, x_shape)):
    raise ValueError(
      f"jaxact.{name}: {pname} of shape {tuple(p_shape)} does not broadcast to the input "
      f"shape {tuple(x_shape)} (for one value per channel use shape (C,) with input (..., C))"
    )


def canonical_axes(name: str, axis: object, ndim: int) -> tuple[int, ...]:
  """Normalises ``axis`` (``None``, an int or a sequence of ints) to sorted non-negative ints.

  Raises:
    ValueError: an axis is out of range or repeated.
    TypeError: ``axis`` is not ``None``, an int or a sequence of ints.
  """
  if axis is None:
    return tuple(range(ndim))
  if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
    items: Sequence[object] = (int(axis),)
  elif isinstance(axis, Sequence) and not isinstance(axis, str):
    items = tuple(axis)
  else:
    raise TypeError(f"jaxact.{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
  out = []
  for a in items:
    if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
      raise TypeError(f"jaxact.{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
    if not -ndim <= a < ndim:
      raise ValueError(f"jaxact.{name}: axis {a} is out of bounds for an array of dimension {ndim}")
    out.append(int(a) % ndim)
  if len(set(out)) != len(out):
    raise ValueError(f"jaxact.{name}: repeated axis in {axis!r}")
  return tuple(sorted(out))
