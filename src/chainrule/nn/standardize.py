"""``Standardize``: the input standardization of a run as the first layer of its network.

y = (x − mean) / scale, per feature. ``mean`` and ``scale`` are *buffers* (saved with the weights,
named ``0.mean`` and ``0.scale`` when the layer comes first in a Sequential, as a torch module
with two registered buffers), not parameters: training never changes them. So the saved model
alone maps raw inputs to outputs, and a reader of its weights file needs nothing else.

    layer = Standardize(mean=X_train.mean(0), scale=X_train.std(0))
    model = Sequential(layer, *nn.MLP([2, 16, 3]).layers)

x: (batch, d) -> (batch, d). The statistics come in as float64 and go into the model in the
model's dtype; ``init_params`` refuses values that do not survive that cast (a mean of 1e39 is
inf in float32, a scale of 1e-50 is 0).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, ShapeError
from .layers import Layer


class Standardize(Layer):
    """y = (x − mean) / scale per feature; buffers ``mean`` and ``scale`` of shape (d,), no parameters.

    mean, scale: 1-D sequences of d finite numbers, every scale > 0. ``Standardize.of_width(d)``
    is the identity (mean 0, scale 1) that a saved model's buffers then overwrite. Buffers given
    later (loaded, assigned, passed to ``apply``) are checked the same way when ``call`` first
    sees them, once per pair of arrays (a buffer changed in place is not seen again).
    """

    kind = "standardize"
    buffer_names = ("mean", "scale")
    stageable = True  # the forward pass reads only its input and its buffers

    def __init__(self, mean, scale):
        mean, scale = _vector("mean", mean), _vector("scale", scale)
        if mean.shape != scale.shape:
            raise ShapeError(f"Standardize: mean and scale must have the same shape (one number per feature), "
                             f"found mean {mean.shape} and scale {scale.shape}")
        _check_values(mean, scale, "Standardize")
        mean.setflags(write=False)
        scale.setflags(write=False)
        self.mean, self.scale = mean, scale
        self._checked = (None, None)  # the last buffers call() found good (checked again when they change)
        self.d_in = self.d_out = int(mean.shape[0])

    @classmethod
    def of_width(cls, num_features):
        """The identity standardization of ``num_features`` features (mean 0, scale 1)."""
        if not isinstance(num_features, int | np.integer) or isinstance(num_features, bool) or num_features <= 0:
            raise ConfigError(f"Standardize: num_features must be a positive integer, found {num_features!r}")
        return cls(np.zeros(int(num_features)), np.ones(int(num_features)))

    def init_params(self, rng, dtype):
        with np.errstate(over="ignore", under="ignore"):  # checked next, in one line
            mean, scale = self.mean.astype(dtype), self.scale.astype(dtype)
        _check_values(mean, scale, f"Standardize (in {np.dtype(dtype)})")  # a cast can overflow or underflow
        return {}, {"mean": mean, "scale": scale}

    def call(self, params, a, ctx):
        buffers = ctx.buffers
        if buffers is None:
            raise ConfigError("Standardize needs its mean and scale: pass buffers= (the model's buffers)")
        mean, scale = buffers["mean"], buffers["scale"]
        checked = self._checked
        if (mean is not checked[0] or scale is not checked[1]) and type(scale) is np.ndarray \
                and type(mean) is np.ndarray:  # new concrete buffers (not traced ones): check them once
            if mean.shape != (self.d_in,) or scale.shape != (self.d_in,):
                raise ShapeError(f"Standardize: buffers mean and scale must have shape ({self.d_in},), found "
                                 f"mean {mean.shape} and scale {scale.shape}")
            _check_values(mean, scale, "Standardize")
            self._checked = (mean, scale)
        return (a - mean) / scale

    def config(self):
        return {"type": self.kind, "num_features": self.d_in}


def leading_standardize(model):
    """The model's first layer if it is a ``Standardize`` (the model takes raw inputs and
    standardizes them itself), else None: the one check of it, for runs, figures and loading."""
    layers = getattr(model, "layers", ())
    first = layers[0] if len(layers) else None
    return first if isinstance(first, Standardize) else None


def _vector(name, values):
    try:
        v = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"Standardize: {name} must be a sequence of numbers, found "
                          f"{type(values).__name__}") from None
    if v.ndim != 1 or v.shape[0] == 0:
        raise ShapeError(f"Standardize: {name} must be 1-D with one number per feature, found shape {v.shape}")
    return v


def _check_values(mean, scale, who):
    if not np.isfinite(mean).all():
        j = int(np.flatnonzero(~np.isfinite(mean))[0])
        raise ConfigError(f"{who}: mean must be finite, found {mean[j]} for feature {j} (of {mean.shape[0]})")
    ok = (scale > 0) & np.isfinite(scale)
    if not ok.all():
        j = int(np.flatnonzero(~ok)[0])
        raise ConfigError(f"{who}: scale must be finite and > 0, found {scale[j]} for feature {j} "
                          f"(of {scale.shape[0]})")
