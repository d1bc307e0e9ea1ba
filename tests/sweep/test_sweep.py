"""Whole sweeps on a 2-worker LocalCluster: every (configuration, seed) once, statuses, resume, TPE."""

import os
import sqlite3
import tomllib

from chainrule import runs
from chainrule.sweep import open_results, run

from .conftest import tiny


def grid_spec():
    base = tiny(epochs=4)
    base["optimizer"] = {"name": "sgd"}
    return {"base": base, "seeds": 3, "metric": "loss",
            "space": {"optimizer.learning_rate": [0.05, 0.5, 1e8], "model.hidden": [[4], [6]],
                      # noise = -1 passes the schema; only the dataset's generator refuses it, on the worker
                      "data.options": [{"seed": 0, "n": 80}, {"seed": 0, "n": 80, "noise": -1.0}]}}


def test_grid_sweep_stores_every_trial_once_with_its_status(client, tmp_path):
    results = run(grid_spec(), out=tmp_path / "s", client=client, verbose=False)
    keys = [r["key"] for r in results.rows]
    assert len(keys) == 3 * 2 * 2 * 3 and len(set(keys)) == len(keys)
    by_status = {}
    for r in results.rows:
        by_status.setdefault(r["status"], []).append(r)
    assert all(r["params"]["data.options"].get("noise") == -1 for r in by_status["failed"])
    assert len(by_status["failed"]) == 18 and all("noise" in r["error"] for r in by_status["failed"])
    assert all(r["optimizer.learning_rate"] == 1e8 for r in by_status["diverged"]) and len(by_status["diverged"]) == 6
    # an ok row is what the normal runs path gives for that configuration and seed
    row = next(r for r in by_status["ok"] if r["seed"] == 2)
    cfg = results.spec.config_for(row["params"])
    separate = runs.build({**cfg, "seed": 2})
    separate.fit()
    assert row["final"] == float(separate.trainer.history["loss"][-1])
    # the ranking: best first, and best.toml reproduces the best configuration
    best = results.ranking[0]
    assert best["mean"] == min(c["mean"] for c in results.ranking if c["mean"] is not None)
    written = tomllib.loads((tmp_path / "s" / "best.toml").read_text())
    assert runs.complete(written)["optimizer"] == runs.complete(results.best)["optimizer"]
    assert written["model"]["hidden"] == best["params"]["model.hidden"]


def test_resume_skips_stored_keys_and_finishes(client, tmp_path):
    folder = tmp_path / "s"
    spec = grid_spec()
    run(spec, out=folder, client=client, verbose=False)
    with sqlite3.connect(folder / "results.sqlite") as db:  # as if stopped after part of the grid
        db.execute("DELETE FROM trials WHERE \"model.hidden\" = '[6]'")
        db.execute("DELETE FROM curves WHERE key NOT IN (SELECT key FROM trials)")
    before = {r["key"]: r["wall_time"] for r in open_results(folder).rows}
    results = run(None, resume=folder, client=client, verbose=False)
    assert len(results.rows) == 36 and len({r["key"] for r in results.rows}) == 36
    assert all(r["wall_time"] == before[r["key"]] for r in results.rows if r["key"] in before)  # not rerun


def test_tpe_search_is_resumable_from_its_study(client, tmp_path):
    base = tiny(epochs=3)
    spec = {"base": base, "seeds": 2, "strategy": "tpe", "trials": 4, "seed": 1, "metric": "loss",
            "space": {"optimizer.learning_rate": {"low": 1e-3, "high": 0.3, "log": True},
                      "model.hidden": [[4], [8]]}}
    folder = tmp_path / "t"
    first = run(spec, out=folder, client=client, verbose=False)
    assert len({r["config_hash"] for r in first.rows}) == 4 and len(first.rows) == 8
    import optuna

    spec["trials"] = 6  # a longer search in the same folder: the study continues
    (folder / "sweep.json").write_text(__import__("json").dumps({**spec, "base": base}))
    again = run(None, resume=folder, client=client, verbose=False)
    assert len({r["config_hash"] for r in again.rows}) == 6 and len(again.rows) == 12
    study = optuna.load_study(study_name="sweep", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(folder / "study.journal"))))
    assert len([t for t in study.trials if t.state.name == "COMPLETE"]) == 6


def test_one_driver_per_folder(client, tmp_path):
    import pytest

    from chainrule.errors import RunLockedError
    from chainrule.runs.lock import RunLock

    folder = tmp_path / "s"
    spec = grid_spec()
    spec["space"] = {"optimizer.learning_rate": [0.05]}
    run(spec, out=folder, client=client, verbose=False)
    with RunLock(folder):  # as if another `chainrule sweep --resume` were running on it
        with pytest.raises(RunLockedError, match=str(os.getpid())):
            run(None, resume=folder, client=client, verbose=False)
