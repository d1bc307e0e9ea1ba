"""The recorder's warnings in words: vanishing gradients in a deep sigmoid network, a dead ReLU layer,
nothing for a healthy network; sent only when they change."""

from __future__ import annotations

from chainrule.playground.session import Session


def kinds(message):
    return {(w["layer"], w["kind"]) for w in message["layers"]}


def test_a_healthy_network_has_no_warnings_and_they_are_sent_once():
    s = Session()
    first = s.warnings()
    assert first == [{"type": "warnings", "layers": []}]
    assert s.warnings() == []  # unchanged: nothing to send


def test_deep_sigmoid_network_vanishes_with_a_remedy():
    s = Session({"layers": [{"units": 8, "activation": "sigmoid"}] * 6})
    (message,) = s.warnings()
    assert (0, "vanishing") in kinds(message)
    first = next(w for w in message["layers"] if w["layer"] == 0)
    assert "ReLU" in first["remedy"] and "‖∂L/∂W‖" in first["text"]


def test_a_dead_relu_layer_is_named_with_advice():
    s = Session({"layers": [{"units": 8, "activation": "relu"}] * 2})
    s.training.model.params["0.bias"][:] = -100.0  # every unit of the first layer below zero everywhere
    s.training.edited()
    (message,) = s.warnings()
    assert (0, "dead") in kinds(message)
    dead = next(w for w in message["layers"] if w["kind"] == "dead")
    assert "Try" in dead["remedy"]
    s.training.model.params["0.bias"][:] = 0.0
    assert (0, "dead") not in kinds(s.warnings()[0])  # changed again: sent again
