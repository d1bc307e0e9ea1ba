"""A gradient check whose gradients are exactly 0 checks nothing (0 = 0 holds for any rule): it
says ZERO GRADIENTS instead of PASSED, in the report and in a run's per-layer check (issue 11,
defect 3: SGD at learning rate 1e3 killed every ReLU and the run's check printed PASSED)."""

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn, runs
from chainrule.runs import pipeline


def dead_mlp():
    """A [2, 8, 3] ReLU network whose hidden units are all off (bias −1000 ≫ |W x|)."""
    model = nn.MLP([2, 8, 3])
    model.init(seed=0)
    model.params["0.bias"][...] = -1e3
    return model


def test_every_gradient_zero_is_reported_as_such():
    model = dead_mlp()
    X = np.random.default_rng(0).standard_normal((16, 2))
    # A function of the dead hidden layer alone: every parameter's gradient is exactly 0 (the
    # network's loss would still reach 2.bias; that case is the next test).
    params = {k: v for k, v in model.params.items() if k.startswith("0.")}

    def hidden_energy(p):
        return cnp.sum(cnp.relu(X @ p["0.weight"].T + p["0.bias"]) ** 2)

    report = cr.check_grads(hidden_energy, (params,))
    assert report.passed and report.all_zero
    assert len(report.zero_leaves()) == 2
    text = str(report)
    assert "PASSED" not in text
    assert text.splitlines()[-1].startswith("ZERO GRADIENTS: every gradient is 0 — the network is dead")
    assert all(e.zero and e.status == "pass" for e in report.entries if e.order == 1)


def test_some_zero_leaves_are_named():
    model = dead_mlp()
    X = np.random.default_rng(1).standard_normal((16, 2))
    y = np.arange(16) % 3

    def loss(p):
        return nn.losses.cross_entropy(model.apply(p, X), y)

    report = cr.check_grads(loss, ({k: v.copy() for k, v in model.params.items()},))
    zero = report.zero_leaves()
    assert not report.all_zero and len(zero) == 3 and not any("2.bias" in z for z in zero)
    assert report.verdict.startswith("PASSED, except ZERO GRADIENTS in ")


def test_a_healthy_check_still_passes_plainly():
    model = nn.MLP([2, 8, 3])
    model.init(seed=0)
    X = np.random.default_rng(1).standard_normal((16, 2))
    y = np.arange(16) % 3
    report = cr.check_grads(lambda p: nn.losses.cross_entropy(model.apply(p, X), y),
                            ({k: v.copy() for k, v in model.params.items()},))
    assert report.verdict == "PASSED" and not report.zero_leaves()
    assert str(report).splitlines()[-1] == "PASSED"


def test_a_runs_per_layer_check_of_a_dead_network_is_not_passed(tmp_path, monkeypatch, capsys):
    build = pipeline.build

    def dying_build(cfg, **kw):  # the run trains normally, then its hidden ReLUs are switched off
        run = build(cfg, **kw)
        fit = run.fit

        def fit_then_die(*a, **k):
            out = fit(*a, **k)
            run.model.params["1.bias"][...] = -1e3  # (layer 0 is the input standardization)
            return out

        run.fit = fit_then_die
        return run

    monkeypatch.setattr(pipeline, "build", dying_build)
    cfg = {"seed": 3, "data": {"name": "moons", "options": {"n": 80, "noise": 0.1}}, "model": {"hidden": [8]},
           "optimizer": {"name": "adam", "learning_rate": 0.05}, "training": {"epochs": 2},
           "output": {"plots": False}}
    _, run_dir, summary = runs.train(cfg, run_dir=tmp_path / "run", verbose=0)
    gc = summary["gradient_check"]
    assert gc["passed"] is False and len(gc["zero_gradients"]) == 3 and gc["verdict"].startswith(
        "PASSED, except ZERO GRADIENTS in ")
    assert "ZERO GRADIENTS" in (run_dir / "gradcheck.txt").read_text().splitlines()[-1]
    out = capsys.readouterr().out
    assert "gradient check: PASSED, except ZERO GRADIENTS in " in out


def test_a_healthy_run_passes_as_before(tmp_path):
    cfg = {"seed": 3, "data": {"name": "moons", "options": {"n": 80, "noise": 0.1}}, "model": {"hidden": [8]},
           "optimizer": {"name": "adam", "learning_rate": 0.05}, "training": {"epochs": 2},
           "output": {"plots": False}}
    _, _, summary = runs.train(cfg, run_dir=tmp_path / "run", verbose=0)
    gc = summary["gradient_check"]
    assert gc["passed"] is True and gc["zero_gradients"] == [] and gc["verdict"] == "PASSED"
