"""L-BFGS on problems with known minimizers (the two-step golden numbers are in test_optim_golden.py)."""

import numpy as np
import pytest

import chainrule.optim as optim


def rosenbrock(params):
    x, y = params["xy"]
    loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    grad = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
    return loss, {"xy": grad}


def minimize(opt, params, objective, max_steps):
    for step in range(1, max_steps + 1):
        loss, grads = objective(params)
        opt.step(grads, lambda: objective(params), loss=loss)
        if opt.converged:
            return step
    return max_steps


# tolerance_change=1e-15 in these tests: the default 1e-9 stops once the predicted decrease |gᵀd| is
# below 1e-9 (torch's rule), i.e. at f − f* ~ 1e-9, which leaves x only ~1e-5 from a minimizer with a
# small Hessian eigenvalue. With 1e-15 the run ends at the gradient test max |g| ≤ 1e-7 instead.


def test_rosenbrock_with_strong_wolfe():
    params = {"xy": np.array([-1.2, 1.0])}
    opt = optim.LBFGS(params, tolerance_change=1e-15)
    steps = minimize(opt, params, rosenbrock, 100)
    # The classic start takes ~35-40 iterations of L-BFGS(10) with a Wolfe search. It stops when
    # max |g| ≤ 1e-7 or when f (~1e-16 there) can no longer decrease in floating point; either way
    # |g| ≲ 3e-7 near a minimizer whose Hessian's smallest eigenvalue is 0.4 puts x within ~1e-6 of (1, 1).
    assert opt.converged and steps < 60
    np.testing.assert_allclose(params["xy"], [1.0, 1.0], rtol=0, atol=1e-6)


def quadratic_problem(n=20, condition=1e4, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.geomspace(1.0, condition, n)) @ Q.T
    b = rng.standard_normal(n)

    def objective(params):
        x = np.concatenate([params["a"].ravel(), params["b"]])
        g = A @ x - b
        return 0.5 * x @ A @ x - b @ x, {"a": g[:12].reshape(3, 4), "b": g[12:]}

    return A, b, objective


def test_ill_conditioned_quadratic_over_two_parameters():
    A, b, objective = quadratic_problem(condition=100.0)
    params = {"a": np.zeros((3, 4)), "b": np.zeros(8)}
    opt = optim.LBFGS(params, history_size=20, tolerance_change=1e-15)
    steps = minimize(opt, params, objective, 200)
    x = np.concatenate([params["a"].ravel(), params["b"]])
    # stopped at max |A x − b| ≤ 1e-7, so |x − x*| ≤ ‖A⁻¹‖ · √20 · 1e-7 ≈ 4.5e-7 (smallest eigenvalue 1).
    # (~85 iterations: with inexact line searches L-BFGS loses CG's n-step termination; torch is as slow.)
    assert opt.converged and steps < 150
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=0, atol=5e-7)


def test_weight_decay_and_l1_enter_the_objective():
    # minimizes ½ xᵀAx − bᵀx + λ/2 ‖x‖²: the solution of (A + λI) x = b. With L1 (μ = 0.01) the
    # line search must see μ‖x‖₁ in the loss too, or it would reject good steps.
    A, b, objective = quadratic_problem(condition=10.0)
    params = {"a": np.zeros((3, 4)), "b": np.zeros(8)}
    opt = optim.LBFGS(params, weight_decay=0.5, tolerance_change=1e-15)
    minimize(opt, params, objective, 100)
    x = np.concatenate([params["a"].ravel(), params["b"]])
    # max |g| ≤ 1e-7 and the smallest eigenvalue of A + 0.5 I is 1.5: |x − x*| ≤ √20 · 1e-7 / 1.5 ≈ 3e-7
    assert opt.converged
    np.testing.assert_allclose(x, np.linalg.solve(A + 0.5 * np.eye(20), b), rtol=0, atol=5e-7)

    params = {"a": np.zeros((3, 4)), "b": np.zeros(8)}
    opt = optim.LBFGS(params, l1=0.01)

    def with_l1(p):
        return objective(p)[0] + 0.01 * (np.abs(p["a"]).sum() + np.abs(p["b"]).sum())

    values = [with_l1(params)]
    for _ in range(15):
        loss, grads = objective(params)
        returned = opt.step(grads, lambda: objective(params), loss=loss)
        values.append(with_l1(params))
        if returned is not None:  # the loss the line search accepted includes the L1 term
            assert abs(returned - values[-1]) <= 1e-12 * abs(values[-1])  # same sum, other rounding order
    assert all(later <= earlier for earlier, later in zip(values, values[1:]))  # Armijo: never uphill
    assert values[-1] < values[0] - 0.1


def test_fixed_step_converges_without_closure():
    _, _, objective = quadratic_problem(condition=4.0)
    params = {"a": np.zeros((3, 4)), "b": np.zeros(8)}
    opt = optim.LBFGS(params, learning_rate=0.5, line_search=None, tolerance_change=1e-15)
    for _ in range(200):
        opt.step(objective(params)[1])
    assert opt.converged  # by the gradient test, max |g| ≤ 1e-7
    grads = objective(params)[1]
    assert max(np.abs(grads["a"]).max(), np.abs(grads["b"]).max()) <= 1e-7


def test_returned_loss_and_the_evaluation_of_f0():
    params = {"xy": np.array([-1.2, 1.0])}
    other = {"xy": np.array([-1.2, 1.0])}
    a, b = optim.LBFGS(params), optim.LBFGS(other)
    calls = []

    def counted():
        calls.append(1)
        return rosenbrock(other)

    for _ in range(5):
        loss, grads = rosenbrock(params)
        returned = a.step(grads, lambda: rosenbrock(params), loss=loss)
        assert returned == rosenbrock(params)[0]  # the loss at the new point
        b.step(rosenbrock(other)[1], counted)  # without loss=: one extra closure call for f(x)
    assert params["xy"].tobytes() == other["xy"].tobytes()
    assert len(calls) >= 10


def test_a_stationary_point_does_not_move():
    params = {"w": np.array([0.0, 0.0])}
    opt = optim.LBFGS(params)
    assert opt.step({"w": np.zeros(2)}, lambda: pytest.fail("no line search at a stationary point")) is None
    assert opt.converged and opt.step_count == 1
    np.testing.assert_array_equal(params["w"], [0.0, 0.0])


def test_float32_rosenbrock():
    params = {"xy": np.array([-1.2, 1.0], dtype=np.float32)}

    def objective(p):
        loss, g = rosenbrock({"xy": p["xy"].astype(np.float64)})
        return loss, {"xy": g["xy"].astype(np.float32)}

    opt = optim.LBFGS(params, tolerance_grad=1e-4)
    minimize(opt, params, objective, 200)
    assert params["xy"].dtype == np.float32
    # float32 carries ~7 digits; near the minimum f changes below float32 resolution of x well before 1e-6
    np.testing.assert_allclose(params["xy"], [1.0, 1.0], rtol=0, atol=1e-3)
