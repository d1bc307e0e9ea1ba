"""A run read back with ``load_run`` (issue 12 review, items 3, 7 and 11): outputs that are not
finite are an error naming the input, in the library as in the CLI; the run's own files are
verified by the checksums its manifest records; task and classes agree with model and config."""

import json
import shutil
import warnings

import numpy as np
import pytest

from chainrule import nn, runs
from chainrule.cli.main import main
from chainrule.errors import ConfigError, DataError, WeightsFileError
from chainrule.saving.checksums import UnverifiedFileWarning

pytest.importorskip("safetensors")

CFG = {"seed": 0, "data": {"name": "moons"}, "model": {"hidden": [8]},
       "training": {"epochs": 2, "gradient_check": False}, "output": {"plots": False}}

# NumPy's overflow warnings do not print before the one-line error that names the input
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("loaded") / "run"
    runs.train(CFG, run_dir=run_dir, verbose=0)
    return run_dir


@pytest.fixture
def copy(run, tmp_path):
    shutil.copytree(run, tmp_path / "copy")
    return tmp_path / "copy"


def edit_json(path, change):
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))


# -- item 3: one finite-output check, in LoadedRun ------------------------------------------------

def test_the_library_refuses_inputs_beyond_the_networks_arithmetic(run):
    loaded = runs.load_run(run)
    X = np.array([[0.5, 0.5], [1e308, -1e308]])
    for call in (loaded.predict, loaded.predict_proba, loaded.output):
        with pytest.raises(DataError, match=r"row 1: the network's output for this input is not finite"):
            call(X)
    with pytest.raises(DataError, match=r"^f.csv: row 7: .* its largest value is 'a' = 1e\+308"):
        loaded.predict(X, source="f.csv", rows=[3, 7], columns=["a", "b"])
    with pytest.raises(DataError, match=r"row 1: the network's output"):
        loaded.evaluate(X, np.array([0, 1]))
    assert loaded.predict(X[:1]).shape == (1,)  # (a finite row is unaffected)


def test_evaluate_names_the_files_row_and_column_as_predict_does(run, tmp_path, capsys):
    (tmp_path / "f.csv").write_text("x0,x1,label\n0.1,0.2,0\n0.3,0.1,1\n1e308,-1e308,0\n")
    assert main(["evaluate", str(run), "--csv", str(tmp_path / "f.csv"), "--label", "label"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 4" in err and "'x0' = 1e+308" in err, err
    (tmp_path / "in.csv").write_text("x0,x1\n0.1,0.2\n0.3,0.1\n1e308,-1e308\n")
    assert main(["predict", str(run), str(tmp_path / "in.csv")]) == 2
    assert "row 4" in capsys.readouterr().err


# -- item 7: the run's files are verified --------------------------------------------------------

@pytest.mark.parametrize("change", [
    lambda p: p.update(classes=[1, 0]),
    lambda p: p.update(task="regression", classes=None),
    lambda p: p.update(n_classes=7),
])
def test_an_edited_preprocessing_file_does_not_load(copy, change):
    edit_json(copy / "preprocessing.json", change)
    with pytest.raises(WeightsFileError, match=r"preprocessing.json does not match its checksum in manifest.json"):
        runs.load_run(copy)


def test_an_edited_config_does_not_load(copy):
    edit_json(copy / "config.json", lambda c: c["data"].update(standardize=False))
    with pytest.raises(WeightsFileError, match=r"config.json does not match its checksum in manifest.json"):
        runs.load_run(copy)



def test_a_folder_without_checksums_loads_with_one_warning(copy, forget_checksums):
    forget_checksums(copy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs.load_run(copy)
    assert [w.category for w in caught] == [UnverifiedFileWarning]
    assert "records no checksums of config.json, preprocessing.json" in str(caught[0].message)


@pytest.mark.parametrize("change, pattern", [
    (lambda p: p.update(task="regression", classes=None), r"'task' is 'regression', but the run's dataset 'moons'"),
    (lambda p: p.update(n_classes=7), r"'n_classes' must be the model's 2 outputs .* found 7"),
    (lambda p: p.update(n_classes=None), r"'n_classes' must be the model's 2 outputs"),
])
def test_task_and_classes_agree_with_model_and_config_unverified(copy, change, pattern, forget_checksums):
    # (a folder without checksums: the contents are still checked against the model and config)
    forget_checksums(copy)
    edit_json(copy / "preprocessing.json", change)
    with pytest.warns(UnverifiedFileWarning), pytest.raises(ConfigError, match=pattern):
        runs.load_run(copy)


def test_a_regression_run_has_no_classes(tmp_path, forget_checksums):
    cfg = {**CFG, "data": {"name": "regression_1d"}}
    runs.train(cfg, run_dir=tmp_path / "r", verbose=0)
    forget_checksums(tmp_path / "r")
    edit_json(tmp_path / "r" / "preprocessing.json", lambda p: p.update(n_classes=3))
    with pytest.warns(UnverifiedFileWarning), pytest.raises(ConfigError, match="'n_classes' must be null"):
        runs.load_run(tmp_path / "r")


# -- an unfinished run ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["running", "interrupted"])
def test_evaluating_an_unfinished_run_says_so(copy, capsys, status):
    (copy / "preprocessing.json").unlink()
    edit_json(copy / "manifest.json", lambda m: m.update(status=status))
    assert main(["evaluate", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"its manifest says {status!r}" in err, err
    assert f"chainrule train --resume {copy}" in err and "not a chainrule run folder" not in err


# -- item 11: one check of "the model standardizes its inputs" -----------------------------------

def test_leading_standardize_is_the_first_layer_only():
    from chainrule.nn.standardize import leading_standardize

    layer = nn.Standardize(mean=[0.0, 1.0], scale=[1.0, 2.0])
    mlp = nn.MLP([2, 4, 2])
    assert leading_standardize(nn.Sequential(layer, *mlp.layers)) is layer
    assert leading_standardize(mlp) is None
    assert leading_standardize(nn.Sequential(*mlp.layers[:1], nn.Standardize.of_width(4))) is None
    assert leading_standardize(object()) is None
