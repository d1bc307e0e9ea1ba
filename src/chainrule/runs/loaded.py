"""A finished run read back from its folder: the trained model with its configuration and
preprocessing, able to predict on new inputs the way the run saw its training data.

    run = load_run("runs/spiral-20260101-120000")
    run.predict(X)          # labels as the run knew them (CSV class names, or 0..k-1)
    run.predict_proba(X)    # (n, classes) probabilities, columns in the order of run.classes
    run.evaluate(X, y)      # y in the run's labels too

A run's standardization is the first layer of its model (``nn.Standardize``), so the model takes
raw inputs; a folder written before that (model without it, mean/scale in preprocessing.json)
is read too, and its inputs are standardized here. Never both.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.files import shown
from ..data.validation import check_finite_output
from ..errors import ConfigError, DataError
from ..nn.standardize import leading_standardize
from ..saving.checksums import UnverifiedFileWarning, verify_checksums
from ..saving.model_io import read_json_file
from .folder import RUN_FILES
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

    @property
    def standardizes_in_model(self):
        """Whether the model's first layer standardizes its inputs (runs written since Standardize)."""
        return leading_standardize(self.model) is not None

    def transform(self, X):
        """X: (n, features) raw inputs -> what the model takes: X itself when the model
        standardizes (it does for runs written since ``nn.Standardize``), else standardized
        with preprocessing.json's mean and scale (an older run folder)."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.model.d_in:
            raise DataError(f"the model expects {self.model.d_in} features per sample (an array of shape "
                            f"(n, {self.model.d_in})), found shape {X.shape}")
        prep = self.preprocessing
        if not prep.get("standardize") or self.standardizes_in_model:
            return X
        mean, scale = np.asarray(prep["mean"], np.float64), np.asarray(prep["scale"], np.float64)  # (checked at load)
        return (X - mean) / scale

    def output(self, X, source=None, rows=None, columns=None):
        """The network's raw output (logits for classification), float64: (n, d_out).

        An output that is not finite (inputs beyond the network's arithmetic, 1e308 say) is a
        DataError naming the first such row and its largest input, never a NaN handed on:
        ``source``, ``rows`` (the row number of each of X's rows) and ``columns`` (the feature
        names) name them as the caller's file does; by default row i and column j of X."""
        with np.errstate(over="ignore", invalid="ignore"):  # (the check below says it, in one line)
            out = np.asarray(self.model(self.transform(X)), np.float64)
        check_finite_output(out, X, source=source, rows=rows, columns=columns)
        return out

    def predict_proba(self, X, **where):
        """Classification: (n, classes) softmax probabilities, columns in the order of ``classes``.
        ``where``: source, rows, columns, as for ``output``."""
        if self.task != "classification":
            raise ConfigError("predict_proba: this run is a regression; use predict")
        from ..primitives.softmax import softmax

        return softmax(self.output(X, **where), axis=1)

    def predict(self, X, **where):
        """Classification: the most probable class of each row, as the run's labels; regression:
        (n,) for one target, (n, targets) for several. ``where``: as for ``output``."""
        out = self.output(X, **where)
        if self.task == "classification":
            classes = self.classes
            return np.asarray([classes[int(k)] for k in np.argmax(out, axis=1)])
        return out[:, 0] if out.shape[1] == 1 else out

    def class_indices(self, labels, source=None):
        """Classification: labels in the run's own labels (``classes``) -> (n,) int64 output indices.
        A label the run does not know is a DataError naming it and the run's classes."""
        classes = self.classes
        index = {c: i for i, c in enumerate(classes)}
        text = all(isinstance(c, str) for c in classes)
        out = np.empty(len(labels), np.int64)
        for n, label in enumerate(labels):
            i = index.get(_class_key(label, text))
            if i is None:
                where = f"{source}: " if source else ""
                kind = " (the run's labels are text, these are numbers)" if text and not isinstance(label, str) else ""
                raise DataError(f"{where}label {_short(label)} is not one of the run's classes "
                                f"{_short_list(classes)}{kind}")
            out[n] = i
        return out

    def data(self, csv=None, label=None):
        """(X, y, where): ``located_data`` without the row numbers and names."""
        return self.located_data(csv, label)[:3]

    def located_data(self, csv=None, label=None):
        """(X, y, where, located) to evaluate on, raw (before preprocessing), y in the run's labels: a CSV
        holding the run's feature columns and the label column ``label`` (default: the run's own
        label column), else the run's own validation split (its training data if it had none).
        Features are read by the run's feature names (x0, x1, ... for a built-in dataset);
        ``where`` says what was read, for a report; ``located`` ({source, rows, columns}) names
        X's rows and columns as the file does, for ``evaluate`` to name a row it cannot take."""
        from .. import data
        from .build import load_data

        cfg = self.config
        if csv is not None:
            label = label or self.preprocessing.get("label") or cfg["data"].get("label")
            if not label:
                raise ConfigError(f"this run was trained on the built-in dataset {cfg['data']['name']!r}, which has "
                                  "no label column: name the CSV's label column with --label")
            X, y, meta = data.load_csv(csv, label=label, features=self.features, task=self.task)
            if X.shape[1] != self.model.d_in:
                raise DataError(f"{csv}: the model expects {self.model.d_in} features, found {X.shape[1]} columns "
                                f"besides the label {label!r}")
            if self.task == "classification":
                y = np.asarray(meta["classes"], dtype=object)[y]  # the file's own labels, row by row
                self.class_indices(y, source=csv)  # an unknown label is an error here, naming the file
            return X, y, str(csv), {"source": shown(csv), "rows": meta["rows"], "columns": meta["features"]}
        X, y, meta = load_data(cfg)
        if self.task != "classification":
            y = np.asarray(y, np.float64)
        where = "the run's training data"
        if cfg["data"]["val_fraction"] > 0:  # (split as in training: on the class indices, stratified)
            _, X, _, y = data.train_val_split(X, y, val_fraction=cfg["data"]["val_fraction"], seed=cfg["seed"])
            where = "the run's validation split"
        if self.task == "classification":  # the labels the data holds now (a CSV may have changed since)
            y = np.asarray(meta.get("classes") or self.classes, dtype=object)[np.asarray(y)]
        return X, y, where, {"source": where, "rows": None, "columns": self.features}

    def evaluate(self, X, y, **where):
        """{loss, metrics...} of the trained model on raw inputs X and targets y (classification:
        labels as ``predict`` returns them, mapped through ``classes``). An input whose output is
        not finite is a DataError naming it (``where``: as for ``output``), not a NaN loss."""
        from ..train.evaluation import evaluate
        from .build import loss_name

        if self.task == "classification":
            y = self.class_indices(np.asarray(y, dtype=object).reshape(-1))
        with np.errstate(over="ignore", invalid="ignore"):  # (a non-finite result is named below)
            logs = evaluate(self.model, self.transform(X), y, loss=loss_name(self.config, self.task))
        if not all(np.isfinite(v) for v in logs.values()):
            self.output(X, **where)  # names the first input the network cannot take
        return logs


def _class_key(label, text):
    """What a label is looked up as among the run's classes: a number written as text counts as
    that number in a run whose labels are numbers, and a whole number as its digits in a run whose
    labels are text (a run whose classes are '1', '2', 'other')."""
    if isinstance(label, bool | np.bool_):
        return None
    if isinstance(label, np.generic):
        label = label.item()
    if text:
        if isinstance(label, int) or (isinstance(label, float) and label.is_integer()):
            return str(int(label))
        return label if isinstance(label, str) else None
    if isinstance(label, str):
        try:
            return int(label.strip())
        except ValueError:
            return None
    return label


def _short(value, limit=40):
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short_list(values, limit=200):
    text = "[" + ", ".join(_short(v) for v in values) + "]"
    return text if len(text) <= limit else text[:limit - 4] + "...]"


def load_run(directory):
    """Read a finished run folder (written by ``runs.train``, ``chainrule train`` or ``demo``)."""
    from ..saving import load_model

    run = Path(directory)
    if not run.is_dir():
        raise ConfigError(f"run folder not found: {run}")
    manifest = _manifest(run)
    for name in ("config.json", "preprocessing.json"):
        if not os.path.lexists(run / name):  # (one of the wrong kind is named as such when it is read)
            status = manifest.get("status") if manifest is not None else None
            if status in ("running", "interrupted", "failed"):
                raise ConfigError(f"{run} is a run that has not finished (its manifest says {status!r}; "
                                  f"{name} is written when it finishes): continue it with "
                                  f"'chainrule train --resume {run}'")
            raise ConfigError(f"{run} is not a chainrule run folder ({name} is missing)")
    cfg = complete(read_json_file(run / "config.json", "run config"), source=str(run / "config.json"))
    prep = read_json_file(run / "preprocessing.json", "preprocessing file")
    if not isinstance(prep, dict) or prep.get("task") not in ("classification", "regression") \
            or not isinstance(prep.get("standardize"), bool):
        raise ConfigError(f"{run / 'preprocessing.json'} is not a chainrule preprocessing file")
    _verify_run_files(run, manifest)
    if not (run / "model").is_dir():
        raise ConfigError(f"{run} has no trained model yet (model/ is missing): the run did not finish; "
                          f"continue it with 'chainrule train --resume {run}'")
    model = load_model(run / "model")
    _check_preprocessing(prep, run / "preprocessing.json", model)
    _check_task(prep, run / "preprocessing.json", model, cfg)
    return LoadedRun(run, cfg, prep, model)


def _manifest(run):
    """The run's manifest.json as a dict, or None if it has none (or not a JSON object)."""
    if not (run / "manifest.json").is_file():
        return None
    manifest = read_json_file(run / "manifest.json", "run manifest")
    return manifest if isinstance(manifest, dict) else None


def _verify_run_files(run, manifest):
    """config.json and preprocessing.json are the files the finished run recorded the SHA-256 of
    (WeightsFileError naming the first that is not); a run finished before checksums were
    recorded loads with one UnverifiedFileWarning."""
    table = manifest.get("sha256") if manifest is not None else None
    if table is None:
        warnings.warn(f"{run}'s manifest records no checksums of {', '.join(RUN_FILES)} (a run finished by an "
                      "older chainrule): they are not verified", UnverifiedFileWarning, stacklevel=3)
        return
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ConfigError(f"{run / 'manifest.json'}: 'sha256' must be a table of file names and SHA-256 digests, "
                          f"found {_found(table)}")
    verify_checksums(run, RUN_FILES, table, source=run / "manifest.json")


def _check_task(prep, path, model, cfg):
    """The task and number of classes preprocessing.json states are the model's and config.json's."""
    from ..data import dataset_task

    task, n_classes = prep["task"], prep.get("n_classes")
    if cfg["data"]["name"] != "csv" and task != dataset_task(cfg["data"]["name"]):
        raise ConfigError(f"{path}: 'task' is {task!r}, but the run's dataset {cfg['data']['name']!r} is a "
                          f"{dataset_task(cfg['data']['name'])}: the files do not belong together")
    if task == "classification":
        if not (isinstance(n_classes, int) and not isinstance(n_classes, bool) and n_classes == model.d_out):
            raise ConfigError(f"{path}: 'n_classes' must be the model's {model.d_out} outputs for a classification "
                              f"run, found {_found(n_classes)}")
        if model.d_out < 2:
            raise ConfigError(f"{path}: a classification run's model has at least 2 outputs, found {model.d_out}")
    elif n_classes is not None:
        raise ConfigError(f"{path}: 'n_classes' must be null for a regression run, found {_found(n_classes)}")


def _check_preprocessing(prep, path, model):
    """The fields predict and evaluate read, each of the kind and size the model needs, and the
    standardization applied exactly once (in the model, or here for a folder written before)."""
    features, classes, label = prep.get("features"), prep.get("classes"), prep.get("label")
    if features is not None and not (isinstance(features, list) and len(features) == model.d_in
                                     and all(isinstance(f, str) and f for f in features)
                                     and len(set(features)) == len(features)):
        raise ConfigError(f"{path}: 'features' must be a list of the model's {model.d_in} input column names "
                          f"(distinct), found {_found(features)}")
    if label is not None and not isinstance(label, str):
        raise ConfigError(f"{path}: 'label' must be a column name, found {_found(label)}")
    if classes is not None and prep["task"] != "classification":
        raise ConfigError(f"{path}: 'classes' must be null for a regression run, found {_found(classes)}")
    if classes is not None and not (isinstance(classes, list)
                                    and len(classes) == model.d_out and _one_kind(classes)
                                    and len(set(classes)) == len(classes)):
        raise ConfigError(f"{path}: 'classes' must be a list of the {model.d_out} class labels of the model's "
                          f"outputs (distinct, all text or all integers), found {_found(classes)}")
    in_model = prep.get("in_model", False)
    if not isinstance(in_model, bool):
        raise ConfigError(f"{path}: 'in_model' must be true or false, found {_found(in_model)}")
    has_layer = leading_standardize(model) is not None
    if in_model and not has_layer:
        raise ConfigError(f"{path} says the model standardizes its inputs ('in_model': true), but the model's "
                          f"first layer is not Standardize: the files do not belong together")
    if prep["standardize"] and not has_layer:  # a folder from before Standardize: the statistics are applied here
        for key in ("mean", "scale"):
            v = prep.get(key)
            ok = isinstance(v, list) and len(v) == model.d_in and all(_finite_number(x) for x in v)
            if not ok or (key == "scale" and not all(x > 0 for x in v)):
                raise ConfigError(f"{path}: '{key}' must be a list of {model.d_in} finite numbers"
                                  f"{' > 0' if key == 'scale' else ''}, one per feature, found {_found(v)}")


def _finite_number(x):
    if not isinstance(x, int | float) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an integer beyond float range
        return False


def _one_kind(classes):
    return (all(isinstance(c, str) for c in classes)
            or all(isinstance(c, int) and not isinstance(c, bool) for c in classes))


def _found(value):
    kind = type(value).__name__
    if isinstance(value, list):
        kind = f"a list of {len(value)}"
    return f"{_short(value, 60)} ({kind})"
