"""The stable functions against 50-digit mpmath references, for |x| up to 1e4, in float32 and float64.

tests/engine/test_engine_properties.py already checks sigmoid, softplus, logsumexp, softmax and
log_softmax in float64 (values and gradients). This file adds what is missing: every one of
them in float32; log-sigmoid; and the two losses computed from logits, softmax cross-entropy
and binary cross-entropy (per sample, with their gradients σ(z) − y and softmax(z) − onehot(y)),
in both precisions. Every call runs with overflow, division by zero and invalid operations
raised as errors and every Python warning an error ("warning-free"); underflow is allowed,
since exp(−10⁴) rounding to 0 is the correctly rounded answer.

Tolerances. The references are computed from the exact values of the (float32 or float64)
inputs and rounded once. Where the formula involves no cancellation — σ(x), softplus(x),
log σ(x) — the result must be accurate to a few ε relative (ε of the dtype; 8ε allows an exp, a
log1p, an add and a divide, each correctly rounded to ½ ulp, with margin), plus the smallest
normal number for results in the subnormal range. Where the exact result is a difference of
terms of size |z| — log-softmax, the two losses — no algorithm working in the dtype can do
better than an error of a few ε·|z|: z itself is only known to ½ ulp(z), and ℓ(z) moves by
that much. The tolerance is then 8ε·(|z|max + |ℓ|), the backward-stable bound.
"""

import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.nn import losses

mpmath.mp.dps = 50
DTYPES = [np.float32, np.float64]
SPECIAL = [0.0, -0.0, 1e4, -1e4, 88.7, -88.7, 89.0, -104.0, 709.8, -745.2, 1e-30, -1e-30, 30.0, -30.0, 17.0, 0.5]


def values(dtype):
    finfo = np.finfo(dtype)
    return st.one_of(st.floats(-1e4, 1e4, width=finfo.bits), st.sampled_from([dtype(v) for v in SPECIAL]))


def arrays(dtype, shape):
    return hnp.arrays(dtype, shape, elements=values(dtype))


def strict(fn, *args):
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        return fn(*args)


def mp(x):
    return mpmath.mpf(float(x))  # exact: every float32 and float64 is a float64


def assert_close(got, ref, tol, dtype):
    got = np.asarray(got)
    assert got.dtype == dtype, got.dtype
    assert np.all(np.isfinite(got))
    err = np.abs(got.astype(np.float64) - ref)
    tol = np.broadcast_to(tol, err.shape)
    worst = np.argmax(err - tol)
    assert np.all(err <= tol), f"error {err.flat[worst]:.3g} > tolerance {tol.flat[worst]:.3g}"


def ref_array(fn, x):
    return np.vectorize(lambda t: float(fn(mp(t))), otypes=[np.float64])(x)


SCALAR = {
    "sigmoid": (cnp.sigmoid, lambda t: 1 / (1 + mpmath.exp(-t))),
    "softplus": (cnp.softplus, lambda t: mpmath.log1p(mpmath.exp(t))),
    "log_sigmoid": (cnp.log_sigmoid, lambda t: -mpmath.log1p(mpmath.exp(-t))),
}
# float64 sigmoid and softplus are checked in tests/engine; log-sigmoid is not, nor float32.
SCALAR_CASES = [(n, d) for n in SCALAR for d in DTYPES if not (d == np.float64 and n != "log_sigmoid")]


@pytest.mark.parametrize("name, dtype", SCALAR_CASES)
@settings(max_examples=40)
@given(data=st.data())
def test_scalar_functions_match_mpmath(name, dtype, data):
    x = data.draw(arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=2, max_side=6)))
    fn, ref_fn = SCALAR[name]
    got = strict(fn, x)
    ref = ref_array(ref_fn, x)
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    assert_close(got, ref, 8 * eps * np.abs(ref) + tiny, dtype)
    # The derivative: σ'(x) = σ(x)(1 − σ(x)), softplus' = σ, log σ' = σ(−x) — finite, warning-free, accurate.
    w = np.ones_like(x)
    g = strict(cr.grad(lambda x: cnp.sum(w * fn(x))), x)
    dref = {"sigmoid": lambda t: mpmath.exp(-t) / (1 + mpmath.exp(-t)) ** 2,
            "softplus": SCALAR["sigmoid"][1], "log_sigmoid": lambda t: 1 / (1 + mpmath.exp(t))}[name]
    dr = ref_array(dref, x)
    # σ' = ans(1 − ans) keeps only ε absolute accuracy when σ → 1 (as torch and JAX): hence the + 2ε.
    assert_close(g, dr, 8 * eps * np.abs(dr) + (2 * eps if name == "sigmoid" else 0) + tiny, dtype)


def mp_log_softmax(row):
    row = [mp(v) for v in row]
    m = max(row)
    k = row.index(m)
    log_total = mpmath.log1p(mpmath.fsum(mpmath.exp(v - m) for i, v in enumerate(row) if i != k))
    return [(v - m) - log_total for v in row]


@st.composite
def logits_and_labels(draw, dtype):
    n = draw(st.integers(1, 5))
    k = draw(st.integers(2, 5))
    z = draw(arrays(dtype, (n, k)))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    return z, y


@settings(max_examples=40)
@given(z_y=logits_and_labels(np.float32))
def test_log_softmax_float32(z_y):
    z, _ = z_y
    got = strict(cnp.log_softmax, z, 1)
    ref = np.array([[float(v) for v in mp_log_softmax(row)] for row in z])
    eps = np.finfo(np.float32).eps
    assert_close(got, ref, 8 * eps * (np.abs(z).max(axis=1, keepdims=True) + np.abs(ref)), np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=40)
@given(data=st.data())
def test_softmax_cross_entropy_matches_mpmath(dtype, data):
    z, y = data.draw(logits_and_labels(dtype))
    loss, g = strict(cr.value_and_grad(lambda z: losses.cross_entropy(z, y, reduction="sum")), z)
    per_sample = strict(losses.cross_entropy, z, y, "none")
    log_p = [mp_log_softmax(row) for row in z]
    ref = np.array([-float(lp[label]) for lp, label in zip(log_p, y)])
    eps = np.finfo(dtype).eps
    scale = np.abs(z).max(axis=1)
    assert_close(per_sample, ref, 8 * eps * (scale + np.abs(ref)), dtype)
    assert np.isfinite(loss) and np.asarray(loss).dtype == dtype
    # ∂ℓ/∂z = softmax(z) − onehot(y): each softmax entry accurate to ~ε·|z| relative (the exponent
    # z − m carries the rounding of z), then p − 1 in the label's column keeps ε absolute (as σ − y).
    ref_g = np.array([[float(mpmath.exp(v)) for v in lp] for lp in log_p])
    ref_g[np.arange(len(y)), y] -= 1
    assert_close(g, ref_g, 8 * eps * (1 + scale[:, None]) * np.abs(ref_g) + 2 * eps, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=40)
@given(data=st.data())
def test_binary_cross_entropy_with_logits_matches_mpmath(dtype, data):
    z = data.draw(arrays(dtype, st.integers(1, 8).map(lambda n: (n,))))
    y = data.draw(hnp.arrays(np.int64, z.shape, elements=st.integers(0, 1))).astype(dtype)
    per_sample = strict(losses.binary_cross_entropy, z, y, "none")
    _, g = strict(cr.value_and_grad(lambda z: losses.binary_cross_entropy(z, y, reduction="sum")), z)
    # ℓ = softplus(z) − y·z = log(1 + e^z) − y z, i.e. −log σ(z) for y = 1 and −log σ(−z) for y = 0.
    ref = np.array([float(mpmath.log1p(mpmath.exp(-mp(t))) if label else mpmath.log1p(mpmath.exp(mp(t))))
                    for t, label in zip(z, y)])
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    assert_close(per_sample, ref, 8 * eps * (np.abs(z) + np.abs(ref)) + tiny, dtype)
    ref_g = np.array([float(1 / (1 + mpmath.exp(-mp(t))) - int(label)) for t, label in zip(z, y)])
    # σ(z) − y: σ relatively accurate, then one subtraction of numbers in [0, 1]: ε absolute.
    assert_close(g, ref_g, 8 * eps * np.abs(ref_g) + 2 * eps + tiny, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_extremes_exactly(dtype):
    # Hand-checked values at ±1e4, where the naive formulas overflow (exp(1e4) = inf) or give 0·inf.
    z = np.array([1e4, -1e4], dtype)
    cases = {
        "sigmoid": (cnp.sigmoid(z), [1.0, 0.0]),
        "softplus": (cnp.softplus(z), [1e4, 0.0]),
        "log_sigmoid": (cnp.log_sigmoid(z), [0.0, -1e4]),
        "bce y=1": (losses.binary_cross_entropy(z, np.ones(2, dtype), reduction="none"), [0.0, 1e4]),
        "bce y=0": (losses.binary_cross_entropy(z, np.zeros(2, dtype), reduction="none"), [1e4, 0.0]),
        "ce": (losses.cross_entropy(np.array([[1e4, -1e4], [-1e4, 1e4]], dtype), np.array([1, 1]),
                                    reduction="none"), [2e4, 0.0]),
        "log_softmax": (cnp.log_softmax(np.array([1e4, -1e4, 0.0], dtype)), [0.0, -2e4, -1e4]),
    }
    for name, (got, want) in cases.items():
        assert np.asarray(got).dtype == dtype, name
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want, dtype), err_msg=name)
