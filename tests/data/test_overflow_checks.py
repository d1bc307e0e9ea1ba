"""Finite inputs that overflow (issue 12, cause 9): checked after every cast and transform, the
data named as the cause."""

import numpy as np
import pytest

from chainrule import runs
from chainrule.cli import main
from chainrule.data import Standardizer
from chainrule.data.validation import check_finite_output, check_trainable, safe_magnitude
from chainrule.errors import DataError


def test_standardizer_rescales_a_column_whose_variance_overflows():
    X = np.array([[1e200, 1.0], [2e200, 2.0], [3e200, 4.0]])
    s = Standardizer().fit(X)
    assert s.scale_[0] == pytest.approx(np.sqrt(2 / 3) * 1e200, rel=1e-12)  # not the silent scale 1
    Z = s.transform(X)
    np.testing.assert_allclose(Z[:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)], rtol=1e-12)
    # the ordinary column is untouched, bit for bit
    assert np.array_equal(Z[:, 1], (X[:, 1] - X[:, 1].mean()) / X[:, 1].std())


def test_standardizer_handles_a_sum_that_overflows():
    X = np.array([[1e308], [1e308], [-1e308], [5e307]])
    Z = Standardizer().fit_transform(X)
    assert np.all(np.isfinite(Z)) and abs(Z.mean()) < 1e-12 and Z.std() == pytest.approx(1.0)


def test_standardizer_refuses_an_input_it_cannot_standardize():
    s = Standardizer().fit(np.array([[1e308], [1e308]]))  # constant: scale 1
    with pytest.raises(DataError, match=r"X\[0, 0\] = -1e\+308 is too far from the data"):
        s.transform(np.array([[-1e308]]))


def write(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("a,b,t\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_a_value_that_becomes_inf_in_float32_names_row_and_column(tmp_path):
    rows = [(i, 1e39 if i == 5 else i / 7, i % 2) for i in range(20)]
    cfg = {"dtype": "float32", "data": {"path": str(write(tmp_path, "f.csv", rows)), "label": "t",
                                        "standardize": False}, "model": {"hidden": [3]}}
    with pytest.raises(DataError, match=r"row 7, input column 'b': 1e\+39 does not fit in float32"):
        runs.build(cfg)
    # The run's model standardizes in its first layer, after the raw inputs are cast to float32:
    # standardizing does not rescue a value float32 cannot hold; float64 can.
    cfg["data"]["standardize"] = True
    with pytest.raises(DataError, match=r"row 7, input column 'b': 1e\+39 does not fit in float32.*float64"):
        runs.build(cfg)
    runs.build({**cfg, "dtype": "float64"})


def test_regression_targets_near_1e200_are_named_as_the_cause(tmp_path):
    rows = [(i, i / 3, 1e200 * (i + 1)) for i in range(20)]
    cfg = {"data": {"path": str(write(tmp_path, "t.csv", rows)), "label": "t"}, "model": {"hidden": [3]}}
    with pytest.raises(DataError, match=r"row 2, target column 't': 1e\+200 is too large to train on in float64"):
        runs.build(cfg)


def test_the_safe_magnitude_is_what_the_arithmetic_takes():
    """A value at the bound, squared and summed over a batch of a million, stays finite."""
    for dtype in (np.float32, np.float64):
        v = np.asarray(safe_magnitude(dtype), dtype)
        assert np.isfinite(v * v * dtype(1e6))


def test_check_trainable_passes_ordinary_data():
    X = np.random.default_rng(0).standard_normal((10, 3)) * 1e6
    check_trainable(X, X[:, :1], "float32", "regression")


def test_nonfinite_outputs_name_the_row():
    with pytest.raises(DataError, match=r"in.csv: row 3: the network's output for this input is not finite"):
        check_finite_output(np.array([[0.1, 0.9], [np.nan, np.nan]]), np.array([[1.0, 2.0], [1e308, -1e308]]),
                            source="in.csv", rows=np.array([2, 3]), columns=["x0", "x1"])


def test_predict_on_1e308_is_an_error_not_nan_probabilities(tmp_path, capsys):
    cfg = {"data": {"name": "moons", "options": {"n": 40}}, "model": {"hidden": [3]},
           "training": {"epochs": 1, "gradient_check": False}, "output": {"plots": False}}
    runs.train(cfg, run_dir=tmp_path / "r", verbose=0)
    (tmp_path / "in.csv").write_text("x0,x1\n1,2\n1e308,-1e308\n")
    capsys.readouterr()
    code = main(["predict", str(tmp_path / "r"), str(tmp_path / "in.csv")])
    out, err = capsys.readouterr()
    assert code == 2 and "nan" not in out and err.count("\n") == 1, err
    assert "row 3: the network's output for this input is not finite" in err


def test_raw_inputs_that_do_not_fit_the_dtype_are_refused_even_when_standardized():
    # A run's model standardizes in its first layer (nn.Standardize), so the raw inputs are cast
    # to the model's dtype first: 1e39 standardizes to a small number, but becomes inf in float32.
    from chainrule.data import Standardizer
    from chainrule.data.validation import check_trainable

    X = np.array([[1e39, 1.0], [2e39, 2.0], [3e39, 0.0]])
    scaler = Standardizer().fit(X)
    with pytest.raises(DataError, match=r"row 0, input column 'a': 1e\+39 does not fit in float32"):
        check_trainable(X, np.array([0, 1, 0]), "float32", "classification", scaler, ["a", "b"])
    check_trainable(X, np.array([0, 1, 0]), "float64", "classification", scaler, ["a", "b"])  # fits float64


def test_a_cast_that_blurs_a_feature_is_refused():
    # The reviewer's case: t = 1e6 + 0.05·N(0, 1). float32's spacing at 1e6 is 0.0625, more than
    # the spread: cast before standardizing, t loses what separates the classes. Training on it
    # in float32 gave 0.71 validation accuracy against 0.99 before (silently); now it is refused.
    from chainrule.data import Standardizer
    from chainrule.data.validation import check_trainable

    rng = np.random.default_rng(0)
    X = np.column_stack([1e6 + 0.05 * rng.standard_normal(200), rng.standard_normal(200)])
    y = (X[:, 0] > 1e6).astype(int)
    scaler = Standardizer().fit(X)
    with pytest.raises(DataError, match=r"input column 't': .* lose \d+% of a standard deviation when cast to "
                                        r"float32 .*float64"):
        check_trainable(X, y, "float32", "classification", scaler, ["t", "u"])
    check_trainable(X, y, "float64", "classification", scaler, ["t", "u"])
    # a feature far from zero but spread wide enough keeps its resolution: accepted
    X[:, 0] = 1e6 + 1e3 * rng.standard_normal(200)
    check_trainable(X, y, "float32", "classification", Standardizer().fit(X), ["t", "u"])
    # a constant column at 1e9 rounds the same everywhere: nothing is lost
    X[:, 0] = 1e9 + 0.3
    check_trainable(X, y, "float32", "classification", Standardizer().fit(X), ["t", "u"])
