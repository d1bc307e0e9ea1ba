"""Rewind and branch: a branch from a snapshot retraces the original exactly when nothing is changed, and
differs when something is; live settings keep the weights; an activation change starts a branch."""

from __future__ import annotations

import numpy as np

from chainrule.playground.session import Session
from chainrule.playground.timeline import MAX_SNAPSHOTS, Timeline, interval


def weights(session):
    return {k: v.copy() for k, v in session.training.model.params.items()}


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def snapshot_at(session, step):
    return next(s["id"] for s in session.timeline.snapshots if s["step"] == step)


def test_a_branch_from_a_snapshot_retraces_the_original():
    for settings in ({}, {"optimizer": {"name": "adam", "learning_rate": 0.01}, "dropout": 0.2, "batch_size": 7},
                     {"optimizer": {"name": "momentum", "learning_rate": 0.01, "momentum": 0.9}, "seeds": 2}):
        s = Session(settings)
        s.train(260)  # snapshots at 0, 100, 200; steps 100 → 260 cross epoch boundaries (25 batches each)
        original = weights(s)
        s.rewind(snapshot_at(s, 100))
        assert s.training.step_count == 100 and not same(weights(s), original)
        s.train(160)
        assert same(weights(s), original), settings
        timeline = s.timeline.message()
        assert timeline["branches"][-1]["parent"] == 0 and timeline["branches"][-1]["from_step"] == 100


def test_a_branch_with_another_learning_rate_differs():
    s = Session()
    s.train(200)
    original = weights(s)
    s.rewind(snapshot_at(s, 100))
    s.apply_settings({"optimizer": {"name": "sgd", "learning_rate": 0.3}})
    s.train(100)
    assert s.training.step_count == 200 and not same(weights(s), original)
    # rewinding restores the settings in force then, so the same snapshot retraces the original again
    s.rewind(snapshot_at(s, 100))
    assert s.settings["optimizer"]["learning_rate"] == 0.03
    s.train(100)
    assert same(weights(s), original)


def test_live_settings_keep_weights_and_step():
    s = Session()
    s.train(50)
    before = weights(s)
    answers = s.apply_settings({"optimizer": {"name": "adam", "learning_rate": 0.01}, "batch_size": 25,
                                "regularization": "l2", "regularization_rate": 0.01})
    assert answers[0]["type"] == "network" and answers[0]["reset"] is False
    assert s.training.step_count == 50 and same(weights(s), before)
    assert s.training.trainer.optimizer.weight_decay == 0.01 and s.training.batcher.batch_size == 25


def test_an_activation_change_keeps_the_weights_and_branches():
    s = Session()
    s.train(120)
    before = weights(s)
    answers = s.apply_settings({"layers": [{"units": 4, "activation": "relu"}, {"units": 2, "activation": "tanh"}]})
    assert answers[0]["reset"] is False and s.training.step_count == 120 and same(weights(s), before)
    assert len(s.timeline.branches) == 2 and s.timeline.branch["from_step"] == 120
    s.handle({"type": "step", "n": 10})
    assert s.timeline.branches[0]["steps"][-1] == 120 and s.timeline.branches[1]["steps"][-1] == 130


def test_a_structural_change_rebuilds_at_step_zero():
    s = Session()
    s.train(30)
    answers = s.apply_settings({"layers": [{"units": 3, "activation": "tanh"}]})
    assert answers[0]["reset"] is True and s.training.step_count == 0 and len(s.timeline.branches) == 1


def test_snapshots_are_bounded_and_keep_each_branchs_first():
    timeline = Timeline()
    for step in range(0, 8000, 100):
        timeline.take(step, None, {})
        if step == 4000:
            timeline.branch_from(timeline.snapshots[-1])
    assert len(timeline.snapshots) == MAX_SNAPSHOTS
    assert timeline.snapshots[0]["step"] == 0  # branch 0's first
    assert any(s["branch"] == 1 and s["step"] == 4100 for s in timeline.snapshots)  # branch 1's first
    assert timeline.snapshots[-1]["step"] == 7900


def test_snapshots_fall_due_ever_more_rarely():
    s = Session({"points": 40, "batch_size": 40})
    s.train(250)
    s.train(2750)
    assert [snap["step"] for snap in s.timeline.snapshots] == [0, 100, 200, *range(300, 1001, 100), 2000, 3000]
    assert interval(999) == 100 and interval(1000) == 1000 and interval(10_000) == 10_000
