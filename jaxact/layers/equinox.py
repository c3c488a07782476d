"""jaxact's layers for Equinox (``pip install "jaxact[equinox]"``).

The conventions (shapes, initial values, XIELU's parametrisation, train and eval)
are in :mod:`jaxact.layers`. ``RReLU`` and ``GumbelSoftmax`` follow
``eqx.nn.Dropout``: an ``inference`` field that ``eqx.nn.inference_mode`` sets, and a
``key`` argument in training.

Examples:
  >>> import jax.numpy as jnp
  >>> from jaxact.layers.equinox import PReLU
  >>> PReLU(3)(jnp.array([-1.0, 2.0, -4.0], dtype=jnp.float32))  # one slope per channel, 0.25 each
  Array([-0.25,  2.  , -1.  ], dtype=float32)
"""

from __future__ import annotations

from typing import Any, ClassVar

try:
  import equinox as eqx
except ImportError as e:  # pragma: no cover - the extra is installed in the tests
  raise ImportError('jaxact.layers.equinox needs Equinox: pip install "jaxact[equinox]"') from e
import jax
import jax.numpy as jnp

from jaxact.layers import _common

__all__ = ["XIELU", "GumbelSoftmax", "PReLU", "RReLU", "Snake", "Softplus", "Swish"]


def _params(
  layer: str, num_parameters: int, channel_axis: int, param_dtype: Any, **hyper: Any
) -> dict[str, jax.Array]:
  n = _common.check_learned(layer, num_parameters, channel_axis, param_dtype)
  return {k: jnp.full((n,), v, param_dtype) for k, v in _common.initial_values(layer, hyper).items()}


class _Learned(eqx.Module):
  """A function of the input with learned parameters of shape ``(num_parameters,)``."""

  _layer: ClassVar[str]
  _names: ClassVar[tuple[str, ...]]

  def _hyper(self) -> dict[str, Any]:
    return {"channel_axis": self.channel_axis}  # type: ignore[attr-defined]

  def __call__(self, x: jax.Array, *, key: Any = None) -> jax.Array:
    """``key`` is not used (``eqx.nn.Sequential`` passes one to every layer)."""
    params = {name: getattr(self, name) for name in self._names}
    return _common.apply_learned(self._layer, x, params, self._hyper())


class PReLU(_Learned):
  """Parametric ReLU (:func:`jaxact.prelu`) with a learned slope ``alpha``, 0.25 at
  the start as PyTorch (``alpha_init``, PyTorch's ``init``); shared
  (``num_parameters=1``) or one per channel."""

  _layer = "PReLU"
  _names = ("alpha",)

  alpha: jax.Array
  channel_axis: int = eqx.field(static=True)

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    alpha_init: float = 0.25,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    self.alpha = _params("PReLU", num_parameters, channel_axis, param_dtype, alpha_init=alpha_init)["alpha"]
    self.channel_axis = channel_axis


class Swish(_Learned):
  """Swish-β, ``x sigmoid(beta x)`` (:func:`jaxact.silu`), with a learned ``beta``."""

  _layer = "Swish"
  _names = ("beta",)

  beta: jax.Array
  channel_axis: int = eqx.field(static=True)

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    beta_init: float = 1.0,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    self.beta = _params("Swish", num_parameters, channel_axis, param_dtype, beta_init=beta_init)["beta"]
    self.channel_axis = channel_axis


class Softplus(_Learned):
  """``log(1 + exp(beta x)) / beta`` (:func:`jaxact.softplus`) with a learned ``beta``."""

  _layer = "Softplus"
  _names = ("beta",)

  beta: jax.Array
  channel_axis: int = eqx.field(static=True)

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    beta_init: float = 1.0,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    self.beta = _params("Softplus", num_parameters, channel_axis, param_dtype, beta_init=beta_init)["beta"]
    self.channel_axis = channel_axis


class Snake(_Learned):
  """Snake, ``x + sin²(frequency x) / frequency`` (:func:`jaxact.snake`), with a
  learned ``frequency``, usually one per channel."""

  _layer = "Snake"
  _names = ("frequency",)

  frequency: jax.Array
  channel_axis: int = eqx.field(static=True)

  def __init__(
    self,
    num_parameters: int = 1,
    *,
    frequency_init: float = 1.0,
    channel_axis: int = -1,
    param_dtype: Any = jnp.float32,
  ):
    p = _params("Snake", num_parameters, channel_axis, param_dtype, frequency_init=frequency_init)
    self.frequency = p["frequency"]
    self.channel_axis = channel_axis


class XIELU(_Learned):
  """xIELU (:func:`jaxact.xielu`) in the paper's parametrisation: learned ``alpha_p``
  and ``alpha_n`` stored unconstrained, used as ``softplus(alpha_p)`` and
  ``beta + softplus(alpha_n)``; ``beta`` and ``eps`` fixed."""

  _layer = "XIELU"
  _names = ("alpha_p", "alpha_n")

  alpha_p: jax.Array
  alpha_n: jax.Array
  beta: float = eqx.field(static=True)
  eps: float = eqx.field(static=True)
  channel_axis: int = eqx.field(static=True)

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
    p = _params(
      "XIELU",
      num_parameters,
      channel_axis,
      param_dtype,
      alpha_p_init=alpha_p_init,
      alpha_n_init=alpha_n_init,
      beta=beta,
      eps=eps,
    )
    self.alpha_p, self.alpha_n = p["alpha_p"], p["alpha_n"]
    self.beta, self.eps, self.channel_axis = beta, eps, channel_axis

  def _hyper(self) -> dict[str, Any]:
    return {"channel_axis": self.channel_axis, "beta": self.beta, "eps": self.eps}


def _mode(layer: str, inference: bool, key: Any) -> tuple[bool, Any]:
  if inference:
    return False, None
  how = "pass key=... to the call, or use eqx.nn.inference_mode(model)"
  return True, _common.need_key(layer, key, how)


class RReLU(eqx.Module):
  """Randomized leaky ReLU (:func:`jaxact.rrelu`): a random slope in ``[lower, upper]``
  per element in training, their mean in inference (``inference=True``)."""

  lower: float = eqx.field(static=True)
  upper: float = eqx.field(static=True)
  inference: bool

  def __init__(self, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0, *, inference: bool = False):
    _common.check_rrelu(lower, upper)
    self.lower, self.upper, self.inference = lower, upper, inference

  def __call__(self, x: jax.Array, *, key: Any = None, inference: bool | None = None) -> jax.Array:
    training, key = _mode("RReLU", self.inference if inference is None else inference, key)
    return _common.rrelu(x, key, training, self.lower, self.upper)


class GumbelSoftmax(eqx.Module):
  """Gumbel-softmax (:func:`jaxact.gumbel_softmax`) of the logits in training; the
  noise-free ``softmax(logits / tau)`` in inference (one-hot with ``hard=True``)."""

  tau: float = eqx.field(static=True)
  hard: bool = eqx.field(static=True)
  axis: int = eqx.field(static=True)
  inference: bool

  def __init__(self, tau: float = 1.0, *, hard: bool = False, axis: int = -1, inference: bool = False):
    _common.check_gumbel(tau, hard, axis)
    self.tau, self.hard, self.axis, self.inference = tau, bool(hard), axis, inference

  def __call__(self, logits: jax.Array, *, key: Any = None, inference: bool | None = None) -> jax.Array:
    training, key = _mode("GumbelSoftmax", self.inference if inference is None else inference, key)
    return _common.gumbel_softmax(logits, key, training, self.tau, self.hard, self.axis)
