"""Datasets by name: ``load_dataset('spiral', noise=0.1)``, as a config file or the CLI names them."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.errors import ConfigError

from ..errors import did_you_mean
from . import datasets, sklearn_datasets


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: the function that builds it, whether its y are classes or values, and its
    shape from its options without building it (for the memory budget, ``runs/budget.py``).

    ``shape(count, option)``: (n, inputs, outputs: classes or 1) from the options, where
    ``count(key)`` is the option (or its default) as a count, None when it is not one, and
    ``option(key)`` its raw value; None when the options do not say (the generator reports that).
    """

    loader: Any
    task: str  # 'classification' or 'regression'
    shape: Any


def _fixed(n, d, k):
    return lambda count, option: (n, d, k)


def _spiral_shape(count, option):
    per, k = count("n_per_class"), count("n_classes")
    return None if per is None or k is None else (per * k, 2, k)


def _blobs_shape(count, option):
    k, d = count("centers"), count("dim")
    if k is None:  # an array of centers: (k, dim)
        centers = option("centers")
        if not (isinstance(centers, list) and centers and all(isinstance(r, list) for r in centers)):
            return None
        k, d = len(centers), len(centers[0])
    n = count("n")
    return None if n is None or d is None else (n, d, k)


DATASETS: dict[str, DatasetSpec] = {
    "xor": DatasetSpec(datasets.xor, "classification", _fixed(4, 2, 2)),
    "moons": DatasetSpec(datasets.make_moons, "classification", lambda count, option: (count("n"), 2, 2)),
    "circles": DatasetSpec(datasets.make_circles, "classification", lambda count, option: (count("n"), 2, 2)),
    "blobs": DatasetSpec(datasets.make_blobs, "classification", _blobs_shape),
    "spiral": DatasetSpec(datasets.make_spiral, "classification", _spiral_shape),
    "regression_1d": DatasetSpec(datasets.make_regression_1d, "regression",
                                 lambda count, option: (count("n"), 1, 1)),
    "digits": DatasetSpec(sklearn_datasets.load_digits, "classification", _fixed(1797, 64, 10)),
    "iris": DatasetSpec(sklearn_datasets.load_iris, "classification", _fixed(150, 4, 3)),
    "wine": DatasetSpec(sklearn_datasets.load_wine, "classification", _fixed(178, 13, 3)),
    "breast_cancer": DatasetSpec(sklearn_datasets.load_breast_cancer, "classification", _fixed(569, 30, 2)),
}


def dataset_shape(name, options):
    """(n, inputs, outputs) of a built-in dataset from its options, without generating it; None
    when the options are not counts (the generator will say so) or the name is unknown."""
    spec = DATASETS.get(name)
    if spec is None:
        return None
    given = dict(options)
    defaults = {k: p.default for k, p in inspect.signature(spec.loader).parameters.items()}

    def option(key):
        return given.get(key, defaults.get(key))

    shape = spec.shape(lambda key: _count(option(key)), option)
    if shape is None or None in shape or min(shape) < 1:
        return None
    return shape


def _count(value):
    """An option's value as a count (integral floats too: ``n = 1e9``), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    return None


def dataset_names() -> list[str]:
    """The names ``load_dataset`` accepts."""
    return list(DATASETS)


def _spec(name: str) -> tuple[str, DatasetSpec]:
    if not isinstance(name, str):
        raise ConfigError(f"dataset name must be a string; got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in DATASETS:
        hint = did_you_mean(key, DATASETS)
        raise ConfigError(f"unknown dataset {name!r}{hint}; valid names: {', '.join(DATASETS)}")
    return key, DATASETS[key]


def dataset_task(name: str) -> str:
    """'classification' or 'regression' for the named dataset."""
    return _spec(name)[1].task


def load_dataset(name: str, **kwargs):
    """Build the named dataset: ``(X, y)`` exactly as its generator returns them.

    ``kwargs`` go to the generator (e.g. ``n``, ``noise``, ``seed``); an unknown keyword is a
    ``ConfigError`` listing the valid ones.
    """
    key, spec = _spec(name)
    parameters = inspect.signature(spec.loader).parameters
    for keyword in kwargs:
        if keyword not in parameters:
            valid = ", ".join(parameters) or "none"
            hint = did_you_mean(keyword, parameters)
            raise ConfigError(f"dataset {key!r} has no parameter {keyword!r}{hint}; valid parameters: {valid}")
    with np.errstate(all="ignore"):  # overflow is reported below, naming the options, not as a warning
        try:
            X, y = spec.loader(**kwargs)
        except (OverflowError, FloatingPointError, MemoryError) as e:
            raise ConfigError(f"dataset {key!r} with {_options(kwargs)} cannot be generated: "
                              f"{type(e).__name__}: {e}") from None
    if key in _GENERATED and not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ConfigError(f"dataset {key!r} with {_options(kwargs)} made values that are not finite (they "
                          "overflow float64); choose smaller options")
    return X, y


_GENERATED = ("moons", "circles", "blobs", "spiral", "regression_1d")


def _options(kwargs) -> str:
    text = ", ".join(f"{k} = {v!r}" for k, v in kwargs.items()) or "its defaults"
    return text if len(text) <= 200 else text[:197] + "..."
