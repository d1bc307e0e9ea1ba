"""Seeds packed when their data depend on the seed (a seeded validation split, a generator that
takes the run's seed): each model trains and is validated on its own run's data, with its own
standardization statistics, bit for bit as the separate runs of ``runs.build``."""

import numpy as np
import pytest

from chainrule import runs
from chainrule.sweep import run_trial
from chainrule.sweep.trial import data_depends_on_seed, packable

from .conftest import tiny

SEEDS = [0, 3, 7]


def seeded(epochs=4, standardize=True, dtype="float64"):
    """moons drawn with the run's seed (no options.seed) and a seeded 25 % validation split."""
    cfg = tiny(epochs=epochs, val_fraction=0.25)
    cfg["data"]["options"] = {"n": 80}
    cfg["data"]["standardize"] = standardize
    cfg["dtype"] = dtype
    cfg["optimizer"] = {"name": "adam", "learning_rate": 0.05}
    return cfg


def separate(cfg, seed):
    run = runs.build({**cfg, "seed": seed})
    run.fit()
    return run


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("standardize", [True, False])
def test_seed_dependent_data_packed_equals_separate_runs_bit_for_bit(dtype, standardize):
    cfg = seeded(standardize=standardize, dtype=dtype)
    assert data_depends_on_seed(runs.complete(cfg)) and packable(runs.complete(cfg), len(SEEDS))
    out = run_trial(cfg, SEEDS, "val_loss")
    assert out["packed"]
    built = [runs.build({**cfg, "seed": s}) for s in SEEDS]
    assert not np.array_equal(built[0].X_train, built[1].X_train)  # the seeds do see different data
    assert not np.array_equal(built[0].X_val, built[1].X_val)
    if standardize:  # and different standardization statistics (each from its own training split)
        assert not np.array_equal(built[0].model.buffers["0.mean"], built[1].model.buffers["0.mean"])
        assert not np.array_equal(built[0].model.buffers["0.scale"], built[1].model.buffers["0.scale"])
    for k, seed in enumerate(SEEDS):
        history = separate(cfg, seed).trainer.history
        expected = {name: [float(v) for v in values] for name, values in history.items() if name != "time"}
        result = out["results"][k]
        assert result["status"] == "ok"
        assert result["curves"] == expected  # every column (loss, accuracy, val_*, lr): the same bits
        assert set(expected) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
        assert result["final"] == expected["val_loss"][-1]
        assert result["best"] == min(expected["val_loss"])


def test_one_shared_standardization_would_not_be_bit_for_bit():
    """The per-model statistics matter: validation curves of seed 3 computed with seed 0's
    statistics differ from seed 3's own run (so the test above can fail)."""
    cfg = seeded(epochs=2)
    own = separate(cfg, 3)
    borrowed = runs.build({**cfg, "seed": 3})
    donor = runs.build({**cfg, "seed": 0})
    borrowed.model.buffers.update({k: donor.model.buffers[k] for k in ("0.mean", "0.scale")})
    borrowed.fit()
    assert borrowed.trainer.history["val_loss"] != own.trainer.history["val_loss"]


def test_packed_seeds_with_fixed_data_keep_every_column():
    cfg = seeded(epochs=3)
    cfg["data"]["options"] = {"n": 80, "seed": 0}
    cfg["data"]["val_fraction"] = 0.0
    assert not data_depends_on_seed(runs.complete(cfg))
    out = run_trial(cfg, SEEDS, "loss")
    assert out["packed"]
    for k, seed in enumerate(SEEDS):
        history = separate(cfg, seed).trainer.history
        assert out["results"][k]["curves"] == {n: [float(v) for v in vs] for n, vs in history.items() if n != "time"}


def test_seeds_whose_training_sets_differ_in_size_run_one_by_one(monkeypatch):
    """The ensemble needs one n for all models: a seed whose split came out another size is not packed."""
    from chainrule.sweep import trial

    real = trial.build

    def build(cfg):
        run = real(cfg)
        if cfg["seed"] == 3:  # one row fewer for this seed
            run.X_train, run.y_train = run.X_train[:-1], run.y_train[:-1]
        return run

    monkeypatch.setattr(trial, "build", build)
    cfg = seeded(epochs=2)
    out = run_trial(cfg, SEEDS, "val_loss")
    assert not out["packed"]
    assert [r["status"] for r in out["results"]] == ["ok"] * 3
    assert out["results"][0]["curves"]["val_loss"] == [float(v) for v in separate(cfg, 0).trainer.history["val_loss"]]


def test_more_rows_than_the_trainer_scores_metrics_on_still_bit_for_bit():
    """Over 10,000 training rows the Trainer scores the training accuracy on the first 10,000: so
    does the packed ensemble (without that rule this test fails). Over 4,096 validation rows the
    Trainer predicts in blocks of 4,096 and so does the ensemble (the same products by construction;
    NumPy's matmul happens to give these rows the same bits unblocked too, so that part is a check
    of the blocks' bookkeeping, not of their necessity)."""
    cfg = seeded(epochs=2)
    cfg["data"]["val_fraction"] = 0.4
    cfg["data"]["options"] = {"n": 17_000, "noise": 0.3}  # 10,200 training rows, 6,800 validation rows
    cfg["training"]["batch_size"] = 512
    out = run_trial(cfg, SEEDS[:2], "val_loss")
    assert out["packed"]
    for k, seed in enumerate(SEEDS[:2]):
        run = separate(cfg, seed)
        assert len(run.X_train) > run.trainer.metric_samples and len(run.X_val) > 4096
        expected = {n: [float(v) for v in vs] for n, vs in run.trainer.history.items() if n != "time"}
        assert out["results"][k]["curves"] == expected


def test_seeds_whose_data_together_pass_the_memory_limit_run_one_by_one():
    """Packing per-seed data holds every seed's run at once; over `limits.memory_gb` the seeds
    train one after another instead (each run alone is within the limit)."""
    from chainrule.sweep.trial import run_trial

    cfg = {"data": {"name": "blobs", "val_fraction": 0.2, "options": {"n": 4000, "dim": 50, "centers": 3}},
           "model": {"hidden": [4]}, "training": {"epochs": 1, "batch_size": 256}, "output": {"record": False},
           "limits": {"memory_gb": 0.01}}  # 10 MiB: one run's ~4 MiB of data fits, 8 seeds' do not
    alone = run_trial(cfg, list(range(8)), "val_loss")
    assert not alone["packed"] and [r["status"] for r in alone["results"]] == ["ok"] * 8
    assert run_trial({**cfg, "limits": {"memory_gb": 1}}, list(range(8)), "val_loss")["packed"]
