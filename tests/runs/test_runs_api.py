"""The runs layer: a run built and trained from a config dict with no CLI, a finished run loaded
back and predicting in the run's own labels, and the config schema declared once."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from chainrule import runs
from chainrule.errors import ConfigError
from chainrule.runs import schema

TINY = {"seed": 3, "data": {"name": "moons", "options": {"n": 80, "noise": 0.1}},
        "model": {"hidden": [8]}, "optimizer": {"name": "adam", "learning_rate": 0.05},
        "training": {"epochs": 15, "batch_size": 16, "gradient_check": False}, "output": {"plots": False}}

IN_PROCESS = """
import json, sys
import chainrule.runs as runs
cfg = json.loads(sys.argv[1])
run = runs.build(cfg)
before = run.trainer.evaluate(run.X_train, run.y_train)["loss"]
run.fit()
after = run.trainer.evaluate(run.X_train, run.y_train)["loss"]
trainer, run_dir, summary = runs.train(cfg, run_dir=sys.argv[2], verbose=0)
loaded = runs.load_run(run_dir)
print(json.dumps({"before": before, "after": after, "epochs": run.trainer.epoch, "files": sorted(
    p.name for p in run_dir.iterdir()), "predictions": loaded.predict(run.X[:5]).tolist(),
    "cli": sorted(m for m in sys.modules if m == "chainrule.cli" or m.startswith("chainrule.cli."))}))
"""


def test_a_run_is_built_trained_saved_and_loaded_without_the_cli(tmp_path):
    # A fresh interpreter: in this one other tests have imported the CLI already.
    proc = subprocess.run([sys.executable, "-c", IN_PROCESS, json.dumps(TINY), str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["cli"] == []
    assert result["epochs"] == 15 and result["after"] < 0.7 * result["before"]  # it trained
    for name in ("config.json", "manifest.json", "metrics.csv", "model", "preprocessing.json"):
        assert name in result["files"]
    assert set(result["predictions"]) <= {0, 1}


def test_the_in_memory_run_equals_the_run_folder_bit_for_bit(tmp_path):
    # build + fit (no files) and train (a folder) are one pipeline: same data, init and batches.
    run = runs.build(TINY).fit()
    trainer, run_dir, _ = runs.train(TINY, run_dir=tmp_path / "r", verbose=0)
    for k, v in run.model.params.items():
        assert np.array_equal(v, trainer.model.params[k]), k
    assert not (tmp_path / "r" / "checkpoints").exists()


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "kind"])
        w.writerows(rows)


def test_load_run_predicts_in_the_runs_own_labels(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    kinds = np.where(X[:, 0] + 0.2 * X[:, 1] > 0, "dog", "cat")
    write_csv(tmp_path / "train.csv", [[f"{a:.6f}", f"{b:.6f}", k] for (a, b), k in zip(X, kinds)])
    cfg = {**TINY, "data": {"name": "csv", "path": str(tmp_path / "train.csv"), "label": "kind",
                            "val_fraction": 0.0}, "training": {**TINY["training"], "epochs": 40}}
    _, run_dir, _ = runs.train(cfg, run_dir=tmp_path / "run", verbose=0)
    loaded = runs.load_run(run_dir)
    assert loaded.classes == ["cat", "dog"] and loaded.task == "classification"
    proba = loaded.predict_proba(X)
    assert proba.shape == (90, 2) and np.allclose(proba.sum(axis=1), 1, rtol=0, atol=1e-12)
    predicted = loaded.predict(X)
    assert set(predicted) <= {"cat", "dog"} and np.mean(predicted == kinds) > 0.9
    assert np.array_equal(predicted, np.asarray(loaded.classes)[np.argmax(proba, axis=1)])
    # The run's standardization is the model's first layer, applied once: raw inputs go straight in.
    prep = loaded.preprocessing
    assert prep["in_model"] and loaded.standardizes_in_model
    np.testing.assert_allclose(loaded.model.buffers["0.mean"], prep["mean"], rtol=1e-15)
    assert np.array_equal(loaded.output(X), np.asarray(loaded.model(X), np.float64))
    regression = {**TINY, "data": {"name": "regression_1d", "options": {"n": 40}}}  # (a known dataset: the
    # error must come from predict_proba, not from an unknown name whose message lists 'regression_1d')
    reg = runs.load_run(runs.train(regression, run_dir=tmp_path / "reg", verbose=0)[1])
    with pytest.raises(ConfigError, match="this run is a regression; use predict"):
        reg.predict_proba(X[:, :1])


# -- the schema ---------------------------------------------------------------------------------

def test_defaults_come_from_the_declaration_and_complete_is_idempotent():
    d = runs.defaults()
    assert d["training"]["epochs"] == 100 and d["model"]["hidden"] == [64, 64] and d["schedule"] == {}
    assert runs.complete({}) == d and runs.complete(d) == d
    d["model"]["hidden"].append(1)
    assert runs.defaults()["model"]["hidden"] == [64, 64]  # a fresh copy each time
    assert list(d) == [*schema.TOP.keys, *schema.TABLES]


def test_every_declared_key_is_documented_and_accepted():
    text = runs.describe()
    for section in schema.SECTIONS:
        if section.name:
            assert f"[{section.name}]" in text
        for f in section.fields:
            assert f"\n{f.name} = " in "\n" + text and f.doc
            if f.default not in (None, schema.UNSET):
                raw = {f.name: f.default} if not section.name else {section.name: {f.name: f.default}}
                runs.complete(raw)  # its own default passes its own checks


@pytest.mark.parametrize("raw, pattern", [
    ({"sed": 1}, r"unknown key 'sed' \(did you mean 'seed'\?\); valid: seed, dtype, data, model"),
    ({"training": {"epoch": 3}}, r"unknown key 'epoch' in \[training\] \(did you mean 'epochs'\?\); valid keys"),
    ({"dtype": "float16"}, r"dtype must be 'float32' or 'float64', found 'float16'"),
    ({"training": {"on_divergence": "x"}}, r"training.on_divergence must be 'stop' or 'rollback', found 'x'"),
    ({"model": {"dropout": 1}}, r"model.dropout must be in \[0, 1\), found 1.0"),
    ({"model": {"hidden": [4, 0]}}, r"model.hidden must be a list of positive integers"),
    ({"training": {"batch_size": "8"}}, r"training.batch_size must be int, found '8' \(str\)"),
    ({"model": "x"}, r"\[model\] must be a table, found str"),
    ({"data": {"name": "csv"}}, r"data.path is needed for CSV data; config: data.label is needed"),
    ([1], r"a configuration must be a table of keys, found list"),
])
def test_bad_values_are_config_errors(raw, pattern):
    with pytest.raises(ConfigError, match=pattern):
        runs.complete(raw)


def test_open_sections_pass_options_on():
    cfg = runs.complete({"optimizer": {"name": "sgd", "momentum": 0.9}, "schedule": {"name": "step", "step_size": 3}})
    assert cfg["optimizer"] == {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9}
    assert cfg["schedule"] == {"name": "step", "step_size": 3}


def test_build_accepts_a_string_run_dir(tmp_path):
    from chainrule import runs

    run = runs.build({"data": {"name": "moons"}, "model": {"hidden": [4]}, "training": {"epochs": 1}},
                     run_dir=str(tmp_path))
    run.fit()
    assert (tmp_path / "metrics.csv").is_file()
