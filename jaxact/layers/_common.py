"""What the three frameworks' layers share: the learned parameters' initial values,
their shape per channel, how they map to the functions' arguments, and the
stochastic layers' train and eval forms. The framework modules only store the
parameters and the switch."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

import jaxact


def fail(layer: str, exc: type[Exception], message: str) -> Exception:
  return exc(f"jaxact.layers.{layer}: {message}")


def check_count(layer: str, num_parameters: object) -> int:
  if (
    isinstance(num_parameters, bool)
    or not isinstance(num_parameters, (int, np.integer))
    or num_parameters < 1
  ):
    raise fail(layer, ValueError, f"num_parameters must be a positive int, got {num_parameters!r}")
  return int(num_parameters)


def check_number(layer: str, name: str, value: object) -> float:
  if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
    raise fail(layer, TypeError, f"{name} must be a finite number, got {value!r}")
  return float(value)


def check_learned(layer: str, num_parameters: object, channel_axis: object, param_dtype: object) -> int:
  """The number of learned values per parameter, after checking the layer's arguments."""
  n = check_count(layer, num_parameters)
  if isinstance(channel_axis, bool) or not isinstance(channel_axis, (int, np.integer)):
    raise fail(layer, TypeError, f"channel_axis must be an int, got {channel_axis!r}")
  try:
    floating = jnp.issubdtype(jnp.dtype(cast(Any, param_dtype)), jnp.floating)
  except TypeError:
    floating = False
  if not floating:
    raise fail(layer, TypeError, f"param_dtype must be a floating dtype (it is trained), got {param_dtype!r}")
  return n


def inverse_softplus(layer: str, name: str, value: float) -> float:
  """The unconstrained value whose softplus is ``value`` (> 0): v + log(1 - e^-v),
  which does not overflow for large v (log(expm1(v)) does from v = 710)."""
  if not value > 0:
    raise fail(
      layer, ValueError, f"{name} must be positive (it is softplus of a learned value), got {value!r}"
    )
  v = np.float64(value)
  return float(v + np.log(-np.expm1(-v)))


def initial_values(layer: str, hyper: Mapping[str, Any]) -> dict[str, float]:
  """The learned parameters' initial (stored) values, by name."""
  if layer == "PReLU":
    return {"alpha": check_number(layer, "alpha_init", hyper["alpha_init"])}
  if layer in ("Swish", "Softplus"):
    return {"beta": check_number(layer, "beta_init", hyper["beta_init"])}
  if layer == "Snake":
    return {"frequency": check_number(layer, "frequency_init", hyper["frequency_init"])}
  if layer == "XIELU":
    ap, an, beta = (check_number(layer, k, hyper[k]) for k in ("alpha_p_init", "alpha_n_init", "beta"))
    check_number(layer, "eps", hyper["eps"])
    return {
      "alpha_p": inverse_softplus(layer, "alpha_p_init", ap),
      "alpha_n": inverse_softplus(layer, "alpha_n_init - beta", an - beta),
    }
  raise AssertionError(layer)


def per_channel(layer: str, w: jax.Array, x: jax.Array, channel_axis: int) -> jax.Array:
  """``w`` of shape ``(num_parameters,)`` shaped to broadcast against ``x``: a scalar
  for one shared value, else along ``channel_axis`` (which must have that length)."""
  if w.shape[0] == 1:
    return w.reshape(())
  ndim = jnp.ndim(x)
  if not -ndim <= channel_axis < ndim:
    raise fail(
      layer, ValueError, f"channel_axis {channel_axis} is out of range for an input of shape {jnp.shape(x)}"
    )
  axis = channel_axis % ndim
  if jnp.shape(x)[axis] != w.shape[0]:
    raise fail(
      layer,
      ValueError,
      f"{w.shape[0]} parameters (one per channel) for an input of shape {jnp.shape(x)} "
      f"with {jnp.shape(x)[axis]} channels along axis {channel_axis}",
    )
  return w.reshape((w.shape[0],) + (1,) * (ndim - 1 - axis))


def apply_learned(
  layer: str, x: jax.Array, params: Mapping[str, jax.Array], hyper: Mapping[str, Any]
) -> jax.Array:
  """The layer's function of ``x`` with its learned parameters."""
  p = {k: per_channel(layer, jnp.asarray(v), x, hyper["channel_axis"]) for k, v in params.items()}
  if layer == "PReLU":
    return jaxact.prelu(x, p["alpha"])
  if layer == "Swish":
    return jaxact.silu(x, beta=p["beta"])
  if layer == "Softplus":
    return jaxact.softplus(x, beta=p["beta"])
  if layer == "Snake":
    return jaxact.snake(x, frequency=p["frequency"])
  if layer == "XIELU":
    beta = jnp.asarray(hyper["beta"], p["alpha_n"].dtype)
    return jaxact.xielu(
      x,
      alpha_p=jaxact.softplus(p["alpha_p"]),
      alpha_n=beta + jaxact.softplus(p["alpha_n"]),
      beta=beta,
      eps=jnp.asarray(hyper["eps"], beta.dtype),
    )
  raise AssertionError(layer)


def check_rrelu(lower: object, upper: object) -> None:
  lo, up = (check_number("RReLU", k, v) for k, v in (("lower", lower), ("upper", upper)))
  if lo > up:
    raise fail("RReLU", ValueError, f"lower must be at most upper, got lower={lower!r}, upper={upper!r}")


def check_gumbel(tau: object, hard: object, axis: object) -> None:
  if check_number("GumbelSoftmax", "tau", tau) <= 0:
    raise fail("GumbelSoftmax", ValueError, f"tau must be positive, got {tau!r}")
  if not isinstance(hard, (bool, np.bool_)):
    raise fail("GumbelSoftmax", TypeError, f"hard must be a bool, got {hard!r}")
  if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
    raise fail("GumbelSoftmax", TypeError, f"axis must be an int, got {axis!r}")


def _renamed(layer: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
  """``fn(*args, **kwargs)``, a jaxact function's error renamed after the layer."""
  try:
    return fn(*args, **kwargs)
  except (TypeError, ValueError) as e:
    prefix = f"jaxact.{fn.__name__}:"
    if str(e).startswith(prefix):
      raise type(e)(f"jaxact.layers.{layer}:" + str(e)[len(prefix) :]) from None
    raise


def need_key(layer: str, key: Any, how: str) -> Any:
  if key is None:
    raise fail(layer, ValueError, f"training draws random numbers and needs a key: {how}")
  return key


def rrelu(x: jax.Array, key: Any, training: bool, lower: float, upper: float) -> jax.Array:
  key = key if training else None
  return _renamed("RReLU", jaxact.rrelu, x, key=key, lower=lower, upper=upper, training=training)


def gumbel_softmax(
  logits: jax.Array, key: Any, training: bool, tau: float, hard: bool, axis: int
) -> jax.Array:
  if training:
    return _renamed("GumbelSoftmax", jaxact.gumbel_softmax, logits, key=key, tau=tau, hard=hard, axis=axis)
  return _renamed("GumbelSoftmax", _gumbel_eval, logits, tau, hard, axis)


def _gumbel_eval(logits: jax.Array, tau: float, hard: bool, axis: int) -> jax.Array:
  """softmax(logits / tau), computed as gumbel_softmax computes (float16 and
  bfloat16 in float32, rounded once; integers promoted to floats)."""
  logits = jnp.asarray(logits)
  dtype = logits.dtype if jnp.issubdtype(logits.dtype, jnp.floating) else jnp.result_type(float)
  wide = jnp.promote_types(dtype, jnp.float32)
  y = jaxact.softmax(logits.astype(wide) / float(tau), axis=axis)
  if hard:
    one_hot = jax.nn.one_hot(jnp.argmax(y, axis=axis), y.shape[axis], dtype=wide, axis=axis)
    y = one_hot + (y - jax.lax.stop_gradient(y))  # straight through: the softmax's gradient
  return y.astype(dtype)


_gumbel_eval.__name__ = "softmax"  # its errors come from jaxact.softmax
