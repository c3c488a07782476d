"""Building blocks of jaxact._src.stable that several activations share, against mpmath
where their docstrings promise an accuracy of their own."""

import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact._src import stable

mp.mp.dps = 40


@pytest.mark.parametrize(("dtype", "bound"), [(np.float32, 2.0), (np.float64, 2.5)])
def test_log1p_unit(dtype, bound):
  # log(1 + u) on [0, 1] (softplus and log_sigmoid pass u = exp(-|x|)): a dense grid,
  # the ends, and small normal u down to the smallest normal number.
  tiny = np.finfo(dtype).tiny
  u = np.concatenate(
    [
      np.linspace(0.0, 1.0, 4001),
      np.geomspace(tiny, 1.0, 2000),
    ]
  ).astype(dtype)
  got = np.asarray(stable.log1p_unit(jnp.asarray(u)), np.float64)
  exact = np.array([float(mp.log1p(mp.mpf(float(v)))) for v in u])
  spacing = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
  ulp = np.abs(got - exact) / np.where(exact == 0, np.finfo(dtype).smallest_subnormal, spacing)
  assert np.all(np.isfinite(got))
  assert ulp.max() <= bound, (ulp.max(), u[np.argmax(ulp)])
  assert stable.log1p_unit(jnp.asarray(0.0, dtype)) == 0.0
  assert np.isnan(stable.log1p_unit(jnp.asarray(np.nan, dtype)))
