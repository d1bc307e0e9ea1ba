"""Evaluation without an optimizer: data prepared as the loss needs it, outputs in eval mode, scores.

``evaluate(model, X, y, loss, metrics)`` is what ``Trainer.evaluate`` and the Ensemble compute
(and what ``chainrule evaluate`` needs): the mean loss and each metric, in a dict.
``prepare(X, y, model, loss)`` checks and converts data once, as the loss declares
(``chainrule.nn.losses.needs``): int64 labels, 0/1 or ±1 floats, or float targets with one
column per output.
"""

from __future__ import annotations

import numpy as np

from ..data.validation import check_X, check_Xy
from ..errors import DataError
from ..nn import losses
from . import metrics as metrics_lib

PREDICT_BATCH = 4096


def default_metrics(loss):
    """accuracy for a loss whose outputs are class scores, r2 otherwise."""
    return ["accuracy"] if losses.needs(loss).classifier else ["r2"]


def metric_functions(names):
    """{name: function} for metric names or functions."""
    return {name if isinstance(name, str) else name.__name__: metrics_lib.get(name) for name in names}


def prepare(X, y, model, loss, dtype=None, name="training"):
    """(X, y) checked against ``model`` (d_in, d_out) and converted as ``loss`` needs them.

    X: (n, d_in) -> contiguous ``dtype`` (default: the model's); y: (n,) int64 labels for
    'labels', (n,) floats for 'binary', (n, k) floats for 'signs' and 'values'."""
    dtype = np.dtype(dtype or model.dtype)
    need = losses.needs(loss)
    classes = need.targets in ("labels", "binary")
    try:
        X, y = check_Xy(X, y, "classification" if classes else "regression",
                        n_classes=need.classes(model.d_out) if classes else None, n_features=model.d_in)
    except DataError as e:
        raise DataError(f"{name} data: {e}") from None
    X = np.ascontiguousarray(X, dtype=dtype)
    if need.targets == "labels":
        return X, np.asarray(y, dtype=np.int64)
    if need.targets == "binary":
        return X, np.asarray(y, dtype=np.int64).astype(dtype)
    y = np.asarray(y, dtype=dtype)
    if need.targets == "signs":
        wrong = ~np.isin(y, (-1, 1))
        if wrong.any():
            row = int(np.flatnonzero(wrong.any(axis=1))[0])
            loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
            raise DataError(f"{name} data: the {loss_name} loss needs targets -1 or +1; found "
                            f"{y[row][wrong[row]][0]} at row {row}")
    elif need.checks_width and y.shape[1] != model.d_out:
        raise DataError(f"{name} data: y has {y.shape[1]} target columns but the model has {model.d_out} outputs")
    return X, y


def predict(model, X, params=None, batch_size=PREDICT_BATCH):
    """The network's output in eval mode, in blocks of ``batch_size`` rows: (n, d_out)."""
    params = model.params if params is None else params
    outs = [model.apply(params, X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
    return np.concatenate(outs) if outs else np.zeros((0, model.d_out), model.dtype)


def scores(out, y, loss_fn=None, metric_fns=(), prefix=""):
    """{prefix + 'loss': loss_fn(out, y) (if given), prefix + metric: value} for one network's output."""
    logs = {}
    if loss_fn is not None:
        logs[prefix + "loss"] = float(loss_fn(out, y))
    for name, fn in dict(metric_fns).items():
        logs[prefix + name] = fn(out, y)
    return logs


def model_scores(outs, y, loss_fn=None, metric_fns=(), prefix=""):
    """``scores`` of K networks' outputs ``outs`` (K, n, d_out): each value an array (K,)."""
    logs = {}
    if loss_fn is not None:
        logs[prefix + "loss"] = np.array([float(loss_fn(o, y)) for o in outs])
    y = np.asarray(y)
    for name, fn in dict(metric_fns).items():
        if fn is metrics_lib.accuracy and outs.shape[2] > 1 and y.ndim == 1:
            # every model at once: the same fraction accuracy() computes model by model
            logs[prefix + name] = np.mean(np.argmax(outs, axis=2) == y[None, :], axis=1)
        else:
            logs[prefix + name] = np.array([fn(o, y) for o in outs])
    return logs


def evaluate(model, X, y, loss="cross_entropy", metrics=None, batch_size=PREDICT_BATCH, params=None, prefix=""):
    """{prefix + 'loss': mean loss, prefix + metric: value} of ``model`` on (X, y), in eval mode.

    loss: a name from ``chainrule.nn.losses`` or a function; metrics: names or functions
    (default: accuracy for classification losses, r2 otherwise); params: the parameters to use
    (default ``model.params``). No optimizer, no training state."""
    if model.params is None and params is None:
        raise DataError("evaluate: the model has no parameters (initialize or load it first)")
    dtype = model.dtype if params is None else next(iter(params.values())).dtype
    X, y = prepare(X, y, model, loss, dtype=dtype, name="evaluation")
    names = default_metrics(loss) if metrics is None else list(metrics)
    out = predict(model, X, params, batch_size)
    return scores(out, y, losses.get(loss), metric_functions(names), prefix)


def check_features(model, X, dtype):
    """X checked against the model's input width, as ``dtype``: for ``predict``."""
    X = check_X(X)
    if X.shape[1] != model.d_in:
        raise DataError(f"X has {X.shape[1]} features per sample but the model expects {model.d_in}")
    return np.asarray(X, dtype=dtype)
