"""Save a fitted estimator to a folder and load it back, without pickle.

    est.save("model_dir")                     # or chainrule.sklearn.save(est, "model_dir")
    est = MLPClassifier.load("model_dir")     # or chainrule.sklearn.load("model_dir"), either class

The folder holds ``estimator.json`` (the class, its parameters and its fitted attributes, all
JSON), ``networks/<k>/`` (each network in chainrule's own format: model.json +
model.safetensors + checksums.json, through ``chainrule.saving``; one folder, or K for a
``seeds=`` ensemble) and ``checksums.json`` sealing estimator.json. A loaded estimator predicts
exactly as the saved one; its optimizer state is not kept (``partial_fit`` after loading starts a
new optimizer, as after unpickling). Parameters must be JSON values: a RandomState instance
as ``random_state`` is saved as None (a generator's state is not a parameter one restores);
``classes_`` must be ints, floats or strings.
"""

from __future__ import annotations

import hashlib
import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from ..errors import ArgumentTypeError, ConfigError
from ..saving.atomic import atomic_write_json
from ..saving.checksums import read_checksums, verify_digest, write_checksums
from ..saving.model_io import load_model, parse_json, read_capped, save_model

FORMAT = "chainrule-sklearn"
FORMAT_VERSION = 1
_PER_NETWORK = ("n_iter_", "t_", "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_")
_ENSEMBLE = ("seeds_", "loss_curves_")


def _encode(name, value):
    """A parameter as JSON: tuples and dicts tagged so that they come back as they were."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple):
        return {"tuple": [_encode(name, v) for v in value]}
    if isinstance(value, list):
        return [_encode(name, v) for v in value]
    if isinstance(value, dict):
        return {"dict": [[_encode(name, k), _encode(name, v)] for k, v in value.items()]}
    if isinstance(value, np.random.RandomState):
        return None
    if isinstance(value, type) and value in (np.float32, np.float64):
        return np.dtype(value).name
    raise ConfigError(f"save: parameter {name}={value!r} cannot be written as JSON (expected numbers, strings, "
                      f"lists, tuples or dicts of them)")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict) and set(value) == {"tuple"}:
        return tuple(_decode(v) for v in value["tuple"])
    if isinstance(value, dict) and set(value) == {"dict"}:
        return {_decode(k): _decode(v) for k, v in value["dict"]}
    return value


def _labels(classes):
    kind = classes.dtype.kind
    values = classes.tolist()
    if kind in "iu" or kind == "f":
        return {"dtype": classes.dtype.name, "values": values}
    if all(isinstance(v, str) for v in values):
        return {"dtype": "object" if kind == "O" else "str", "values": values}
    raise ConfigError(f"save: classes_ must be ints, floats or strings to be written as JSON, found {classes.dtype} "
                      f"labels such as {values[0]!r}")


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value.item() if isinstance(value, np.generic) else value


def save(estimator, path):
    """Write the fitted ``estimator`` to the folder ``path`` (created if needed); return the path."""
    check_is_fitted(estimator)
    if not isinstance(path, str | os.PathLike):
        raise ArgumentTypeError(f"save(path): expected a folder path, found {type(path).__name__}")
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"save(path): {os.fspath(path)!r} is a file, expected a folder")
    members = estimator.__dict__.get("estimators_") or [estimator]
    fitted = {name: _plain(getattr(estimator, name)) for name in
              ("n_features_in_", "n_layers_", "n_outputs_", "out_activation_", *_PER_NETWORK, *_ENSEMBLE)
              if name in estimator.__dict__ or name == "out_activation_"}
    if hasattr(estimator, "classes_"):
        fitted["classes_"] = _labels(estimator.classes_)
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(v) for v in estimator.feature_names_in_]
    if "_y_2d" in estimator.__dict__:
        fitted["_y_2d"] = bool(estimator._y_2d)
    params = {k: _encode(k, v) for k, v in estimator.get_params(deep=False).items()}
    for k, member in enumerate(members):
        save_model(member._model, directory / "networks" / str(k))
    atomic_write_json(directory / "estimator.json", {
        "format": FORMAT, "format_version": FORMAT_VERSION, "estimator": type(estimator).__name__,
        "params": params, "fitted": fitted, "networks": len(members),
        "members": [{n: _plain(getattr(m, n)) for n in _PER_NETWORK} for m in members] if members[0] is not
        estimator else None})
    write_checksums(directory, ("estimator.json",))
    return path


def load(path, classes, expected=None):
    """The estimator saved in the folder ``path``; ``classes``: {name: estimator class} it may be;
    ``expected``: the class it must be (or None: any of them)."""
    directory = Path(path)
    file = directory / "estimator.json"
    if not file.is_file():
        raise ConfigError(f"no saved estimator in {os.fspath(path)}: estimator.json not found")
    checksums = read_checksums(directory)
    data = read_capped(file, "estimator file")
    verify_digest(directory, "estimator.json", hashlib.sha256(data).hexdigest(), checksums)
    meta = parse_json(file, data)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("estimator") not in classes:
        raise ConfigError(f"{file} is not a saved chainrule.sklearn estimator (expected format {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ConfigError(f"{file} has format version {meta.get('format_version')!r}, this chainrule reads "
                          f"{FORMAT_VERSION}")
    cls = classes[meta["estimator"]]
    if expected is not None and cls is not expected:
        raise ConfigError(f"{file} holds a {cls.__name__}, not a {expected.__name__}")
    count = meta.get("networks")
    if not isinstance(count, numbers.Integral) or isinstance(count, bool) or count < 1:
        raise ConfigError(f"{file}: 'networks' must be a positive integer, found {count!r}")
    try:
        estimator = cls(**{k: _decode(v) for k, v in meta["params"].items()})
        fitted = dict(meta["fitted"])
        labels = fitted.pop("classes_", None)
        names = fitted.pop("feature_names_in_", None)
        members = [estimator] if meta["members"] is None else [
            cls(**{**estimator.get_params(deep=False), "seeds": None}) for _ in range(count)]
    except (TypeError, KeyError, ValueError, AttributeError) as e:
        raise ConfigError(f"{file} does not describe a {cls.__name__}: {e}") from None
    for name, value in fitted.items():
        setattr(estimator, name, value)
    if labels is not None:
        estimator.classes_ = np.array(labels["values"], dtype=labels["dtype"] if labels["dtype"] != "str" else None)
        estimator._binarizer = LabelBinarizer().fit(estimator.classes_)
    if names is not None:
        estimator.feature_names_in_ = np.array(names, dtype=object)
    if estimator.__dict__.get("seeds_") is not None:
        estimator.estimators_ = members
    for k, member in enumerate(members):
        member._model = load_model(directory / "networks" / str(k))
        if member is not estimator:
            for name, value in meta["members"][k].items():
                setattr(member, name, value)
            for name in ("classes_", "_binarizer", "out_activation_", "_y_2d"):
                if name in estimator.__dict__:
                    setattr(member, name, estimator.__dict__[name])
        member._expose_weights()
    return estimator
