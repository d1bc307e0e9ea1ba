"""Experiment ``xor``: quick run reproduces every claim; the hand-built ReLU networks, exactly."""

import json

import numpy as np
import pytest

from chainrule import data
from chainrule.experiments import run
from chainrule.experiments import xor as exp


def test_quick_run_reproduces_every_claim(tmp_path):
    out, results = run("xor", out=tmp_path, quick=True, log=lambda *a: None)
    claims = results[0]["claims"]
    assert len(claims) >= 10
    assert [c["claim"] for c in claims if c["verdict"] != "reproduced"] == []
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["experiments"][0]["all_reproduced"]
    for fig in results[0]["figures"]:
        assert (tmp_path / fig).stat().st_size > 1000


X, y = data.xor()


def test_seed_network_computes_half_xnor_not_xor():
    # s = x1 + x2: the output is max(0.5 − s, 0, s − 1.5), hand-computed at s = 0, 1, 1, 2
    assert exp.outputs(exp.seed_relu_xor(), X) == (0.5, 0.0, 0.0, 0.5)


@pytest.mark.parametrize("build", [exp.corrected_relu_xor, exp.textbook_relu_xor])
def test_repaired_networks_compute_xor_exactly(build):
    assert exp.outputs(build(), X) == (0.0, 1.0, 1.0, 0.0)


def test_corrected_network_off_the_corners():
    # y = 3 − 2(h1 + h2): on the band 0.5 ≤ x1 + x2 ≤ 1.5, h1 + h2 = 1, so y = 1 exactly
    pts = np.array([[0.25, 0.25], [0.7, 0.3], [1.0, 0.5]])
    assert exp.corrected_relu_xor()(pts).reshape(-1).tolist() == [1.0, 1.0, 1.0]


def test_batched_training_matches_one_network_at_a_time():
    # the summed loss's gradient, seed by seed, is each seed's own gradient
    together, _ = exp.train_many(4, [3, 5], epochs=20)
    for j, s in enumerate((3, 5)):
        alone, _ = exp.train_many(4, [s], epochs=20)
        np.testing.assert_allclose(together[:, j], alone[:, 0], rtol=1e-13)


def test_half_sse_is_half_the_summed_squares():
    y_hat, t = np.array([[0.5], [0.25]]), np.array([[0.0], [1.0]])
    assert float(exp.half_sse(y_hat, t)) == 0.5 * (0.25 + 0.5625)


def test_epochs_to_threshold():
    losses = np.array([[1.0, 1.0], [1e-3, 1.0], [1e-5, 1.0]])
    assert exp.epochs_to(losses, 1e-4).tolist() == [2, -1]
