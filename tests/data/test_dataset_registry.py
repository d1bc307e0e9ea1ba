"""load_dataset by name, its error messages, and the optional scikit-learn datasets."""

import sys

import numpy as np
import pytest

from chainrule.data import (
    OptionalDependencyError,
    dataset_names,
    dataset_task,
    load_dataset,
    make_moons,
    make_regression_1d,
)
from chainrule.errors import ChainruleError

SYNTHETIC = ["xor", "moons", "circles", "blobs", "spiral", "regression_1d"]
SKLEARN_SHAPES = {"digits": (1797, 64, 10), "iris": (150, 4, 3), "wine": (178, 13, 3),
                  "breast_cancer": (569, 30, 2)}


def test_registry_lists_every_dataset():
    assert dataset_names() == SYNTHETIC + list(SKLEARN_SHAPES)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_task_matches_the_targets(name):
    X, y = load_dataset(name)
    if dataset_task(name) == "classification":
        assert y.dtype == np.int64 and y.shape == (len(X),)
    else:
        assert y.dtype == np.float64 and y.shape == (len(X), 1)


def test_keyword_arguments_reach_the_generator():
    X, y = load_dataset("moons", n=50, noise=0.2, seed=3)
    X_direct, y_direct = make_moons(n=50, noise=0.2, seed=3)
    assert np.array_equal(X, X_direct) and np.array_equal(y, y_direct)
    X, y = load_dataset("regression_1d", target="step", n=10)
    assert np.array_equal(y, make_regression_1d("step", n=10)[1])


def test_names_are_normalized():
    X, _ = load_dataset(" Breast-Cancer ")
    assert X.shape == (569, 30)


def test_unknown_name_is_a_value_error_suggesting_the_closest():
    with pytest.raises(ValueError, match=r"unknown dataset 'spirals' \(did you mean 'spiral'\?\); valid names: "
                                         r"xor, moons, circles, blobs, spiral, regression_1d, digits"):
        load_dataset("spirals")


def test_unknown_keyword_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"no parameter 'nosie' \(did you mean 'noise'\?\); "
                                         r"valid parameters: n, noise, seed"):
        load_dataset("moons", nosie=0.3)
    with pytest.raises(ValueError, match="valid parameters: none"):
        load_dataset("xor", seed=1)


@pytest.mark.parametrize("name", list(SKLEARN_SHAPES))
def test_sklearn_datasets(name):
    pytest.importorskip("sklearn")
    X, y = load_dataset(name)
    n, d, k = SKLEARN_SHAPES[name]
    assert X.shape == (n, d) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.array_equal(np.unique(y), np.arange(k))


def test_missing_sklearn_is_a_clear_error(monkeypatch):
    # None in sys.modules makes the import fail exactly as if the package were not installed.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(OptionalDependencyError, match=r"'iris' dataset needs scikit-learn.*chainrule\[datasets\]"):
        load_dataset("iris")
    assert issubclass(OptionalDependencyError, ChainruleError) and issubclass(OptionalDependencyError, ImportError)
