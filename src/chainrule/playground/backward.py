"""The backward view's arrays: |∂L/∂Wˡ| for every dense layer and ‖δ‖ per unit (δ = ∂L/∂z of each dense
layer, the norm over the batch), on the last step's batch at the weights the frame shows.

A plain network's come from ``backprop.by_hand`` (BP1–BP4 on the batch, equal to the engine's gradient,
which the tests check); any other network's |∂L/∂W| from the engine (``value_and_grad``), without δ.
"""

from __future__ import annotations

import numpy as np

from .backprop import by_hand, engine_gradients, plain_layers


def backward_arrays(training):
    t = training
    if t.last_batch is None:
        return []
    xb, yb = t.last_batch
    if plain_layers(t.model) is None:
        _, grads = engine_gradients(t, xb, yb)
        return [(f"gW{k}", np.abs(grads[p + "weight"])) for k, p in enumerate(t.network.dense)]
    _, backward = by_hand(t, xb, yb)
    backward = sorted(backward, key=lambda b: b["dense"])
    return [(f"gW{b['dense']}", np.abs(b["dW"])) for b in backward] + \
        [(f"delta{b['dense']}", np.sqrt((b["delta"] ** 2).sum(axis=0))) for b in backward]
