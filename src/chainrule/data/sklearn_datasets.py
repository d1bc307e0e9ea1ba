"""scikit-learn's bundled real datasets (the optional ``datasets`` extra).

scikit-learn is imported only when one of these loaders is called, so chainrule itself needs
nothing beyond NumPy. The data ship with scikit-learn: no network access is needed.
"""

from __future__ import annotations

import importlib

import numpy as np

from chainrule.errors import ConfigError, OptionalDependencyError

# name -> (sklearn loader, what it is)
SKLEARN_DATASETS = {
    "digits": ("load_digits", "8x8 handwritten digits: X (1797, 64) pixel values 0-16, 10 classes"),
    "iris": ("load_iris", "iris flowers: X (150, 4) measurements in cm, 3 classes"),
    "wine": ("load_wine", "wine cultivars: X (178, 13) chemical analyses, 3 classes"),
    "breast_cancer": ("load_breast_cancer", "breast cancer Wisconsin: X (569, 30), 2 classes"),
}


__all__ = ["SKLEARN_DATASETS", "OptionalDependencyError", "load_breast_cancer", "load_digits", "load_iris",
           "load_sklearn_dataset", "load_wine"]


def load_sklearn_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One of ``SKLEARN_DATASETS``: X float64 (n, d), y int64 (n,) class labels in [0, K)."""
    if name not in SKLEARN_DATASETS:
        raise ConfigError(f"{name!r} is not a scikit-learn dataset; choose from {', '.join(SKLEARN_DATASETS)}")
    try:
        sklearn_datasets = importlib.import_module("sklearn.datasets")
    except ImportError:
        raise OptionalDependencyError(
            f"the {name!r} dataset needs scikit-learn, which is not installed; "
            f"install it with: pip install 'chainrule[datasets]'") from None
    loader = getattr(sklearn_datasets, SKLEARN_DATASETS[name][0])
    X, y = loader(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def load_digits():
    """sklearn's digits: X (1797, 64) float64 with values 0-16, y (1797,) in [0, 10)."""
    return load_sklearn_dataset("digits")


def load_iris():
    """sklearn's iris: X (150, 4) float64, y (150,) in [0, 3)."""
    return load_sklearn_dataset("iris")


def load_wine():
    """sklearn's wine: X (178, 13) float64, y (178,) in [0, 3)."""
    return load_sklearn_dataset("wine")


def load_breast_cancer():
    """sklearn's breast cancer: X (569, 30) float64, y (569,) in {0, 1}."""
    return load_sklearn_dataset("breast_cancer")
