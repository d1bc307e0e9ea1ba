"""Backpropagation by hand, layer by layer, beside the engine's gradient.

For a plain network (Dense layers and activations) the forward pass keeps zˡ = Wˡ aˡ⁻¹ + bˡ and
aˡ = σ(zˡ); the backward pass applies the four equations of backpropagation with NumPy:

    BP1  δᴸ = ∇ₐL ⊙ σ′(zᴸ)                (the output layer; σ = identity: the loss takes logits)
    BP2  δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)
    BP3  ∂L/∂bˡ = δˡ
    BP4  ∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ

∇ₐL is the loss's derivative by its formula (cross-entropy: softmax(z) − onehot(y); mean squared
error: 2(ŷ − y)/d; ...). σ′ of each activation is taken elementwise with ``chainrule.grad`` of
Σσ(z) (one number per unit, so no network gradient is involved). Each layer's ∂L/∂W and ∂L/∂b
are then compared with ``chainrule.value_and_grad`` of the whole loss: the engine's own answer.
On a batch the same pass gives the backward view's ‖δ‖ per unit (the loss is the batch mean).
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..engine.transforms import grad, value_and_grad
from ..errors import ConfigError
from ..nn.activations import ACTIVATIONS
from ..numpy import sum as csum
from .frames import finite

EQUATIONS = {"BP1": "δᴸ = ∇ₐL ⊙ σ′(zᴸ)", "BP2": "δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)", "BP3": "∂L/∂bˡ = δˡ",
             "BP4": "∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ"}


def plain_layers(model):
    """[(Dense, activation name)] of a network of Dense layers each followed by at most one
    activation (and dropout, the identity outside training, as here); None for anything else
    (batch norm, residual blocks)."""
    out = []
    for layer in model.layers:
        if isinstance(layer, nn.Dropout):
            continue
        if isinstance(layer, nn.Dense):
            out.append([layer, "identity"])
        elif isinstance(layer, nn.Activation) and out and out[-1][1] == "identity" and layer.name in ACTIVATIONS:
            out[-1][1] = layer.name
        else:
            return None
    return out


def sigma_prime(name, z):
    """σ′(z) elementwise, by the engine's derivative of Σσ(z) (each unit's own derivative)."""
    if name in ("identity", "linear"):
        return np.ones_like(z)
    return grad(lambda v: csum(ACTIVATIONS[name](v)))(z)


def loss_gradient(loss, out, Y):
    """∇ₐL of the batch-mean loss at the outputs ``out`` (B, d) for targets Y (B, d) (one-hot for classes)."""
    B, d = out.shape
    if loss == "cross_entropy":
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True) - Y) / B
    r = out - Y
    if loss == "mse":
        return 2 * r / (B * d)
    if loss == "mae":
        return np.sign(r) / (B * d)
    if loss == "huber":  # δ = 1: r inside, sign(r) beyond
        return np.clip(r, -1.0, 1.0) / (B * d)
    raise ConfigError(f"backprop by hand knows cross_entropy, mse, mae and huber, not {loss!r}")


def targets_matrix(training, y):
    """Targets as (B, d): one-hot for classes, the values for regression."""
    data = training.data
    if data.task == "classification":
        return np.eye(data.n_classes)[np.asarray(y, np.int64)]
    return np.asarray(y, np.float64).reshape(len(y), -1)


def by_hand(training, X, y):
    """Forward (z, a per layer) and backward (BP1–BP4) on a batch X (B, d_in); dicts per layer."""
    layers = plain_layers(training.model)
    if layers is None:
        raise ConfigError("backprop step by step shows plain networks (Dense layers and activations); turn off "
                          "batch norm and residual connections")
    params, prefixes = training.model.params, training.network.dense
    a, forward = np.asarray(X, np.float64), [{"layer": 0, "z": None, "a": np.asarray(X, np.float64)}]
    for k, (_, act) in enumerate(layers):
        W, b = params[prefixes[k] + "weight"], params[prefixes[k] + "bias"]
        z = a @ W.T + b
        a = ACTIVATIONS[act](z)
        forward.append({"layer": k + 1, "z": z, "a": np.asarray(a), "activation": act})
    grad_a = loss_gradient(training.trainer.loss_name, forward[-1]["a"], targets_matrix(training, y))
    backward = []
    for k in range(len(layers) - 1, -1, -1):
        f = forward[k + 1]
        s = sigma_prime(f["activation"], f["z"])
        delta = grad_a * s                                   # BP1 (output) / BP2 (hidden)
        dW = delta.T @ forward[k]["a"]                        # BP4, summed over the batch
        db = delta.sum(axis=0)                                # BP3
        backward.append({"layer": k + 1, "dense": k, "grad_a": grad_a, "sigma_prime": s, "delta": delta,
                         "dW": dW, "db": db})
        grad_a = delta @ params[prefixes[k] + "weight"]       # ∂L/∂aˡ⁻¹ = (Wˡ)ᵀ δˡ, for BP2 below
    return forward, backward


def engine_gradients(training, X, y):
    t = training
    Xp, yp = t.prepare(np.asarray(X, np.float64), np.asarray(y))

    def loss(params):
        return t.trainer.loss_fn(t.model.apply(params, Xp), yp)

    return value_and_grad(loss)(t.model.params)


def default_target(training, p):
    """The nearest training point's target (the page may name its own)."""
    data = training.data
    if len(data.train_points) == 0:
        return 0
    k = int(np.argmin(((data.train_points - p) ** 2).sum(axis=1)))
    value = data.train_targets[k]
    return int(value) if data.task == "classification" else float(np.ravel(value)[0])


def backprop_message(training, p, target=None):
    from . import datasets

    data = training.data
    if target is None:
        target = default_target(training, np.asarray(p))
    if data.task == "classification" and not (isinstance(target, int) and 0 <= target < data.n_classes):
        raise ConfigError(f"target must be a class index in [0, {data.n_classes - 1}], found {target!r}")
    x = datasets.features(np.asarray([p], np.float64), data.features)
    y = np.array([target]) if data.task == "classification" else np.array([[float(target)]])
    forward, backward = by_hand(training, x, y)
    loss, engine = engine_gradients(training, x, y)
    prefixes = training.network.dense
    out_backward = []
    for b in backward:
        eW, eb = engine[prefixes[b["dense"]] + "weight"], engine[prefixes[b["dense"]] + "bias"]
        diff = max(float(np.max(np.abs(b["dW"] - eW))), float(np.max(np.abs(b["db"] - eb))))
        out_backward.append({"layer": b["layer"], "dense": b["dense"], "grad_a": _list(b["grad_a"][0]),
                             "sigma_prime": _list(b["sigma_prime"][0]), "delta": _list(b["delta"][0]),
                             "dW": _list(b["dW"]), "db": _list(b["db"]), "engine_dW": _list(eW),
                             "engine_db": _list(eb), "max_abs_diff": finite(diff)})
    return {"type": "backprop", "point": [float(p[0]), float(p[1])], "target": target, "loss": finite(loss),
            "forward": [{"layer": f["layer"], "z": None if f["z"] is None else _list(f["z"][0]),
                         "a": _list(f["a"][0]), **({"activation": f["activation"]} if "activation" in f else {})}
                        for f in forward],
            "backward": out_backward, "equations": dict(EQUATIONS)}


def _list(a):
    a = np.asarray(a, np.float64)
    return np.where(np.isfinite(a), a, 0.0).tolist() if not np.all(np.isfinite(a)) else a.tolist()
