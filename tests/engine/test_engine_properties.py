"""Property tests (hypothesis) on random shapes and values.

1. The stable ops (sigmoid, softplus, logsumexp, softmax, log_softmax) at extreme inputs,
   |x| up to 1e4: values and gradients finite, free of warnings and floating-point errors, and
   equal to mpmath references computed at 40 digits from the same float64 inputs (mpmath
   converts them exactly). Each tolerance is stated where it is used.
2. Reductions over random axes and keepdims, broadcasting binary ops over random
   mutually-broadcastable shapes, and random indices: gradients have the input's shape, and
   forward and reverse mode agree by the dot-product test (to 1e-12, see engine_helpers).

Floating-point errors raise (``np.errstate(all="raise")``) except underflow: exp(−800) = 0 (or
a subnormal) is the correctly rounded result, which NumPy by default does not report either;
overflow, invalid (NaN) and division by zero are the failures a stable op must avoid.
"""

import warnings
from contextlib import contextmanager

import mpmath
import numpy as np
from engine_helpers import dot_product_gap
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.numpy as cnp

mpmath.mp.dps = 40
EPS = np.finfo(np.float64).eps  # 2.2e-16
TINY = 1e-300  # below float64's normal range (2.2e-308) precision is absolute, not relative

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
extreme = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


def arrays(shape, elements=extreme):
    return hnp.arrays(np.float64, shape, elements=elements)


@contextmanager
def strict():
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


def _mp(x):
    return np.vectorize(mpmath.mpf, otypes=[object])(x)


def _to_float(a):
    return np.vectorize(float, otypes=[np.float64])(a)


def _rows(x, axis):
    """x (object array) with the reduced axes moved last and flattened: (..., n)."""
    axes = tuple(range(x.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    axes = tuple(a % x.ndim for a in axes)
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, rest + list(axes))
    return moved.reshape(moved.shape[: len(rest)] + (-1,)), rest, axes


def _unrows(r, x_shape, rest, axes):
    moved_shape = tuple(x_shape[a] for a in rest) + tuple(x_shape[a] for a in axes)
    return np.transpose(r.reshape(moved_shape), np.argsort(rest + list(axes)))


def mp_softmax(x, axis):
    """softmax, log_softmax (shape of x) and logsumexp (one per row) in 40-digit arithmetic.

    Written as lse = m + log1p(Σ_{i≠k} e^{x_i − m}) with k an index of the maximum m, so that
    no digits are lost when the other terms are tiny (log(1 + 1e-60) would need 60 digits).
    """
    r, rest, axes = _rows(_mp(x), axis)
    soft, log_soft, lse = np.empty_like(r), np.empty_like(r), np.empty(r.shape[:-1], object)
    for idx in np.ndindex(r.shape[:-1]):
        row = r[idx]
        k = max(range(len(row)), key=lambda i: row[i])
        m = row[k]
        e = [mpmath.exp(v - m) for v in row]
        log_total = mpmath.log1p(mpmath.fsum(e[:k] + e[k + 1 :]))
        soft[idx] = [v / mpmath.exp(log_total) for v in e]
        log_soft[idx] = [(v - m) - log_total for v in row]
        lse[idx] = m + log_total
    return _unrows(soft, x.shape, rest, axes), _unrows(log_soft, x.shape, rest, axes), lse


def assert_close(got, ref, tol):
    """|got − ref| ≤ tol elementwise, reporting the worst entry."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    assert got.shape == ref.shape
    assert np.all(np.isfinite(got))
    excess = np.abs(got - ref) - tol
    assert np.all(excess <= 0), f"worst excess {excess.max():.3g} at {np.unravel_index(np.argmax(excess), got.shape)}"


def value_and_grad_strict(f, x, w):
    with strict():
        return cr.value_and_grad(lambda x: cnp.sum(w * f(x)))(x), f(x)


# ---- the stable ops at extreme values, against mpmath --------------------------------------


@settings(max_examples=30)
@given(shapes.flatmap(lambda s: st.tuples(arrays(s), arrays(s, st.floats(-2, 2)))))
def test_sigmoid_and_softplus_match_mpmath(xw):
    x, w = xw
    xm = _mp(x)
    sig = np.vectorize(lambda t: 1 / (1 + mpmath.exp(-t)), otypes=[object])(xm)
    softplus = np.vectorize(lambda t: mpmath.log1p(mpmath.exp(t)), otypes=[object])(xm)
    (_, g_sig), y_sig = value_and_grad_strict(cnp.sigmoid, x, w)
    (_, g_sp), y_sp = value_and_grad_strict(cnp.softplus, x, w)
    # Values: one exp (≤ 1 ulp), one add, one divide or log1p: a few ε relative; 8ε allows for it.
    assert_close(y_sig, _to_float(sig), 8 * EPS * np.abs(_to_float(sig)) + TINY)
    assert_close(y_sp, _to_float(softplus), 8 * EPS * np.abs(_to_float(softplus)) + TINY)
    # softplus' = sigmoid: relatively accurate as above, times w (one more rounding).
    ref = _to_float(w * sig)
    assert_close(g_sp, ref, 10 * EPS * np.abs(ref) + TINY)
    # sigmoid' = ans(1 − ans): relatively accurate for x < 0, but for x ≫ 0 the factor 1 − ans
    # cancels and keeps only ε absolute accuracy (the convention PyTorch and JAX share): so the
    # tolerance adds 2ε·|w| absolute to the relative part.
    ref = _to_float(w * sig * (1 - sig))
    assert_close(g_sig, ref, 10 * EPS * np.abs(ref) + 2 * EPS * np.abs(w) + TINY)


@st.composite
def array_and_axis(draw, allow_none=True, allow_tuple=True):
    shape = draw(shapes.filter(lambda s: len(s) > 0))
    x = draw(arrays(shape))
    nd = len(shape)
    options = [st.integers(-nd, nd - 1)]
    if allow_none:
        options.append(st.none())
    if allow_tuple:
        options.append(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple))
    axis = draw(st.one_of(*options))
    return x, axis


@settings(max_examples=30)
@given(array_and_axis(), st.booleans(), st.integers(0, 2**32 - 1))
def test_logsumexp_matches_mpmath(x_axis, keepdims, seed):
    x, axis = x_axis
    s_ref, _, lse_ref = mp_softmax(x, axis)
    out_shape = np.shape(np.sum(x, axis=axis, keepdims=keepdims))
    w = np.random.default_rng(seed).standard_normal(out_shape)
    (_, g), y = value_and_grad_strict(lambda x: cnp.logsumexp(x, axis=axis, keepdims=keepdims), x, w)
    # lse = m + log Σ exp(x − m): the two terms are each exact to a few ε, so the error is a few
    # ε times |m| + |log Σ| (which can exceed |lse| when they cancel); 8ε of that.
    m = np.max(x, axis=axis, keepdims=True)
    lse = _to_float(lse_ref).reshape(np.shape(m))
    tol = 8 * EPS * (np.abs(m) + np.abs(lse - m))
    assert_close(np.reshape(y, np.shape(m)), lse, tol)
    # ∂lse/∂x = softmax(x). Each exponent x − m carries a rounding error ≤ ε(|x| + |m|) ≤ 2e4·ε
    # ≈ 4.4e-12, which exp turns into the same relative error: rtol = 1e-10 (20× margin).
    ref = _to_float(s_ref * np.reshape(w, np.shape(m)))
    assert_close(g, ref, 1e-10 * np.abs(ref) + TINY)


@settings(max_examples=30)
@given(array_and_axis(allow_none=False, allow_tuple=False), st.integers(0, 2**32 - 1))
def test_softmax_and_log_softmax_match_mpmath(x_axis, seed):
    x, axis = x_axis
    s_ref, ls_ref, lse_ref = mp_softmax(x, axis)
    w = np.random.default_rng(seed).standard_normal(x.shape)
    (_, g_s), y_s = value_and_grad_strict(lambda x: cnp.softmax(x, axis=axis), x, w)
    (_, g_ls), y_ls = value_and_grad_strict(lambda x: cnp.log_softmax(x, axis=axis), x, w)
    s = _to_float(s_ref)
    # softmax: the exponent's rounding (≤ 4.4e-12 relative, as for logsumexp) dominates: 1e-10.
    assert_close(y_s, s, 1e-10 * s + TINY)
    # log_softmax = (x − m) − log Σ: a few roundings of terms of size |x| + |m| + |log Σ|.
    m = np.max(x, axis=axis, keepdims=True)
    lse = np.expand_dims(_to_float(lse_ref), axis)
    ls_ref = _to_float(ls_ref)
    assert_close(y_ls, ls_ref, 8 * EPS * (np.abs(x) + 2 * np.abs(m) + np.abs(lse - m)))
    # Gradients s ⊙ (w − ⟨w, s⟩) and w − s Σw: the relative error of s (1e-10, above) times the
    # size of the terms before they cancel, |w| + Σ|w|s, plus a few ε of the same.
    ws = np.sum(np.abs(w) * s, axis=axis, keepdims=True)
    ref = _to_float(s_ref * (w - np.sum(w * s_ref, axis=axis, keepdims=True)))
    assert_close(g_s, ref, 1e-10 * s * (np.abs(w) + ws) + TINY)
    ref = _to_float(w - s_ref * np.sum(w, axis=axis, keepdims=True))
    assert_close(g_ls, ref, 1e-10 * (np.abs(w) + s * np.sum(np.abs(w), axis=axis, keepdims=True)) + TINY)


# ---- random shapes: reductions, broadcasting, indexing ---------------------------------------

moderate = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
REDUCTIONS = {
    "sum": cnp.sum, "mean": cnp.mean, "max": cnp.max, "min": cnp.min, "var": cnp.var, "logsumexp": cnp.logsumexp
}


@settings(max_examples=40)
@given(st.sampled_from(sorted(REDUCTIONS)), array_and_axis(), st.booleans())
def test_reductions_over_random_axes(name, x_axis, keepdims):
    x, axis = x_axis
    x = np.clip(x, -3, 3) / 3 + np.arange(x.size).reshape(x.shape) * 1e-3  # moderate, few ties
    f = lambda x: REDUCTIONS[name](x, axis=axis, keepdims=keepdims)
    with strict():
        y = f(x)
        assert np.shape(y) == np.shape(np.sum(x, axis=axis, keepdims=keepdims))
        g = cr.grad(lambda x: cnp.sum(f(x) ** 2))(x)
        assert g.shape == x.shape and g.dtype == x.dtype
        assert dot_product_gap(f, (x,)) <= 1e-12


@settings(max_examples=40)
@given(
    st.sampled_from(["add", "subtract", "multiply", "divide", "maximum", "power"]),
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    st.integers(0, 2**32 - 1),
)
def test_broadcasting_binary_ops(name, shapes_, seed):
    a_shape, b_shape = shapes_.input_shapes
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.5, 2.0, a_shape), rng.uniform(0.5, 2.0, b_shape) + 0.05  # positive, no ties
    f = getattr(cnp, name)
    with strict():
        ga, gb = cr.grad(lambda a, b: cnp.sum(f(a, b)), argnums=(0, 1))(a, b)
        assert np.shape(ga) == a_shape and np.shape(gb) == b_shape
        assert dot_product_gap(f, (a, b), seed=seed) <= 1e-12
    # the gradient of a sum of products, by hand: the other factor summed over broadcast axes
    if name == "multiply":
        expected = _unbroadcast_sum(np.broadcast_to(b, shapes_.result_shape), a_shape)
        np.testing.assert_allclose(ga, expected, rtol=1e-14)  # the same sums, maybe in another order


def _unbroadcast_sum(g, shape):
    g = np.sum(g, axis=tuple(range(g.ndim - len(shape))))
    return np.sum(g, axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)


@settings(max_examples=40)
@given(shapes.flatmap(lambda s: st.tuples(st.just(s), hnp.basic_indices(s, allow_newaxis=True))))
def test_basic_indexing_scatters_ones(shape_index):
    shape, index = shape_index
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 10
    expected = np.zeros(shape)
    expected[index] = 1.0  # a basic index selects each entry at most once
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(x[index]))(x), expected)
    assert dot_product_gap(lambda x: x[index], (x,)) <= 1e-12


@settings(max_examples=30)
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(-n, n - 1), max_size=8))))
def test_fancy_indexing_counts_repeats(n_index):
    n, index = n_index
    x = np.linspace(-1, 1, n * 2).reshape(n, 2)
    expected = np.zeros((n, 2))
    np.add.at(expected, index, 1.0)
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(x[index]))(x), expected)
    assume(index)
    assert dot_product_gap(lambda x: x[index], (x,)) <= 1e-12
