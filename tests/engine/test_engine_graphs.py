"""Graph structure: reused nodes, long chains, parameter trees, weight sharing, and memory.

Hand-derived values are computed in float64 from the same formulas; where the engine and the
hand formula evaluate the same products in a different order, they agree to a few ε_mach
(≈ 2e-16) per operation, hence rtol = 1e-13 on expressions of a handful of operations.
"""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.extend import defjvp, defvjp, primitive

RTOL = 1e-13


def test_node_used_three_times_adds_up():
    x = np.array([0.5, -1.5, 2.0])
    f = lambda x: cnp.sum(x * x * x + x)  # x appears three times in x*x*x, four in all
    expected = 3 * x**2 + 1
    np.testing.assert_allclose(cr.grad(f)(x), expected, rtol=RTOL)
    np.testing.assert_allclose(cr.jvp(f, (x,), (np.ones(3),))[1], expected.sum(), rtol=RTOL)
    np.testing.assert_allclose(cr.hessian(f)(x), np.diag(6 * x), rtol=RTOL)


def test_c_plus_c_times_c_chain():
    # c_{k+1} = c_k + c_k²: every node feeds the next one twice (three uses in all).
    def f(c):
        for _ in range(12):
            c = c + c * c
        return c

    c0 = 0.1
    c, dc = c0, 1.0
    for _ in range(12):
        c, dc = c + c * c, dc * (1 + 2 * c)
    assert cr.grad(f)(c0) == pytest.approx(dc, rel=RTOL)
    assert cr.jvp(f, (c0,), (1.0,))[1] == pytest.approx(dc, rel=RTOL)


def test_chain_of_100000_ops_in_both_modes():
    n, r = 100_000, 1 + 1e-6

    def chain(x):
        for _ in range(n):
            x = x * r
        return x

    # The engine multiplies by r n times, as the hand value does: agreement to n·ε_mach ≈ 2e-11.
    expected = r**n
    assert cr.grad(chain)(1.0) == pytest.approx(expected, rel=1e-10)
    _, vjp_fn = cr.vjp(chain, 1.0)
    assert vjp_fn(1.0)[0] == pytest.approx(expected, rel=1e-10)
    del vjp_fn  # dropping a 100,000-deep graph must not overflow the stack either
    assert cr.jvp(chain, (1.0,), (1.0,))[1] == pytest.approx(expected, rel=1e-10)


def test_nested_parameter_tree_dicts_of_lists_of_tuples():
    rng = np.random.default_rng(0)
    params = {
        "layers": [(rng.standard_normal((4, 3)), rng.standard_normal(4)), (rng.standard_normal((2, 4)), None)],
        "scale": {"gain": rng.standard_normal(())},
    }
    x = rng.standard_normal((5, 3))

    def loss(p, x):
        (W1, b1), (W2, _) = p["layers"]
        return cnp.sum(cnp.tanh(x @ W1.T + b1) @ W2.T) * p["scale"]["gain"]

    def flat_loss(W1, b1, W2, gain):
        return loss({"layers": [(W1, b1), (W2, None)], "scale": {"gain": gain}}, x)

    g = cr.grad(loss)(params, x)
    assert isinstance(g, dict) and isinstance(g["layers"], list) and isinstance(g["layers"][0], tuple)
    assert g["layers"][1][1] is None
    (W1, b1), (W2, _) = params["layers"]
    flat = cr.grad(flat_loss, argnums=(0, 1, 2, 3))(W1, b1, W2, params["scale"]["gain"])
    got = [g["layers"][0][0], g["layers"][0][1], g["layers"][1][0], g["scale"]["gain"]]
    for a, b in zip(got, flat):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)  # the same computation, so bit-identical
    # Forward mode and the checker take the same trees.
    tangent = cr.jvp(lambda p: loss(p, x), (params,), (g,))[1]
    assert tangent == pytest.approx(sum(float(np.sum(a * a)) for a in got), rel=RTOL)
    report = cr.check_grads(loss, (params, x), argnums=0)
    assert {e.leaf for e in report.entries} == {"layers[0][0]", "layers[0][1]", "layers[1][0]", "scale/gain"}


def test_weight_sharing_adds_the_gradients_of_each_use():
    rng = np.random.default_rng(1)
    W, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    tied = lambda W: cnp.sum(cnp.tanh(W @ cnp.tanh(W @ x)))
    untied = lambda W1, W2: cnp.sum(cnp.tanh(W2 @ cnp.tanh(W1 @ x)))
    g1, g2 = cr.grad(untied, argnums=(0, 1))(W, W)
    np.testing.assert_allclose(cr.grad(tied)(W), g1 + g2, rtol=RTOL)
    # and in forward mode: the tangent of a shared weight enters at both uses
    V = rng.standard_normal((3, 3))
    _, t_tied = cr.jvp(tied, (W,), (V,))
    _, t_untied = cr.jvp(untied, (W, W), (V, V))
    assert t_tied == pytest.approx(t_untied, rel=RTOL)


def test_gradients_are_fresh_writable_arrays():
    # sum's VJP broadcasts the cotangent (a read-only, stride-0 view in NumPy); an optimizer
    # that updates a gradient in place (g *= scale, g += weight_decay * W) must be able to.
    x = np.ones((2, 3))
    g = cr.grad(lambda x: cnp.sum(x))(x)
    g *= 2.0
    np.testing.assert_array_equal(g, 2 * np.ones((2, 3)))
    # vjp_fn returns arrays of its own, never the caller's cotangent (add's VJP passes g on).
    ct = np.ones(3)
    (g,) = cr.vjp(lambda x: x + 1.0, np.zeros(3))[1](ct)
    assert g is not ct and not np.shares_memory(g, ct)
    v = np.ones(3)
    _, t = cr.jvp(lambda x: x + 1.0, (np.zeros(3),), (v,))
    assert t is not v and not np.shares_memory(t, v)
    _, t = cr.jvp(lambda x: x + np.zeros((2, 3)), (np.zeros(3),), (v,))
    t += 1.0  # a broadcast tangent is writable too


def test_ten_thousand_grad_calls_do_not_grow_memory():
    rng = np.random.default_rng(2)
    W, x = rng.standard_normal((8, 8)), rng.standard_normal((4, 8))
    g = cr.grad(lambda W: cnp.sum(cnp.tanh(x @ W) ** 2))
    for _ in range(100):  # warm-up: lazily created rule tables and caches
        g(W)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10_000):
            g(W)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # One retained graph of this function is ~3 KB (measured with vjp, which keeps it), so
    # keeping one graph in every 3,000 calls, or a single byte per call, already exceeds
    # 10 KB; allocator noise in this loop is far below that (a few hundred bytes).
    assert grown < 10_000, f"memory grew by {grown} bytes over 10,000 grad calls"


def test_graph_is_freed_without_the_cycle_collector():
    refs = []

    def f(x):
        y = cnp.tanh(x) * 2.0
        refs.append(weakref.ref(y.value))  # nodes have __slots__; their value stands in
        return cnp.sum(y)

    gc.disable()
    try:
        cr.grad(f)(np.ones(3))
        assert refs[0]() is None, "a node outlived grad"
        _, vjp_fn = cr.vjp(f, np.ones(3))
        assert refs[1]() is not None  # vjp keeps its graph for reuse ...
        vjp_fn(1.0)
        del vjp_fn
        assert refs[1]() is None  # ... until vjp_fn is dropped
    finally:
        gc.enable()


def test_nodes_are_freed_as_the_sweep_passes():
    # probe's VJP runs last in the sweep; by then the nodes downstream of it are done and
    # must already have been released (only their cotangents were needed).
    downstream = []
    alive_during_sweep = []
    probe = primitive("probe", lambda x: x * 1.0)
    defvjp(probe, lambda g, ans, x: alive_during_sweep.append([r() is not None for r in downstream]) or g)
    defjvp(probe, lambda x_dot, ans, x: x_dot)

    def f(x):
        y = cnp.exp(probe(x))
        z = y * 3.0
        downstream.extend([weakref.ref(y.value), weakref.ref(z.value)])
        return cnp.sum(z)

    gc.disable()
    try:
        cr.grad(f)(np.ones(4))
    finally:
        gc.enable()
    assert alive_during_sweep == [[False, False]]
