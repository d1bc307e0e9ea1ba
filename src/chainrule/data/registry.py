"""Datasets by name: ``load_dataset('spiral', noise=0.1)``, as a config file or the CLI names them."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.errors import ConfigError

from ..errors import did_you_mean
from . import datasets, sklearn_datasets


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: the function that builds it and whether its y are classes or values."""

    loader: Any
    task: str  # 'classification' or 'regression'


DATASETS: dict[str, DatasetSpec] = {
    "xor": DatasetSpec(datasets.xor, "classification"),
    "moons": DatasetSpec(datasets.make_moons, "classification"),
    "circles": DatasetSpec(datasets.make_circles, "classification"),
    "blobs": DatasetSpec(datasets.make_blobs, "classification"),
    "spiral": DatasetSpec(datasets.make_spiral, "classification"),
    "regression_1d": DatasetSpec(datasets.make_regression_1d, "regression"),
    "digits": DatasetSpec(sklearn_datasets.load_digits, "classification"),
    "iris": DatasetSpec(sklearn_datasets.load_iris, "classification"),
    "wine": DatasetSpec(sklearn_datasets.load_wine, "classification"),
    "breast_cancer": DatasetSpec(sklearn_datasets.load_breast_cancer, "classification"),
}


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
