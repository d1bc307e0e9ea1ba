"""The fused ``dense`` primitive agrees with the engine's own derivation of the same layer.

Unfused, a dense layer is ``σ(x @ W.T + b)`` recorded as matmul, transpose, add and the
activation's primitives; the engine derives its VJP and JVP by the chain rule through them.
The fused primitive's rules are BP1–BP4 written by hand. Both compute the same float64
numbers by nearly the same operations (the hand rules read σ' off the output), so any
difference is a few ulps: 1e-12 relative to the size of the values (~1–10) is a claim of
agreement to within ~1e4 ulps, far below what a wrong term (an O(1) difference) would give.
"""

import numpy as np
import pytest
from nn_helpers import FUSED, away_from_zero

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.nn import activations
from chainrule.primitives.nn import dense

TOL = 1e-12
ALPHA = 0.15


def unfused(activation):
    sigma = activations.ACTIVATIONS[activation]
    if activation == "leaky_relu":
        return lambda x, W, b: sigma(x @ cnp.transpose(W) + b, ALPHA)
    return lambda x, W, b: sigma(x @ cnp.transpose(W) + b)


def fused(activation):
    return lambda x, W, b: dense(x, W, b, activation=activation, alpha=ALPHA)


def assert_close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype == np.float64
    assert a.shape == b.shape
    scale = max(1.0, np.abs(b).max())
    assert np.abs(a - b).max() <= TOL * scale, np.abs(a - b).max()


@pytest.fixture(params=[(6, 4, 3), (1, 5, 1), (7, 1, 2)], ids=lambda s: "x".join(map(str, s)))
def problem(request):
    """x: (batch, d_in), W: (d_out, d_in), b: (d_out,), with z = xWᵀ + b kept off 0 (relu'(0))."""
    n, d_in, d_out = request.param
    rng = np.random.default_rng(n * 100 + d_in * 10 + d_out)
    x, W = rng.standard_normal((n, d_in)), rng.standard_normal((d_out, d_in))
    b = away_from_zero(rng, d_out) - np.median(x @ W.T, axis=0)  # positive and negative z in each column
    z = x @ W.T + b
    assert np.min(np.abs(z)) > 1e-6  # σ' of both implementations agree except exactly at the kink
    return x, W, b, rng


@pytest.mark.parametrize("activation", FUSED)
def test_value(activation, problem):
    x, W, b, _ = problem
    assert_close(fused(activation)(x, W, b), unfused(activation)(x, W, b))


@pytest.mark.parametrize("activation", FUSED)
def test_vjp(activation, problem):
    x, W, b, rng = problem
    out_f, vjp_f = cr.vjp(fused(activation), x, W, b)
    out_u, vjp_u = cr.vjp(unfused(activation), x, W, b)
    assert_close(out_f, out_u)
    u = rng.standard_normal(out_f.shape)
    for g_f, g_u in zip(vjp_f(u), vjp_u(u), strict=True):
        assert_close(g_f, g_u)


@pytest.mark.parametrize("activation", FUSED)
def test_jvp(activation, problem):
    x, W, b, rng = problem
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in (x, W, b))
    for i in range(3):  # each argument's tangent alone, then all together
        t = tuple(v if j == i else np.zeros_like(v) for j, v in enumerate(tangents))
        assert_close(cr.jvp(fused(activation), (x, W, b), t)[1], cr.jvp(unfused(activation), (x, W, b), t)[1])
    assert_close(cr.jvp(fused(activation), (x, W, b), tangents)[1],
                 cr.jvp(unfused(activation), (x, W, b), tangents)[1])


@pytest.mark.parametrize("activation", FUSED)
def test_second_order(activation, problem):
    # The fused rules are written with primitives, so they differentiate again: forward over
    # reverse (a Hessian-vector product of ⟨u, σ(xWᵀ + b)⟩) agrees with the unfused derivation.
    x, W, b, rng = problem
    u = rng.standard_normal((x.shape[0], W.shape[0]))
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in (x, W, b))

    def hvp(layer):
        scalar = lambda x, W, b: cnp.sum(layer(x, W, b) * u)
        return cr.jvp(lambda x, W, b: cr.grad(scalar, argnums=(0, 1, 2))(x, W, b), (x, W, b), tangents)[1]

    for h_f, h_u in zip(hvp(fused(activation)), hvp(unfused(activation)), strict=True):
        assert_close(h_f, h_u)


def test_the_comparison_can_fail():
    # A fused layer with a different α is a different function: the same comparison rejects it.
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    u = rng.standard_normal((4, 2))
    g_f = cr.vjp(lambda x, W, b: dense(x, W, b, activation="leaky_relu", alpha=0.3), x, W, b)[1](u)
    g_u = cr.vjp(unfused("leaky_relu"), x, W, b)[1](u)
    with pytest.raises(AssertionError):
        for a, c in zip(g_f, g_u, strict=True):
            assert_close(a, c)


@pytest.mark.parametrize("activation", FUSED)
def test_float32_stays_float32(activation):
    rng = np.random.default_rng(1)
    x, W, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 3), (2, 3), (2,)))
    out, vjp_fn = cr.vjp(fused(activation), x, W, b)
    assert out.dtype == np.float32
    assert [g.dtype for g in vjp_fn(np.ones_like(out))] == [np.float32] * 3
    assert cr.jvp(fused(activation), (x, W, b), (x, W, b))[1].dtype == np.float32


def test_shape_error_names_both_shapes():
    from chainrule.errors import ShapeError

    with pytest.raises(ShapeError, match=r"input of shape \(5, 4\) does not fit weight of shape \(2, 3\)"):
        dense(np.zeros((5, 4)), np.zeros((2, 3)), np.zeros(2))


@pytest.mark.parametrize("activation", ["identity", "relu", "leaky_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_numpy_fast_path_equals_the_differentiable_rule_bitwise(activation, dtype):
    # The dense VJP has a dispatch-free path for plain arrays (first order); the traced path
    # (taken at higher order) must compute the very same bits.
    from chainrule.engine.core import Trace, Tracer
    from chainrule.primitives import nn as pnn

    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4)).astype(dtype)
    W = rng.standard_normal((3, 4)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    a = pnn.dense(x, W, b, activation=activation, alpha=0.1)
    g = rng.standard_normal(a.shape).astype(dtype)
    fast = pnn._dense_vjp((0, 1, 2), g, a, x, W, b, activation=activation, alpha=0.1)

    class Wrapped(Tracer):  # forces the traced path; a trace that only unwraps
        __slots__ = ()

    class Unwrap(Trace):
        __slots__ = ()

        def process(self, prim, args, params):
            return prim(*[v.value if isinstance(v, Wrapped) else v for v in args], **params)

    t = Unwrap()
    w = Wrapped.__new__(Wrapped)
    w.value, w.trace = g, t
    slow = pnn._dense_vjp((0, 1, 2), w, a, x, W, b, activation=activation, alpha=0.1)
    for f, s in zip(fast, slow):
        s = s.value if isinstance(s, Tracer) else s
        assert f.dtype == dtype and f.tobytes() == np.asarray(s).astype(dtype).tobytes()
