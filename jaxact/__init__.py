"""jaxact: activation functions for JAX with derivatives that are right.

Every function is a drop-in for its ``jax.nn`` namesake (same signature and
defaults), with custom derivative rules written in stable forms so that the value
and the first and second derivatives are accurate to a few ULP over the whole
floating-point range.
"""

# Not activations: jax.nn's own objects, the very same ones, so that code written for
# jax.nn runs unchanged after ``import jaxact as nn`` (the README's "Compatibility"
# section). jaxact measures and guarantees only its own activations.
from jax.nn import dot_product_attention as dot_product_attention
from jax.nn import get_scaled_dot_general_config as get_scaled_dot_general_config
from jax.nn import initializers as initializers
from jax.nn import one_hot as one_hot
from jax.nn import scaled_dot_general as scaled_dot_general
from jax.nn import scaled_matmul as scaled_matmul
from jax.nn import standardize as standardize

from jaxact._src.core import activation as activation
from jaxact._src.core import normalizer as normalizer
from jaxact._src.core import stable_kernel as stable_kernel
from jaxact._src.exponential import celu as celu
from jaxact._src.exponential import elu as elu
from jaxact._src.exponential import exponential as exponential
from jaxact._src.exponential import selu as selu
from jaxact._src.exponential import xielu as xielu
from jaxact._src.gated import gated as gated
from jaxact._src.gated import geglu as geglu
from jaxact._src.gated import glu as glu
from jaxact._src.gated import reglu as reglu
from jaxact._src.gated import swiglu as swiglu
from jaxact._src.gelu import gelu as gelu
from jaxact._src.gelu import gelu_erf as gelu_erf
from jaxact._src.gelu import gelu_tanh as gelu_tanh
from jaxact._src.hard import hard_sigmoid as hard_sigmoid
from jaxact._src.hard import hard_silu as hard_silu
from jaxact._src.hard import hard_silu as hard_swish
from jaxact._src.hard import hard_tanh as hard_tanh
from jaxact._src.hard import sparse_plus as sparse_plus
from jaxact._src.hard import sparse_sigmoid as sparse_sigmoid
from jaxact._src.lisht import lisht as lisht
from jaxact._src.mish import mish as mish
from jaxact._src.normalizers import gumbel_softmax as gumbel_softmax
from jaxact._src.normalizers import log_softmax as log_softmax
from jaxact._src.normalizers import logmeanexp as logmeanexp
from jaxact._src.normalizers import logsumexp as logsumexp
from jaxact._src.normalizers import softmax as softmax
from jaxact._src.normalizers import softmin as softmin
from jaxact._src.periodic import snake as snake
from jaxact._src.rectifiers import identity as identity
from jaxact._src.rectifiers import leaky_relu as leaky_relu
from jaxact._src.rectifiers import prelu as prelu
from jaxact._src.rectifiers import relu as relu
from jaxact._src.rectifiers import relu6 as relu6
from jaxact._src.rectifiers import rrelu as rrelu
from jaxact._src.rectifiers import squared_relu as squared_relu
from jaxact._src.rectifiers import star_relu as star_relu
from jaxact._src.registry import Info as Info
from jaxact._src.registry import get as get
from jaxact._src.registry import info as info
from jaxact._src.registry import names as names
from jaxact._src.shrinkage import hardshrink as hardshrink
from jaxact._src.shrinkage import softshrink as softshrink
from jaxact._src.shrinkage import tanhshrink as tanhshrink
from jaxact._src.shrinkage import threshold as threshold
from jaxact._src.sigmoidal import sigmoid as sigmoid
from jaxact._src.sigmoidal import soft_sign as soft_sign
from jaxact._src.sigmoidal import softcap as softcap
from jaxact._src.sigmoidal import tanh as tanh
from jaxact._src.silu import quick_gelu as quick_gelu
from jaxact._src.silu import silu as silu
from jaxact._src.silu import silu as swish
from jaxact._src.smooth import log1mexp as log1mexp
from jaxact._src.smooth import log_sigmoid as log_sigmoid
from jaxact._src.smooth import softplus as softplus
from jaxact._src.smooth import squareplus as squareplus
from jaxact._src.sparse import entmax15 as entmax15
from jaxact._src.sparse import sparsemax as sparsemax

FROM_JAX_NN = (
  "dot_product_attention",
  "get_scaled_dot_general_config",
  "initializers",
  "one_hot",
  "scaled_dot_general",
  "scaled_matmul",
  "standardize",
)
"""The names jaxact re-exports from ``jax.nn`` unchanged (they are not activations)."""

__version__ = "0.1.0"

__all__ = [
  "FROM_JAX_NN",
  "Info",
  "activation",
  "celu",
  "dot_product_attention",
  "elu",
  "entmax15",
  "exponential",
  "gated",
  "geglu",
  "gelu",
  "gelu_erf",
  "gelu_tanh",
  "get",
  "get_scaled_dot_general_config",
  "glu",
  "gumbel_softmax",
  "hard_sigmoid",
  "hard_silu",
  "hard_swish",
  "hard_tanh",
  "hardshrink",
  "identity",
  "info",
  "initializers",
  "leaky_relu",
  "lisht",
  "log1mexp",
  "log_sigmoid",
  "log_softmax",
  "logmeanexp",
  "logsumexp",
  "mish",
  "names",
  "normalizer",
  "one_hot",
  "prelu",
  "quick_gelu",
  "reglu",
  "relu",
  "relu6",
  "rrelu",
  "scaled_dot_general",
  "scaled_matmul",
  "selu",
  "sigmoid",
  "silu",
  "snake",
  "soft_sign",
  "softcap",
  "softmax",
  "softmin",
  "softplus",
  "softshrink",
  "sparse_plus",
  "sparse_sigmoid",
  "sparsemax",
  "squared_relu",
  "squareplus",
  "stable_kernel",
  "standardize",
  "star_relu",
  "swiglu",
  "swish",
  "tanh",
  "tanhshrink",
  "threshold",
  "xielu",
]
