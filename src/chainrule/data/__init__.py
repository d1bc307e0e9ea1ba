"""Data for training: built-in datasets, a CSV loader, mini-batching, preprocessing, validation.

Everything returns NumPy arrays: X float64 (n, d); classification y int64 class labels (n,);
regression y float64 (n, k). Everything random takes a ``seed``.

- ``datasets``: synthetic problems (XOR, moons, circles, blobs, spiral, 1-D regression targets).
- ``sklearn_datasets``: sklearn's bundled digits, iris, wine, breast cancer (optional extra).
- ``registry``: ``load_dataset(name, **kwargs)`` over all of the above.
- ``csv``: ``load_csv`` for a user's own data.
- ``batching``: ``Batcher``, seed 003's shuffle-and-split mini-batches, resumable exactly.
- ``preprocessing``: ``Standardizer``, ``train_val_split``, ``one_hot``.
- ``validation``: ``check_X``, ``check_Xy``, ``check_labels``.
"""

from .batching import Batcher, epoch_permutation, iterate_minibatches
from .csv import load_csv
from .datasets import (
    REGRESSION_TARGETS,
    make_blobs,
    make_circles,
    make_moons,
    make_regression_1d,
    make_spiral,
    xor,
)
from .preprocessing import Standardizer, one_hot, train_val_split
from .registry import DATASETS, dataset_names, dataset_task, load_dataset
from .sklearn_datasets import (
    OptionalDependencyError,
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
)
from .validation import check_labels, check_X, check_Xy

__all__ = [
    "DATASETS",
    "REGRESSION_TARGETS",
    "Batcher",
    "OptionalDependencyError",
    "Standardizer",
    "check_X",
    "check_Xy",
    "check_labels",
    "dataset_names",
    "dataset_task",
    "epoch_permutation",
    "iterate_minibatches",
    "load_breast_cancer",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_iris",
    "load_wine",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_regression_1d",
    "make_spiral",
    "one_hot",
    "train_val_split",
    "xor",
]
