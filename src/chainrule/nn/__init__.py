"""Layers, activations, initializers, losses and the network containers.

    from chainrule import nn
    model = nn.MLP([2, 16, 16, 3], activation="relu")       # Sequential of Dense/ReLU layers
    params = model.init(seed=0, dtype="float32")             # {'0.weight': (16, 2), '0.bias': (16,), ...}
    logits = model.apply(params, X)                          # differentiable in params
    out, buffers = model.apply(params, X, training=True, return_state=True)  # BatchNorm's new statistics
    loss = nn.losses.cross_entropy(logits, y)
"""

from . import activations, init, losses
from .layers import (
    ELU,
    GELU,
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Identity,
    Layer,
    LeakyReLU,
    ReLU,
    Setting,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .model import MLP, Context, Residual, Sequential, layer_from_config
from .standardize import Standardize

BatchNorm1d = BatchNorm

__all__ = [
    "ELU", "GELU", "MLP", "Activation", "BatchNorm", "BatchNorm1d", "Context", "Dense", "Dropout",
    "Identity", "Layer", "LeakyReLU", "ReLU", "Residual", "Sequential", "Setting", "Sigmoid", "Softmax", "Softplus",
    "Standardize", "Tanh", "activations", "init", "layer_from_config", "losses",
]
