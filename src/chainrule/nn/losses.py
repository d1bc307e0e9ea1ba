"""Loss functions ℓ(prediction, target), reduced over the batch.

All take ``reduction`` ('mean', 'sum' or 'none') and optional ``sample_weight`` (shape
(batch,)): the weighted mean is Σ wᵢ ℓᵢ / Σ wᵢ (as scikit-learn), ℓᵢ the mean over sample i's
entries — also for a binary loss with several output columns (a weight per sample, not per
label). 'none' returns the unreduced loss as torch does: the prediction's shape for the
regression and binary losses, (batch,) for cross-entropy. A custom loss is any plain
function ``(y_hat, y) -> scalar`` written with ``chainrule.numpy``.

Conventions:
- ``mse`` is mean((ŷ − y)²) over every entry, PyTorch's and scikit-learn's convention; the
  seeds' ½(ŷ − y)², whose gradient is exactly ŷ − y, is ``mse(..., half=True)``.
- Classification losses take *logits* (pre-activation outputs) and are computed stably:
  softmax cross-entropy by log-sum-exp (its gradient w.r.t. the logits is ŷ − y), binary
  cross-entropy as softplus(z) − y z (gradient σ(z) − y).
"""

from __future__ import annotations

import numpy as np

from .. import numpy as cnp
from ..constraints import validate
from ..engine.core import Tracer, dtype_of, shape_of
from ..errors import ConfigError, DataError, ShapeError, lookup
from ..primitives.nn import mean_softmax_cross_entropy as _mean_sce
from ..primitives.nn import softmax_cross_entropy as _sce

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ConfigError(f"reduction must be 'mean', 'sum' or 'none', found {reduction!r}")


def _weights(sample_weight, like, reduction):
    """sample_weight as an array of shape (batch,) in the loss's dtype (a float32 loss stays float32)."""
    w = np.asarray(sample_weight)
    n = shape_of(like)[:1]
    if w.shape != n:
        raise ShapeError(f"sample_weight of shape {w.shape} for a batch of {n[0] if n else 1} samples")
    if reduction == "mean" and float(np.sum(w)) == 0:
        raise DataError("sample_weight sums to 0: the weighted mean Σ wᵢ ℓᵢ / Σ wᵢ is undefined")
    dtype = dtype_of(like)
    return w.astype(dtype if np.issubdtype(dtype, np.floating) else np.result_type(w, np.float32))


def _reduce(per_sample, reduction, sample_weight):
    """Reduce per-sample losses (batch,); the weighted mean is Σ wᵢ ℓᵢ / Σ wᵢ."""
    _check_reduction(reduction)
    if sample_weight is not None:
        w = _weights(sample_weight, per_sample, reduction)
        if reduction == "none":
            return per_sample * w
        total = cnp.sum(per_sample * w)
        return total / float(np.sum(w)) if reduction == "mean" else total
    if reduction == "mean":
        return cnp.mean(per_sample)
    if reduction == "sum":
        return cnp.sum(per_sample)
    return per_sample


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


def _as_target(y, y_hat):
    """A plain floating target in the prediction's dtype, so a float32 loss is not promoted to float64."""
    if not np.issubdtype(dtype_of(y_hat), np.floating):
        return y
    if isinstance(y, Tracer):  # a traced target (differentiated, or staged by jit): cast as an operation
        return y if dtype_of(y) == dtype_of(y_hat) else cnp.astype(y, dtype_of(y_hat))
    return np.asarray(y, dtype_of(y_hat))


def _reduce_entries(e, reduction, sample_weight):
    """Reduce an elementwise loss e (batch, ...): the weighted mean is Σᵢ wᵢ·mean_j ℓᵢⱼ / Σᵢ wᵢ
    (each sample's weight applies to all its entries), the weighted sum Σᵢ wᵢ Σ_j ℓᵢⱼ."""
    _check_reduction(reduction)
    if reduction == "none":
        # Unreduced, as torch: the prediction's shape, so mean(none) == mean and sum(none) == sum.
        if sample_weight is None:
            return e
        w = _weights(sample_weight, e, reduction)
        return e * w.reshape(w.shape + (1,) * (len(shape_of(e)) - 1))
    out = _reduce(_per_sample(e), reduction, sample_weight)
    k = _entries_per_sample(e)
    return out / k if reduction == "mean" and k != 1 else out


def _elementwise(name, fn):
    def loss(y_hat, y, reduction="mean", sample_weight=None, **kw):
        _check_reduction(reduction)
        y = _as_target(_check_same_shape(name, y_hat, y), y_hat)
        return _reduce_entries(fn(y_hat, y, **kw), reduction, sample_weight)

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
    if not isinstance(y, Tracer):  # a traced target stays traced (np.asarray would cut it out)
        y = np.asarray(y)
    if len(shape_of(y)) == 2 and shape_of(y)[1] == 1:
        y = cnp.reshape(y, shape_of(y)[:1])
    if shape_of(y) != shape_of(z):
        raise ShapeError(f"{name}: logits of shape {shape_of(z)} but targets of shape {shape_of(y)}")
    return z, y


def binary_cross_entropy(z, y, reduction="mean", sample_weight=None):
    """BCE from logits z, y ∈ {0, 1} (or probabilities): softplus(z) − y z, stable for any z."""
    z, y = _binary_targets("binary_cross_entropy", z, y)
    return _reduce_entries(cnp.softplus(z) - z * y.astype(dtype_of(z)), reduction, sample_weight)


def cross_entropy(z, y, reduction="mean", sample_weight=None):
    """Softmax cross-entropy from logits z: (batch, classes); y: int labels (batch,) or probabilities.

    ℓ = logsumexp(z) − z_y, computed by one fused primitive whose gradient is softmax(z) − onehot(y).
    """
    if dtype_of(y).kind not in "iu":
        y = _as_target(y, z)
    elif reduction == "mean" and sample_weight is None:
        return _mean_sce(z, y)  # one fused node, the same numbers
    return _reduce(_sce(z, y), reduction, sample_weight)


def logistic(z, y, reduction="mean", sample_weight=None):
    """Logistic loss for y ∈ {−1, +1}: log(1 + e^{−y z}) = softplus(−y z)."""
    z, y = _binary_targets("logistic", z, y)
    _check_pm1("logistic", y)
    return _reduce_entries(cnp.softplus(-(z * y.astype(dtype_of(z)))), reduction, sample_weight)


def hinge(z, y, reduction="mean", sample_weight=None):
    """Hinge loss for y ∈ {−1, +1}: max(0, 1 − y z) (gradient 0 at the hinge, as relu'(0))."""
    z, y = _binary_targets("hinge", z, y)
    _check_pm1("hinge", y)
    return _reduce_entries(cnp.relu(1 - z * y.astype(dtype_of(z))), reduction, sample_weight)


def _check_pm1(name, y):
    bad = ~np.isin(y, (-1, 1))
    if bad.any():
        raise DataError(f"{name}: targets must be -1 or +1, found {y[bad][0].item()!r}")


# -- what each loss needs -----------------------------------------------------------------------------
# A loss declares, as attributes, what the training loop and the data checks need to know of it:
#   task:      'classification' (labels), 'binary' (one output for two classes) or 'regression';
#   targets:   'labels' (int64 class indices), 'binary' (0/1 as floats), 'signs' (-1/+1 as floats)
#              or 'values' (floats, one column per output);
#   n_classes: 'outputs' (one class per output column), an int, or None;
#   checks_width: the targets must have one column per output (for 'values');
#   stageable: the loss can be staged by chainrule.jit (it reads no target *values* in Python).
# ``needs(loss)`` reads them, with the defaults of a custom loss (a plain function).

TARGETS = ("labels", "binary", "signs", "values")


class LossNeeds:
    """What a loss needs of its targets and of the network (see ``needs``)."""

    __slots__ = ("task", "targets", "n_classes", "checks_width", "stageable")

    def __init__(self, task="regression", targets="values", n_classes=None, checks_width=False, stageable=False):
        self.task, self.targets, self.n_classes = task, targets, n_classes
        self.checks_width, self.stageable = checks_width, stageable

    @property
    def classifier(self):
        """Whether the network's outputs are class scores (default metric: accuracy)."""
        return self.task in ("classification", "binary")

    def classes(self, d_out):
        """The number of classes the targets may hold for a network of ``d_out`` outputs (None: not labels)."""
        return d_out if self.n_classes == "outputs" else self.n_classes

    def __repr__(self):
        return "LossNeeds(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


def _declare(fn, task, targets, n_classes=None, checks_width=False, stageable=True):
    fn.task, fn.targets, fn.n_classes = task, targets, n_classes
    fn.checks_width, fn.stageable = checks_width, stageable
    return fn


for _fn in (mse, mae, huber):
    _declare(_fn, "regression", "values", checks_width=True)
_declare(cross_entropy, "classification", "labels", n_classes="outputs")
_declare(binary_cross_entropy, "binary", "binary", n_classes=2)
for _fn in (logistic, hinge):  # they check their targets' values at every call: not stageable
    _declare(_fn, "binary", "signs", stageable=False)


def needs(loss):
    """The ``LossNeeds`` a loss declares (a name or a function); a custom loss's are the defaults."""
    fn = get(loss)
    defaults = LossNeeds()
    return LossNeeds(*(getattr(fn, k, getattr(defaults, k)) for k in LossNeeds.__slots__))


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
    validate("losses.get", {"name": [str, "callable"]}, {"name": name})
    return lookup(LOSSES, name, "loss", "losses")
