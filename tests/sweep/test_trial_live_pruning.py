"""pruning["history"] as a function: the pruner asks it again during training (at most once per
second of wall time), so a trial is pruned against configurations that finished after it was sent."""

import itertools
import math

import pytest

from chainrule.sweep import run_trial, trial

from .conftest import tiny


@pytest.fixture
def fast_clock(monkeypatch):
    """A clock that moves 1 s each time it is read: every refresh is due."""
    ticks = itertools.count()
    monkeypatch.setattr(trial, "_clock", lambda: float(next(ticks)))


def good_curves(metric, val_fraction, dropout):
    good = tiny(epochs=6, val_fraction=val_fraction, dropout=dropout)
    good["optimizer"] = {"name": "adam", "learning_rate": 0.05}
    return [run_trial(good, [s], metric)["results"][0]["curves"][metric] for s in (0, 1, 2)]


@pytest.mark.parametrize("val_fraction, metric, dropout", [(0.0, "loss", 0.0), (0.25, "val_loss", 0.1)])
def test_a_growing_history_prunes_what_the_frozen_list_would_not(fast_clock, val_fraction, metric, dropout):
    finished = good_curves(metric, val_fraction, dropout)
    bad = tiny(epochs=6, val_fraction=val_fraction, dropout=dropout)
    bad["optimizer"] = {"name": "sgd", "learning_rate": 1e-6}  # barely moves: worse than the median every epoch
    base = {"pruner": "median", "direction": "minimize", "epochs": 6}

    frozen = run_trial(bad, [0, 1], metric, pruning={**base, "history": []})  # nothing finished when sent
    assert [r["status"] for r in frozen["results"]] == ["ok", "ok"]
    assert all(r["epochs"] == 6 for r in frozen["results"])

    calls = []

    def history():  # the driver's list: empty when the task was sent, three configurations done by epoch 1
        calls.append(1)
        return [] if len(calls) == 1 else finished

    live = run_trial(bad, [0, 1], metric, pruning={**base, "history": history})
    assert live["packed"] == (dropout == 0)
    assert {r["status"] for r in live["results"]} == {"pruned"}
    assert all(r["epochs"] < 6 for r in live["results"])
    assert len(calls) > 1


def curves(n, start=1.0):
    return [[start + i + 0.1 * e for e in range(4)] for i in range(n)]


def test_curves_join_the_study_once_and_equal_curves_count_twice(fast_clock):
    given = []
    pruner = trial._Pruner({"pruner": "median", "direction": "minimize", "epochs": 4, "history": lambda: given},
                           "loss")
    n_trials = lambda: len(pruner.study.trials) - 1  # (less this trial's own)
    assert n_trials() == 0
    given.extend(curves(2))
    pruner.refresh()
    assert n_trials() == 2
    pruner.refresh()                                  # the same list again: nothing re-added
    assert n_trials() == 2
    given.append(list(given[0]))                      # another configuration with the very same curve
    given.append([math.nan, math.nan, 2.0, math.nan])  # a curve with NaN: added once, not at every refresh
    pruner.refresh()
    pruner.refresh()
    assert n_trials() == 4
    values = sorted(t.value for t in pruner.study.trials if t.value is not None)
    assert values == sorted([1.3, 1.3, 2.3, 2.0])


def test_the_history_function_is_asked_at_most_once_a_second(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(trial, "_clock", lambda: now[0])
    calls = []

    def history():
        calls.append(now[0])
        return curves(len(calls))

    pruner = trial._Pruner({"pruner": "median", "direction": "minimize", "epochs": 8, "history": history}, "loss")
    for epoch, t in enumerate((100.2, 100.9, 100.99), start=1):
        now[0] = t
        pruner.check(epoch, 5.0)
    assert calls == [100.0]                # construction only: less than a second since
    now[0] = 101.0
    pruner.check(4, 5.0)
    now[0] = 101.5
    pruner.check(5, 5.0)
    assert calls == [100.0, 101.0]
    assert len(pruner.study.trials) - 1 == 2  # curves(2) holds curves(1)'s curve: one new


def test_a_history_function_that_raises_adds_nothing_and_fails_nothing(fast_clock):
    def history():
        raise ConnectionError("scheduler gone")

    out = run_trial(tiny(epochs=3), [0, 1], "loss",
                    pruning={"pruner": "median", "direction": "minimize", "epochs": 3, "history": history})
    assert [r["status"] for r in out["results"]] == ["ok", "ok"]


def test_a_frozen_list_is_still_accepted_and_never_asked_again(fast_clock):
    pruner = trial._Pruner({"pruner": "median", "direction": "minimize", "epochs": 4, "history": curves(3)}, "loss")
    pruner.refresh()
    assert len(pruner.study.trials) - 1 == 3
