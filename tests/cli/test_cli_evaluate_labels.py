"""`chainrule evaluate RUN --csv FILE` numbers the file's labels by the run's classes (issue 12,
root cause 2), `--label` names the label column (also for a run trained on a built-in dataset),
and a preprocessing.json whose classes or features are malformed is one line naming file and key."""

import json
import re
import shutil

import numpy as np
import pytest

from chainrule import runs
from chainrule.cli import main
from chainrule.errors import ConfigError, DataError

CLASSES = ["cat", "dog", "fox"]
TINY = {"seed": 2, "model": {"hidden": [16]}, "optimizer": {"name": "adam", "learning_rate": 0.05},
        "training": {"epochs": 8, "batch_size": 16, "gradient_check": False}, "output": {"plots": False}}


def blobs(n=150, seed=0):
    """Three overlapping blobs: a classifier that is right on some rows and wrong on others."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 2)) * 1.2 + np.array([[0, 0], [2, 0], [1, 2]])[k]
    return X, k


def write(path, X, labels, header=("a", "b", "kind")):
    lines = [",".join(header)] + [f"{float(x0)!r},{float(x1)!r},{lab}" for (x0, x1), lab in zip(X, labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("labels")
    X, k = blobs()
    write(tmp / "train.csv", X, np.asarray(CLASSES)[k])
    cfg = {**TINY, "data": {"name": "csv", "path": str(tmp / "train.csv"), "label": "kind"}}
    runs.train(cfg, run_dir=tmp / "run", verbose=0)
    return tmp / "run"


def evaluate(args, capsys):
    code = main(["evaluate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def accuracy_of(out):
    return float(re.search(r"accuracy\s+(\S+)", out).group(1))


def test_a_file_with_some_classes_scores_as_predict_does(text_run, tmp_path, capsys):
    X, k = blobs(seed=1)
    some = k > 0  # dog and fox only: the file's own sorted labels would number them 0 and 1
    labels = np.asarray(CLASSES)[k[some]]
    write(tmp_path / "some.csv", X[some], labels)
    predicted = runs.load_run(text_run).predict(X[some])
    expected = np.mean(predicted == labels)
    assert 0.3 < expected < 1  # right on some rows and wrong on others: a renumbering would show
    code, out, err = evaluate([text_run, "--csv", tmp_path / "some.csv"], capsys)
    assert code == 0, err
    assert accuracy_of(out) == pytest.approx(expected, abs=5e-7)  # printed with 6 significant digits


def test_an_unknown_label_names_it_and_the_runs_classes(text_run, tmp_path, capsys):
    X, _ = blobs(n=4)
    write(tmp_path / "bird.csv", X, ["cat", "dog", "bird", "cat"])
    code, _, err = evaluate([text_run, "--csv", tmp_path / "bird.csv"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert re.search(r"bird.csv: label 'bird' is not one of the run's classes \['cat', 'dog', 'fox'\]", err), err


def test_numeric_labels_on_a_text_label_run_are_an_error(text_run, tmp_path, capsys):
    X, k = blobs(n=6)
    write(tmp_path / "numbers.csv", X, k)
    code, _, err = evaluate([text_run, "--csv", tmp_path / "numbers.csv"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "is not one of the run's classes ['cat', 'dog', 'fox'] (the run's labels are text, these are numbers)" \
        in err, err


def test_predict_and_evaluate_speak_the_runs_own_labels(text_run):
    loaded = runs.load_run(text_run)
    X, k = blobs(seed=2)
    assert set(loaded.predict(X)) <= set(CLASSES)
    labels = np.asarray(CLASSES)[k]
    logs = loaded.evaluate(X, labels)
    assert logs["accuracy"] == pytest.approx(np.mean(loaded.predict(X) == labels), abs=1e-12)
    with pytest.raises(DataError, match=r"label \d is not one of the run.s classes .* these are numbers"):
        loaded.evaluate(X, k)  # indices are not labels


def test_integer_labels_map_through_the_runs_classes(tmp_path, capsys):
    X, k = blobs()
    codes = np.array([3, 5, 7])
    write(tmp_path / "train.csv", X, codes[k])
    cfg = {**TINY, "data": {"name": "csv", "path": str(tmp_path / "train.csv"), "label": "kind"}}
    runs.train(cfg, run_dir=tmp_path / "run", verbose=0)
    loaded = runs.load_run(tmp_path / "run")
    assert loaded.classes == [3, 5, 7]
    X2, k2 = blobs(seed=3)
    some = k2 != 0
    write(tmp_path / "some.csv", X2[some], codes[k2[some]])
    expected = np.mean(loaded.predict(X2[some]) == codes[k2[some]])
    code, out, err = evaluate([tmp_path / "run", "--csv", tmp_path / "some.csv"], capsys)
    assert code == 0, err
    assert accuracy_of(out) == pytest.approx(expected, abs=5e-7)
    write(tmp_path / "other.csv", X2[:3], [3, 4, 5])
    code, _, err = evaluate([tmp_path / "run", "--csv", tmp_path / "other.csv"], capsys)
    assert code == 2 and "label 4 is not one of the run's classes [3, 5, 7]" in err, err
    # predict writes the run's labels and names the probability columns by them
    write(tmp_path / "in.csv", X2[:2], ["", ""], header=("a", "b", "unused"))
    (tmp_path / "in.csv").write_text("a,b\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in X2[:2]) + "\n")
    assert main(["predict", str(tmp_path / "run"), str(tmp_path / "in.csv")]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0] == "prediction,p_3,p_5,p_7" and {r.split(",")[0] for r in rows[1:]} <= {"3", "5", "7"}


# -- a run trained on a built-in dataset --------------------------------------------------------

@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("moons") / "run"
    runs.train({**TINY, "data": {"name": "moons", "options": {"n": 120, "noise": 0.3}}}, run_dir=run_dir,
               verbose=0)
    return run_dir


def test_evaluate_csv_with_label_on_a_built_in_dataset_run(moons_run, tmp_path, capsys):
    loaded = runs.load_run(moons_run)
    X, y, _ = loaded.data()
    # columns by name, in any order, with other columns beside them
    lines = ["note,x1,target,x0"] + [f"n{i},{float(b)!r},{t},{float(a)!r}" for i, ((a, b), t) in enumerate(zip(X, y))]
    (tmp_path / "moons.csv").write_text("\n".join(lines) + "\n")
    code, out, err = evaluate([moons_run, "--csv", tmp_path / "moons.csv", "--label", "target"], capsys)
    assert code == 0, err
    assert accuracy_of(out) == pytest.approx(np.mean(loaded.predict(X) == y), abs=5e-7)
    code, out2, _ = evaluate([moons_run], capsys)  # the same rows: the run's validation split
    assert accuracy_of(out2) == accuracy_of(out)
    code, _, err = evaluate([moons_run, "--csv", tmp_path / "moons.csv"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "trained on the built-in dataset 'moons', which has no label column: name the CSV's label column " \
           "with --label" in err, err
    (tmp_path / "wrong.csv").write_text("a,b,target\n0.1,0.2,1\n")
    code, _, err = evaluate([moons_run, "--csv", tmp_path / "wrong.csv", "--label", "target"], capsys)
    assert code == 2 and "feature column 'x0' not found; columns are: a, b, target" in err, err
    code, _, err = evaluate([moons_run, "--label", "target"], capsys)
    assert code == 2 and "--label names a column of the --csv file: give --csv FILE too" in err, err


# -- a malformed preprocessing.json ---------------------------------------------------------------

@pytest.mark.parametrize("key, value, pattern", [
    ("classes", "cat", r"'classes' must be a list of the 3 class labels .* found 'cat' \(str\)"),
    ("classes", 3, r"'classes' must be a list of the 3 class labels .* found 3 \(int\)"),
    ("classes", ["cat", "dog"], r"'classes' must be a list of the 3 class labels .* \(a list of 2\)"),
    ("classes", ["cat", "dog", "dog"], r"'classes' must be a list of the 3 class labels .*\(distinct"),
    ("classes", ["cat", 1, "fox"], r"'classes' must be a list of the 3 class labels .*all text or all integers"),
    ("classes", [True, False, True], r"'classes' must be a list of the 3 class labels"),
    ("classes", [[1], [2], [3]], r"'classes' must be a list of the 3 class labels"),
    ("features", "ab", r"'features' must be a list of the model's 2 input column names .* found 'ab' \(str\)"),
    ("features", ["a"], r"'features' must be a list of the model's 2 input column names .*\(a list of 1\)"),
    ("features", ["a", "a"], r"'features' must be a list of the model's 2 input column names \(distinct\)"),
    ("features", 7, r"'features' must be a list .* found 7 \(int\)"),
    ("in_model", "yes", r"'in_model' must be true or false, found 'yes' \(str\)"),
])
def test_a_malformed_preprocessing_file_is_one_line_naming_file_and_key(text_run, tmp_path, capsys, key, value,
                                                                         pattern, forget_checksums):
    damaged = tmp_path / "damaged"
    shutil.copytree(text_run, damaged)
    prep = json.loads((damaged / "preprocessing.json").read_text())
    (damaged / "preprocessing.json").write_text(json.dumps({**prep, key: value}))
    forget_checksums(damaged)
    with pytest.raises(ConfigError, match=re.escape(str(damaged / "preprocessing.json")) + ": " + pattern):
        runs.load_run(damaged)
    (tmp_path / "in.csv").write_text("a,b\n1,2\n")
    capsys.readouterr()
    for args in (["predict", damaged, tmp_path / "in.csv"], ["evaluate", damaged]):
        assert main([str(a) for a in args]) == 2
        err = capsys.readouterr().err  # (after the one warning that the old folder's files are unverified)
        errors = [line for line in err.splitlines() if not line.startswith("chainrule: warning:")]
        assert len(errors) == 1 and err.count("\n") == 2 and re.search(pattern, err), err


def test_the_runs_own_validation_split_is_the_one_it_was_trained_with(text_run):
    loaded = runs.load_run(text_run)
    X, y, where = loaded.data()
    built = runs.build(loaded.config)  # the same config: the same split (stratified on the class indices)
    assert where == "the run's validation split"
    assert np.array_equal(X, built.X_val) and list(y) == [CLASSES[k] for k in built.y_val]


def test_evaluate_help_says_how_columns_are_found(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--label COLUMN" in text and "x0, x1, ..." in text and "found by name, not position" in text


def test_evaluate_csv_on_a_built_in_regression_run(tmp_path, capsys):
    runs.train({**TINY, "data": {"name": "regression_1d", "options": {"n": 60}}}, run_dir=tmp_path / "run", verbose=0)
    loaded = runs.load_run(tmp_path / "run")
    X, y, _ = loaded.data()
    lines = ["x0,t"] + [f"{float(a)!r},{float(t)!r}" for a, t in zip(X[:, 0], y[:, 0])]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    code, out, err = evaluate([tmp_path / "run", "--csv", tmp_path / "s.csv", "--label", "t"], capsys)
    assert code == 0, err
    mse = float(re.search(r"loss\s+(\S+)", out).group(1))
    assert mse == pytest.approx(loaded.evaluate(X, y)["loss"], rel=1e-5)  # printed with 6 significant digits

