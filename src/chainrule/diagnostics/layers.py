"""Which Dense layers a network has, where their outputs appear, and which activation follows each.

The diagnostics speak of "layer l" as seed 004 does: z_l = W_l h_{l−1} + b_l, h_l = σ(z_l),
δ_l = ∂L/∂z_l. A ``Sequential`` runs a Dense layer and a fusable activation as one step named
by the activation's index, so the recorder hook of ``model.apply(..., record=fn)`` sees h_l
for such a layer, and z_l for a Dense layer that runs alone (followed by BatchNorm, by an
activation that is not fused, or by nothing). ``dense_layers(model)`` reads, for every Dense
layer, which step shows z_l or h_l from the container's fusion plan (``nn.fusion``: the same
plan the forward pass and initialization use).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentTypeError, ConfigError
from ..nn.fusion import fusion_plan
from ..nn.layers import Dense
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
        raise ArgumentTypeError(f"diagnostics need a chainrule.nn.Sequential (or MLP), found {type(model).__name__}")
    out = []
    _walk(model, out)
    return out


def _walk(seq, out, record_prefix="", name_prefix=""):
    # Records are named by the container's path and the step's index ('5.0' inside a Residual
    # at 5); parameters by the path with the container's own part ('5.fn.0.weight').
    layers = seq.layers
    for step in fusion_plan(layers):
        layer = layers[step.start]
        if isinstance(layer, Dense):
            out_step = record_prefix + step.name
            act_step = record_prefix + str(step.act_index) if step.act_index is not None else out_step
            name = name_prefix + seq.child_prefix(step.start)
            out.append(DenseInfo(name + "weight", name + "bias", layer.d_in, layer.d_out, out_step, act_step,
                                 step.activation, step.alpha, step.fused, layer.init_spec))
        elif isinstance(layer, Sequential):
            _walk(layer, out, f"{record_prefix}{step.start}.", name_prefix + seq.child_prefix(step.start))


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
    raise ConfigError(f"σ' of {activation!r} is not a function of its output")


def weight_gain(W):
    """fan_in · E[W²]: 2 for He, ≈ 1 for Xavier on a square layer, fan_in/12 for U[−½, ½]."""
    W = np.asarray(W, np.float64)
    return float(W.shape[1] * np.mean(W * W))
