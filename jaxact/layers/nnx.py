"""jaxact's layers for Flax NNX (``pip install "jaxact[flax]"``).

The conventions (shapes, initial values, XIELU's parametrisation, train and eval)
are in :mod:`jaxact.layers`. ``RReLU`` and ``GumbelSoftmax`` follow ``nnx.Dropout``:
a ``deterministic`` attribute that ``model.train()`` and ``model.eval()`` set, and the
``"dropout"`` stream of the ``rngs`` given at construction or at the call.

Examples:
  >>> import jax.numpy as jnp
  >>> from flax import nnx
  >>> from jaxact.layers.nnx import PReLU
  >>> layer = PReLU(3)  # one slope per channel (last axis), 0.25 each
  >>> layer(jnp.array([[-1.0, 2.0, -4.0]], dtype=jnp.float32))
  Array([[-0.25,  2.  , -1.  ]], dtype=float32)
"""

from __future__ import annotations

from typing import Any, ClassVar

try:
  from flax import nnx
except ImportError as e:  # pragma: no cover - the extra is installed in the tests
  raise ImportError('jaxact.layers.nnx needs Flax: pip install "jaxact[flax]"') from e
import jax
import jax.numpy as jnp

from jaxact.layers import _common

__all__ = ["XIELU", "GumbelSoftmax", "PReLU", "RReLU", "Snake", "Softplus", "Swish"]


class _Learned(nnx.Module):
  """A function of the input with learned parameters of shape ``(num_parameters,)``."""

  _layer: ClassVar[str]

  def _build(self, num_parameters: int, channel_axis: int, param_dtype: Any, **hyper: Any) -> None:
    n = _common.check_learned(self._layer, num_parameters, channel_axis, param_dtype)
    self.channel_axis = channel_axis
    values = _common.initial_values(self._layer, hyper)
    self._names = tuple(values)
    self._fixed = tuple(k for k in ("beta", "eps") if k in hyper)  # XIELU's fixed beta and eps
    for fixed in self._fixed:
      setattr(self, fixed, hyper[fixed])
    for name, value in values.items():
      setattr(self, name, nnx.Param(jnp.full((n,), value, param_dtype)))

  def __call__(self, x: jax.Array) -> jax.Array:
    params: dict[str, jax.Array] = {name: getattr(self, name)[...] for name in self._names}
    hyper: dict[str, Any] = {"channel_axis": self.channel_axis, **{k: getattr(self, k) for k in self._fixed}}
    return _common.apply_learned(self._layer, x, params, hyper)


class PReLU(_Learned):
  """Parametric ReLU (:func:`jaxact.prelu`) with a learned slope ``alpha``, 0.25 at
  the start as PyTorch (``alpha_init``, PyTorch's ``init``); shared
  (``num_parameters=1``) or one per channel."""

  _layer = "PReLU"

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    alpha_init: float = 0.25,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    self._build(num_parameters, channel_axis, param_dtype, alpha_init=alpha_init)


class Swish(_Learned):
  """Swish-β, ``x sigmoid(beta x)`` (:func:`jaxact.silu`), with a learned ``beta``."""

  _layer = "Swish"

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    beta_init: float = 1.0,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    self._build(num_parameters, channel_axis, param_dtype, beta_init=beta_init)


class Softplus(_Learned):
  """``log(1 + exp(beta x)) / beta`` (:func:`jaxact.softplus`) with a learned ``beta``."""

  _layer = "Softplus"

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    beta_init: float = 1.0,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    self._build(num_parameters, channel_axis, param_dtype, beta_init=beta_init)


class Snake(_Learned):
  """Snake, ``x + sin²(frequency x) / frequency`` (:func:`jaxact.snake`), with a
  learned ``frequency``, usually one per channel."""

  _layer = "Snake"

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    frequency_init: float = 1.0,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    self._build(num_parameters, channel_axis, param_dtype, frequency_init=frequency_init)


class XIELU(_Learned):
  """xIELU (:func:`jaxact.xielu`) in the paper's parametrisation: learned ``alpha_p``
  and ``alpha_n`` stored unconstrained, used as ``softplus(alpha_p)`` and
  ``beta + softplus(alpha_n)``; ``beta`` and ``eps`` fixed."""

  _layer = "XIELU"

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    alpha_p_init: float = 0.8,
    alpha_n_init: float = 0.8,
    beta: float = 0.5,
    eps: float = -1e-6,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    self._build(
      num_parameters,
      channel_axis,
      param_dtype,
      alpha_p_init=alpha_p_init,
      alpha_n_init=alpha_n_init,
      beta=beta,
      eps=eps,
    )


class _Random(nnx.Module):
  """A layer that draws random numbers in training, as ``nnx.Dropout``."""

  _layer: ClassVar[str]

  def _build(self, deterministic: bool, rng_collection: str, rngs: nnx.Rngs | nnx.RngStream | None) -> None:
    self.deterministic = deterministic
    self.rng_collection = rng_collection
    if isinstance(rngs, nnx.Rngs):
      self.rngs = rngs[rng_collection].fork()
    elif isinstance(rngs, nnx.RngStream):
      self.rngs = rngs.fork()
    elif rngs is None:
      self.rngs = nnx.data(None)
    else:
      raise _common.fail(
        self._layer, TypeError, f"rngs must be nnx.Rngs, nnx.RngStream or None, got {rngs!r}"
      )

  def _mode(self, deterministic: bool | None, rngs: Any) -> tuple[bool, Any]:
    deterministic = self.deterministic if deterministic is None else deterministic
    if deterministic:
      return False, None
    rngs = self.rngs if rngs is None else rngs
    how = "pass rngs=nnx.Rngs(...) at construction or at the call, or call model.eval()"
    _common.need_key(self._layer, rngs, how)
    if isinstance(rngs, nnx.Rngs):
      rngs = rngs[self.rng_collection]
    return True, rngs() if isinstance(rngs, nnx.RngStream) else rngs


class RReLU(_Random):
  """Randomized leaky ReLU (:func:`jaxact.rrelu`): a random slope in ``[lower, upper]``
  per element in training, their mean in evaluation (``deterministic=True``)."""

  _layer = "RReLU"

  def __init__(
    self,
    lower: float = 1.0 / 8.0,
    upper: float = 1.0 / 3.0,
    *,
    deterministic: bool = False,
    rng_collection: str = "dropout",
    rngs: nnx.Rngs | nnx.RngStream | None = None,
  ):
    _common.check_rrelu(lower, upper)
    self.lower, self.upper = lower, upper
    self._build(deterministic, rng_collection, rngs)

  def __call__(self, x: jax.Array, *, deterministic: bool | None = None, rngs: Any = None) -> jax.Array:
    training, key = self._mode(deterministic, rngs)
    return _common.rrelu(x, key, training, self.lower, self.upper)


class GumbelSoftmax(_Random):
  """Gumbel-softmax (:func:`jaxact.gumbel_softmax`) of the logits in training; the
  noise-free ``softmax(logits / tau)`` in evaluation (one-hot with ``hard=True``)."""

  _layer = "GumbelSoftmax"

  def __init__(
    self,
    tau: float = 1.0,
    *,
    hard: bool = False,
    axis: int = -1,
    deterministic: bool = False,
    rng_collection: str = "dropout",
    rngs: nnx.Rngs | nnx.RngStream | None = None,
  ):
    _common.check_gumbel(tau, hard, axis)
    self.tau, self.hard, self.axis = tau, bool(hard), axis
    self._build(deterministic, rng_collection, rngs)

  def __call__(self, logits: jax.Array, *, deterministic: bool | None = None, rngs: Any = None) -> jax.Array:
    training, key = self._mode(deterministic, rngs)
    return _common.gumbel_softmax(logits, key, training, self.tau, self.hard, self.axis)
