"""Experiment ``learning_rate``: quick run reproduces every claim; the pieces it is built from."""

import numpy as np

from chainrule.experiments import learning_rate as exp
from chainrule.experiments import run


def test_quick_run_reproduces_every_claim(tmp_path):
    _, results = run("learning_rate", out=tmp_path, quick=True, log=lambda *a: None)
    claims = results[0]["claims"]
    assert len(claims) >= 10
    assert [c["claim"] for c in claims if c["verdict"] != "reproduced"] == []
    for fig in results[0]["figures"]:
        assert (tmp_path / fig).stat().st_size > 1000


def test_gd_on_least_squares_follows_the_linear_recursion():
    # w_{t+1} − w* = (I − ηH)(w_t − w*): compare with the closed form after 30 steps
    X, y = exp.least_squares(n=40, d=3, seed=1)
    H = X.T @ X / len(X)
    w_star = np.linalg.solve(X.T @ X, X.T @ y)
    eta = 0.3
    e = np.linalg.matrix_power(np.eye(3) - eta * H, 30) @ (-w_star)
    s = exp.gd_suboptimality(X, y, eta, 30)
    np.testing.assert_allclose(s[-1], 0.5 * (e.T @ H @ e).item(), rtol=1e-9)


def test_sharpness_of_a_quadratic_is_its_top_eigenvalue():
    A = np.diag([3.0, 1.0, 0.5])
    lam = exp.sharpness(lambda p: 0.5 * (p["w"] @ A @ p["w"]), {"w": np.ones(3)}, iterations=60)
    assert abs(lam - 3.0) < 1e-9


def test_gradient_noise_vanishes_for_the_full_batch():
    X, y = exp.least_squares(n=32, d=3)
    measured, theory = exp.gradient_noise(X, y, np.zeros((3, 1)), 32, draws=3)
    assert theory == 0.0 and measured < 1e-25
