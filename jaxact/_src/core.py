"""The one mechanism that turns (forward, derivative, metadata) into a public activation.

Two layers:

* :func:`stable_kernel` wraps a forward function ``f(x, *params)`` in a
  ``jax.custom_jvp`` whose tangent is ``f_x(x, *params) * dx + sum_i f_pi(x, *params) * dp_i``.
  The partial derivatives are themselves written with stable kernels, so the
  derivative of the rule is again a rule: second and higher derivatives keep the
  stable forms instead of differentiating through cancellations.
* :func:`activation` adds what a public function needs on top of a kernel: the
  signature of the forward function, input validation, the dtype policy (float16 and
  bfloat16 computed in float32 and rounded once), ``jit`` with traced
  hyperparameters, and an entry in the registry with its metadata.

A user activation is defined exactly like the built-in ones (see the README).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, cast

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from jaxact._src import checks, registry, tower

Partial = Callable[..., jax.Array]

# The public function has the decorated forward's signature, so that a type checker
# sees its real parameters (a misspelled keyword is an error there, as at run time).
_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")

REQUIRED = registry.REQUIRED

SELF = "self"
"""``derivative=SELF``: the kernel is its own derivative (``alpha e^x``, a constant 0)."""


def _bind(fname: str, sig: inspect.Signature, args, kwargs) -> dict[str, Any]:
  """The call's arguments by name, defaults applied; ``TypeError`` naming the function."""
  try:
    bound = sig.bind(*args, **kwargs)
  except TypeError as e:
    raise TypeError(f"jaxact.{fname}: {e}") from None
  bound.apply_defaults()
  return dict(bound.arguments)


# The Info fields a decorator's **metadata may set (the others it sets itself).
_METADATA = tuple(
  f.name
  for f in dataclasses.fields(registry.Info)
  if f.name not in ("name", "fn", "kind", "family", "params", "aliases", "builtin")
)


def _check_metadata(decorator: str, metadata: Mapping[str, Any]) -> None:
  """``TypeError`` naming ``jaxact.<decorator>`` for a keyword that is no metadata field."""
  unknown = sorted(set(metadata) - set(_METADATA))
  if unknown:
    raise TypeError(
      f"jaxact.{decorator}: unknown keyword argument(s) {unknown}; the metadata fields are {list(_METADATA)}"
    )


def _defaults(fn: Callable[..., Any], names: Sequence[str] | None = None) -> dict[str, Any]:
  """The defaults of ``fn``'s parameters ``names`` (default: all but the input), as the
  registry records them: :data:`REQUIRED` where there is none."""
  params = inspect.signature(fn).parameters
  names = list(params)[1:] if names is None else names
  return {p: REQUIRED if params[p].default is inspect.Parameter.empty else params[p].default for p in names}


def _check_derivative(owner: str, derivative: Partial | str) -> None:
  """``ValueError`` naming ``jaxact.<owner>`` for a derivative given as a string other than SELF."""
  if isinstance(derivative, str) and derivative != SELF:
    raise ValueError(f"jaxact.{owner}: derivative must be a function or {SELF!r}, got {derivative!r}")


def register_function(
  fn: Callable[..., Any],
  *,
  kind: str,
  family: str,
  params: Mapping[str, Any] | None = None,
  aliases: Sequence[str] = (),
  **metadata: Any,
) -> None:
  """Records a built-in public function that no kernel decorator makes: gelu, which
  picks a form, rrelu and gumbel_softmax, which draw from a key (each declared with
  :func:`registered` above its definition), and the gated units (from their factory,
  ``gated._builtin``). ``params``
  defaults to the signature's (the input excluded; :data:`REQUIRED` where there is no
  default); ``metadata`` must be :class:`~jaxact.Info` fields, as for the decorators."""
  _check_metadata("register", metadata)
  if kind in ("elementwise", "gated"):
    fn.__doc__ = registry.with_accuracy(fn.__doc__, metadata.get("bounds", registry.DEFAULT_BOUNDS))
  if params is None:
    params = _defaults(fn)
  registry.register(
    registry.Info(
      name=fn.__name__,
      fn=fn,
      kind=kind,
      family=family,
      params=dict(params),
      aliases=tuple(aliases),
      builtin=True,
      **metadata,
    )
  )


_Function = TypeVar("_Function", bound=Callable[..., Any])


def registered(
  *,
  kind: str,
  family: str,
  params: Mapping[str, Any] | None = None,
  aliases: Sequence[str] = (),
  **metadata: Any,
) -> Callable[[_Function], _Function]:
  """:func:`register_function` as a decorator, for a built-in public function that no
  kernel decorator makes: its declaration stands above its definition, and the
  function is returned as it is (its signature unchanged for a type checker)."""

  def register(fn: _Function) -> _Function:
    register_function(fn, kind=kind, family=family, params=params, aliases=aliases, **metadata)
    return fn

  return register


def _register(forward, public, kind, family, pnames, aliases, metadata) -> None:
  """Records ``public`` in the registry, with its parameters' defaults and metadata."""
  registry.register(
    registry.Info(
      name=public.__name__,
      fn=public,
      kind=kind,
      family=family,
      params=_defaults(forward, pnames),
      aliases=tuple(aliases),
      builtin=(forward.__module__ or "").startswith("jaxact."),
      **metadata,
    )
  )


# Read when a rule is traced: None, the barrier where the kernel's separate_derivative
# says (see the rule in stable_kernel); True or False, in every kernel or in none.
# Set only through derivative_barrier(), by benchmarks/derivative_barrier.py,
# benchmarks/models.py --barrier and tests/test_mechanism.py, to measure what the
# barrier saves and costs.
DERIVATIVE_BARRIER: bool | None = None


@contextlib.contextmanager
def derivative_barrier(setting: bool) -> Iterator[None]:
  """Within: every rule traced has the barrier (``True``) or none (``False``), whatever
  its kernel's ``separate_derivative``. JAX's caches are cleared on entry and exit: a
  function traced under one setting would otherwise be reused under the other."""
  global DERIVATIVE_BARRIER
  DERIVATIVE_BARRIER = setting
  jax.clear_caches()
  try:
    yield
  finally:
    DERIVATIVE_BARRIER = None
    jax.clear_caches()


def stable_kernel(
  forward: Callable[..., jax.Array],
  *,
  derivative: Partial | str,
  param_derivatives: Mapping[str, Partial] | None = None,
  separate_derivative: bool = True,
  tangent_scale: Mapping[str, Partial] | None = None,
) -> Callable[..., jax.Array]:
  """Wraps ``forward(x, *params)`` in a ``jax.custom_jvp`` with the given partials.

  Args:
    forward: the element-wise function, ``forward(x, *params)``, all arrays of the
      compute dtype; run under ``jax.jit`` (traced once per shapes and dtypes).
    derivative: ``derivative(x, *params)``, the partial derivative with respect to
      ``x``. Write it with stable building blocks (other kernels) and guard
      discarded branches, so that its own derivative is right too. ``"self"``
      (:data:`SELF`): the kernel itself (it is its own derivative).
    param_derivatives: partial derivatives with respect to the named parameters,
      same signature. A parameter without one may not be differentiated: its
      tangent must be zero (a ``TypeError`` says so otherwise).
    separate_derivative: evaluate the partials on ``x`` read through an
      ``optimization_barrier``, apart from the value. A training step then keeps
      the derivative alone, not the intermediates it shares with the value (which
      XLA would write out and keep), at the price of computing those twice. False
      where XLA keeps no more for them and they are costly (``gelu``'s double word).
    tangent_scale: ``{"x" or a parameter name: scale(x, *params)}``: that partial is
      given multiplied by the scale, a power of two (a select between constants,
      so its own derivative is 0), which the rule divides out of its product with
      the tangent. For a partial below the normal range (flushed to 0 on XLA's CPU
      backend) whose product with a large tangent is not: sigma'(z) for |z| > 87
      in float32, times a tangent of 1e6.

  Returns:
    The kernel: a ``jax.custom_jvp`` function with ``forward``'s positional signature.
  """
  _check_derivative("stable_kernel", derivative)
  names = list(inspect.signature(forward).parameters)[1:]
  partials = dict(param_derivatives or {})
  scales = dict(tangent_scale or {})
  unknown = set(partials) - set(names)
  if unknown:
    raise ValueError(f"jaxact: param_derivatives names unknown parameters {sorted(unknown)}")

  # custom_jvp takes positional arguments; keyword-only hyperparameters (beta of
  # softplus) are passed on by name.
  def positional(x, *params):
    return forward(x, **dict(zip(names, params)))

  positional.__name__ = forward.__name__
  # Under jit, the forward is traced once per shapes and dtypes and the trace reused:
  # a k-th derivative calls each kernel at every level of its tower (each rule
  # computes its value and its partials from kernels), and without the cache each
  # call traces the forward again (gelu's fourth derivative: 1.38 s of tracing
  # against 0.40 s). XLA inlines the call: the compiled program is the same.
  kernel = jax.custom_jvp(jax.jit(positional))
  d_x: Partial = kernel if derivative == SELF else cast(Partial, derivative)

  checked: set = set()

  def check(which: str, partial: Partial, primals) -> None:
    # Once per partial and dtypes: the tower stays closed (see tower.py).
    key = (which, *(jnp.result_type(p) for p in primals))
    if key not in checked:
      tower.check_partial(forward.__name__, which, partial, key[1:])
      checked.add(key)

  def rule(primals, tangents):
    # As arrays: a Python float argument (a user's kernel called directly) has no dtype.
    primals = tuple(jnp.asarray(p) for p in primals)
    x, *params = primals
    y = jnp.asarray(kernel(*primals))
    out = None
    terms = [(tangents[0], d_x, "x")]
    for pname, tp in zip(names, tangents[1:]):
      if type(tp) is SymbolicZero:
        continue
      if pname not in partials:
        raise TypeError(f"jaxact.{forward.__name__}: no derivative with respect to {pname!r} is defined")
      terms.append((tp, partials[pname], pname))
    # With separate_derivative, the partials read x through a barrier, so that they
    # share no subexpression with the forward pass. Otherwise XLA computes the
    # intermediates common to y and the derivative (an exponential, say) once,
    # writes them out, and keeps them with x until the backward pass: up to 3
    # buffers per activation where the derivative alone is 1
    # (benchmarks/derivative_barrier.py measures both sides).
    barrier = separate_derivative if DERIVATIVE_BARRIER is None else DERIVATIVE_BARRIER
    xd = jax.lax.optimization_barrier(x) if barrier else x
    for tangent, partial, which in terms:
      if type(tangent) is SymbolicZero:
        continue
      check(which, partial, primals)
      term = partial(xd, *params) * tangent
      if which in scales:
        term = term * (1.0 / scales[which](xd, *params))
      out = term if out is None else out + term
    if out is None:
      return y, jnp.zeros_like(y)
    return y, jnp.broadcast_to(out, jnp.shape(y)).astype(y.dtype)

  kernel.defjvp(rule, symbolic_zeros=True)
  return kernel


def activation(
  *,
  derivative: Partial | str,
  param_derivatives: Mapping[str, Partial] | None = None,
  name: str | None = None,
  register: bool = True,
  keep_integers: bool = False,
  family: str = "user",
  aliases: Sequence[str] = (),
  constant_kernels: Mapping[str, tuple[float, Callable[..., jax.Array]]] | None = None,
  separate_derivative: bool = True,
  param_domains: Mapping[str, tuple[Callable[[Any], Any], str]] | None = None,
  **metadata: Any,
) -> Callable[[Callable[_Params, jax.Array]], Callable[_Params, jax.Array]]:
  """Decorator: turns a forward function into a public, registered activation.

  The decorated function ``forward(x, p1=default1, ...)`` gives the public
  signature (names and defaults) and the docstring. The returned function:

  1. checks its arguments (``TypeError``/``ValueError`` naming ``jaxact.<name>``);
  2. promotes bool/int input to float, computes float16, bfloat16 and the 8- and
     4-bit floats in float32 and rounds once to the input dtype, float32/float64
     natively;
  3. runs the :func:`stable_kernel` of ``forward`` under ``jax.jit``, every
     hyperparameter traced (a new value does not recompile); array hyperparameters
     must broadcast to the input's shape (one value per channel: shape ``(C,)``);
  4. is recorded in the registry (``jaxact.get(name)``, ``jaxact.info(name)``).

  Args:
    derivative: ``derivative(x, *params)``, the partial derivative in ``x``.
    param_derivatives: partial derivatives in the named hyperparameters.
    name: public name; defaults to ``forward.__name__``.
    register: record the activation in the registry.
    keep_integers: integer input is returned as integers (as ``jax.nn.relu``).
    family: the family shown in the metadata.
    aliases: other names that ``jaxact.get`` resolves to this activation.
    constant_kernels: ``{name: (value, kernel)}``: where the hyperparameter ``name``
      is given as the Python number ``value`` (not an array, so not traced and not
      differentiated), ``kernel(x, *other params)`` is run instead, a
      :func:`stable_kernel` written for that value (silu's ``beta = 1``: no product
      ``beta x`` to carry as a double word). Same values and derivatives in ``x``.
    separate_derivative: passed to :func:`stable_kernel`.
    param_domains: ``{name: (ok, what)}``: the hyperparameter ``name`` must satisfy
      ``ok(value)`` (``what`` says how, for the message). A Python or NumPy value
      outside raises ``ValueError``; where a JAX array (traced or not) is outside,
      the input is replaced by NaN there, so the value and every derivative are NaN
      provided ``forward`` and its derivatives give NaN for a NaN input (the
      battery's ``nan_propagates`` measures that; every built-in does).
    **metadata: further :class:`jaxact.Info` fields (``formula``,
      ``output_range``, ``monotonic``, ``smoothness``, ``conventions`` ...).

  Returns:
    A decorator.
  """

  _check_metadata("activation", metadata)
  _check_derivative("activation", derivative)

  def wrap(forward: Callable[_Params, jax.Array]) -> Callable[_Params, jax.Array]:
    fname = name or forward.__name__
    sig = inspect.signature(forward)
    xname, *pnames = list(sig.parameters)
    domains = dict(param_domains or {})
    kernel = stable_kernel(
      forward,
      derivative=derivative,
      param_derivatives=param_derivatives,
      separate_derivative=separate_derivative,
    )

    def make_impl(kernel, names):
      def impl(x, *params):
        x = checks.as_input(x, keep_integers=keep_integers)
        if not jnp.issubdtype(x.dtype, jnp.floating):
          return cast(Callable[..., jax.Array], forward)(x, *params)
        ctype = checks.compute_dtype(x.dtype)
        ps = []
        for pname, p in zip(names, params):
          p = checks.as_param(p, ctype)
          checks.check_broadcast(fname, pname, x.shape, p.shape)
          ps.append(p)
          if pname in domains:
            x = checks.nan_outside(x, domains[pname][0](p))
        return checks.in_compute_dtype(kernel, x, *ps)

      # Named after the activation, so that jaxprs, HLO and profiles say "elu".
      impl.__name__ = impl.__qualname__ = fname
      return jax.jit(impl)

    impl = make_impl(kernel, pnames)
    constants = {}
    for pname, (value, k) in (constant_kernels or {}).items():
      others = [p for p in pnames if p != pname]
      constants[pname] = (value, others, make_impl(k, others))

    @functools.wraps(forward)
    def public(*args, **kwargs):
      arguments = _bind(fname, sig, args, kwargs)
      x = arguments[xname]
      checks.check_input(fname, x)
      params = [arguments[p] for p in pnames]
      for pname, p in zip(pnames, params):
        checks.check_param(fname, pname, p)
        if pname in domains:
          checks.check_domain(fname, pname, p, *domains[pname])
      for pname, (value, others, fast) in constants.items():
        p = arguments[pname]
        # (Not with keep_integers: integer input runs the forward with every parameter.)
        if type(p) in (int, float) and p == value and not keep_integers:
          return fast(x, *[arguments[o] for o in others])
      return impl(x, *params)

    public.__name__ = fname
    public.__qualname__ = fname
    # The bounds the battery asserts, stated from the registry, not copied by hand.
    public.__doc__ = registry.with_accuracy(forward.__doc__, metadata.get("bounds", registry.DEFAULT_BOUNDS))
    public.kernel = kernel  # type: ignore[attr-defined]
    if register:
      _register(forward, public, "elementwise", family, pnames, aliases, metadata)
    return cast("Callable[_Params, jax.Array]", public)

  return wrap


def normalizer(
  *,
  static_argnames: Sequence[str] = ("axis",),
  family: str = "normalizers",
  aliases: Sequence[str] = (),
  **metadata: Any,
) -> Callable[[Callable[_Params, _Result]], Callable[_Params, _Result]]:
  """Decorator: turns a reduction along ``axis`` into a public, registered normalizer.

  The decorated ``forward(x, axis=..., where=None, **others)`` gives the public
  signature and docstring; it is called with ``x`` validated and in the compute
  dtype, ``axis`` as a sorted tuple of non-negative ints, ``where`` as a boolean
  array that broadcasts to ``x`` (or ``None``), and any other array argument
  (``b`` of ``logsumexp``) cast to the compute dtype. Its outputs are rounded once
  to the input dtype. ``axis`` and the names in ``static_argnames`` are static under
  ``jit``; everything else is traced.
  """

  _check_metadata("normalizer", metadata)

  def wrap(forward: Callable[_Params, _Result]) -> Callable[_Params, _Result]:
    fname = forward.__name__
    sig = inspect.signature(forward)
    xname, *rest = list(sig.parameters)

    def inner(*args, **kwargs):
      kw = _bind(fname, sig, args, kwargs)
      x = checks.as_input(kw.pop(xname))
      ctype = checks.compute_dtype(x.dtype)
      kw["axis"] = checks.canonical_axes(fname, kw["axis"], x.ndim)
      for key, value in kw.items():
        if key in static_argnames or value is None:
          continue
        if key == "where":
          mask = jnp.asarray(value)
          if mask.dtype != jnp.bool_:
            raise TypeError(f"jaxact.{fname}: where must be a boolean array, got dtype {mask.dtype}")
          checks.check_broadcast(fname, "where", x.shape, mask.shape)
          kw[key] = mask
        else:
          value = checks.as_param(value, ctype)
          checks.check_broadcast(fname, key, x.shape, value.shape)
          kw[key] = value
      static = {k: v for k, v in kw.items() if k in static_argnames or v is None}
      arrays = {k: v for k, v in kw.items() if k not in static}
      return checks.in_compute_dtype(lambda x, arrays: forward(x, **static, **arrays), x, arrays)

    impl = jax.jit(functools.wraps(forward)(inner), static_argnames=tuple(static_argnames))

    @functools.wraps(forward)
    def public(*args, **kwargs):
      kw = _bind(fname, sig, args, kwargs)
      checks.check_input(fname, kw[xname])
      for key in rest:
        value = kw[key]
        if key in static_argnames:
          if isinstance(value, list):
            kw[key] = tuple(value)
        elif value is not None and key != "where":
          checks.check_param(fname, key, value)
      return impl(**kw)

    if "axis" not in static_argnames:
      raise ValueError("jaxact.normalizer: 'axis' must be static")
    bounds = registry.normwise_bounds(metadata.get("bounds", registry.DEFAULT_BOUNDS))
    public.__doc__ = registry.with_accuracy(forward.__doc__, bounds, normwise=True)
    _register(forward, public, "normalizer", family, rest, aliases, metadata)
    return cast("Callable[_Params, _Result]", public)

  return wrap
