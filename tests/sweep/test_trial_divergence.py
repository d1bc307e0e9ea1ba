"""Packed seeds diverge as the Trainer says: a seed whose step loss is non-finite or over 1000 ×
its first is `diverged`, with the Trainer's own error and curves, while the seeds beside it in the
ensemble train on — the same rows, field for field, as the seeds run one by one."""

import pytest

from chainrule.sweep import trial
from chainrule.sweep.trial import run_trial


def config(lr, val_fraction=0.25):
    return {"data": {"name": "moons", "val_fraction": val_fraction, "options": {"n": 200}},
            "model": {"hidden": [16], "activation": "tanh"}, "training": {"epochs": 4, "batch_size": 16},
            "optimizer": {"name": "sgd", "learning_rate": lr}, "output": {"record": False}}


@pytest.mark.parametrize("lr, val_fraction", [(300, 0.25), (1000, 0.25), (300, 0.0)])
def test_packed_seeds_diverge_as_their_separate_runs(lr, val_fraction, monkeypatch):
    seeds = list(range(6))
    packed = run_trial(config(lr, val_fraction), seeds, "loss", weights=True)
    monkeypatch.setattr(trial, "packable", lambda cfg, n: False)
    alone = run_trial(config(lr, val_fraction), seeds, "loss", weights=True)
    assert packed["packed"] and not alone["packed"]
    statuses = [r["status"] for r in alone["results"]]
    assert "diverged" in statuses
    for p, a in zip(packed["results"], alone["results"]):
        weights_p, weights_a = p.pop("weights"), a.pop("weights")
        assert p == a
        assert (weights_p is None) == (weights_a is None)
        if weights_p is not None:
            assert all(weights_p[k].tobytes() == weights_a[k].tobytes() for k in weights_a)


def test_a_mix_of_ok_and_diverged_seeds_is_reported_seed_by_seed():
    statuses = [r["status"] for r in run_trial(config(300), list(range(6)), "loss")["results"]]
    assert "ok" in statuses and "diverged" in statuses  # (the case the test above must cover)
