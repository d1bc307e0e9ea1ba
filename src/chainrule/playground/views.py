"""What a frame shows, computed with one vectorized forward pass each: the output surface on the
G×G grid, every input feature's and hidden unit's value on the coarse g×g grid, the weights and
the per-layer gradient norms."""

from __future__ import annotations

import numpy as np

from . import datasets
from .frames import grid_points
from .settings import GRID


def probabilities(out, task, loss):
    """The network's output as the page colours it: class probabilities, or the regression value."""
    if task == "regression":
        return out
    if loss == "cross_entropy":
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    return np.clip(out, 0.0, 1.0)  # squared error on one-hot targets: the scores, as probabilities


class Views:
    """The fixed grids of a session (recomputed only when the features change)."""

    def __init__(self, features, grid=GRID):
        self.size, self.coarse = grid["surface"], grid["neuron"]
        self.surface_inputs = datasets.features(grid_points(grid["extent"], self.size), features)
        self.neuron_inputs = datasets.features(grid_points(grid["extent"], self.coarse), features)

    def surface(self, training):
        """(G, G) for two classes or regression, (C, G, G) for C > 2 classes."""
        model, data, G = training.model, training.data, self.size
        with np.errstate(all="ignore"):
            p = probabilities(model.apply(model.params, self.surface_inputs), data.task, training.trainer.loss_name)
        if data.task == "regression":
            return p[:, 0].reshape(G, G)
        if p.shape[1] == 2:
            return p[:, 1].reshape(G, G)
        return p.T.reshape(-1, G, G)

    def neurons(self, training):
        """(N, g, g): each input feature's, then each hidden unit's value, layer by layer."""
        taps, seen = set(training.network.taps), {}

        def record(name, a):
            if name in taps:
                seen[name] = a

        model, g = training.model, self.coarse
        with np.errstate(all="ignore"):
            model.apply(model.params, self.neuron_inputs, record=record)
        columns = [self.neuron_inputs] + [seen[t] for t in training.network.taps]
        return np.concatenate(columns, axis=1).T.reshape(-1, g, g)


def weights(training):
    """[("W0", (out, in)), ("b0", (out,)), ...] of the dense layers in order."""
    params, out = training.model.params, []
    for i, prefix in enumerate(training.network.dense):
        out += [(f"W{i}", params[prefix + "weight"]), (f"b{i}", params[prefix + "bias"])]
    return out


def gradient_norms(training):
    """‖∂L/∂Wˡ‖ (Frobenius) of each dense layer at the last step; zeros before the first step."""
    grads = training.last.grads
    if grads is None:
        return np.zeros(len(training.network.dense))
    return np.array([np.linalg.norm(grads[p + "weight"]) for p in training.network.dense])
