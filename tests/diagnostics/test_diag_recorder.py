"""The training-dynamics recorder: its numbers against hand computation on a 2-3-1 network.

The hand computation is seed 004's backpropagation written out in NumPy, independent of the
engine: z1 = X W1ᵀ + b1, h1 = σ(z1), ŷ = h1 W2ᵀ + b2, L = mean((ŷ − y)²);
δ2 = 2(ŷ − y)/N, ∂L/∂W2 = δ2ᵀ h1, δ1 = (δ2 W2) ⊙ σ'(z1), ∂L/∂W1 = δ1ᵀ X.
"""

import json
import warnings

import numpy as np
import pytest

from chainrule import nn
from chainrule.diagnostics import GradientNormRecorder, GradientWarning, TrainingRecorder, probe
from chainrule.train import Trainer

X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
Y = np.array([[1.0], [0.0], [2.0]])
W2 = np.array([[1.0, -2.0, 0.5]])
B2 = np.array([0.1])
# ReLU: unit 3 has z = −x1 − x2 − 0.5 < 0 on every sample (inputs are ≥ 0): dead.
RELU_W1 = np.array([[1.0, -1.0], [0.5, 0.5], [-1.0, -1.0]])
RELU_B1 = np.array([0.0, 0.2, -0.5])
# Sigmoid: unit 1 has z = 10, 10, 20 (saturated on all 3 samples); unit 3 has z = −4, 1, −3 and
# σ'(z)/¼ = 0.071, 0.79, 0.18, so one saturated entry (< 0.1); unit 2 stays near z = 0.
SIGMOID_W1 = np.array([[10.0, 10.0], [0.1, -0.1], [-4.0, 1.0]])
SIGMOID_B1 = np.zeros(3)


def tiny(activation, W1, b1):
    model = nn.MLP([2, 3, 1], activation=activation)
    model.init(seed=0)
    for key, value in (("0.weight", W1), ("0.bias", b1), ("2.weight", W2), ("2.bias", B2)):
        model.params[key][...] = value
    return model


def by_hand(activation, W1, b1):
    z1 = X @ W1.T + b1
    h1 = np.maximum(z1, 0) if activation == "relu" else 1 / (1 + np.exp(-z1))
    slope = (z1 > 0).astype(float) if activation == "relu" else h1 * (1 - h1)
    out = h1 @ W2.T + B2
    delta2 = 2 * (out - Y) / len(X)
    delta1 = (delta2 @ W2) * slope
    return {"h1": h1, "delta1": delta1, "delta2": delta2, "g1": delta1.T @ X, "g2": delta2.T @ h1}


def fro(a):
    return float(np.sqrt(np.sum(np.square(a))))


def train_one_step(model, recorder, learning_rate=0.1):
    trainer = Trainer(model, loss="mse", optimizer="sgd", learning_rate=learning_rate, batch_size=len(X),
                      callbacks=[recorder], verbose=0)
    trainer.fit(X, Y, epochs=1)
    return trainer


def test_recorder_numbers_match_hand_computation_relu():
    model = tiny("relu", RELU_W1, RELU_B1)
    hand = by_hand("relu", RELU_W1, RELU_B1)
    recorder = TrainingRecorder(every=1, probe=(X, Y))
    train_one_step(model, recorder, learning_rate=0.1)
    assert recorder.steps == [0]
    assert recorder.layers == ["0.weight", "2.weight"]
    s = recorder.series
    # 1e-12: the engine and the hand computation differ only in summation order (float64).
    assert s["grad_norm"]["0.weight"][0] == pytest.approx(fro(hand["g1"]), rel=1e-12)
    assert s["grad_norm"]["2.weight"][0] == pytest.approx(fro(hand["g2"]), rel=1e-12)
    assert s["weight_norm"]["0.weight"][0] == pytest.approx(fro(RELU_W1), rel=1e-15)
    # One SGD step: ΔW = −η ∂L/∂W, so ‖ΔW‖/‖W‖ = η ‖∂L/∂W‖ / ‖W‖.
    assert s["update_ratio"]["0.weight"][0] == pytest.approx(0.1 * fro(hand["g1"]) / fro(RELU_W1), rel=1e-12)
    assert s["update_ratio"]["2.weight"][0] == pytest.approx(0.1 * fro(hand["g2"]) / fro(W2), rel=1e-12)
    assert s["delta_norm"]["0.weight"][0] == pytest.approx(fro(hand["delta1"]), rel=1e-12)
    assert s["delta_norm"]["2.weight"][0] == pytest.approx(fro(hand["delta2"]), rel=1e-12)
    assert s["act_mean"]["0.weight"][0] == pytest.approx(np.mean(hand["h1"]), rel=1e-12)
    assert s["act_std"]["0.weight"][0] == pytest.approx(np.std(hand["h1"]), rel=1e-12)
    assert s["dead_fraction"]["0.weight"][0] == pytest.approx(1 / 3)  # unit 3 of 3
    assert s["saturated_fraction"]["0.weight"][0] is None  # not a saturating activation
    assert s["dead_fraction"]["2.weight"][0] is None  # the output layer has no activation
    assert recorder.ratios[0] == pytest.approx(fro(hand["g1"]) / fro(hand["g2"]), rel=1e-12)


def test_recorder_saturated_fraction_and_fused_delta_sigmoid():
    model = tiny("sigmoid", SIGMOID_W1, SIGMOID_B1)
    hand = by_hand("sigmoid", SIGMOID_W1, SIGMOID_B1)
    p = probe(model, X, Y, nn.losses.mse)
    layer = p.layers[0]
    assert layer.saturated_fraction == pytest.approx(4 / 9)  # 3 entries of unit 1, 1 of unit 3
    assert layer.dead_fraction is None
    # Dense + sigmoid run fused: δ1 comes from ∂L/∂h1 ⊙ h1(1 − h1), checked against the hand δ1.
    np.testing.assert_allclose(p.delta["0.weight"], hand["delta1"], rtol=1e-10, atol=1e-300)
    assert layer.delta_norm == pytest.approx(fro(hand["delta1"]), rel=1e-12)
    assert layer.gain == pytest.approx(2 * np.mean(SIGMOID_W1**2), rel=1e-15)


@pytest.mark.parametrize("kind", ["fused", "batchnorm", "gelu", "residual"])
def test_probe_delta_is_the_pre_activation_gradient(kind):
    # Whatever the structure, δ_l = ∂L/∂z_l must satisfy BP3/BP4: Σ_batch δ_l = ∂L/∂b_l and
    # δ_lᵀ h_{l−1} = ∂L/∂W_l; the engine's parameter gradients are the independent truth.
    if kind == "fused":
        model = nn.MLP([3, 5, 4, 2], activation="tanh")
    elif kind == "batchnorm":
        model = nn.MLP([3, 5, 4, 2], activation="relu", batchnorm=True)
    elif kind == "gelu":
        model = nn.MLP([3, 5, 4, 2], activation="gelu")
    else:
        model = nn.Sequential(nn.Dense(3, 4), nn.Tanh(), nn.Residual(nn.Dense(4, 4), nn.Sigmoid()), nn.Dense(4, 2))
    model.init(seed=1)
    rng = np.random.default_rng(0)
    Xb, yb = rng.standard_normal((7, 3)), rng.integers(0, 2, 7)
    p = probe(model, Xb, yb, nn.losses.cross_entropy)
    for info in p.layers:
        bias = info.name[: -len("weight")] + "bias"
        np.testing.assert_allclose(p.delta[info.name].sum(axis=0), p.grads[bias], rtol=1e-10, atol=1e-14)


def test_vanishing_warning_names_layers_and_remedies():
    model = nn.MLP([2] + [16] * 10 + [2], activation="sigmoid")
    model.init(seed=0)
    rng = np.random.default_rng(0)
    Xb, yb = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
    recorder = TrainingRecorder(every=1)
    with pytest.warns(GradientWarning) as caught:
        Trainer(model, optimizer="sgd", batch_size=32, callbacks=[recorder], verbose=0).fit(Xb, yb, epochs=3)
    messages = [str(w.message) for w in caught if issubclass(w.category, GradientWarning)]
    assert len(messages) == 1  # once per kind, not every step
    text = messages[0]
    assert text.startswith("vanishing gradients from step 0 to 2")  # 3 records in a row (patience)
    assert "0.weight" in text
    for remedy in ("ReLU", "residual", "normalization"):
        assert remedy in text
    assert recorder.events[0]["kind"] == "vanishing" and "0.weight" in recorder.events[0]["layers"]
    assert recorder.ratios[0] < 1e-3


def test_no_warning_for_a_healthy_network():
    model = nn.MLP([2, 16, 16, 2], activation="relu")
    model.init(seed=0)
    rng = np.random.default_rng(0)
    Xb, yb = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
    recorder = TrainingRecorder(every=1, probe=(Xb, yb))
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        Trainer(model, optimizer="adam", batch_size=8, callbacks=[recorder], verbose=0).fit(Xb, yb, epochs=3)
    assert recorder.events == []
    assert all(1e-3 < r < 1e3 for r in recorder.ratios)


def test_exploding_warning_for_large_weights():
    # ReLU with U[−0.5, 0.5] at width 64: each layer multiplies ‖δ‖ by ≈ √(64/24) = 1.63; h grows
    # as fast, so the first/last ratio stays near 1 and the absolute bound (max_norm) catches it.
    model = nn.MLP([4] + [64] * 24 + [2], activation="relu", init={"uniform": [-0.5, 0.5]})
    model.init(seed=0)
    rng = np.random.default_rng(0)
    Xb, yb = rng.standard_normal((16, 4)), rng.integers(0, 2, 16)
    recorder = TrainingRecorder(every=1)  # patience 3: three steps with (almost) unchanged weights
    with pytest.warns(GradientWarning, match="exploding gradients"):
        Trainer(model, optimizer="sgd", learning_rate=1e-12, batch_size=16, callbacks=[recorder],
                verbose=0).fit(Xb, yb, epochs=3)
    assert recorder.events[0]["kind"] == "exploding"


def test_state_dict_round_trip_and_checkpoint_state():
    model = tiny("relu", RELU_W1, RELU_B1)
    recorder = TrainingRecorder(every=1, probe=(X, Y), sharpness_every=2, slices_every=2, slice_points=5)
    trainer = train_one_step(model, recorder)
    trainer.fit(X, Y, epochs=2)
    state = recorder.state_dict()
    json.dumps(state)  # JSON-able, as a checkpoint's state.json needs
    again = TrainingRecorder()
    again.load_state_dict(json.loads(json.dumps(state)))
    assert again.state_dict() == state
    assert len(recorder.sharpness["values"]) == 2 and len(recorder.slices[0]["losses"]) == 5
    legacy = GradientNormRecorder()
    legacy.load_state_dict({"steps": [0, 1], "norms": {"0.weight": [1.0, 2.0], "2.weight": [3.0, 4.0]}})
    M, names = legacy.matrix()
    assert names == ["0.weight", "2.weight"] and M.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_gradient_norm_recorder_keeps_the_cli_interface():
    model = tiny("relu", RELU_W1, RELU_B1)
    hand = by_hand("relu", RELU_W1, RELU_B1)
    recorder = GradientNormRecorder(every=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)  # the CLI's recorder stays silent
        trainer = train_one_step(model, recorder)
        trainer.fit(X, Y, epochs=4)
    assert recorder.steps == [0, 2, 4]
    assert set(recorder.norms) == {"0.weight", "2.weight"}
    assert recorder.norms["0.weight"][0] == pytest.approx(fro(hand["g1"]), rel=1e-12)
    M, names = recorder.matrix()
    assert M.shape == (2, 3) and names == ["0.weight", "2.weight"]
    assert set(recorder.state_dict()) >= {"steps", "norms"}


def _fit_with_probe(model, Xb, yb, **options):
    recorder = TrainingRecorder(every=1, probe=(Xb, yb))
    trainer = Trainer(model, batch_size=len(Xb), callbacks=[recorder], verbose=0, **options)
    return recorder, trainer


def test_dead_relu_network_warns_once_naming_the_layers():
    # Issue 11, defect 3: after a diverging step every ReLU of a layer outputs 0 on every sample;
    # nothing flows back, the network is dead, and the recorder said nothing. Here the first layer
    # is killed by hand (bias −1000 ≫ |W x|); the second then sees only its bias: constant, also dead
    # or alive, whichever its biases make it.
    model = nn.MLP([2, 16, 16, 2], activation="relu")
    model.init(seed=0)
    model.params["0.bias"][...] = -1e3
    rng = np.random.default_rng(0)
    Xb, yb = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
    recorder, trainer = _fit_with_probe(model, Xb, yb, optimizer="sgd", learning_rate=0.1)
    with pytest.warns(GradientWarning) as caught:
        trainer.fit(Xb, yb, epochs=4)
    messages = [str(w.message) for w in caught if "dead network" in str(w.message)]
    assert len(messages) == 1, messages  # once, not at every record
    text = messages[0]
    assert "\n" not in text and text.startswith("dead network at step 2: every ReLU unit of 0.weight")
    # the weights are of He scale (only the biases were pushed), so the advice does not blame their size
    assert "not too large" in text and "biases" in text and "learning rate 10× smaller" in text
    assert "far too large" not in text
    event = [e for e in recorder.events if e["kind"] == "dead"][0]
    assert "0.weight" in event["layers"] and "2.weight" not in event["layers"][:1]


def test_saturated_sigmoid_network_warns():
    model = nn.MLP([2, 8, 2], activation="sigmoid")
    model.init(seed=0)
    model.params["0.bias"][...] = 50.0  # σ(z) = 1 − e^{−50}: σ' ≈ 2e−22 on every entry
    rng = np.random.default_rng(0)
    Xb, yb = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
    recorder, trainer = _fit_with_probe(model, Xb, yb, optimizer="sgd", learning_rate=1e-3)
    with pytest.warns(GradientWarning) as caught:
        trainer.fit(Xb, yb, epochs=4)
    dead = [str(w.message) for w in caught if "dead network" in str(w.message)]  # (gradients vanish too)
    assert len(dead) == 1 and dead[0].startswith("dead network at step 2: every unit of 0.weight is saturated")
    assert [e["layers"] for e in recorder.events if e["kind"] == "dead"] == [["0.weight"]]


def test_a_healthy_or_partly_dead_network_does_not_warn_dead():
    # One dead unit of sixteen is normal ReLU life; only a layer dead through is a dead network.
    model = nn.MLP([2, 16, 2], activation="relu")
    model.init(seed=0)
    model.params["0.bias"][0] = -1e3
    rng = np.random.default_rng(0)
    Xb, yb = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
    recorder, trainer = _fit_with_probe(model, Xb, yb, optimizer="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        trainer.fit(Xb, yb, epochs=4)
    assert recorder.series["dead_fraction"]["0.weight"][-1] == 1 / 16
    assert not [e for e in recorder.events if e["kind"] == "dead"]
