"""The state.json bound derives from what the trainer's state can hold (issue 12 review, item 5):
the training recorder's loss slices and sharpness, and long histories, are legitimate and load;
each part's declared bound holds what it writes with room to spare."""

import json

import numpy as np
import pytest

from chainrule import nn
from chainrule.diagnostics import TrainingRecorder
from chainrule.errors import CheckpointError
from chainrule.train import Trainer
from chainrule.train.checkpoint import Checkpoint, latest_checkpoint, list_checkpoints, read_checkpoint
from chainrule.train.checkpoint_files import STATE, step_of, trainer_state_bound

pytest.importorskip("safetensors")


def _data(n=8):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] > 0).astype(int)


def _trainer(X, y, ck, **recorder):
    rec = TrainingRecorder(every=1, probe=(X, y), warn=False, **recorder)
    return Trainer(nn.MLP([2, 2]), batch_size=8, verbose=0, callbacks=[rec, Checkpoint(ck, every_steps=1)])


def _assert_far_below(ck, fresh):
    for path in list_checkpoints(ck):
        size = (path / STATE).stat().st_size
        bound = trainer_state_bound(fresh, step_of(path))
        # measured: ≤ 0.39 of the bound with the slices, ≤ 0.04 with the history (a number is ~20-30 bytes,
        # priced at 48); 0.75 leaves a margin yet fails if a part of the state that grows went uncounted
        assert size < 0.75 * bound, (path.name, size, bound)


def test_a_recorder_with_2d_slices_and_sharpness_resumes(tmp_path):
    X, y = _data()
    ck = tmp_path / "ck"
    options = {"slices_every": 1, "slice_2d": True, "slice_points": 41, "sharpness_every": 1, "sharpness_iters": 3}
    _trainer(X, y, ck, **options).fit(X, y, epochs=30)
    fresh = _trainer(X, y, tmp_path / "other", **options)
    path, _, state = latest_checkpoint(ck, fresh)  # (before: 'state.json is 1511318 bytes, more than ...')
    assert step_of(path) == 30 and len(state["callbacks"][0]["state"]["slices"]) == 30
    # the slices dominate: the bound counts them from the recorder's options, not per array
    _assert_far_below(ck, fresh)


def test_a_long_history_stays_below_its_bound(tmp_path):
    X, y = _data(4)
    ck = tmp_path / "ck"
    t = Trainer(nn.MLP([2, 2]), batch_size=4, verbose=0, callbacks=[Checkpoint(ck, every_epochs=100, keep=0)])
    t.fit(X, y, epochs=400, validation_data=(X, y))  # a history row per step, with the val_ metrics
    fresh = Trainer(nn.MLP([2, 2]), batch_size=4, verbose=0, callbacks=[Checkpoint(tmp_path / "o")])
    latest_checkpoint(ck, fresh)
    _assert_far_below(ck, fresh)


def test_a_forged_state_over_the_derived_bound_is_refused(tmp_path):
    X, y = _data()
    ck = tmp_path / "ck"
    _trainer(X, y, ck).fit(X, y, epochs=3)
    fresh = _trainer(X, y, tmp_path / "other")
    path = list_checkpoints(ck)[-1]
    bound = trainer_state_bound(fresh, step_of(path))
    state = json.loads((path / STATE).read_text())
    state["history"]["loss"] += [0.5] * (bound // 5)  # '0.5, ' a number: just over the bound
    (path / STATE).write_text(json.dumps(state))
    with pytest.raises(CheckpointError, match=r"state.json is \d+ bytes, more than this checkpoint's can be"):
        read_checkpoint(path, fresh)
