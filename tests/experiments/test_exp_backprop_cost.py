"""Experiment ``backprop_cost``: quick run reproduces every claim; the finite-difference helper."""

import numpy as np

from chainrule.engine.transforms import grad
from chainrule.experiments import backprop_cost as exp
from chainrule.experiments import run


def test_quick_run_reproduces_every_claim(tmp_path):
    _, results = run("backprop_cost", out=tmp_path, quick=True, log=lambda *a: None)
    claims = results[0]["claims"]
    assert len(claims) >= 8
    assert [c["claim"] for c in claims if c["verdict"] != "reproduced"] == []


def test_fd_gradient_matches_backprop_and_restores_the_parameters():
    model, params, loss = exp.problem(4, 8)
    before = {k: v.copy() for k, v in params.items()}
    fd = exp.fd_gradient(loss, params)
    g = grad(loss)(params)
    assert len(fd) == model.n_params()
    for (k, i), v in fd.items():
        assert abs(v - g[k][i]) < 1e-7
    for k in params:
        assert np.array_equal(params[k], before[k])


def test_loglog_slope():
    n = np.array([10.0, 100.0, 1000.0])
    assert abs(exp.loglog_slope(n, 3 * n**2) - 2) < 1e-12
