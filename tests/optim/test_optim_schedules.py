"""Learning-rate schedules: hand values, torch.optim.lr_scheduler, state round trips."""

import json
import math

import numpy as np
import pytest

import chainrule.optim as optim
from chainrule.optim import Constant, Cosine, Exponential, LinearWarmup, ReduceOnPlateau, StepDecay


def values(schedule, steps):
    return [schedule(t) for t in range(steps)]


# Hand values. Products of a few decimals: compared to 1e-15, a few ulp of numbers ≤ 1.
HAND = [
    (Constant(0.3), [0.3, 0.3, 0.3]),
    (StepDecay(0.1, step_size=3, gamma=0.5), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]),
    (Exponential(0.1, gamma=0.5), [0.1, 0.05, 0.025, 0.0125]),
    # (1 + cos(πt/4))/2 = 1, 0.8536, 0.5, 0.1464, 0, and 0 after the end
    (Cosine(1.0, total_steps=4), [1.0, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2, 0.0, 0.0, 0.0]),
    (Cosine(1.0, total_steps=4, min_lr=0.2), [1.0, 0.2 + 0.8 * (1 + math.sqrt(0.5)) / 2, 0.6]),
    (LinearWarmup(4, then=0.8), [0.2, 0.4, 0.6, 0.8, 0.8, 0.8]),
    # warmup to then(0) = 0.8, then StepDecay from its own step 0
    (LinearWarmup(2, then=StepDecay(0.8, step_size=2, gamma=0.5)), [0.4, 0.8, 0.8, 0.8, 0.4, 0.4, 0.2]),
]


@pytest.mark.parametrize(("schedule", "expected"), HAND, ids=[repr(s) for s, _ in HAND])
def test_hand_values(schedule, expected):
    np.testing.assert_allclose(values(schedule, len(expected)), expected, rtol=0, atol=1e-15)


def test_reduce_on_plateau_hand_trace():
    s = ReduceOnPlateau(1.0, factor=0.5, patience=1, min_lr=0.2)
    lrs = []
    # 1.0 and 0.9 improve; 0.95 is bad epoch 1 (= patience, no change); 0.96 is bad epoch 2 > 1: halve;
    # 0.97, 0.98: halve again; 0.5 improves; 0.6, 0.7: would halve to 0.125 but min_lr keeps 0.2.
    for metric in [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.5, 0.6, 0.7]:
        s.observe(metric)
        lrs.append(s(0))
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]
    assert s.best == 0.5


def test_reduce_on_plateau_max_mode_cooldown_and_nan():
    s = ReduceOnPlateau(1.0, factor=0.5, patience=0, mode="max", cooldown=1)
    lrs = []
    # patience 0: every bad epoch reduces, except the one right after a reduction (cooldown 1).
    # NaN never improves.
    for metric in [0.5, 0.6, 0.6, 0.55, 0.5, float("nan")]:
        s.observe(metric)
        lrs.append(s(0))
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_reduce_on_plateau_relative_threshold():
    s = ReduceOnPlateau(1.0, factor=0.5, patience=0, threshold=0.1)
    s.observe(1.0)
    s.observe(0.95)  # not below 1.0 · (1 − 0.1): a bad epoch
    assert s(0) == 0.5 and s.best == 1.0
    s.observe(0.85)  # below 0.9: improves
    assert s.best == 0.85


def _torch_lrs(torch, make, steps, metrics=None):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.1)
    scheduler = make(opt)
    lrs = []
    for t in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step(*(() if metrics is None else (metrics[t],)))
    return lrs


def test_against_torch_schedulers():
    # (each compared within its own horizon: after total_steps our Cosine stays at min_lr, by design)
    torch = pytest.importorskip("torch")
    sched = torch.optim.lr_scheduler
    pairs = [
        (StepDecay(0.1, step_size=7, gamma=0.3), lambda o: sched.StepLR(o, step_size=7, gamma=0.3)),
        (Exponential(0.1, gamma=0.93), lambda o: sched.ExponentialLR(o, gamma=0.93)),
        (Cosine(0.1, total_steps=40, min_lr=0.01), lambda o: sched.CosineAnnealingLR(o, T_max=40, eta_min=0.01)),
        (LinearWarmup(5, then=Cosine(0.1, total_steps=35)),
         lambda o: sched.SequentialLR(o, [sched.LinearLR(o, start_factor=1 / 5, total_iters=4),
                                          sched.CosineAnnealingLR(o, T_max=35)], milestones=[5])),
    ]
    for ours, make in pairs:
        # torch updates these rates recursively (lr ← lr · factor each step), ours in closed form:
        # 40 roundings of numbers ≤ 0.1 stay far below 1e-12, while a step off by one is off by ≥ 1e-4.
        np.testing.assert_allclose(values(ours, 40), _torch_lrs(torch, make, 40), rtol=0, atol=1e-12,
                                   err_msg=repr(ours))


def test_reduce_on_plateau_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    metrics = list(np.maximum.accumulate(rng.random(60))[::-1] + 0.02 * rng.random(60))
    ours = ReduceOnPlateau(0.1, factor=0.5, patience=2, cooldown=1, min_lr=0.001)
    expected = _torch_lrs(torch, lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
        o, factor=0.5, patience=2, cooldown=1, min_lr=0.001), 61, metrics + [0.0])
    got = [ours(0)]
    for m in metrics:
        ours.observe(m)
        got.append(ours(0))
    assert got == expected[: len(got)]  # the same multiplications in the same order: exactly equal
    assert len(set(got)) > 3  # the trace did reduce several times


def test_state_and_config_round_trip():
    s = LinearWarmup(3, then=ReduceOnPlateau(0.5, patience=0))
    for m in [3.0, 2.0, 2.5]:
        s.observe(m)
    state = json.loads(json.dumps(s.state_dict()))
    assert state == {"then/learning_rate_now": 0.05, "then/best": 2.0, "then/num_bad_epochs": 0,
                     "then/cooldown_counter": 0}
    fresh = optim.get_schedule(**json.loads(json.dumps(s.config())))
    assert fresh.config() == s.config() and fresh(10) == 0.5
    fresh.load_state_dict(state)
    assert fresh(10) == 0.05 and fresh.then.best == 2.0
    fresh.observe(2.1)
    assert fresh(10) == 0.05 * 0.1


def test_fresh_plateau_state_is_json():
    state = ReduceOnPlateau(0.1).state_dict()
    assert state["best"] is None  # no observation yet; JSON has no infinity
    assert json.loads(json.dumps(state, allow_nan=False)) == state


def test_stateless_schedules_ignore_observe():
    s = Cosine(0.1, total_steps=10)
    s.observe(1.0)
    assert s(0) == 0.1 and s.state_dict() == {}
    with pytest.raises(ValueError, match="unexpected"):
        s.load_state_dict({"best": 1.0})


@pytest.mark.parametrize(("make", "match"), [
    (lambda: StepDecay(0.1, step_size=0), r"StepDecay\(step_size=\.\.\.\): expected an int in \[1, inf\), got 0"),
    (lambda: Cosine(0.1, total_steps=10, min_lr=0.2), "min_lr must be <= 0.1"),
    (lambda: Exponential(-0.1, gamma=0.5),
     r"Exponential\(learning_rate=\.\.\.\): expected a .* in \(0, inf\), got -0.1"),
    (lambda: ReduceOnPlateau(0.1, mode="lowest"),
     r"ReduceOnPlateau\(mode=\.\.\.\): expected one of 'min', 'max', got 'lowest'"),
    (lambda: ReduceOnPlateau(0.1, factor=1.0), r"ReduceOnPlateau\(factor=\.\.\.\): expected a .* in \[0, 1\), got 1.0"),
    (lambda: LinearWarmup(0, then=0.1), r"LinearWarmup\(warmup_steps=\.\.\.\): expected an int in \[1, inf\), got 0"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_warmup_by_name_as_a_config_file_writes_it():
    # [optimizer] learning_rate = 0.1 with [schedule] name = "warmup": the rate is the warmup's target,
    # alone or as the base rate of the schedule that follows.
    plain = optim.get_schedule("warmup", learning_rate=0.1, warmup_steps=2)
    np.testing.assert_allclose(values(plain, 4), [0.05, 0.1, 0.1, 0.1], rtol=0, atol=1e-15)
    chained = optim.get_schedule("warmup", learning_rate=0.1, warmup_steps=2,
                                 then={"name": "step", "step_size": 1, "gamma": 0.5})
    np.testing.assert_allclose(values(chained, 5), [0.05, 0.1, 0.1, 0.05, 0.025], rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="give only one of them"):
        LinearWarmup(2, then=Constant(0.2), learning_rate=0.1)
    with pytest.raises(ValueError, match=r"give the schedule to warm up to \(then=...\) or a learning_rate"):
        LinearWarmup(2)


def test_aliases():
    assert isinstance(optim.get_schedule("plateau", learning_rate=0.1), ReduceOnPlateau)
    assert isinstance(optim.get_schedule("step_decay", learning_rate=0.1, step_size=3), StepDecay)
    assert isinstance(optim.get("gd", {"w": np.zeros(2)}), optim.SGD)
