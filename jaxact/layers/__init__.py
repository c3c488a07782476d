"""Layers with learned parameters or a train/eval switch, for Flax NNX, Flax Linen and Equinox.

The layers call jaxact's functions, so their numerics (the stable derivatives, the
parameter partials) reach the model. Each framework has its own module, imported
only when asked for, so the core package needs none of them:

- :mod:`jaxact.layers.nnx` (Flax NNX; ``pip install "jaxact[flax]"``),
- :mod:`jaxact.layers.linen` (Flax Linen; ``pip install "jaxact[flax]"``),
- :mod:`jaxact.layers.equinox` (Equinox; ``pip install "jaxact[equinox]"``).

Each offers the same seven layers, with the same names, learned parameters,
arguments and defaults (the train/eval switch aside, which follows each framework,
below):

================  ======================  ==============================================
layer             learned parameters      function
================  ======================  ==============================================
``PReLU``         ``alpha`` (0.25)        :func:`jaxact.prelu`
``Swish``         ``beta`` (1.0)          :func:`jaxact.silu` with ``beta`` (Swish-β)
``Softplus``      ``beta`` (1.0)          :func:`jaxact.softplus` with ``beta``
``Snake``         ``frequency`` (1.0)     :func:`jaxact.snake`
``XIELU``         ``alpha_p``, ``alpha_n``  :func:`jaxact.xielu`, the paper's parametrisation
``RReLU``         none; train/eval        :func:`jaxact.rrelu`
``GumbelSoftmax`` none; train/eval        :func:`jaxact.gumbel_softmax`
================  ======================  ==============================================

Conventions, the same in the three frameworks:

- A learned parameter has shape ``(num_parameters,)``: one value shared by every
  element (``num_parameters=1``, the default, as PyTorch) or one per channel along
  ``channel_axis`` (default ``-1``, JAX's channels-last layout; PyTorch's layers take
  the channel at axis 1, pass ``channel_axis=1`` for NCHW data). It is stored in
  ``param_dtype`` (float32; a floating dtype) and the output has the input's dtype
  (integer input gives the default float dtype, as the functions do).
- ``XIELU`` stores ``alpha_p`` and ``alpha_n`` unconstrained and uses
  ``softplus(alpha_p)`` and ``beta + softplus(alpha_n)``, as the reference
  implementation of Huang and Schlag (2024), so that both stay positive and
  ``alpha_n > beta`` while training; ``beta`` and ``eps`` are fixed. The initial
  values are given as the effective ones (``alpha_p_init=0.8``, ``alpha_n_init=0.8``).
- ``Swish`` and ``Softplus`` use their ``beta`` as learned, without a constraint
  (``softplus`` with ``beta = 0`` is infinite: keep it positive with a learning rate
  that suits the model, or reparametrise outside).
- ``RReLU`` draws a slope per element in training (uniform in ``[lower, upper]``,
  default ``[1/8, 1/3]`` as PyTorch) and uses their mean in evaluation.
  ``GumbelSoftmax`` adds Gumbel noise in training; in evaluation it is the noise-free
  ``softmax(logits / tau)`` (with ``hard=True``: the one-hot of the largest logit,
  with the straight-through gradient of that softmax).
- Train/eval follows each framework's dropout layer: NNX's ``deterministic``
  attribute (default ``False``, set by ``model.train()`` / ``model.eval()``) and an
  ``rngs`` stream ``"dropout"``, drawn anew at each call (or ``rngs`` given at the
  call); Linen's ``deterministic`` attribute or call argument (one of them must be
  set, as ``nn.Dropout``) and ``make_rng("dropout")``, which falls back to the
  ``"params"`` stream in ``init``; Equinox's ``inference`` field (default ``False``,
  set by ``eqx.nn.inference_mode``, overridden by an ``inference`` call argument) and
  a ``key`` argument.
"""

from __future__ import annotations

LAYERS = ("PReLU", "Swish", "Softplus", "Snake", "XIELU", "RReLU", "GumbelSoftmax")
"""The layers each framework module provides."""

__all__ = ["LAYERS"]
