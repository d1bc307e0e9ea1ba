"""Experiment ``depth_separation``: quick run reproduces every claim; the sawtooth, exactly."""

import numpy as np
import pytest

from chainrule.experiments import depth_separation as exp
from chainrule.experiments import run
from chainrule.experiments.piecewise_linear import count_pieces


def test_quick_run_reproduces_every_claim(tmp_path):
    _, results = run("depth_separation", out=tmp_path, quick=True, log=lambda *a: None)
    claims = results[0]["claims"]
    assert len(claims) >= 6
    assert [c["claim"] for c in claims if c["verdict"] != "reproduced"] == []


@pytest.mark.parametrize("k", [1, 2, 3, 6, 12])
def test_sawtooth_has_two_to_the_k_pieces(k):
    x = np.arange(2 ** (k + 2) + 1) / 2 ** (k + 2)
    net = exp.sawtooth_network(k)
    y = net(x.reshape(-1, 1))[:, 0]
    assert count_pieces(x, y, rtol=0.0) == 2**k
    assert np.array_equal(y, exp.tent_iterate(x, k))
    assert sum(v.shape[0] for k_, v in net.params.items() if k_.endswith("bias")) == 2 * k + 1  # 2k neurons + out


def test_sawtooth_hand_values():
    # t(t(x)): 0 → 0, 1/4 → 1, 1/2 → 0, 3/4 → 1, 1 → 0
    x = np.array([[0.0], [0.25], [0.5], [0.75], [1.0], [0.125]])
    assert exp.sawtooth_network(2)(x)[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 0.5]


def test_sawtooth_as_pwl_matches_the_network():
    from chainrule.experiments.piecewise_linear import pwl_values

    x = np.linspace(0, 1, 513)
    np.testing.assert_array_equal(pwl_values(x, *exp.sawtooth_as_pwl(4)), exp.tent_iterate(x, 4))


def test_activation_regions_of_a_single_hidden_layer():
    # units with kinks at −1, 0.5 and 2: four regions on [−5, 5]
    from chainrule.experiments.piecewise_linear import relu_network

    net = relu_network([1.0, -1.0, 2.0], [1.0, 0.5, -4.0], [1.0, 1.0, 1.0], 0.0)
    assert exp.activation_regions(net, np.linspace(-5, 5, 1001)) == 4
