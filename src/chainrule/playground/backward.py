"""The backward view's arrays for the last step's batch: |∂L/∂Wˡ| for every dense layer and ‖δ‖
per unit, δ = ∂L/∂z of each dense layer over the batch (by ``backprop.by_hand``)."""

from __future__ import annotations

import numpy as np

from .backprop import by_hand, plain_layers


def backward_arrays(training):
    t = training
    grads = t.last.grads
    if grads is None or t.last_batch is None:
        return []
    out = [(f"gW{k}", np.abs(grads[p + "weight"])) for k, p in enumerate(t.network.dense)]
    if plain_layers(t.model) is not None:
        xb, yb = t.last_batch
        _, backward = by_hand(t, xb, yb)
        for b in sorted(backward, key=lambda b: b["dense"]):
            out.append((f"delta{b['dense']}", np.sqrt((b["delta"] ** 2).sum(axis=0))))
    return out
