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


def test_an_overflow_in_the_last_update_is_divergence_as_the_trainer_says(monkeypatch):
    """The fit's last step makes a parameter inf while its loss was finite: the Trainer's epoch-end
    check calls it diverged; no later step's loss would show it (second review)."""
    cfg = {"data": {"name": "moons", "val_fraction": 0.0, "options": {"n": 200}}, "model": {"hidden": [16]},
           "training": {"epochs": 1, "batch_size": 200}, "optimizer": {"name": "sgd", "learning_rate": 1e39},
           "dtype": "float32", "output": {"record": False}}
    packed = run_trial(cfg, [0, 1, 2], "loss", weights=True)
    monkeypatch.setattr(trial, "packable", lambda c, n: False)
    alone = run_trial(cfg, [0, 1, 2], "loss", weights=True)
    assert packed["packed"] and [r["status"] for r in alone["results"]] == ["diverged"] * 3
    assert packed["results"] == alone["results"]


def test_seeds_that_diverge_beside_a_pruned_ensemble_are_diverged_not_pruned(monkeypatch):
    pruning = {"pruner": "median", "direction": "minimize", "epochs": 10, "history": [[0.01] * 10] * 3}
    cfg = {**config(300, 0.0), "training": {"epochs": 10, "batch_size": 16}}
    packed = run_trial(cfg, [0, 1, 2, 3], "loss", pruning=pruning)
    monkeypatch.setattr(trial, "packable", lambda c, n: False)
    alone = run_trial(cfg, [0, 1, 2, 3], "loss", pruning=pruning)
    diverged = [r["seed"] for r in alone["results"] if r["status"] == "diverged"]
    assert diverged and diverged == [r["seed"] for r in packed["results"] if r["status"] == "diverged"]
