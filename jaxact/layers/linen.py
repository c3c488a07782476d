"""jaxact's layers for Flax Linen (``pip install "jaxact[flax]"``).

The conventions (shapes, initial values, XIELU's parametrisation, train and eval)
are in :mod:`jaxact.layers`. ``RReLU`` and ``GumbelSoftmax`` follow ``nn.Dropout``: a
``deterministic`` attribute or call argument, and ``self.make_rng("dropout")`` in
training (``model.apply(..., rngs={"dropout": key})``).

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from jaxact.layers.linen import PReLU
  >>> x = jnp.array([[-1.0, 2.0, -4.0]], dtype=jnp.float32)
  >>> variables = PReLU(3).init(jax.random.key(0), x)
  >>> variables["params"]["alpha"]
  Array([0.25, 0.25, 0.25], dtype=float32)
  >>> PReLU(3).apply(variables, x)
  Array([[-0.25,  2.  , -1.  ]], dtype=float32)
"""

from __future__ import annotations

from typing import Any, ClassVar

try:
  import flax.linen as nn
except ImportError as e:  # pragma: no cover - the extra is installed in the tests
  raise ImportError('jaxact.layers.linen needs Flax: pip install "jaxact[flax]"') from e
import jax
import jax.numpy as jnp

from jaxact.layers import _common

__all__ = ["XIELU", "GumbelSoftmax", "PReLU", "RReLU", "Snake", "Softplus", "Swish"]


class _Learned(nn.Module):
  """A function of the input with learned parameters of shape ``(num_parameters,)``."""

  _layer: ClassVar[str]

  def _apply(self, x: jax.Array, **hyper: Any) -> jax.Array:
    layer = self._layer
    n = _common.check_learned(layer, self.num_parameters, self.channel_axis, self.param_dtype)
    params = {
      name: self.param(name, nn.initializers.constant(value), (n,), self.param_dtype)
      for name, value in _common.initial_values(layer, hyper).items()
    }
    return _common.apply_learned(layer, x, params, {"channel_axis": self.channel_axis, **hyper})


class PReLU(_Learned):
  """Parametric ReLU (:func:`jaxact.prelu`) with a learned slope ``alpha``, 0.25 at
  the start as PyTorch (``alpha_init``, PyTorch's ``init``); shared
  (``num_parameters=1``) or one per channel."""

  _layer: ClassVar[str] = "PReLU"

  num_parameters: int = 1
  alpha_init: float = 0.25
  channel_axis: int = -1
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return self._apply(x, alpha_init=self.alpha_init)


class Swish(_Learned):
  """Swish-β, ``x sigmoid(beta x)`` (:func:`jaxact.silu`), with a learned ``beta``."""

  _layer: ClassVar[str] = "Swish"

  num_parameters: int = 1
  beta_init: float = 1.0
  channel_axis: int = -1
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return self._apply(x, beta_init=self.beta_init)


class Softplus(_Learned):
  """``log(1 + exp(beta x)) / beta`` (:func:`jaxact.softplus`) with a learned ``beta``."""

  _layer: ClassVar[str] = "Softplus"

  num_parameters: int = 1
  beta_init: float = 1.0
  channel_axis: int = -1
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return self._apply(x, beta_init=self.beta_init)


class Snake(_Learned):
  """Snake, ``x + sin²(frequency x) / frequency`` (:func:`jaxact.snake`), with a
  learned ``frequency``, usually one per channel."""

  _layer: ClassVar[str] = "Snake"

  num_parameters: int = 1
  frequency_init: float = 1.0
  channel_axis: int = -1
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return self._apply(x, frequency_init=self.frequency_init)


class XIELU(_Learned):
  """xIELU (:func:`jaxact.xielu`) in the paper's parametrisation: learned ``alpha_p``
  and ``alpha_n`` stored unconstrained, used as ``softplus(alpha_p)`` and
  ``beta + softplus(alpha_n)``; ``beta`` and ``eps`` fixed."""

  _layer: ClassVar[str] = "XIELU"

  num_parameters: int = 1
  alpha_p_init: float = 0.8
  alpha_n_init: float = 0.8
  beta: float = 0.5
  eps: float = -1e-6
  channel_axis: int = -1
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return self._apply(
      x, alpha_p_init=self.alpha_p_init, alpha_n_init=self.alpha_n_init, beta=self.beta, eps=self.eps
    )


def _mode(module: nn.Module, deterministic: bool | None) -> tuple[bool, Any]:
  layer = module._layer
  if module.deterministic is None and deterministic is None:
    raise _common.fail(
      layer, ValueError, "deterministic is not set: give it as an attribute or at the call (as nn.Dropout)"
    )
  deterministic = nn.merge_param("deterministic", module.deterministic, deterministic)
  if deterministic:
    return False, None
  # As nn.Dropout: make_rng falls back to the "params" stream (model.init with one key).
  if not (module.has_rng(module.rng_collection) or module.has_rng("params")):
    how = f'pass rngs={{"{module.rng_collection}": key}} to apply, or deterministic=True'
    _common.need_key(layer, None, how)
  return True, module.make_rng(module.rng_collection)


class RReLU(nn.Module):
  """Randomized leaky ReLU (:func:`jaxact.rrelu`): a random slope in ``[lower, upper]``
  per element in training, their mean in evaluation (``deterministic=True``)."""

  _layer: ClassVar[str] = "RReLU"

  lower: float = 1.0 / 8.0
  upper: float = 1.0 / 3.0
  deterministic: bool | None = None
  rng_collection: str = "dropout"

  @nn.compact
  def __call__(self, x: jax.Array, deterministic: bool | None = None) -> jax.Array:
    _common.check_rrelu(self.lower, self.upper)
    training, key = _mode(self, deterministic)
    return _common.rrelu(x, key, training, self.lower, self.upper)


class GumbelSoftmax(nn.Module):
  """Gumbel-softmax (:func:`jaxact.gumbel_softmax`) of the logits in training; the
  noise-free ``softmax(logits / tau)`` in evaluation (one-hot with ``hard=True``)."""

  _layer: ClassVar[str] = "GumbelSoftmax"

  tau: float = 1.0
  hard: bool = False
  axis: int = -1
  deterministic: bool | None = None
  rng_collection: str = "dropout"

  @nn.compact
  def __call__(self, logits: jax.Array, deterministic: bool | None = None) -> jax.Array:
    _common.check_gumbel(self.tau, self.hard, self.axis)
    training, key = _mode(self, deterministic)
    return _common.gumbel_softmax(logits, key, training, self.tau, bool(self.hard), self.axis)
