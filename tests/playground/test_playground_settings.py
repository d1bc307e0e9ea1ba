"""The playground's settings: the defaults are complete and valid, and every bad field is refused in one
line naming the field, what was expected and what was found."""

from __future__ import annotations

import math

import pytest

from chainrule.errors import ConfigError
from chainrule.nn.activations import ACTIVATIONS
from chainrule.playground.settings import DEFAULTS, check_settings, options


def test_defaults_are_complete_and_valid():
    assert check_settings({}) == DEFAULTS
    assert check_settings(DEFAULTS) == DEFAULTS
    assert options()["defaults"] == DEFAULTS


def test_options_offer_every_chainrule_activation_but_softmax():
    # softmax normalizes a whole layer, so it is not a per-unit activation of a hidden layer
    assert set(options()["activations"]) == set(ACTIVATIONS) - {"softmax"}
    assert "uniform_0.5" in options()["initializers"]


@pytest.mark.parametrize("raw, field", [
    ({"layers": [{"units": 4, "activation": "tanh"}] * 9}, "layers"),
    ({"layers": [{"units": 65, "activation": "tanh"}]}, "units"),
    ({"layers": [{"units": 0, "activation": "tanh"}]}, "units"),
    ({"layers": [{"units": "4", "activation": "tanh"}]}, "units"),
    ({"layers": [{"units": 4, "activation": "softmax"}]}, "activation"),
    ({"layers": [{"units": 4, "activation": "tanh", "extra": 1}]}, "extra"),
    ({"layers": [{"units": 4}]}, "layers[0]"),
    ({"points": 10_001}, "points"),
    ({"points": 9}, "points"),
    ({"points": True}, "points"),
    ({"noise": math.nan}, "noise"),
    ({"noise": math.inf}, "noise"),
    ({"noise": 51}, "noise"),
    ({"train_percent": 95}, "train_percent"),
    ({"batch_size": 501}, "batch_size"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"features": []}, "features"),
    ({"features": ["x1", "x3"]}, "x3"),
    ({"features": ["x1", "x1"]}, "features"),
    ({"optimizer": {"name": "sgd", "learning_rate": 0}}, "learning_rate"),
    ({"optimizer": {"name": "sgd", "learning_rate": 11}}, "learning_rate"),
    ({"optimizer": {"name": "sgd", "momentum": 0.9}}, "momentum"),
    ({"optimizer": {"name": "lbfgs"}}, "optimizer.name"),
    ({"optimizer": "adam"}, "optimizer.name"),
    ({"loss": "hinge"}, "loss"),
    ({"problem": "regression"}, "dataset"),  # circle is a classification set
    ({"init": "orthogonal"}, "init"),
    ({"regularization": "l3"}, "regularization"),
    ({"regularization_rate": -1}, "regularization_rate"),
    ({"dropout": 0.95}, "dropout"),
    ({"batchnorm": 1}, "batchnorm"),
    ({"seeds": 9}, "seeds"),
    ({"colour": "red"}, "colour"),
])
def test_bad_settings_are_refused_naming_the_field(raw, field):
    with pytest.raises(ConfigError) as e:
        check_settings(raw)
    message = str(e.value)
    assert field in message and "\n" not in message


def test_huge_integers_are_refused_not_overflowed():
    with pytest.raises(ConfigError, match="noise"):
        check_settings({"noise": 10 ** 400})


def test_features_come_back_in_the_pages_order():
    assert check_settings({"features": ["sinx2", "x1"]})["features"] == ["x1", "sinx2"]


def test_a_partial_optimizer_change_keeps_the_rest():
    adam = check_settings({"optimizer": {"name": "adam", "learning_rate": 0.01, "beta1": 0.8}})
    changed = check_settings({"optimizer": {"learning_rate": 0.02}}, base=adam)
    assert changed["optimizer"] == {"name": "adam", "learning_rate": 0.02, "beta1": 0.8, "beta2": 0.999}
    # another optimizer starts from its own defaults
    assert check_settings({"optimizer": {"name": "momentum"}}, base=adam)["optimizer"] == \
        {"name": "momentum", "learning_rate": 0.03, "momentum": 0.9}
