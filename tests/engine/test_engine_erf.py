"""erf without SciPy: chainrule's NumPy implementation (Cody's rational approximations) against the
C library's erf (``math.erf``, correctly rounded to within an ulp on glibc).

Tolerance: 4 ulp in float64. Cody's approximations themselves are accurate to ~1e-18 relative; what
is left is the rounding of the ~20 float64 operations that evaluate them, a few ulp at most
(SciPy's erf, which uses the same approximations, is 3 ulp off at worst on this grid). An
approximation of the kind often used instead (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7) would
be off by ~1e9 ulp. In float32 the result is the float64 value rounded once: at most 1 float32 ulp.
"""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.primitives.erf import erf

GRID = np.concatenate([
    np.linspace(-7.0, 7.0, 140_001),  # through all three regions (|x| <= 0.5, <= 4, > 4) and erf = ±1
    np.geomspace(1e-300, 1e-2, 500), -np.geomspace(1e-300, 1e-2, 500),  # tiny: erf(x) ≈ 2x/√π
    np.nextafter([0.5, 4.0, 6.0], 0), [0.5, 4.0, 6.0], np.nextafter([0.5, 4.0, 6.0], 10),  # region edges
    [0.0, 26.0, 1e300],
])


def _ulps(got, ref, dtype):
    ulp = np.spacing(np.abs(ref).astype(dtype)).astype(np.float64)
    return np.abs(got.astype(np.float64) - ref) / np.maximum(ulp, np.finfo(dtype).smallest_subnormal)


def test_float64_within_4_ulp_of_the_c_library():
    ref = np.array([math.erf(x) for x in GRID])
    assert _ulps(erf(GRID), ref, np.float64).max() <= 4


def test_float32_is_the_rounded_float64_value():
    x = GRID[np.abs(GRID) < 1e30].astype(np.float32)
    x = x[np.abs(x) > 1e-30]  # (below float32's normal range the ulp comparison is meaningless)
    got = erf(x)
    assert got.dtype == np.float32
    ref = np.array([math.erf(float(v)) for v in x])
    assert _ulps(got, ref, np.float32).max() <= 1


def test_special_values_and_types():
    assert np.isnan(erf(np.nan)) and erf(np.inf) == 1.0 and erf(-np.inf) == -1.0
    assert np.signbit(erf(-0.0)) and erf(0.0) == 0.0
    assert isinstance(erf(0.3), np.float64) and erf(np.arange(3)).dtype == np.float64
    assert erf(np.zeros((2, 0))).shape == (2, 0)


@pytest.mark.parametrize("x", [np.array([-2.0, -0.3, 0.1, 0.7, 3.0])])
def test_erf_derivatives(x):
    cr.check_grads(lambda x: cnp.erf(x), (x,), order=2)
