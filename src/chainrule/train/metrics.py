"""Metrics computed on plain arrays at the end of an epoch (never differentiated).

accuracy: fraction of argmax(logits) == label (or logit > 0 for one output); mse; r2 (the
coefficient of determination 1 − SS_res / SS_tot, as scikit-learn's r2_score averaged over
outputs).
"""

from __future__ import annotations

import numpy as np

from ..errors import lookup


def predicted_classes(out):
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] > 1:
        return np.argmax(out, axis=1)
    return (out.reshape(len(out)) > 0).astype(np.int64)


def accuracy(out, y):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # probability / one-hot targets
        y = np.argmax(y, axis=1)
    return float(np.mean(predicted_classes(out) == y.reshape(len(y))))


def mse(out, y):
    out, y = np.asarray(out, np.float64), np.asarray(y, np.float64).reshape(np.shape(out))
    return float(np.mean((out - y) ** 2))


def r2(out, y):
    out, y = np.asarray(out, np.float64), np.asarray(y, np.float64).reshape(np.shape(out))
    ss_res = np.sum((y - out) ** 2, axis=0)
    ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    ok = ss_tot > 0
    scores = np.where(ok, 1 - ss_res / np.where(ok, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(scores))


METRICS = {"accuracy": accuracy, "mse": mse, "r2": r2}


def get(name):
    if callable(name):
        return name
    return lookup(METRICS, name, "metric", "metrics")
