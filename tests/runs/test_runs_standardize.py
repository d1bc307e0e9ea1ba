"""A run's standardization is the first layer of its saved model (issue 11, item 4): the weights
alone reproduce the run's predictions, a folder written before still loads, and the statistics
are applied exactly once. (Checkpoints and resume of such runs: tests/reliability/test_crash_resume.py,
whose runs standardize by default, so their model holds a Standardize layer.)"""

import json
import shutil

import numpy as np
import pytest

from chainrule import data, nn, runs
from chainrule.errors import ConfigError
from chainrule.saving import load_model, save_model

# The demo's data and network (spiral, 3 classes, [64, 64] ReLU, Adam), fewer epochs.
DEMO = {"seed": 0, "dtype": "float64",
        "data": {"name": "spiral", "options": {"n_per_class": 150, "n_classes": 3, "noise": 0.2}, "val_fraction": 0.2},
        "model": {"hidden": [64, 64], "activation": "relu"}, "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 40, "batch_size": 32, "gradient_check": False}, "output": {"plots": False}}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("std") / "demo"
    runs.train(DEMO, run_dir=run_dir, verbose=0)
    return run_dir


def test_the_saved_model_alone_reproduces_the_runs_predictions(demo_run):
    X, y, _ = runs.load_data(runs.complete(DEMO))
    loaded = runs.load_run(demo_run)
    model = load_model(demo_run / "model")  # no preprocessing.json, no config: the weights alone
    assert model.state_keys()[:4] == ["0.mean", "0.scale", "1.weight", "1.bias"]
    assert isinstance(model.layers[0], nn.Standardize) and not model.layers[0].param_names
    # fitted on the training part, as the Standardizer fits it (zero-variance columns: scale 1)
    built = runs.build(DEMO)
    reference = data.Standardizer().fit(built.X_train)
    assert np.array_equal(model.buffers["0.mean"], reference.mean_)
    assert np.array_equal(model.buffers["0.scale"], reference.scale_)
    by_weights = np.argmax(model(X), axis=1)
    assert np.array_equal(by_weights, loaded.predict(X))  # bit for bit: the same function of the same inputs
    assert np.array_equal(model(X), loaded.output(X))
    accuracy = np.mean(by_weights == y)
    assert accuracy > 0.9  # the issue measured 0.35 for load_model on raw inputs before this change


def test_training_sees_raw_inputs_and_the_model_standardizes_them():
    run = runs.build({**DEMO, "data": {**DEMO["data"], "options": {"n_per_class": 40, "n_classes": 3}}})
    X_all, _, _ = runs.load_data(run.config)
    assert any(np.array_equal(run.X_train[0], row) for row in X_all)  # raw rows, not standardized ones
    assert run.model.state_keys()[:2] == ["0.mean", "0.scale"]
    off = runs.build({**DEMO, "data": {**DEMO["data"], "standardize": False}})
    assert not isinstance(off.model.layers[0], nn.Standardize) and off.model.state_keys()[0] == "0.weight"
    assert "in_model" in off.preprocessing() and off.preprocessing()["in_model"] is False


def test_a_constant_column_gets_scale_one(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = [f"{a:.6f},{b:.6f},7.5,{'yes' if a > 0 else 'no'}" for a, b in X]
    (tmp_path / "d.csv").write_text("a,b,c,label\n" + "\n".join(rows) + "\n")
    cfg = {**DEMO, "data": {"name": "csv", "path": str(tmp_path / "d.csv"), "label": "label"},
           "model": {"hidden": [8]}, "training": {**DEMO["training"], "epochs": 5}}
    run = runs.build(cfg)
    assert run.model.buffers["0.scale"][2] == 1.0 and run.model.buffers["0.mean"][2] == 7.5
    run.fit()
    assert np.all(np.isfinite(run.model(X_with(X, 7.5))))


def X_with(X, c):
    return np.column_stack([X, np.full(len(X), c)])


def write_old_folder(new_run, old_run, forget_checksums):
    """The folder the previous version wrote for the same run: a model without Standardize (its
    Dense layers one place earlier) and preprocessing.json with mean/scale and no 'in_model'."""
    shutil.copytree(new_run, old_run)
    model = load_model(new_run / "model")
    old = nn.Sequential(*model.layers[1:])
    old.init(0, model.dtype)
    old.params = {shift(k): v for k, v in model.params.items()}
    old.buffers = {}
    shutil.rmtree(old_run / "model")
    save_model(old, old_run / "model")
    prep = json.loads((old_run / "preprocessing.json").read_text())
    del prep["in_model"]
    (old_run / "preprocessing.json").write_text(json.dumps(prep))
    forget_checksums(old_run)
    return prep


def shift(key):
    i, rest = key.split(".", 1)
    return f"{int(i) - 1}.{rest}"


def test_a_folder_written_before_still_loads_and_predicts(demo_run, tmp_path, forget_checksums):
    prep = write_old_folder(demo_run, tmp_path / "old", forget_checksums)
    assert prep["standardize"] and len(prep["mean"]) == 2
    X, _, _ = runs.load_data(runs.complete(DEMO))
    old, new = runs.load_run(tmp_path / "old"), runs.load_run(demo_run)
    assert not old.standardizes_in_model and new.standardizes_in_model
    # float64 throughout: (X − mean) / scale with the same numbers, here or in the layer: bit for bit
    assert np.array_equal(old.output(X), new.output(X))
    assert np.array_equal(old.predict(X), new.predict(X))
    logs_old, logs_new = old.evaluate(*old.data()[:2]), new.evaluate(*new.data()[:2])
    assert logs_old == logs_new


def test_the_statistics_are_never_applied_twice(demo_run, tmp_path, forget_checksums):
    # A new model with a preprocessing.json lacking 'in_model' (hand-edited): the model standardizes, once.
    shutil.copytree(demo_run, tmp_path / "run")
    prep = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    del prep["in_model"]
    (tmp_path / "run" / "preprocessing.json").write_text(json.dumps(prep))
    forget_checksums(tmp_path / "run")
    X, _, _ = runs.load_data(runs.complete(DEMO))
    assert np.array_equal(runs.load_run(tmp_path / "run").output(X), load_model(demo_run / "model")(X))


def test_a_preprocessing_file_and_model_that_disagree_are_refused(demo_run, tmp_path, forget_checksums):
    write_old_folder(demo_run, tmp_path / "old", forget_checksums)
    prep = json.loads((tmp_path / "old" / "preprocessing.json").read_text())
    (tmp_path / "old" / "preprocessing.json").write_text(json.dumps({**prep, "in_model": True}))
    with pytest.raises(ConfigError, match=r"preprocessing.json says the model standardizes its inputs .* the files "
                                          r"do not belong together"):
        runs.load_run(tmp_path / "old")
    for value, pattern in ([["a", "b"], r"'mean' must be a list of 2 finite numbers, one per feature, found "
                                        r"\['a', 'b'\] \(a list of 2\)"],
                           [[0.0], r"'mean' must be a list of 2 finite numbers.*\(a list of 1\)"],
                           [[0.0, 10 ** 400], r"'mean' must be a list of 2 finite numbers"]):
        (tmp_path / "old" / "preprocessing.json").write_text(json.dumps({**prep, "mean": value}))
        with pytest.raises(ConfigError, match=pattern):
            runs.load_run(tmp_path / "old")
    (tmp_path / "old" / "preprocessing.json").write_text(json.dumps({**prep, "scale": [1.0, 0.0]}))
    with pytest.raises(ConfigError, match=r"'scale' must be a list of 2 finite numbers > 0"):
        runs.load_run(tmp_path / "old")

