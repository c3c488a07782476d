"""Gated linear units: ``a * activation(b)`` for the two halves ``(a, b)`` of the input.

:func:`gated` turns any element-wise activation into a GLU. The split is
``jax.nn.glu``'s: the first half of ``axis`` is the linear part, the second half
goes through the activation (``glu(x) = x1 * sigmoid(x2)``). Some codebases put the
gate first (``silu(x1) * x2``); swap the halves of the projection to match them.

The product is formed in the compute dtype (float32 for float16/bfloat16) and
rounded once; the backward pass keeps only the input (one array) and recomputes
the activation, and its derivatives are the activation's stable rules times ``a``:
``d/db = a f'(b)``, ``d^2/db^2 = a f''(b)``, ``d^2/da db = f'(b)``, so they keep
the activation's accuracy (``jax.nn.glu``'s second derivative underflows to 0 in
the tail, as ``sigmoid''`` does).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np
from jax.ad_checkpoint import checkpoint_name
from jax.typing import ArrayLike

from jaxact._src import checks, registry, stable
from jaxact._src.core import register_function
from jaxact._src.gelu import gelu
from jaxact._src.rectifiers import relu
from jaxact._src.sigmoidal import sigmoid
from jaxact._src.silu import silu

_HALVES = "jaxact_gated_halves"


def _halves(fname: str, x: jax.Array, axis: int) -> tuple[jax.Array, jax.Array]:
  (ax,) = checks.canonical_axes(fname, axis, x.ndim)
  n = x.shape[ax]
  if n % 2:
    raise ValueError(f"jaxact.{fname}: the size of axis {axis} must be even (two halves), got {n}")
  a, b = jnp.split(x, 2, axis=ax)
  return a, b


# Activations whose product with a has a kernel of its own, right where f(b) alone
# is subnormal (flushed to 0 on XLA's CPU backend) and a f(b) is not: glu's
# a sigma(b) for a = 1.2e11, b = -95.6 in float32 is 3.7e-31. Others form a * f(b).
def _a_sigmoid_b(a: jax.Array, b: jax.Array) -> jax.Array:
  return stable.sigmoid_product(b, a)


_PRODUCTS: dict[Callable[..., jax.Array], Callable[..., jax.Array]] = {sigmoid: _a_sigmoid_b}


def gated(activation: str | Callable[..., jax.Array], *, name: str | None = None) -> Callable[..., jax.Array]:
  """Turns an element-wise activation into a gated linear unit.

  ``gated(f)(x, axis=-1, **params)`` splits ``x`` into halves ``a, b`` along
  ``axis`` and returns ``a * f(b, **params)``, half the size of ``x`` along ``axis``:
  ``gated("sigmoid")`` is ``glu``, ``gated("silu")`` is SwiGLU. The hyperparameters
  of ``f`` are passed on by keyword (``gated("silu")(x, beta=1.702)``).

  Args:
    activation: an activation or its registered name.
    name: the name in error messages (default ``"gated_<activation>"``).

  Returns:
    The GLU, a pure function.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> swiglu = jaxact.gated("silu")
    >>> swiglu(jnp.array([2.0, 1.0], dtype=jnp.float32))
    Array([1.4621172], dtype=float32)
  """
  act = registry.get(activation)
  fname = name or f"gated_{getattr(act, '__name__', 'activation')}"
  params = list(inspect.signature(act).parameters.values())[1:]
  defaults = {p.name: p.default for p in params}
  act_name = getattr(act, "__name__", "activation")

  def product(a: jax.Array, b: jax.Array, kwargs: dict[str, Any]) -> jax.Array:
    b = checks.upcast(b)
    times = _PRODUCTS.get(act)
    return times(a, b, **kwargs) if times is not None else a * act(b, **kwargs)

  def fn(x: jax.Array, axis: int = -1, **kwargs: Any) -> jax.Array:
    checks.check_input(fname, x)
    unknown = set(kwargs) - {p.name for p in params}
    if unknown:
      raise TypeError(f"jaxact.{fname}: unexpected keyword arguments {sorted(unknown)}")
    if not isinstance(axis, int) or isinstance(axis, bool):
      raise TypeError(f"jaxact.{fname}: axis must be an int, got {type(axis).__name__}")
    for p in params:
      if p.name in kwargs and type(p.default) in (int, float):
        checks.check_param(fname, p.name, kwargs[p.name])
    x = checks.as_input(x)
    # Numbers and arrays are traced (a new value does not recompile, NaN included);
    # a number equal to its default stays static, so silu's beta = 1.0 takes its own
    # kernel as when the activation is called directly; choices (gelu's approximate)
    # are static.
    arrays, static = {}, []
    for k, v in sorted(kwargs.items()):
      default = defaults[k]
      number = isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
      if isinstance(v, (jax.Array, np.ndarray)) or (
        number and not isinstance(default, bool) and v != default
      ):
        arrays[k] = v
      else:
        static.append((k, v))
    try:
      hash(tuple(static))
    except TypeError:
      k = next(k for k, v in static if not isinstance(v, Hashable))
      raise TypeError(f"jaxact.{fname}: {k} must be a number, an array or a hashable choice") from None
    try:
      return run(x, arrays, axis, tuple(static))
    except (TypeError, ValueError) as e:
      # The activation's own checks name it: name the unit the user called.
      prefix = f"jaxact.{act_name}:"
      if str(e).startswith(prefix):
        raise type(e)(f"jaxact.{fname}:" + str(e)[len(prefix) :]) from None
      raise

  def run(x: jax.Array, arrays: dict[str, Any], axis: int, static: tuple) -> jax.Array:
    kwargs = {**dict(static), **arrays}

    def halves_product(x: jax.Array) -> jax.Array:
      a, b = (checkpoint_name(h, _HALVES) for h in _halves(fname, x, axis))
      return checks.in_compute_dtype(lambda a, b: product(a, b, kwargs), a, b)

    # Checkpointed: the backward pass keeps the halves a and b in the input's dtype
    # (together one array of the input's size) and recomputes f(b), instead of keeping
    # a, b and f(b). Keeping the halves rather than x spares it a second split, which
    # along a sharded axis is communication (4 collectives on 8 devices).
    return jax.checkpoint(halves_product, policy=jax.checkpoint_policies.save_only_these_names(_HALVES))(x)

  # Named after the unit, so that jaxprs, HLO and profiles say "swiglu".
  run.__name__ = run.__qualname__ = fname
  run = jax.jit(run, static_argnames=("axis", "static"))

  fn.__name__ = fname
  fn.__qualname__ = fname
  fn.__doc__ = (
    f"``a * {getattr(act, '__name__', 'activation')}(b)`` for the halves ``a, b`` of ``x`` along ``axis``."
  )
  fn.activation = act  # type: ignore[attr-defined]
  # Whether a * f(b) is right where f(b) alone is subnormal (the battery measures it
  # there): a scaled product (glu), or relu's b itself (a subnormal b is an input the
  # backend may flush). swiglu and geglu round their gate first.
  fn.subnormal_gates = act in _PRODUCTS or act is relu  # type: ignore[attr-defined]
  fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
      inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD),
      inspect.Parameter("axis", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=-1),
      *[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params],
    ]
  )
  return fn


def _builtin(name: str, activation: Callable[..., jax.Array], doc: str, **metadata: Any) -> Any:
  fn = gated(activation, name=name)
  act_name = activation.__name__
  fn.__doc__ = doc
  fn.__module__ = __name__
  register_function(
    fn,
    kind="gated",
    family="gated",
    formula=f"a * {act_name}(b), (a, b) = the halves of x along axis",
    params={"axis": -1, **registry.info(act_name).params},
    output_range="(-inf, inf)",
    monotonic=False,
    zero_centred=True,
    bounded=False,
    conventions=(
      f"x1 * {act_name}(x2): the first half is linear, the second is gated (jax.nn.glu's order). "
      f"The size of axis must be even. Derivatives and kinks are {act_name}'s, times x1."
    ),
    **metadata,
  )
  return fn


_DOC = r"""{title}

  .. math::
    \mathrm{{{name}}}(x) = a \cdot \mathrm{{{act}}}(b), \qquad (a, b) = \text{{the halves of }} x
    \text{{ along }} \mathrm{{axis}}

  {more}The derivatives are ``{act}``'s stable rules times ``a``; the product is
  formed in float32 for float16/bfloat16 and rounded once.

  Args:
    x: input array; the size of ``axis`` must be even.
    axis: the axis to split (default -1).
    {params}

  Returns:
    An array of ``x``'s dtype, half of ``x``'s size along ``axis``.

  Accuracy: Element-wise, relative to each output.

  Examples:
    >>> import jax.numpy as jnp, jaxact
    >>> jaxact.{name}(jnp.array([[2.0, 1.0], [-1.0, 3.0]], dtype=jnp.float32))
    {example}
  """


class _GatedUnit(Protocol):
  """What a built-in gated unit is, for type checkers: its gate's keywords are
  declared by each subclass's ``__call__`` (tests/test_typing.py checks them)."""

  activation: Callable[..., jax.Array]
  subnormal_gates: bool


class _Unit(_GatedUnit, Protocol):
  def __call__(self, x: ArrayLike, axis: int = -1) -> jax.Array: ...


class _SiluUnit(_GatedUnit, Protocol):
  def __call__(self, x: ArrayLike, axis: int = -1, *, beta: ArrayLike = 1.0) -> jax.Array: ...


class _GeluUnit(_GatedUnit, Protocol):
  def __call__(self, x: ArrayLike, axis: int = -1, *, approximate: bool | str = True) -> jax.Array: ...


glu: _Unit = _builtin(
  "glu",
  sigmoid,
  _DOC.format(
    title="Gated linear unit, drop-in for ``jax.nn.glu``.",
    name="glu",
    act="sigmoid",
    more="",
    params="",
    example="Array([[ 1.4621172 ],\n           [-0.95257413]], dtype=float32)",
  ),
  smoothness="C^inf",
  references=("Dauphin et al. 2017, arXiv:1612.08083",),
)
swiglu: _SiluUnit = _builtin(
  "swiglu",
  silu,
  _DOC.format(
    title="SwiGLU: the GLU with a SiLU (swish) gate.",
    name="swiglu",
    act="silu",
    more="",
    params="beta: keyword-only gate slope of silu (default 1.0).",
    example="Array([[ 1.4621172],\n           [-2.8577225]], dtype=float32)",
  ),
  smoothness="C^inf",
  references=("Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202",),
)
geglu: _GeluUnit = _builtin(
  "geglu",
  gelu,
  _DOC.format(
    title="GEGLU: the GLU with a GELU gate.",
    name="geglu",
    act="gelu",
    more="``approximate=True`` (the default, as ``jax.nn.gelu``) uses gelu's tanh form;\n  "
    "``approximate=False`` the exact erf form (PyTorch's default). ",
    params="approximate: keyword-only, gelu's form (default True).",
    example="Array([[ 1.682384 ],\n           [-2.9963627]], dtype=float32)",
  ),
  smoothness="C^inf",
  references=("Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202",),
)
reglu: _Unit = _builtin(
  "reglu",
  relu,
  _DOC.format(
    title="ReGLU: the GLU with a ReLU gate.",
    name="reglu",
    act="relu",
    more="Convention at the kink: relu'(0) = 0. ",
    params="",
    example="Array([[ 2.],\n           [-3.]], dtype=float32)",
  ),
  smoothness="C^0",
  references=("Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202",),
)
