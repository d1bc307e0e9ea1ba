"""Which Dense layers a network has, where their outputs appear, and which activation follows each.

The diagnostics speak of "layer l" as seed 004 does: z_l = W_l h_{l−1} + b_l, h_l = σ(z_l),
δ_l = ∂L/∂z_l. A ``Sequential`` runs a Dense layer and a fusable activation as one step named
by the activation's index, so the recorder hook of ``model.apply(..., record=fn)`` sees h_l
for such a layer, and z_l for a Dense layer that runs alone (followed by BatchNorm, by an
activation that is not fused, or by nothing). ``dense_layers(model)`` works out, for every
Dense layer, which step shows z_l or h_l and how to get δ_l from the gradient at that step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.layers import Activation, BatchNorm, Dense, Dropout
from ..nn.model import Sequential

# σ'(z) as a function of the output a = σ(z), for the activations a Dense step can fuse.
DERIVATIVE_FROM_OUTPUT = ("identity", "relu", "leaky_relu", "tanh", "sigmoid")
# Saturating activations, and their largest derivative (at z = 0).
SATURATING = {"sigmoid": 0.25, "tanh": 1.0}


@dataclass
class DenseInfo:
    """One Dense layer as the diagnostics see it.

    name: the weight's parameter name ('0.weight'), which names the layer everywhere.
    out_step: the record name of the step whose output is h_l (fused) or z_l (not fused).
    act_step: the record name where h_l appears (== out_step when fused; the Dense's own
        step if no activation follows, as for an output layer).
    activation: the activation after the layer ('identity' if none); alpha its slope.
    init: the declared initializer (None: the model's default for the activation).
    """

    name: str
    bias: str
    d_in: int
    d_out: int
    out_step: str
    act_step: str
    activation: str
    alpha: float
    fused: bool
    init: object

    @property
    def is_output(self):
        return self.activation == "identity"


def dense_layers(model):
    """The Dense layers of ``model`` in forward order, as ``DenseInfo``."""
    if not isinstance(model, Sequential):
        raise TypeError(f"diagnostics need a chainrule.nn.Sequential (or MLP), found {type(model).__name__}")
    out = []
    _walk(model, out)
    return out


def _walk(seq, out):
    layers, prefix = seq.layers, seq.prefix  # Sequential.call names records prefix + index
    i = 0
    while i < len(layers):
        layer = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, Dense):
            if isinstance(nxt, Activation) and nxt.fusable:
                act, out_step, act_step, fused = nxt, prefix + str(i + 1), prefix + str(i + 1), True
            else:
                j = i + 1
                while j < len(layers) and isinstance(layers[j], BatchNorm | Dropout):
                    j += 1
                act = layers[j] if j < len(layers) and isinstance(layers[j], Activation) else None
                out_step, fused = prefix + str(i), False
                act_step = prefix + str(j) if act is not None else out_step
            name = "identity" if act is None or act.name == "linear" else act.name
            alpha = 0.01 if act is None or act.alpha is None else float(act.alpha)
            out.append(DenseInfo(layer.keys["weight"], layer.keys["bias"], layer.d_in, layer.d_out, out_step,
                                 act_step, name, alpha, fused, layer.init_spec))
        elif isinstance(layer, Sequential):
            _walk(layer, out)
        i += 1


def derivative_from_output(activation, a, alpha=0.01):
    """σ'(z) computed from a = σ(z) (only for DERIVATIVE_FROM_OUTPUT activations)."""
    if activation == "identity":
        return np.ones_like(a)
    if activation == "relu":
        return (a > 0).astype(a.dtype)  # relu'(0) = 0, the engine's convention
    if activation == "leaky_relu":
        return np.where(a > 0, 1.0, alpha).astype(a.dtype)
    if activation == "tanh":
        return 1 - a * a
    if activation == "sigmoid":
        return a * (1 - a)
    raise ValueError(f"σ' of {activation!r} is not a function of its output")


def weight_gain(W):
    """fan_in · E[W²]: 2 for He, ≈ 1 for Xavier on a square layer, fan_in/12 for U[−½, ½]."""
    W = np.asarray(W, np.float64)
    return float(W.shape[1] * np.mean(W * W))
