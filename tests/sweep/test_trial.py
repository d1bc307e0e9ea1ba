"""The trial function, in this process: seeds packed as one ensemble are bit for bit the separate
runs of the normal runs path; failures and divergence are statuses, not crashes."""

import numpy as np
import pytest

from chainrule import runs
from chainrule.sweep import run_trial
from chainrule.sweep.trial import data_depends_on_seed, packable

from .conftest import tiny


def separate(cfg, seed):
    run = runs.build({**cfg, "seed": seed})
    run.fit()
    return run.trainer.history


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_packed_seeds_equal_separate_runs_bit_for_bit(dtype):
    cfg = {**tiny(epochs=4), "dtype": dtype}
    cfg["optimizer"] = {"name": "adam", "learning_rate": 0.05}
    out = run_trial(cfg, [0, 3, 7], "loss")
    assert out["packed"]
    for k, seed in enumerate([0, 3, 7]):
        history = separate(cfg, seed)
        for name in ("loss", "accuracy"):
            assert out["results"][k]["curves"][name] == [float(v) for v in history[name]]  # exact: same bits
        assert out["results"][k]["final"] == float(history["loss"][-1])
        assert out["results"][k]["status"] == "ok"


def test_seed_dependent_split_is_packed_with_the_same_results():
    cfg = tiny(epochs=3, val_fraction=0.25)
    assert packable(runs.complete(cfg), 2)  # the split follows the seed: each model trains on its own data
    out = run_trial(cfg, [0, 1], "val_loss")
    assert out["packed"]
    for k, seed in enumerate([0, 1]):
        assert out["results"][k]["curves"]["val_loss"] == [float(v) for v in separate(cfg, seed)["val_loss"]]
    best = min(out["results"][0]["curves"]["val_loss"])
    assert out["results"][0]["best"] == best


def test_what_the_ensemble_cannot_train_runs_one_by_one_with_the_same_results():
    cfg = tiny(epochs=3, val_fraction=0.25, dropout=0.1)
    assert not packable(runs.complete(cfg), 2)
    out = run_trial(cfg, [0, 1], "val_loss")
    assert not out["packed"]
    for k, seed in enumerate([0, 1]):
        assert out["results"][k]["curves"]["val_loss"] == [float(v) for v in separate(cfg, seed)["val_loss"]]


def test_a_raising_trial_is_failed_with_one_line():
    cfg = tiny()
    cfg["limits"] = {"memory_gb": 1e-9}  # passes the schema, refused by the budget once the data is loaded
    out = run_trial(cfg, [0, 1], "loss")
    for r in out["results"]:
        assert r["status"] == "failed" and "\n" not in r["error"] and "memory" in r["error"]


def test_a_diverging_trial_is_diverged_packed_or_not():
    for val_fraction, dropout in ((0.0, 0.0), (0.25, 0.0), (0.25, 0.1)):  # packed (shared, per-seed data), one by one
        cfg = tiny(epochs=5, val_fraction=val_fraction, dropout=dropout)
        cfg["optimizer"] = {"name": "sgd", "learning_rate": 1e8}
        out = run_trial(cfg, [0, 1], "loss")
        assert [r["status"] for r in out["results"]] == ["diverged", "diverged"], out["results"][0]["error"]


def test_metric_missing_from_history_fails_the_trial():
    out = run_trial(tiny(), [0], "val_accuracy")
    assert out["results"][0]["status"] == "failed" and "no metric 'val_accuracy'" in out["results"][0]["error"]


@pytest.mark.parametrize("val_fraction, metric, dropout", [(0.0, "loss", 0.0), (0.25, "val_loss", 0.0),
                                                         (0.25, "val_loss", 0.1)])  # packed, packed, one by one
def test_pruning_stops_a_bad_configuration_early(val_fraction, metric, dropout):
    good = tiny(epochs=6, val_fraction=val_fraction, dropout=dropout)
    good["optimizer"] = {"name": "adam", "learning_rate": 0.05}
    history = [run_trial(good, [s], metric)["results"][0]["curves"][metric] for s in (0, 1, 2)]
    bad = tiny(epochs=6, val_fraction=val_fraction, dropout=dropout)
    bad["optimizer"] = {"name": "sgd", "learning_rate": 1e-6}  # barely moves: worse than the median every epoch
    out = run_trial(bad, [0, 1], metric, pruning={"pruner": "median", "direction": "minimize", "epochs": 6,
                                                  "history": history})
    assert out["packed"] == (dropout == 0)
    assert {r["status"] for r in out["results"]} == {"pruned"}
    assert all(r["epochs"] < 6 for r in out["results"])
    assert np.isfinite(out["wall_time"])


def test_data_depends_on_seed_agrees_with_the_data_the_runs_get():
    def same_data(cfg):
        a, b = (runs.build({**cfg, "seed": s}) for s in (0, 5))
        return all(np.array_equal(x, y) for x, y in ((a.X_train, b.X_train), (a.y_train, b.y_train))) and (
            a.X_val is None or np.array_equal(a.X_val, b.X_val))

    fixed = tiny()                                  # val_fraction 0, options.seed given
    split = tiny(val_fraction=0.25)                 # a seeded split
    generated = tiny()
    del generated["data"]["options"]["seed"]        # the generator takes the run's seed
    digits = {"data": {"name": "digits", "val_fraction": 0.0}, "training": {"epochs": 1}}  # no randomness
    for cfg in (fixed, split, generated, digits):
        assert data_depends_on_seed(runs.complete(cfg)) == (not same_data(cfg)), cfg["data"]
