"""Loss functions ℓ(prediction, target), reduced over the batch.

All take ``reduction`` ('mean', 'sum' or 'none') and optional ``sample_weight`` (shape
(batch,)): the weighted mean is Σ wᵢ ℓᵢ / Σ wᵢ (as scikit-learn). A custom loss is any plain
function ``(y_hat, y) -> scalar`` written with ``chainrule.numpy``.

Conventions:
- ``mse`` is mean((ŷ − y)²) over every entry, PyTorch's and scikit-learn's convention; the
  seeds' ½(ŷ − y)², whose gradient is exactly ŷ − y, is ``mse(..., half=True)``.
- Classification losses take *logits* (pre-activation outputs) and are computed stably:
  softmax cross-entropy by log-sum-exp (its gradient w.r.t. the logits is ŷ − y), binary
  cross-entropy as softplus(z) − y z (gradient σ(z) − y).
"""

from __future__ import annotations

import difflib

import numpy as np

from .. import numpy as cnp
from ..engine.core import dtype_of, shape_of
from ..errors import ShapeError
from ..primitives.nn import softmax_cross_entropy as _sce


def _reduce(per_sample, reduction, sample_weight):
    if reduction == "none":
        return per_sample if sample_weight is None else per_sample * sample_weight
    if sample_weight is not None:
        w = np.asarray(sample_weight)
        if w.shape != shape_of(per_sample)[:1]:
            raise ShapeError(f"sample_weight of shape {w.shape} for a batch of {shape_of(per_sample)[0]} samples")
        total = cnp.sum(per_sample * w.astype(np.result_type(w, np.float32)))
        return total / float(np.sum(w)) if reduction == "mean" else total
    if reduction == "mean":
        return cnp.mean(per_sample)
    if reduction == "sum":
        return cnp.sum(per_sample)
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', found {reduction!r}")


def _per_sample(e):
    """Sum an elementwise loss over the non-batch axes -> (batch,); mean over entries later."""
    if len(shape_of(e)) == 1:
        return e
    return cnp.sum(cnp.reshape(e, (shape_of(e)[0], -1)), axis=1)


def _entries_per_sample(e):
    return int(np.prod(shape_of(e)[1:])) if len(shape_of(e)) > 1 else 1


def _check_same_shape(name, y_hat, y):
    y_shape = shape_of(y)
    if shape_of(y_hat) != y_shape:
        if len(shape_of(y_hat)) == 2 and shape_of(y_hat)[1] == 1 and y_shape == shape_of(y_hat)[:1]:
            return cnp.reshape(y, shape_of(y_hat))
        raise ShapeError(f"{name}: prediction of shape {shape_of(y_hat)} but target of shape {y_shape}")
    return y


def _elementwise(name, fn):
    def loss(y_hat, y, reduction="mean", sample_weight=None, **kw):
        y = _check_same_shape(name, y_hat, y)
        e = fn(y_hat, y, **kw)
        per = _per_sample(e)
        out = _reduce(per, reduction, sample_weight)
        k = _entries_per_sample(e)
        return out / k if reduction == "mean" and k != 1 else out

    loss.__name__ = name
    return loss


def _mse(y_hat, y, half=False):
    r = y_hat - y
    return r * r * 0.5 if half else r * r


def _huber(y_hat, y, delta=1.0):
    r = cnp.absolute(y_hat - y)
    return cnp.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta))


mse = _elementwise("mse", _mse)
mse.__doc__ = "Mean squared error mean((ŷ − y)²); half=True gives the seeds' ½(ŷ − y)²."
mae = _elementwise("mae", lambda y_hat, y: cnp.absolute(y_hat - y))
mae.__doc__ = "Mean absolute error mean|ŷ − y| (gradient sign(ŷ − y), 0 at ŷ = y)."
huber = _elementwise("huber", _huber)
huber.__doc__ = "Huber loss (as torch.nn.HuberLoss): ½r² for |r| ≤ δ, δ(|r| − ½δ) beyond."


def _binary_targets(name, z, y):
    if len(shape_of(z)) == 2 and shape_of(z)[1] == 1:
        z = cnp.reshape(z, shape_of(z)[:1])
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != shape_of(z):
        raise ShapeError(f"{name}: logits of shape {shape_of(z)} but targets of shape {y.shape}")
    return z, y


def binary_cross_entropy(z, y, reduction="mean", sample_weight=None):
    """BCE from logits z, y ∈ {0, 1} (or probabilities): softplus(z) − y z, stable for any z."""
    z, y = _binary_targets("binary_cross_entropy", z, y)
    return _reduce(cnp.softplus(z) - z * y.astype(dtype_of(z)), reduction, sample_weight)


def cross_entropy(z, y, reduction="mean", sample_weight=None):
    """Softmax cross-entropy from logits z: (batch, classes); y: int labels (batch,) or probabilities.

    ℓ = logsumexp(z) − z_y, computed by one fused primitive whose gradient is softmax(z) − onehot(y).
    """
    return _reduce(_sce(z, y), reduction, sample_weight)


def logistic(z, y, reduction="mean", sample_weight=None):
    """Logistic loss for y ∈ {−1, +1}: log(1 + e^{−y z}) = softplus(−y z)."""
    z, y = _binary_targets("logistic", z, y)
    _check_pm1("logistic", y)
    return _reduce(cnp.softplus(-(z * y.astype(dtype_of(z)))), reduction, sample_weight)


def hinge(z, y, reduction="mean", sample_weight=None):
    """Hinge loss for y ∈ {−1, +1}: max(0, 1 − y z) (gradient 0 at the hinge, as relu'(0))."""
    z, y = _binary_targets("hinge", z, y)
    _check_pm1("hinge", y)
    return _reduce(cnp.relu(1 - z * y.astype(dtype_of(z))), reduction, sample_weight)


def _check_pm1(name, y):
    bad = ~np.isin(y, (-1, 1))
    if bad.any():
        raise ValueError(f"{name}: targets must be -1 or +1, found {y[bad][0]!r}")


LOSSES = {
    "mse": mse,
    "mae": mae,
    "huber": huber,
    "binary_cross_entropy": binary_cross_entropy,
    "bce": binary_cross_entropy,
    "cross_entropy": cross_entropy,
    "softmax_cross_entropy": cross_entropy,
    "logistic": logistic,
    "hinge": hinge,
}


def get(name):
    """A loss by name, or a callable passed through (custom losses are plain functions)."""
    if callable(name):
        return name
    if name not in LOSSES:
        close = difflib.get_close_matches(str(name), LOSSES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown loss {name!r}{hint}; valid losses: {', '.join(LOSSES)}")
    return LOSSES[name]
