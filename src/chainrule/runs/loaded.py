"""A finished run read back from its folder: the trained model with its configuration and
preprocessing, able to predict on new inputs the way the run saw its training data.

    run = load_run("runs/spiral-20260101-120000")
    run.predict(X)          # labels as the run knew them (CSV class names, or 0..k-1)
    run.predict_proba(X)    # (n, classes) probabilities, columns in the order of run.classes
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError
from ..saving.model_io import read_json_file
from .schema import complete


@dataclass
class LoadedRun:
    """model: the trained network; config: the completed configuration; preprocessing: the
    contents of preprocessing.json; classes: the labels of the output columns (classification)."""

    directory: Path
    config: dict
    preprocessing: dict
    model: object

    @property
    def task(self):
        return self.preprocessing["task"]

    @property
    def features(self):
        return self.preprocessing.get("features")

    @property
    def classes(self):
        if self.task != "classification":
            return None
        return self.preprocessing.get("classes") or list(range(self.model.d_out))

    def transform(self, X):
        """X: (n, features) raw inputs -> the inputs the model was trained on (standardized, if it was)."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.model.d_in:
            raise DataError(f"the model expects {self.model.d_in} features per sample (an array of shape "
                            f"(n, {self.model.d_in})), found shape {X.shape}")
        prep = self.preprocessing
        if not prep.get("standardize"):
            return X
        try:
            mean, scale = np.asarray(prep["mean"], np.float64), np.asarray(prep["scale"], np.float64)
        except (KeyError, TypeError, ValueError):
            raise ConfigError("preprocessing.json: 'mean' and 'scale' must be lists of numbers") from None
        if mean.shape != (X.shape[1],) or scale.shape != (X.shape[1],) or not np.all(np.isfinite(mean)) \
                or not np.all(scale > 0):
            raise ConfigError(f"preprocessing.json: 'mean' and 'scale' must be {X.shape[1]} finite numbers "
                              "(scale > 0), one per feature")
        return (X - mean) / scale

    def output(self, X):
        """The network's raw output (logits for classification), float64: (n, d_out)."""
        return np.asarray(self.model(self.transform(X)), np.float64)

    def predict_proba(self, X):
        """Classification: (n, classes) softmax probabilities, columns in the order of ``classes``."""
        if self.task != "classification":
            raise ConfigError("predict_proba: this run is a regression; use predict")
        from ..primitives.softmax import softmax

        return softmax(self.output(X), axis=1)

    def predict(self, X):
        """Classification: the most probable class of each row, as the run's labels; regression:
        (n,) for one target, (n, targets) for several."""
        out = self.output(X)
        if self.task == "classification":
            classes = self.classes
            return np.asarray([classes[int(k)] for k in np.argmax(out, axis=1)])
        return out[:, 0] if out.shape[1] == 1 else out

    def data(self, csv=None):
        """(X, y, where) to evaluate on, raw (before preprocessing): a CSV holding the run's
        label and feature columns, else the run's own validation split (its training data if
        it had none). ``where`` says which, for a report."""
        from .. import data
        from .build import load_data

        cfg = self.config
        if csv is not None:
            label = self.preprocessing.get("label") or cfg["data"].get("label")
            if not label:
                raise ConfigError("this run was not trained on a CSV; its label column is unknown")
            X, y, _ = data.load_csv(csv, label=label, features=self.features)
            return X, y, str(csv)
        X, y, _ = load_data(cfg)
        if self.task != "classification":
            y = np.asarray(y, np.float64)
        if cfg["data"]["val_fraction"] > 0:
            _, X, _, y = data.train_val_split(X, y, val_fraction=cfg["data"]["val_fraction"], seed=cfg["seed"])
            return X, y, "the run's validation split"
        return X, y, "the run's training data"

    def evaluate(self, X, y):
        """{loss, metrics...} of the trained model on raw inputs X and targets y."""
        from ..train.evaluation import evaluate
        from .build import loss_name

        return evaluate(self.model, self.transform(X), y, loss=loss_name(self.config, self.task))


def load_run(directory):
    """Read a finished run folder (written by ``runs.train``, ``chainrule train`` or ``demo``)."""
    from ..saving import load_model

    run = Path(directory)
    if not run.is_dir():
        raise ConfigError(f"run folder not found: {run}")
    for name in ("config.json", "preprocessing.json"):
        if not (run / name).is_file():
            raise ConfigError(f"{run} is not a chainrule run folder ({name} is missing)")
    cfg = complete(read_json_file(run / "config.json", "run config"), source=str(run / "config.json"))
    prep = read_json_file(run / "preprocessing.json", "preprocessing file")
    if not isinstance(prep, dict) or prep.get("task") not in ("classification", "regression") \
            or not isinstance(prep.get("standardize"), bool):
        raise ConfigError(f"{run / 'preprocessing.json'} is not a chainrule preprocessing file")
    if not (run / "model").is_dir():
        raise ConfigError(f"{run} has no trained model yet (model/ is missing): the run did not finish; "
                          f"continue it with 'chainrule train --resume {run}'")
    model = load_model(run / "model")
    _check_preprocessing(prep, run / "preprocessing.json", model)
    return LoadedRun(run, cfg, prep, model)


def _check_preprocessing(prep, path, model):
    """The fields predict and evaluate read, each of the kind and size the model needs."""
    features, classes, label = prep.get("features"), prep.get("classes"), prep.get("label")
    if features is not None and not (isinstance(features, list) and len(features) == model.d_in
                                     and all(isinstance(f, str) for f in features)):
        raise ConfigError(f"{path}: 'features' must be a list of the model's {model.d_in} input column names, "
                          f"found {str(features)[:80]}")
    if label is not None and not isinstance(label, str):
        raise ConfigError(f"{path}: 'label' must be a column name, found {str(label)[:80]}")
    if classes is not None and not (prep["task"] == "classification" and isinstance(classes, list)
                                    and len(classes) == model.d_out
                                    and all(isinstance(c, str | int | float) for c in classes)):
        raise ConfigError(f"{path}: 'classes' must be a list of the {model.d_out} class labels of the model's "
                          f"outputs, found {str(classes)[:80]}")
