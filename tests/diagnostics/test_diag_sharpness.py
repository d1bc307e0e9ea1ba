"""Sharpness by power iteration on Hessian-vector products, against the exact Hessian; loss slices."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics import (
    filter_normalized_direction,
    loss_slice_1d,
    loss_surface_2d,
    top_hessian_eigenvalue,
)
from chainrule.engine.tree import flatten, unflatten


def tiny_problem(seed=0):
    model = nn.MLP([2, 3, 1], activation="tanh")
    model.init(seed=seed)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal((8, 1))

    def loss(params):
        return nn.losses.mse(model.apply(params, X), y)

    return model.params, loss


def exact_top_eigenvalue(loss, params):
    leaves, treedef = flatten(params)
    shapes = [np.shape(x) for x in leaves]
    sizes = [int(np.prod(s)) for s in shapes]

    def flat_loss(theta):
        out, k = [], 0
        for shape, size in zip(shapes, sizes):
            out.append(theta[k : k + size].reshape(shape))
            k += size
        return loss(unflatten(treedef, out))

    theta = np.concatenate([np.ravel(x) for x in leaves])
    H = cr.hessian(flat_loss)(theta)
    eig = np.linalg.eigvalsh((H + H.T) / 2)
    return eig[np.argmax(np.abs(eig))], eig


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_power_iteration_finds_the_top_hessian_eigenvalue(seed):
    params, loss = tiny_problem(seed)
    exact, eig = exact_top_eigenvalue(loss, params)
    top2 = np.sort(np.abs(eig))[-2:]
    assert top2[0] < 0.9 * top2[1], "test problem needs a spectral gap for power iteration to converge"
    lam, v, iterations = top_hessian_eigenvalue(loss, params, iters=500, tol=1e-13, seed=seed)
    # The Rayleigh quotient's error shrinks like (λ₂/λ₁)^(2k): 1e-8 is reached well within 500 steps.
    assert lam == pytest.approx(exact, rel=1e-8)
    # v is an eigenvector: ‖Hv − λv‖ small relative to |λ|.
    Hv = cr.hvp(loss, params, v)
    residual = np.sqrt(sum(np.sum((a - lam * b) ** 2) for a, b in zip(flatten(Hv)[0], flatten(v)[0])))
    assert residual < 1e-3 * abs(lam)


def test_power_iteration_on_a_quadratic_with_known_spectrum():
    # L(x) = ½ xᵀ A x has Hessian A; eigenvalues 5, 2, −1, 0.5 -> top by magnitude is 5.
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0]
    A = Q @ np.diag([5.0, 2.0, -1.0, 0.5]) @ Q.T

    def loss(x):
        return 0.5 * (x @ (A @ x))

    lam, _, _ = top_hessian_eigenvalue(loss, np.ones(4), iters=200, tol=1e-14)
    assert lam == pytest.approx(5.0, rel=1e-10)


def test_loss_slices_pass_through_the_current_loss():
    params, loss = tiny_problem(0)
    here = float(loss(params))
    s = loss_slice_1d(loss, params, radius=0.5, points=11)
    assert s["alphas"][5] == 0.0 and s["losses"][5] == pytest.approx(here, rel=1e-14)
    surf = loss_surface_2d(loss, params, radius=0.5, points=5)
    assert surf["losses"].shape == (5, 5)
    assert surf["losses"][2, 2] == pytest.approx(here, rel=1e-14)


def test_filter_normalized_direction_matches_row_norms():
    params, _ = tiny_problem(0)
    d = filter_normalized_direction(params, seed=3)
    for key, W in params.items():
        if W.ndim == 2:
            np.testing.assert_allclose(np.linalg.norm(d[key], axis=1), np.linalg.norm(W, axis=1), rtol=1e-12)
        else:
            assert not np.any(d[key])  # biases: zero direction
