"""Transforms and their composition: Hessians against hand-derived values, jacfwd against
jacrev, hvp against the Hessian, perturbation confusion and closures over traced values.

Tolerances: the engine and the hand formulas compute the same closed forms in float64 in a
different order of operations; each entry involves a handful of roundings, so they agree to
a few ε_mach ≈ 2e-16 relative. rtol = 1e-13 leaves two orders of margin; atol = 1e-15 covers
entries that are exactly zero by hand and round-off-small in the engine (the off-diagonal
of a softmax Jacobian computed as s·(δ − s)).
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.engine.tree import flatten

RTOL, ATOL = 1e-13, 1e-15
close = lambda a, b: np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
rng = np.random.default_rng(7)


# ---- Hessians of closed forms -------------------------------------------------------------


def _hessian_cases():
    x = rng.uniform(0.5, 1.5, 3)
    A = rng.standard_normal((3, 3))
    a, b = 0.7, -0.4
    e = np.exp(a * b)
    s = np.exp(x) / np.sum(np.exp(x))
    r = np.linalg.norm(x)
    W, v = rng.standard_normal((2, 3)), rng.standard_normal(3)
    t = np.tanh(W @ v)
    H_W = np.einsum("ik,i,j,l->ijkl", np.eye(2), -2 * t * (1 - t**2), v, v)
    return {
        "sum-cubes": (lambda x: cnp.sum(x**3), x, np.diag(6 * x)),
        "quadratic-form": (lambda x: x @ (A @ x), x, A + A.T),
        "exp-of-product": (
            lambda z: cnp.exp(z[0] * z[1]),
            np.array([a, b]),
            e * np.array([[b * b, 1 + a * b], [1 + a * b, a * a]]),
        ),
        "logsumexp": (cnp.logsumexp, x, np.diag(s) - np.outer(s, s)),
        "sum-log": (lambda x: cnp.sum(cnp.log(x)), x, -np.diag(1 / x**2)),
        "norm": (lambda x: cnp.sqrt(cnp.sum(x * x)), x, (np.eye(3) - np.outer(x, x) / r**2) / r),
        "matrix-argument": (lambda W: cnp.sum(cnp.tanh(W @ v)), W, H_W),
    }


HESSIANS = _hessian_cases()


@pytest.mark.parametrize("name", HESSIANS)
def test_hessian_against_hand_derivation(name):
    f, x, expected = HESSIANS[name]
    close(cr.hessian(f)(x), expected)
    # The other three compositions of the two modes agree.
    for H in (cr.jacrev(cr.jacrev(f))(x), cr.jacfwd(cr.jacfwd(f))(x), cr.jacrev(cr.jacfwd(f))(x)):
        close(H, expected)


@pytest.mark.parametrize("name", HESSIANS)
def test_hvp_equals_hessian_times_vector(name):
    f, x, expected = HESSIANS[name]
    v = rng.standard_normal(np.shape(x))
    n = int(np.size(x))
    close(cr.hvp(f, x, v), (expected.reshape(n, n) @ v.ravel()).reshape(np.shape(x)))


def test_third_derivative():
    x = 0.3
    assert cr.grad(cr.grad(cr.grad(cnp.sin)))(x) == pytest.approx(-np.cos(x), rel=RTOL)
    assert cr.grad(cr.grad(cr.grad(lambda x: x**4)))(x) == pytest.approx(24 * x, rel=RTOL)


def test_hessian_of_a_parameter_tree():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    H = cr.hessian(lambda p: cnp.sum(p["a"] ** 2 * p["b"]))({"a": a, "b": b})
    close(H["a"]["a"], np.diag(2 * b))
    close(H["a"]["b"], np.diag(2 * a))
    close(H["b"]["a"], np.diag(2 * a))
    close(H["b"]["b"], np.zeros((2, 2)))


# ---- jacfwd == jacrev -----------------------------------------------------------------------

JACOBIANS = {
    "elementwise": (lambda x: cnp.tanh(x) * cnp.exp(x), (rng.standard_normal((2, 3)),)),
    "matmul": (lambda W, x: W @ x, (rng.standard_normal((2, 3)), rng.standard_normal((3, 4)))),
    "softmax": (lambda x: cnp.softmax(x, axis=0), (rng.standard_normal((3, 2)),)),
    "reduction-to-scalar": (lambda x: cnp.logsumexp(x), (rng.standard_normal(4),)),
    "scalar-to-vector": (lambda t: cnp.stack([cnp.sin(t), cnp.cos(t), t * t]), (np.array(0.4),)),
    "indexing": (lambda x: x[[2, 0, 2]] * x[::-1][:3], (rng.standard_normal(4),)),
    "tree-in-tree-out": (
        lambda p, x: {"y": cnp.tanh(x @ p["W"]), "n": (cnp.sum(p["W"] ** 2),)},
        ({"W": rng.standard_normal((3, 2))}, rng.standard_normal((4, 3))),
    ),
}


@pytest.mark.parametrize("name", JACOBIANS)
def test_jacfwd_equals_jacrev(name):
    f, args = JACOBIANS[name]
    argnums = tuple(range(len(args)))
    J_fwd = cr.jacfwd(f, argnums=argnums)(*args)
    J_rev = cr.jacrev(f, argnums=argnums)(*args)
    fwd_leaves, fwd_def = flatten(J_fwd)
    rev_leaves, rev_def = flatten(J_rev)
    assert fwd_def == rev_def
    for a, b in zip(fwd_leaves, rev_leaves):
        assert np.shape(a) == np.shape(b)
        close(a, b)


def test_jacobian_layout_is_output_shape_then_input_shape():
    W = rng.standard_normal((2, 3))
    J = cr.jacrev(lambda W: cnp.tanh(W) * 2.0)(W)
    assert J.shape == (2, 3, 2, 3)
    close(J, np.einsum("ik,jl->ijkl", np.eye(2), np.eye(3)) * (2 * (1 - np.tanh(W) ** 2))[None, None])


# ---- perturbation confusion (Siskind & Pearlmutter) -----------------------------------------
# d/dx [ x · (d/dy (x + y))|_{y=1} ] at x = 1 is 1; an engine that confuses the inner
# perturbation with the outer one returns 2. The derivative must be exactly 1.


def _inner_grad(x):
    return cr.grad(lambda y: x + y)(1.0)


def _inner_jvp(x):
    return cr.jvp(lambda y: x + y, (1.0,), (1.0,))[1]


def _inner_vjp(x):
    return cr.vjp(lambda y: x + y, 1.0)[1](1.0)[0]


@pytest.mark.parametrize("inner", [_inner_grad, _inner_jvp, _inner_vjp], ids=["grad", "jvp", "vjp"])
def test_perturbation_confusion(inner):
    f = lambda x: x * inner(x)
    assert cr.grad(f)(1.0) == 1.0  # grad of <inner>
    assert cr.jvp(f, (1.0,), (1.0,))[1] == 1.0  # jvp of <inner>
    assert cr.hessian(f)(1.0) == 0.0  # and one level deeper: f(x) = x


def test_closure_over_a_traced_value():
    # grad(lambda y: x * y) inside a function of x: the inner gradient is x itself (traced),
    # so f(x) = x · x and f'(x) = 2x. The inner sweep must not consume the outer graph.
    def f(x):
        inner = cr.grad(lambda y: x * y)(2.0)
        return x * inner + x**2

    for x in (0.5, -3.0):
        assert cr.grad(f)(x) == pytest.approx(4 * x, rel=RTOL)
        assert cr.jvp(f, (x,), (1.0,))[1] == pytest.approx(4 * x, rel=RTOL)
        assert cr.grad(cr.grad(f))(x) == pytest.approx(4.0, rel=RTOL)


def test_inner_transform_of_a_function_closing_over_several_levels():
    # Three nested levels, each closing over the one outside it: d/dx d/dy d/dz (x·y·z)² / 2.
    def fx(x):
        def fy(y):
            return cr.grad(lambda z: (x * y * z) ** 2 / 2)(1.5)  # x² y² z

        return cr.grad(fy)(-0.5)  # 2 x² y z

    x, y, z = 0.8, -0.5, 1.5
    assert fx(x) == pytest.approx(2 * x * x * y * z, rel=RTOL)
    assert cr.grad(fx)(x) == pytest.approx(4 * x * y * z, rel=RTOL)


def test_value_and_grad_argnums_and_aux():
    f = lambda a, b: (cnp.sum(a * b), {"double": 2 * a})
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    (value, aux), (ga, gb) = cr.value_and_grad(f, argnums=(0, -1), has_aux=True)(a, b)
    assert value == 11.0
    np.testing.assert_array_equal(aux["double"], 2 * a)
    np.testing.assert_array_equal(ga, b)
    np.testing.assert_array_equal(gb, a)
    g, aux = cr.grad(f, argnums=1, has_aux=True)(a, b)
    np.testing.assert_array_equal(g, a)
