"""Issue 11, defect 9: the trainability check's and the recorder's advice follow the measured numbers."""

import warnings

import numpy as np

from chainrule import nn
from chainrule.diagnostics import GradientWarning, TrainingRecorder, inspect_model
from chainrule.diagnostics.advice import dead_advice, remedies, scale_words
from chainrule.diagnostics.layers import DenseInfo, dense_layers
from chainrule.diagnostics.signals import LayerSignals
from chainrule.train import Trainer


def _info(d_in, d_out, activation, name="0.weight"):
    return DenseInfo(name, name.replace("weight", "bias"), d_in, d_out, "1", "1", activation, 0.01, True, None)


def _data(d=32, n=256):
    X = np.random.default_rng(0).standard_normal((n, d))
    return X, (X[:, 0] > 0).astype(int)


def test_unit_normal_weights_are_called_16x_he_not_he_scale():
    X, y = _data()
    model = nn.MLP([32, 32, 32, 32, 32, 2], activation="tanh", init="normal(1.0)")  # fan_in·Var(W) ≈ 32
    text = str(inspect_model(model, X, y))
    assert "He-scale" not in text and "He scale" not in text
    finding = [f.message for f in inspect_model(model, X, y).problems if f.topic == "init/activation"][0]
    assert finding.startswith("weights at 16× He (fan_in·Var(W) ≈ 32; He: 2, Xavier: 1) with tanh")


def test_he_weights_under_tanh_are_called_he_scale():
    X, y = _data()
    model = nn.MLP([32, 32, 32, 32, 32, 2], activation="tanh", init="he_normal")
    finding = [f.message for f in inspect_model(model, X, y).problems if f.topic == "init/activation"][0]
    assert finding.startswith("weights at He scale (fan_in·Var(W) ≈ 2")


def test_scale_words_from_the_gain_and_the_shape():
    assert scale_words(32.0, _info(32, 32, "relu")) == "16× He"
    assert scale_words(2.1, _info(32, 32, "relu")) == "He scale"
    assert scale_words(1.0, _info(32, 32, "tanh")) == "Xavier scale"
    assert scale_words(0.12, _info(2, 32, "sigmoid")) == "Xavier scale"  # Xavier for 2 → 32 is 4/34
    assert scale_words(0.01, _info(32, 32, "tanh")) == "100× below Xavier"
    assert scale_words(0.25, _info(32, 32, "relu")) == "8× below He"
    assert scale_words(1.2, _info(32, 64, "relu")) == "between Xavier and He"


def test_inits_are_printed_by_name_never_as_a_function_repr():
    X, y = _data()

    def my_init(rng, shape, dtype=np.float64):
        return 0.1 * rng.standard_normal(shape).astype(dtype)

    for init, shown in ((my_init, "my_init (a function)"), ("uniform(-0.5, 0.5)", "uniform(-0.5, 0.5)"),
                        (None, "auto: he_normal")):
        text = str(inspect_model(nn.MLP([32, 16, 2], activation="relu", init=init), X, y))
        assert "<function" not in text and shown in text, text


def test_a_xavier_network_is_not_told_to_use_xavier():
    # Spiral-like 2 → 32 first layer: Xavier's fan_in·Var(W) there is 4/34 = 0.12, below the old
    # absolute threshold 0.5, so the old advice told a Xavier network to use Xavier.
    model = nn.MLP([2, *[32] * 8, 3], activation="sigmoid", init="xavier_normal")
    model.init(seed=0)
    infos = dense_layers(model)
    from chainrule.diagnostics.layers import weight_gain

    gains = [weight_gain(model.params[i.name]) for i in infos]
    tips = remedies("vanishing", infos, gains)
    assert not [t for t in tips if "Xavier" in t and t.startswith("init")], tips
    assert tips[0].startswith("activation: ReLU instead of sigmoid")
    # a layer 50× below Xavier is told so, with its number
    gains[3] = gains[3] / 50
    tips = remedies("vanishing", infos, gains)
    init_tip = [t for t in tips if t.startswith("init: Xavier")]
    assert init_tip and infos[3].name in init_tip[0] and "below Xavier" in init_tip[0]
    assert infos[2].name not in init_tip[0]


def test_the_recorders_vanishing_warning_for_a_xavier_network_gives_no_init_advice():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((128, 2)), rng.integers(0, 3, 128)
    model = nn.MLP([2, *[32] * 8, 3], activation="sigmoid", init="xavier_normal")
    rec = TrainingRecorder(every=1, probe=(X, y))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(model, optimizer="sgd", learning_rate=0.1, batch_size=32, callbacks=[rec], verbose=0).fit(
            X, y, epochs=2)
    vanishing = [str(w.message) for w in caught if issubclass(w.category, GradientWarning)
                 and str(w.message).startswith("vanishing")]
    assert vanishing, [str(w.message) for w in caught]
    assert "init: Xavier" not in vanishing[0] and "ReLU instead of sigmoid" in vanishing[0]


def _signals(name, activation, gain):
    return LayerSignals(name, activation, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, gain, 1.0, None)


def test_dead_network_advice_follows_the_weights_scale():
    infos = {"0.weight": _info(32, 32, "relu")}
    big = dead_advice(40, [_signals("0.weight", "relu", 64.0)], infos)
    assert "32× He" in big and "learning rate too high" in big and "10× smaller" in big
    assert "initialization" not in big
    at_init = dead_advice(0, [_signals("0.weight", "relu", 64.0)], infos)
    assert "the initialization" in at_init and "He for ReLU" in at_init
    usual = dead_advice(40, [_signals("0.weight", "relu", 2.0)], infos)
    assert "not too large" in usual and "He scale" in usual and "leaky_relu" in usual and "far too large" not in usual
