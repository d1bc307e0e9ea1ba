"""Issue 11, defect 5: the recorder a run attaches must cost little; ``[output] record`` turns it off.

The cost is measured by bench/recorder_cost.py (BENCHMARKS.md); a timing assertion here would be
flaky on a shared machine, so these tests pin what the cost is made of: how many records and
probes a run takes (each probe is one more forward and backward pass, ~0.5 ms at any size).
"""

import copy

import numpy as np
import pytest

from chainrule import runs
from chainrule.cli.commands import DEMO_CONFIG
from chainrule.diagnostics import TrainingRecorder
from chainrule.diagnostics import recorder as recorder_module
from chainrule.errors import ConfigError


def _count_probes(monkeypatch):
    calls = []
    real = recorder_module.probe

    def counting(model, X, *args, **kwargs):
        calls.append(len(X))
        return real(model, X, *args, **kwargs)

    monkeypatch.setattr(recorder_module, "probe", counting)
    return calls


def test_the_demo_run_probes_about_a_dozen_times_on_a_small_batch(monkeypatch):
    calls = _count_probes(monkeypatch)
    cfg = copy.deepcopy(DEMO_CONFIG)
    cfg["training"]["epochs"] = 300  # 300 × 12 = 3600 steps, as `chainrule demo`
    run = runs.build(cfg, verbose=0)
    run.fit(epochs=30)  # a tenth of the run: the schedule is fixed by the configured 300 epochs
    # before: a record every 12 steps (~300 per run), each with a probe of 256 rows -> 30 probes here
    assert len(calls) <= 3 and set(calls) == {64}
    assert 9 <= len(run.recorder.steps) <= 11
    assert run.recorder.probe_steps == run.recorder.steps[::8]


def test_for_run_spreads_records_and_probes_over_the_run():
    rec = TrainingRecorder.for_run(3600, probe=(np.zeros((500, 2)), np.zeros(500, int)))
    assert (rec.every, rec.probe_every, rec.probe_size) == (36, 8, 64)
    assert TrainingRecorder.for_run(7).every == 1  # fewer steps than records: every step


def test_record_false_attaches_no_recorder_and_still_trains():
    cfg = {"data": {"name": "moons", "options": {"n": 64}}, "training": {"epochs": 2},
           "output": {"record": False}}
    run = runs.build(cfg, verbose=0)
    assert run.recorder is None
    assert not [cb for cb in run.trainer.callbacks if isinstance(cb, TrainingRecorder)]
    run.fit()
    assert len(run.trainer.history["loss"]) == 2


def test_record_must_be_a_boolean():
    with pytest.raises(ConfigError, match="record"):
        runs.complete({"output": {"record": "yes"}})


def test_probe_metrics_have_their_own_steps_and_survive_a_state_round_trip():
    from chainrule import nn
    from chainrule.train import Trainer

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 2)), rng.integers(0, 2, 64)
    model = nn.MLP([2, 8, 2], activation="relu")
    rec = TrainingRecorder(every=2, probe=(X, y), probe_every=3)
    Trainer(model, batch_size=16, callbacks=[rec], verbose=0).fit(X, y, epochs=6)  # 24 steps
    assert rec.steps == list(range(0, 24, 2))
    assert rec.probe_steps == [0, 6, 12, 18]
    assert rec.steps_of("act_std") == rec.probe_steps and rec.steps_of("grad_norm") == rec.steps
    M, _ = rec.matrix("act_std")
    assert M.shape == (2, 4)
    again = TrainingRecorder()
    again.load_state_dict(rec.state_dict())
    assert again.probe_steps == rec.probe_steps
    old = {k: v for k, v in rec.state_dict().items() if k != "probe_steps"}  # a run saved before probe_steps
    again.load_state_dict(old)
    assert again.probe_steps == again.steps


def test_sparse_probes_detect_a_dead_network_after_two_probes():
    import warnings

    from chainrule import nn
    from chainrule.diagnostics import GradientWarning
    from chainrule.train import Trainer

    model = nn.MLP([2, 16, 2], activation="relu")
    model.init(seed=0)
    model.params["0.bias"][...] = -1e3  # every unit of the hidden layer off for every input
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
    rec = TrainingRecorder(every=1, probe=(X, y), probe_every=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(model, optimizer="sgd", batch_size=32, callbacks=[rec], verbose=0).fit(X, y, epochs=9)
    dead = [e for e in rec.events if e["kind"] == "dead"]
    assert [e["step"] for e in dead] == [8]  # probes at steps 0 and 8; three probes would need step 16
    assert any(issubclass(w.category, GradientWarning) and "dead network" in str(w.message) for w in caught)
