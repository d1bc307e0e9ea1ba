"""The trained models a sweep keeps (models.py): written whole, the best configuration's only by
default, loadable with chainrule.load_model to the very weights the trial sent back."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.saving import load_model
from chainrule.sweep import models
from chainrule.sweep.spec import parse_spec

from .conftest import tiny


def trial(final_by_seed, seed_offset=0, status="ok"):
    """A trial result as run_trial(..., weights=True) sends it: per seed its weights, and the model."""
    net = nn.MLP([2, 4, 2])
    results = []
    for s, final in final_by_seed.items():
        net.init(seed=s + seed_offset)
        results.append({"seed": s, "status": status, "error": None, "final": final, "best": final, "epochs": 1,
                        "curves": {}, "weights": {**net.params, **net.buffers}})
    return {"results": results, "wall_time": 0.0, "packed": False,
            "model": {"architecture": net.config(), "dtype": "float64"}}


def spec(weights):
    return parse_spec({"base": tiny(), "metric": "loss", "weights": weights,
                       "space": {"optimizer.learning_rate": [0.1]}})


def test_best_keeps_the_best_configuration_and_removes_the_one_it_displaced(tmp_path):
    keeper = models.Keeper(tmp_path, spec("best"), rows=[])
    a, b, c = trial({0: 0.5, 1: 0.7}), trial({0: 0.2, 1: 0.3}, 10), trial({0: 0.9, 1: 0.9}, 20)
    assert keeper.add("a" * 16, a) == []                         # held in memory ...
    assert keeper.flush() and list(models.dirs(tmp_path)) == ["a" * 16]   # ... written by flush
    keeper.add("b" * 16, b)
    keeper.add("c" * 16, c)
    assert keeper.flush() and list(models.dirs(tmp_path)) == ["b" * 16]  # b is the best: a's models are gone
    assert keeper.flush() == []
    kept = models.dirs(tmp_path)["b" * 16]
    assert list(kept) == [0, 1]
    for r in b["results"]:
        model = load_model(kept[r["seed"]])
        for k, v in model.params.items():
            assert np.array_equal(v, r["weights"][k])


def test_the_best_so_far_starts_from_the_stored_rows(tmp_path):
    rows = [{"config_hash": "b" * 16, "params": {}, "status": "ok", "final": 0.25, "error": None}]
    keeper = models.Keeper(tmp_path, spec("best"), rows)
    assert keeper.add("a" * 16, trial({0: 0.5})) == []           # worse than the stored best
    assert keeper.missing(rows) == {"b" * 16: {}}                # ... whose models are not in the folder


def test_all_keeps_every_ok_seed_and_none_keeps_nothing(tmp_path):
    t = trial({0: 0.5, 1: 0.7})
    t["results"][1]["status"], t["results"][1]["weights"] = "diverged", None
    models.Keeper(tmp_path / "all", spec("all"), []).add("a" * 16, t)
    assert list(models.dirs(tmp_path / "all")["a" * 16]) == [0]
    assert models.Keeper(tmp_path / "none", spec("none"), []).add("a" * 16, t) == []
    assert not (tmp_path / "none").exists()


def test_a_failing_write_leaves_no_half_model_folder(tmp_path, monkeypatch):
    calls = []

    def save_then_fail(model, directory):
        calls.append(directory)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(model, directory)

    real = models.save_model
    monkeypatch.setattr(models, "save_model", save_then_fail)
    with pytest.raises(OSError, match="disk full"):
        models.Keeper(tmp_path, spec("all"), []).add("a" * 16, trial({0: 0.5, 1: 0.7}))
    assert models.dirs(tmp_path) == {} and list((tmp_path / "models").iterdir()) == []  # no half model left


def test_weights_must_be_one_of_three(tmp_path):
    from chainrule.errors import ConfigError

    with pytest.raises(ConfigError, match="weights = 'bestest'.*valid: best, all, none"):
        spec("bestest")


@pytest.mark.parametrize("val_fraction", [0.0, 0.25])  # packed on shared data, packed per seed
def test_a_sweep_keeps_the_best_models_and_they_are_the_trained_runs(client, tmp_path, val_fraction):
    from chainrule.runs import build
    from chainrule.sweep import run

    spec_ = {"base": tiny(epochs=3, val_fraction=val_fraction), "seeds": 2,
             "metric": "val_loss" if val_fraction else "loss",
             "space": {"optimizer.learning_rate": [0.001, 0.05]}}
    results = run(spec_, out=tmp_path / "s", client=client, verbose=False)
    (best_hash, seeds), = results.models().items()
    assert best_hash == results.ranking[0]["config_hash"] and list(seeds) == [0, 1]
    X = np.random.default_rng(1).standard_normal((7, 2))
    for seed, folder in seeds.items():
        alone = build({**results.best, "seed": seed})
        alone.fit()
        assert np.array_equal(load_model(folder)(X), alone.model(X))


def test_weights_all_keeps_every_configuration_and_none_asks_for_nothing(client, tmp_path):
    from chainrule.sweep import run

    base = {"base": tiny(epochs=2), "seeds": 1, "metric": "loss", "space": {"optimizer.learning_rate": [0.01, 0.1]}}
    assert len(run({**base, "weights": "all"}, out=tmp_path / "all", client=client, verbose=False).models()) == 2
    assert run({**base, "weights": "none"}, out=tmp_path / "none", client=client, verbose=False).models() == {}
    assert not (tmp_path / "none" / "models").exists()


def test_models_lost_to_an_interruption_are_trained_again_on_resume(client, tmp_path, monkeypatch):
    """Ctrl-C after a configuration is stored and before its models are written: --resume finds
    the best configuration without models and writes them (the same weights: a trial is pure)."""
    from chainrule.runs import build
    from chainrule.sweep import run

    spec_ = {"base": tiny(epochs=3), "seeds": 2, "metric": "loss",
             "space": {"optimizer.learning_rate": [0.001, 0.05]}}
    real = models.Keeper.add

    def interrupted(self, config_hash, trial_):
        if self.best[0] is not None:  # the second configuration: stored, then Ctrl-C
            self.flush()              # (the first one's models written: the folder holds a displaced best)
            raise KeyboardInterrupt
        return real(self, config_hash, trial_)

    monkeypatch.setattr(models.Keeper, "add", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(spec_, out=tmp_path / "s", workers=0, verbose=False)
    monkeypatch.setattr(models.Keeper, "add", real)
    from chainrule.sweep import open_results

    stopped = open_results(tmp_path / "s")
    assert len(stopped.rows) == 4                                    # both configurations stored ...
    assert stopped.ranking[0]["config_hash"] not in stopped.models()  # ... the best one without models
    results = run(None, resume=tmp_path / "s", client=client, verbose=False)
    (best_hash, seeds), = results.models().items()
    assert best_hash == results.ranking[0]["config_hash"]
    X = np.random.default_rng(1).standard_normal((5, 2))
    for seed, folder in seeds.items():
        alone = build({**results.best, "seed": seed})
        alone.fit()
        assert np.array_equal(load_model(folder)(X), alone.model(X))
