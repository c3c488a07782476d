"""The jaxact test harness, public: measure any activation against an mpmath reference.

Example::

  import mpmath as mp, jaxact, jaxact.testing as jt

  ref = jt.Reference(f=lambda x: mp.log1p(mp.exp(x)),
                     d1=lambda x: 1 / (1 + mp.exp(-x)),
                     d2=lambda x: mp.exp(-abs(x)) / (1 + mp.exp(-abs(x))) ** 2)
  report = jt.check_activation(my_softplus, ref)   # a Report: print(report)
  jt.assert_activation(my_softplus, ref)           # AssertionError on failure

Requires mpmath (``pip install jaxact[conformance]``).
"""

from jaxact.testing._battery import DtypeResult as DtypeResult
from jaxact.testing._battery import Report as Report
from jaxact.testing._battery import assert_activation as assert_activation
from jaxact.testing._battery import assert_normalizer as assert_normalizer
from jaxact.testing._battery import check_activation as check_activation
from jaxact.testing._battery import check_gated as check_gated
from jaxact.testing._battery import check_normalizer as check_normalizer
from jaxact.testing._battery import check_transforms as check_transforms
from jaxact.testing._battery import reference_values as reference_values
from jaxact.testing._battery import required_params as required_params
from jaxact.testing._battery import rows as rows
from jaxact.testing._cache import ReferenceCache as ReferenceCache
from jaxact.testing._ulp import every_value as every_value
from jaxact.testing._ulp import flushes_subnormals as flushes_subnormals
from jaxact.testing._ulp import grid as grid
from jaxact.testing._ulp import ulp as ulp
from jaxact.testing._ulp import ulp_error as ulp_error
from jaxact.testing.references import ELEMENTWISE as ELEMENTWISE
from jaxact.testing.references import NORMALIZERS as NORMALIZERS
from jaxact.testing.references import OTHER_PARAMS as OTHER_PARAMS
from jaxact.testing.references import SCALAR_OUTPUT as SCALAR_OUTPUT
from jaxact.testing.references import Reference as Reference

__all__ = [
  "ELEMENTWISE",
  "NORMALIZERS",
  "OTHER_PARAMS",
  "SCALAR_OUTPUT",
  "DtypeResult",
  "Reference",
  "ReferenceCache",
  "Report",
  "assert_activation",
  "assert_normalizer",
  "check_activation",
  "check_gated",
  "check_normalizer",
  "check_transforms",
  "every_value",
  "flushes_subnormals",
  "grid",
  "reference_values",
  "required_params",
  "rows",
  "ulp",
  "ulp_error",
]
