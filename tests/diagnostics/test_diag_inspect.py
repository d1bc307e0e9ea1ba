"""The trainability check at initialization: it flags bad pairings and passes healthy networks."""

import json

import numpy as np
import pytest

from chainrule import nn
from chainrule.diagnostics import TrainingRecorder, inspect_model, plots
from chainrule.runs import inspect_config
from chainrule.train import Trainer


def data(n=256, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def topics(report, level="problem"):
    return [f.topic for f in report.findings if f.level == level]


def test_healthy_relu_he_network_passes():
    X, y = data()
    model = nn.MLP([4, 32, 32, 2], activation="relu")
    report = inspect_model(model, X, y, seed=0)
    assert report.ok, report.summary()
    assert 0.1 < report.gradient_ratio < 10
    assert "Verdict: no problems" in report.summary()


def test_he_init_with_sigmoid_is_flagged():
    X, y = data()
    model = nn.MLP([4] + [32] * 6 + [2], activation="sigmoid", init="he_normal")
    report = inspect_model(model, X, y)
    pairing = [f for f in report.problems if f.topic == "init/activation"]
    assert pairing and "He" in pairing[0].message and "sigmoid" in pairing[0].message
    assert "vanishing gradient" in topics(report)
    # The same depth with Xavier has no pairing problem (it still vanishes: sigmoid's σ' ≤ 1/4).
    xavier = inspect_model(nn.MLP([4] + [32] * 6 + [2], activation="sigmoid"), X, y)
    assert "init/activation" not in topics(xavier)


def test_naive_small_init_in_a_deep_relu_net_is_flagged():
    X, y = data()
    model = nn.MLP([4] + [32] * 8 + [2], activation="relu", init={"normal": 0.01})
    report = inspect_model(model, X, y)
    assert "init/activation" in topics(report)
    assert "forward signal" in topics(report)  # E[h²] fades by ≈ 32·1e-4/2 per layer
    layer = report.layers[4]
    assert layer.gain == pytest.approx(32 * 1e-4, rel=0.3)  # fan_in·Var(W) of N(0, 0.01²)


def test_xavier_under_deep_relu_is_flagged_but_not_when_shallow():
    X, y = data()
    deep = inspect_model(nn.MLP([4] + [64] * 12 + [2], activation="relu", init="xavier_normal"), X, y)
    assert "init/activation" in topics(deep)
    shallow = inspect_model(nn.MLP([4, 64, 64, 2], activation="relu", init="xavier_normal"), X, y)
    assert "init/activation" not in topics(shallow)
    assert "init/activation" in topics(shallow, "note")


def test_dead_units_at_init_are_counted():
    X, y = data()
    model = nn.MLP([4, 16, 2], activation="relu")
    model.init(seed=0)
    model.params["0.bias"][:8] = -100.0  # half the units can never fire
    report = inspect_model(model, X, y)
    assert report.layers[0].dead_fraction == pytest.approx(0.5)
    assert "dead units" in topics(report)


def test_inspect_config_writes_report_and_figures(tmp_path):
    cfg = {"data": {"name": "spiral", "options": {"n_per_class": 50}},
           "model": {"hidden": [16, 16, 16, 16], "activation": "sigmoid", "init": "he_normal"}}
    text, pngs = inspect_config(cfg, tmp_path)
    assert "init/activation" in text and "Verdict" in text
    assert [p.name for p in pngs] == ["signal_propagation.png", "activation_stats.png"]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in pngs)
    saved = json.loads((tmp_path / "inspect.json").read_text())
    assert saved["ok"] is False and len(saved["layers"]) == 5


def test_recorder_plots_write_pngs(tmp_path):
    X, y = data(64)
    model = nn.MLP([4, 8, 8, 2], activation="tanh")
    recorder = TrainingRecorder(every=2, probe=(X, y), sharpness_every=4, slices_every=4, slice_points=7)
    Trainer(model, optimizer="adam", batch_size=16, callbacks=[recorder], verbose=0).fit(X, y, epochs=2)
    paths = [tmp_path / name for name in ("dynamics.png", "heatmap.png", "slices.png", "sharpness.png")]
    figures = [plots.dynamics(recorder, tmp_path / "dynamics.png"),
               plots.heatmap(recorder, tmp_path / "heatmap.png", "delta_norm"),
               plots.loss_slices(recorder.slices, tmp_path / "slices.png"),
               plots.sharpness(recorder, tmp_path / "sharpness.png", learning_rate=0.001)]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in paths)
    assert all(hasattr(f, "savefig") for f in figures)  # each returns its figure
