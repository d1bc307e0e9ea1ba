"""scikit-learn's initialization, draw for draw: the same generator gives the same starting weights."""

from __future__ import annotations

import numpy as np

from .training import dense_keys


def sklearn_init(model, rng, activation, dtype):
    """Overwrite ``model``'s Dense weights and biases with scikit-learn's ``_init_coef`` draws.

    Layer by layer, from ``rng`` (a RandomState, in scikit-learn's order): W ~ U(±b) of shape
    (fan_in, fan_out), then the bias ~ U(±b) of shape (fan_out,), with b = √(6 / (fan_in + fan_out))
    (Glorot & Bengio 2010), or √(2 / (fan_in + fan_out)) when ``activation`` is 'logistic' (for
    every layer, as scikit-learn). chainrule keeps W as (fan_out, fan_in): the draw is transposed.
    Other parameters (BatchNorm's γ and β) keep chainrule's initialization.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    for w, b in dense_keys(model):
        fan_out, fan_in = model.params[w].shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = rng.uniform(-bound, bound, (fan_in, fan_out))
        intercept = rng.uniform(-bound, bound, fan_out)
        model.params[w] = np.ascontiguousarray(coef.T, dtype=dtype)
        model.params[b] = intercept.astype(dtype)
