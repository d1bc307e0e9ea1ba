"""Experiment ``piecewise_linear``: quick run reproduces every claim; the exact builders."""

import numpy as np
import pytest

from chainrule.experiments import piecewise_linear as exp
from chainrule.experiments import run


def test_quick_run_reproduces_every_claim(tmp_path):
    _, results = run("piecewise_linear", out=tmp_path, quick=True, log=lambda *a: None)
    claims = results[0]["claims"]
    assert len(claims) >= 5
    assert [c["claim"] for c in claims if c["verdict"] != "reproduced"] == []


def test_interpolant_hand_example():
    # |x| on [−1, 1] through knots (−1, 1), (0, 0), (1, 1): 2 pieces, 2 neurons, y₀ = 1
    net = exp.interpolant([-1.0, 0.0, 1.0], [1.0, 0.0, 1.0])
    assert net.params["0.weight"].shape == (2, 1)
    x = np.array([[-1.0], [-0.5], [0.0], [0.25], [1.0]])
    assert net(x)[:, 0].tolist() == [1.0, 0.5, 0.0, 0.25, 1.0]


@pytest.mark.parametrize("k", [1, 2, 7, 40])
def test_on_line_is_exact_far_from_the_breakpoints(k):
    t, s, v = exp.random_pwl(k, np.random.default_rng(k))
    net = exp.on_line(t, s, v)
    assert net.params["0.weight"].shape == (k + 1, 1)
    x = np.array([-1e4, -3.0, *t, 0.0, 3.0, 1e4])
    ref = exp.pwl_values(x, t, s, v)
    np.testing.assert_allclose(net(x.reshape(-1, 1))[:, 0], ref, rtol=1e-12, atol=1e-12)


def test_pwl_values_reference_is_continuous_with_the_given_slopes():
    t, s = np.array([0.0, 1.0]), np.array([2.0, -1.0, 0.5])
    x = np.array([-1.0, 0.0, 0.5, 1.0, 3.0])
    assert exp.pwl_values(x, t, s, 1.0).tolist() == [-1.0, 1.0, 0.5, 0.0, 1.0]


def test_count_pieces():
    x = np.linspace(-2, 2, 401)
    assert exp.count_pieces(x, np.abs(x)) == 2
    assert exp.count_pieces(x, np.abs(x - 0.005)) == 2  # kink inside a grid cell
    assert exp.count_pieces(x, 3 * x + 1) == 1
    assert exp.count_pieces(x, np.maximum(0, x) + np.maximum(0, x - 1)) == 3


def test_one_neuron_cannot_make_a_kink_with_both_slopes_nonzero():
    # slopes 1 then 2 on [−1, 1]: a single hinge gives slope 0 on one side
    assert exp.best_k_neuron_error([0.0], [1.0, 2.0], 0.0, np.linspace(-1, 1, 201)) > 0.1
    # slopes 0 then 2 is a single hinge: error 0
    assert exp.best_k_neuron_error([0.0], [0.0, 2.0], 0.0, np.linspace(-1, 1, 201)) < 1e-12
