"""Experiment ``universal_approximation``: quick run reproduces every claim; the hand-set networks."""

import numpy as np

from chainrule.experiments import run
from chainrule.experiments import universal_approximation as exp


def test_quick_run_reproduces_every_claim(tmp_path):
    _, results = run("universal_approximation", out=tmp_path, quick=True, log=lambda *a: None)
    claims = results[0]["claims"]
    assert len(claims) >= 7
    assert [c["claim"] for c in claims if c["verdict"] != "reproduced"] == []
    for fig in results[0]["figures"]:
        assert (tmp_path / fig).stat().st_size > 1000


def test_steep_sigmoid_is_one_neuron_with_the_right_weights():
    x = np.array([[0.2], [0.5], [0.9]])
    np.testing.assert_allclose(exp.steep_sigmoid(7.0)(x)[:, 0], 1 / (1 + np.exp(-7.0 * (x[:, 0] - 0.5))), rtol=1e-15)


def test_bump_is_a_difference_of_two_sigmoids():
    x = np.linspace(0, 1, 11).reshape(-1, 1)
    s = lambda z: 1 / (1 + np.exp(-z))
    expected = s(40 * (x[:, 0] - 0.3)) - s(40 * (x[:, 0] - 0.6))
    np.testing.assert_allclose(exp.bump(40.0, 0.3, 0.6)(x)[:, 0], expected, atol=1e-15)


def test_bumps_reproduce_a_constant_exactly_in_the_limit():
    # heights f(midpoints) = 1 telescope to σ(c(x − a_0)) − σ(c(x − b_N)) ≈ 1 on [0, 1]
    net = exp.bumps(lambda m: np.ones_like(m), 8)
    x = np.linspace(0, 1, 101).reshape(-1, 1)
    assert np.max(np.abs(net(x)[:, 0] - 1)) < 1e-12
    assert net.params["0.weight"].shape == (16, 1)
