"""jaxact: activation functions for JAX with derivatives that are right.

Every function is a drop-in for its ``jax.nn`` namesake (same signature and
defaults), with custom derivative rules written in stable forms so that the value
and the first and second derivatives are accurate to a few ULP over the whole
floating-point range.
"""

from jaxact._src.core import activation as activation
from jaxact._src.core import normalizer as normalizer
from jaxact._src.core import stable_kernel as stable_kernel
from jaxact._src.exponential import elu as elu
from jaxact._src.normalizers import log_softmax as log_softmax
from jaxact._src.normalizers import logsumexp as logsumexp
from jaxact._src.normalizers import softmax as softmax
from jaxact._src.rectifiers import leaky_relu as leaky_relu
from jaxact._src.rectifiers import prelu as prelu
from jaxact._src.rectifiers import relu as relu
from jaxact._src.registry import Info as Info
from jaxact._src.registry import get as get
from jaxact._src.registry import info as info
from jaxact._src.registry import names as names
from jaxact._src.sigmoidal import sigmoid as sigmoid
from jaxact._src.sigmoidal import tanh as tanh

__version__ = "0.1.0"

__all__ = [
  "Info",
  "activation",
  "elu",
  "get",
  "info",
  "leaky_relu",
  "log_softmax",
  "logsumexp",
  "names",
  "normalizer",
  "prelu",
  "relu",
  "sigmoid",
  "softmax",
  "stable_kernel",
  "tanh",
]
