"""Backprop step by step and the backward view, against independent truths: ``chainrule.grad`` of the loss
computed here, and the BP1–BP4 formulas written out by hand for a one-hidden-layer network."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ConfigError
from chainrule.nn import losses
from chainrule.playground.backprop import by_hand
from chainrule.playground.datasets import features
from chainrule.playground.session import Session

# Both sides compute the same float64 sums in a different order: agreement to ~1e-15 relative is expected;
# 1e-12 (absolute, on gradients of order 1) leaves room for that reordering and nothing else.
TOL = 1e-12


def engine_gradients(session, point, target):
    """∂L/∂θ by chainrule.grad of the loss at one point, computed independently of the playground."""
    t = session.training
    x = features(np.array([point]), t.data.features)
    if t.data.task == "classification":
        y = np.array([target])
        if t.trainer.loss_name == "mse":
            y = np.eye(t.data.n_classes)[y]
    else:
        y = np.array([[target]])
    loss_fn = losses.get(t.trainer.loss_name)
    return cr.grad(lambda p: loss_fn(t.model.apply(p, x), y))(t.model.params)


SETTINGS = [
    {},
    {"layers": [{"units": 5, "activation": "relu"}, {"units": 3, "activation": "sigmoid"}], "dataset": "xor"},
    {"dataset": "spiral3", "layers": [{"units": 6, "activation": "gelu"}, {"units": 4, "activation": "elu"}],
     "features": ["x1", "x2", "x1x2", "sinx1"]},
    {"dataset": "blobs", "loss": "mse", "layers": [{"units": 4, "activation": "softplus"}]},
    {"problem": "regression", "dataset": "multigauss", "loss": "mse",
     "layers": [{"units": 5, "activation": "leaky_relu"}, {"units": 5, "activation": "tanh"}]},
    {"problem": "regression", "dataset": "plane", "loss": "huber", "layers": []},
    {"dropout": 0.3, "layers": [{"units": 5, "activation": "tanh"}] * 2},  # dropout: off, as in evaluation
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_backprop_message_matches_chainrule_grad(settings):
    s = Session(settings)
    s.train(30)
    point, target = [1.5, -0.75], (1 if s.training.data.task == "classification" else 0.3)
    m = s.handle({"type": "backprop", "point": point, "target": target})[0]
    assert m["type"] == "backprop" and set(m["equations"]) == {"BP1", "BP2", "BP3", "BP4"}
    g = engine_gradients(s, point, target)
    dense = s.training.network.dense
    assert [b["layer"] for b in m["backward"]] == list(range(len(dense), 0, -1))  # output layer first
    for b in m["backward"]:
        np.testing.assert_allclose(b["dW"], g[dense[b["dense"]] + "weight"], rtol=0, atol=TOL)
        np.testing.assert_allclose(b["db"], g[dense[b["dense"]] + "bias"], rtol=0, atol=TOL)
        assert b["max_abs_diff"] <= TOL
        # BP3 and BP4 on this one point: ∂L/∂b = δ, ∂L/∂W = δ aᵀ of the layer below
        assert b["db"] == pytest.approx(b["delta"], abs=TOL)
        a_below = m["forward"][b["layer"] - 1]["a"]
        np.testing.assert_allclose(b["dW"], np.outer(b["delta"], a_below), rtol=0, atol=TOL)


def test_bp1_to_bp4_by_hand_for_one_hidden_tanh_layer():
    s = Session({"layers": [{"units": 3, "activation": "tanh"}]})
    s.train(20)
    p = s.training.model.params
    W0, b0, W1, b1 = p["0.weight"], p["0.bias"], p["2.weight"], p["2.bias"]
    x, target = np.array([0.4, -1.2]), 0
    z1 = W0 @ x + b0
    a1 = np.tanh(z1)
    z2 = W1 @ a1 + b1
    softmax = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()
    delta2 = softmax - np.eye(2)[target]                 # BP1: ∇ₐL ⊙ σ′ with σ = identity on the logits
    delta1 = (W1.T @ delta2) * (1 - a1 ** 2)             # BP2 with tanh′ = 1 − tanh²
    m = s.handle({"type": "backprop", "point": x.tolist(), "target": target})[0]
    out, hidden = m["backward"]
    assert m["loss"] == pytest.approx(-np.log(softmax[target]), abs=TOL)
    np.testing.assert_allclose(m["forward"][1]["z"], z1, atol=TOL)
    np.testing.assert_allclose(m["forward"][1]["a"], a1, atol=TOL)
    np.testing.assert_allclose(m["forward"][2]["z"], z2, atol=TOL)
    np.testing.assert_allclose(out["grad_a"], softmax - np.eye(2)[target], atol=TOL)
    np.testing.assert_allclose(out["delta"], delta2, atol=TOL)
    np.testing.assert_allclose(hidden["grad_a"], W1.T @ delta2, atol=TOL)
    np.testing.assert_allclose(hidden["sigma_prime"], 1 - a1 ** 2, atol=TOL)
    np.testing.assert_allclose(hidden["delta"], delta1, atol=TOL)
    np.testing.assert_allclose(hidden["dW"], np.outer(delta1, x), atol=TOL)        # BP4
    np.testing.assert_allclose(out["db"], delta2, atol=TOL)                         # BP3


def test_relu_sigma_prime_is_the_step_with_relu_prime_of_zero_zero():
    s = Session({"layers": [{"units": 4, "activation": "relu"}]})
    s.training.model.params["0.bias"][:] = [1.0, -1.0, 0.0, 2.0]
    s.training.model.params["0.weight"][:] = 0.0  # z = b whatever the point: one unit sits exactly at 0
    m = s.handle({"type": "backprop", "point": [1.0, 1.0], "target": 0})[0]
    assert m["backward"][1]["sigma_prime"] == [1.0, 0.0, 0.0, 1.0]


def test_backprop_needs_a_plain_network():
    s = Session({"batchnorm": True})
    with pytest.raises(ConfigError, match="plain networks"):
        s.handle({"type": "backprop", "point": [0, 0], "target": 0})


def test_backward_view_is_the_last_batchs_gradient_at_the_weights_shown():
    s = Session({"layers": [{"units": 5, "activation": "tanh"}, {"units": 3, "activation": "relu"}]})
    s.train(7)
    t = s.training
    xb, yb = t.last_batch
    loss_fn = losses.get(t.trainer.loss_name)
    g = cr.grad(lambda p: loss_fn(t.model.apply(p, xb), yb))(t.model.params)  # independent of the playground
    _, backward = by_hand(t, xb, yb)
    deltas = {b["dense"]: b["delta"] for b in backward}
    for k, prefix in enumerate(t.network.dense):
        # BP3 over the batch: Σ_b δ = ∂L/∂b
        np.testing.assert_allclose(deltas[k].sum(axis=0), g[prefix + "bias"], rtol=0, atol=TOL)
    # the output layer's δ by its formula: (softmax − onehot) / B
    z = t.model.apply(t.model.params, xb)
    softmax = np.exp(z - z.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(deltas[2], (softmax - np.eye(2)[yb]) / len(yb), rtol=0, atol=TOL)
    s.backward = True
    from chainrule.playground.frames import unpack

    _, arrays = unpack(s.frame())
    # (the frame holds float32: 1e-6 relative is float32's rounding, ~6e-8, with room)
    for k, prefix in enumerate(t.network.dense):
        np.testing.assert_allclose(arrays[f"gW{k}"], np.abs(g[prefix + "weight"]), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(arrays[f"delta{k}"], np.sqrt((deltas[k] ** 2).sum(axis=0)), rtol=1e-6,
                                   atol=1e-12)


def test_backward_view_of_a_network_with_batch_norm_has_gradients_without_delta():
    s = Session({"batchnorm": True})
    s.train(3)
    s.backward = True
    from chainrule.playground.frames import unpack

    _, arrays = unpack(s.frame())
    assert {"gW0", "gW1", "gW2"} <= set(arrays) and not any(k.startswith("delta") for k in arrays)
