"""Checkpoints hold the whole training state; resuming gives bit-identical weights."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.train import EarlyStopping, Trainer
from chainrule.train.checkpoint import Checkpoint, CheckpointError, latest_checkpoint, list_checkpoints, restore


def _trainer(tmp_path, callbacks=()):
    model = nn.MLP([2, 12, 12, 2], activation="tanh", dropout=0.2)
    return Trainer(model, optimizer="adam", learning_rate=0.01, batch_size=8, seed=5, verbose=0,
                   callbacks=[Checkpoint(tmp_path / "ck", every=2, keep=2), *callbacks])


def test_resume_from_checkpoint_is_bit_identical(tmp_path):
    X, y = make_moons(n=48, noise=0.2, seed=0)
    # EarlyStopping (restoring the best weights at the end) takes part, so its state must resume too.
    full = _trainer(tmp_path / "a", [EarlyStopping("loss", patience=100)])
    full.fit(X, y, epochs=9)

    part = _trainer(tmp_path / "b", [EarlyStopping("loss", patience=100)])
    part.fit(X, y, epochs=4)  # checkpoints at epochs 2 and 4
    resumed = _trainer(tmp_path / "b", [EarlyStopping("loss", patience=100)])
    path, arrays, state = latest_checkpoint(tmp_path / "b" / "ck")
    restore(resumed, arrays, state)
    assert resumed.epoch == 4 and resumed.step == part.step
    resumed.fit(X, y, epochs=5)
    for k in full.model.params:
        assert full.model.params[k].tobytes() == resumed.model.params[k].tobytes(), k
    # The history and the early stopper's state carried across the cut (not just the weights).
    for key in full.history:
        if key != "time":
            assert full.history[key] == resumed.history[key], key
    assert (full.callbacks[1].best, full.callbacks[1].best_epoch) == (resumed.callbacks[1].best,
                                                                       resumed.callbacks[1].best_epoch)
    assert len(list_checkpoints(tmp_path / "b" / "ck")) == 2  # keep=2


def test_corrupted_checkpoint_falls_back_to_previous_with_warning(tmp_path):
    X, y = make_moons(n=32, seed=0)
    t = _trainer(tmp_path)
    t.fit(X, y, epochs=4)
    newest = list_checkpoints(tmp_path / "ck")[-1]
    data = (newest / "tensors.safetensors").read_bytes()
    (newest / "tensors.safetensors").write_bytes(data[: len(data) // 2])  # truncated
    with pytest.warns(UserWarning, match=newest.name):
        path, _, state = latest_checkpoint(tmp_path / "ck")
    assert path != newest and state["epoch"] == 2


def test_no_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        latest_checkpoint(tmp_path)


def test_checkpoint_for_another_architecture_is_refused(tmp_path):
    X, y = make_moons(n=32, seed=0)
    t = _trainer(tmp_path)
    t.fit(X, y, epochs=2)
    _, arrays, state = latest_checkpoint(tmp_path / "ck")
    other = Trainer(nn.MLP([2, 5, 2]), verbose=0)
    with pytest.raises(CheckpointError, match="does not fit"):
        restore(other, arrays, state)
    assert np.isfinite(other.model.params["0.weight"]).all()


def test_a_checkpoint_with_the_previous_data_order_is_refused_clearly():
    from chainrule.errors import CheckpointError
    from chainrule.train.checkpoint import FORMAT, _check_state

    with pytest.raises(CheckpointError, match="mini-batch order differs"):
        _check_state("ckpt-000000010", {"format": FORMAT, "format_version": 2})
