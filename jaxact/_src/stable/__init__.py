"""Stable building blocks: accurate elementary kernels with derivative rules.

One module per concept: ``pieces`` (constant pieces and twins), ``eft`` (error-free
transformations and double words), ``series`` (Horner and the series about interior
zeros), ``exps`` (exponentials and logarithms), ``sigmoids`` (tanh, sigma and their
scaled products) and ``scaling`` (the one exponent by which intermediates are carried
past the subnormal range, in its forms). Their public names are imported here:
``stable.two_prod`` is ``stable.eft.two_prod``; ``scaling`` is used by its module name.

The activations and their derivative rules are written with these, never with a
form that cancels. Each block is a :func:`~jaxact._src.core.stable_kernel`, so the
derivative of a rule written with them is again accurate.

Why not the XLA primitives: measured against mpmath on the CPU backend, XLA's
``tanh`` is off by up to 4.3 ULP (float32) and 6.5 ULP (float64), and ``expm1``
by up to 4.8 ULP (float32) near 0, and float64 ``log1p`` by up to 128 ULP on
[-0.4142, -0.3504] (``log1p_forward`` mends it); ``exp``, ``log`` and ``log1p``
elsewhere are within about 2 ULP and are used as they are, except where a result must
be the same in every program (``exp``: ``exponential`` uses ``exps.exp``).
"""

from jaxact._src.stable import scaling as scaling
from jaxact._src.stable.eft import constant_pieces as constant_pieces
from jaxact._src.stable.eft import fast_two_sum as fast_two_sum
from jaxact._src.stable.eft import quotient as quotient
from jaxact._src.stable.eft import quotient_dw as quotient_dw
from jaxact._src.stable.eft import split as split
from jaxact._src.stable.eft import split_constant as split_constant
from jaxact._src.stable.eft import sum_dw as sum_dw
from jaxact._src.stable.eft import times_dw as times_dw
from jaxact._src.stable.eft import two_prod as two_prod
from jaxact._src.stable.eft import two_sum as two_sum
from jaxact._src.stable.eft import with_sign_of as with_sign_of
from jaxact._src.stable.exps import SIGMOID_CLAMP as SIGMOID_CLAMP
from jaxact._src.stable.exps import exp as exp
from jaxact._src.stable.exps import exp_neg_abs_parts as exp_neg_abs_parts
from jaxact._src.stable.exps import exp_neg_abs_scaled as exp_neg_abs_scaled
from jaxact._src.stable.exps import exp_neg_abs_shifted as exp_neg_abs_shifted
from jaxact._src.stable.exps import exp_parts as exp_parts
from jaxact._src.stable.exps import exp_reduce as exp_reduce
from jaxact._src.stable.exps import exp_split as exp_split
from jaxact._src.stable.exps import exp_times as exp_times
from jaxact._src.stable.exps import expm1 as expm1
from jaxact._src.stable.exps import expm1_dw as expm1_dw
from jaxact._src.stable.exps import expm1_forward as expm1_forward
from jaxact._src.stable.exps import expm1_minus_x_series as expm1_minus_x_series
from jaxact._src.stable.exps import expm1_reduced as expm1_reduced
from jaxact._src.stable.exps import log1p_forward as log1p_forward
from jaxact._src.stable.exps import log1p_unit as log1p_unit
from jaxact._src.stable.exps import neg_abs_shifted as neg_abs_shifted
from jaxact._src.stable.exps import z_lo_factor as z_lo_factor
from jaxact._src.stable.pieces import interval as interval
from jaxact._src.stable.pieces import keep_nan as keep_nan
from jaxact._src.stable.pieces import one as one
from jaxact._src.stable.pieces import one_partial as one_partial
from jaxact._src.stable.pieces import partial_by_jvp as partial_by_jvp
from jaxact._src.stable.pieces import scaled_product_kernel as scaled_product_kernel
from jaxact._src.stable.pieces import step as step
from jaxact._src.stable.pieces import with_twin as with_twin
from jaxact._src.stable.pieces import zero as zero
from jaxact._src.stable.pieces import zero_like as zero_like
from jaxact._src.stable.pieces import zero_like_partial as zero_like_partial
from jaxact._src.stable.pieces import zero_partial as zero_partial
from jaxact._src.stable.series import from_zero as from_zero
from jaxact._src.stable.series import horner as horner
from jaxact._src.stable.series import near_zero as near_zero
from jaxact._src.stable.sigmoids import scale_below as scale_below
from jaxact._src.stable.sigmoids import sech2 as sech2
from jaxact._src.stable.sigmoids import sigmoid as sigmoid
from jaxact._src.stable.sigmoids import sigmoid_d1 as sigmoid_d1
from jaxact._src.stable.sigmoids import sigmoid_d1_scaled as sigmoid_d1_scaled
from jaxact._src.stable.sigmoids import sigmoid_d1_times as sigmoid_d1_times
from jaxact._src.stable.sigmoids import sigmoid_product as sigmoid_product
from jaxact._src.stable.sigmoids import sigmoid_times as sigmoid_times
from jaxact._src.stable.sigmoids import tanh as tanh
from jaxact._src.stable.sigmoids import tanh_d2 as tanh_d2
from jaxact._src.stable.sigmoids import tanh_squared as tanh_squared
from jaxact._src.stable.sigmoids import times_exp_far as times_exp_far
from jaxact._src.stable.sigmoids import x_minus_tanh as x_minus_tanh
from jaxact._src.stable.sigmoids import x_minus_tanh_forward as x_minus_tanh_forward
