"""run_trial(weights=True): each seed's trained model as {tensor name: array} in model.state_dict()'s
names; loaded into a freshly built run's model it predicts bit for bit as the separately trained run."""

import numpy as np
import pytest

from chainrule import runs
from chainrule.sweep import run_trial

from .conftest import tiny

SEEDS = [0, 5]


def configs():
    fixed = tiny(epochs=3)                                 # packed, shared data, standardized
    seeded = tiny(epochs=3, val_fraction=0.25)             # packed, per-seed data and statistics
    seeded["data"]["options"] = {"n": 80}
    raw = tiny(epochs=3, val_fraction=0.25)                # packed, no Standardize layer
    raw["data"]["standardize"] = False
    dropout = tiny(epochs=3, val_fraction=0.25, dropout=0.2)  # one by one (dropout: not packable)
    return {"fixed": (fixed, True), "seeded": (seeded, True), "raw": (raw, True), "dropout": (dropout, False)}


def load(model, weights):
    """Put {name: array} into a built (initialized) model's parameters and buffers."""
    assert list(weights) == list(model.state_dict())  # the same names, in the same order
    for name, value in weights.items():
        if name in model.params:
            assert model.params[name].shape == value.shape and model.params[name].dtype == value.dtype
            model.params[name][...] = value
        else:
            model.buffers[name] = value


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["fixed", "seeded", "raw", "dropout"])
def test_returned_weights_reproduce_the_separate_runs_predictions(name, dtype):
    cfg, packed = configs()[name]
    cfg = {**cfg, "dtype": dtype}
    out = run_trial(cfg, SEEDS, "loss", weights=True)
    assert out["packed"] == packed
    X_new = np.random.default_rng(1).normal(size=(50, 2)) * 2  # raw inputs, as a user would give them
    for k, seed in enumerate(SEEDS):
        weights = out["results"][k]["weights"]
        trained = runs.build({**cfg, "seed": seed})
        trained.fit()
        fresh = runs.build({**cfg, "seed": seed})
        before = fresh.trainer.predict(X_new)
        load(fresh.model, weights)
        if fresh.config["data"]["standardize"]:
            assert {"0.mean", "0.scale"} <= set(weights)
        assert fresh.trainer.predict(X_new).tobytes() == trained.trainer.predict(X_new).tobytes()
        assert not np.array_equal(before, trained.trainer.predict(X_new))  # training moved it: not a vacuous check
        assert all(np.array_equal(weights[n], v) for n, v in trained.model.state_dict().items())


def test_weights_are_none_for_seeds_that_did_not_finish_and_absent_by_default():
    diverging = tiny(epochs=3)
    diverging["optimizer"] = {"name": "sgd", "learning_rate": 1e8}
    for cfg in (diverging, {**diverging, "model": {"hidden": [4], "dropout": 0.1}}):  # packed, one by one
        out = run_trial(cfg, SEEDS, "loss", weights=True)
        assert [r["status"] for r in out["results"]] == ["diverged"] * 2
        assert [r["weights"] for r in out["results"]] == [None, None]
    failing = {**tiny(), "limits": {"memory_gb": 1e-9}}
    assert [r["weights"] for r in run_trial(failing, SEEDS, "loss", weights=True)["results"]] == [None, None]
    assert all("weights" not in r for r in run_trial(tiny(epochs=1), SEEDS, "loss")["results"])


def test_weights_are_copies_owned_by_the_result():
    out = run_trial(tiny(epochs=1), SEEDS, "loss", weights=True)
    a, b = (r["weights"]["1.weight"] for r in out["results"])
    assert a.flags.owndata and b.flags.owndata and not np.shares_memory(a, b)
