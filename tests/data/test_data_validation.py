"""check_X / check_Xy: one-line errors saying what was expected and what was found."""

import numpy as np
import pytest

from chainrule.data import check_labels, check_X, check_Xy
from chainrule.errors import ConfigError, DataError

BAD_X = [
    (np.zeros(3), r"X must be 2-D \(n_samples, n_features\); got 1-D array of shape \(3,\); "
                  r"for a single feature use X.reshape\(-1, 1\)"),
    (np.zeros((2, 2, 2)), r"got 3-D array of shape \(2, 2, 2\)"),
    (np.zeros((0, 3)), r"X is empty: expected at least 1 sample and 1 feature; got shape \(0, 3\)"),
    (np.zeros((3, 0)), r"got shape \(3, 0\)"),
    (np.array([[1.0, 2.0], [3.0, np.nan]]), "X contains NaN at row 1, column 1; expected finite values"),
    (np.array([[1.0, -np.inf]]), "X contains -inf at row 0, column 1"),
    (np.array([["a", "b"]]), "X must hold numbers; got an array of dtype <U1"),
    ([[1.0, 2.0], [3.0]], "X must be a rectangular numeric array"),
    (np.ones((2, 2), dtype=complex), "X must hold real numbers"),
]


@pytest.mark.parametrize(("X", "pattern"), BAD_X)
def test_check_X_errors(X, pattern):
    with pytest.raises(DataError, match=pattern) as info:
        check_X(X)
    assert "\n" not in str(info.value)


def test_check_X_dtypes():
    assert check_X([[1, 2], [3, 4]]).dtype == np.float64
    assert check_X(np.ones((2, 2), dtype=np.float32)).dtype == np.float32
    with pytest.raises(DataError, match="X_val contains NaN"):
        check_X([[np.nan]], name="X_val")


BAD_XY = [
    (dict(X=np.ones((4, 2)), y=np.zeros(3), task="classification"),
     "X and y must have the same number of samples: X has 4, y has 3"),
    (dict(X=np.ones((4, 2)), y=np.zeros(4), task="classification", n_features=3),
     "X has 2 features per sample but the model expects 3"),
    (dict(X=np.ones((4, 2)), y=[0, 1, 2, 3], task="classification", n_classes=3),
     r"class labels must be in \[0, 3\) for 3 classes; got y\[3\] = 3"),
    (dict(X=np.ones((3, 2)), y=[0, -1, 1], task="classification"),
     r"class labels must be in \[0, n_classes\); got y\[1\] = -1"),
    (dict(X=np.ones((3, 2)), y=[0, 1.5, 1], task="classification"),
     r"class labels must be integers; got y\[1\] = 1.5"),
    (dict(X=np.ones((3, 2)), y=np.zeros((3, 2)), task="classification"),
     r"class labels y must be 1-D \(n_samples,\) integers in \[0, n_classes\); got shape \(3, 2\)"),
    (dict(X=np.ones((3, 2)), y=[0.0, np.inf, 1.0], task="regression"),
     "y contains inf at row 1, column 0"),
    (dict(X=np.ones((3, 2)), y=[0, np.nan, 1], task="classification"),
     "y contains NaN at row 1; expected integer class labels"),
    (dict(X=np.ones((3, 2)), y=5, task="regression"),
     "X has 3, y has a scalar"),
]


@pytest.mark.parametrize(("kwargs", "pattern"), BAD_XY)
def test_check_Xy_errors(kwargs, pattern):
    with pytest.raises(DataError, match=pattern) as info:
        check_Xy(**kwargs)
    assert "\n" not in str(info.value)


def test_check_Xy_canonical_forms():
    X, y = check_Xy(np.ones((3, 2)), np.array([[0.0], [2.0], [1.0]]), "classification", n_classes=3)
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]
    X, y = check_Xy(np.ones((3, 2)), [1, 2, 3], "regression", n_features=2)
    assert y.dtype == np.float64 and y.shape == (3, 1)
    with pytest.raises(ConfigError, match="task must be one of classification, regression; got 'clasify'"):
        check_Xy(np.ones((3, 2)), [0, 1, 0], "clasify")


def test_check_labels():
    assert check_labels([True, False]).tolist() == [1, 0]
    with pytest.raises(DataError, match="y is empty"):
        check_labels([])
    with pytest.raises(ConfigError, match="n_classes must be an integer >= 1; got 0"):
        check_labels([0], n_classes=0)


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_hints_fit_the_mistake():
    """One output with class labels, or float labels for a classifier: the message says which loss
    (the API has no task= argument, so it must not suggest one)."""
    import numpy as np

    from chainrule import nn
    from chainrule.train import Trainer

    X = np.random.default_rng(0).standard_normal((8, 2))
    y = np.array([0, 1] * 4)
    with pytest.raises(DataError, match="use loss='binary_cross_entropy' for 0/1 labels"):
        Trainer(nn.MLP([2, 4, 1]), verbose=0).fit(X, y, epochs=1)
    with pytest.raises(DataError, match="loss='mse'") as info:
        Trainer(nn.MLP([2, 4, 2]), verbose=0).fit(X, y + 0.5, epochs=1)
    assert "task=" not in str(info.value)
