"""Checkpoints at step granularity: resuming from any of them — mid-epoch included — gives the
weights, the history and the optimizer state of the uninterrupted run, bit for bit."""

import hashlib
import json
import shutil
import struct
import tracemalloc

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.errors import CheckpointError, CheckpointMismatchError, ConfigError
from chainrule.saving import save_weights
from chainrule.train import Callback, EarlyStopping, Trainer
from chainrule.train.checkpoint import (
    CHECKSUMS,
    STATE,
    TENSORS,
    Checkpoint,
    CheckpointWarning,
    latest_checkpoint,
    list_checkpoints,
    read_checkpoint,
    restore,
    save_checkpoint,
)

pytest.importorskip("safetensors")

X, Y = make_moons(n=50, noise=0.2, seed=0)  # 50 samples in batches of 8: 7 batches, the last of 2


def make_trainer(directory, every_steps=5, every_epochs=0, keep=0, optimizer="adam", schedule=None, **kw):
    model = nn.MLP([2, 12, 12, 2], activation="tanh", dropout=0.2, batchnorm=True)
    lr = schedule or 0.01
    return Trainer(model, optimizer=optimizer, learning_rate=lr, batch_size=8, seed=5, verbose=0,
                   callbacks=[EarlyStopping("loss", patience=100),
                              Checkpoint(directory, every_steps=every_steps, every_epochs=every_epochs, keep=keep)],
                   **kw)


def assert_same_run(a, b):
    for k in a.model.params:
        assert a.model.params[k].tobytes() == b.model.params[k].tobytes(), k
    for k in a.model.buffers:
        assert a.model.buffers[k].tobytes() == b.model.buffers[k].tobytes(), k
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert np.asarray(sa[k]).tobytes() == np.asarray(sb[k]).tobytes(), k
    assert {k: v for k, v in a.history.items() if k != "time"} == {k: v for k, v in b.history.items() if k != "time"}
    assert (a.epoch, a.step, a.dropout_rng.bit_generator.state) == (b.epoch, b.step, b.dropout_rng.bit_generator.state)


@pytest.mark.parametrize("optimizer, schedule", [
    ("adam", {"name": "cosine", "learning_rate": 0.01, "total_steps": 40}),
    ("momentum", {"name": "plateau", "learning_rate": 0.05, "patience": 1, "factor": 0.5}),
])
def test_resume_from_every_step_checkpoint_is_bit_identical(tmp_path, optimizer, schedule):
    full = make_trainer(tmp_path / "full", optimizer=optimizer, schedule=schedule)
    full.fit(X, Y, epochs=5, validation_data=(X[:20], Y[:20]))
    checkpoints = list_checkpoints(tmp_path / "full")
    positions = []
    for path in checkpoints:
        arrays, state = read_checkpoint(path)
        positions.append((state["epoch"], state["position"]["batch_index"]))
        resumed = make_trainer(tmp_path / f"r-{path.name}", optimizer=optimizer, schedule=schedule)
        restore(resumed, arrays, state)
        resumed.fit(X, Y, epochs=5 - resumed.epoch, validation_data=(X[:20], Y[:20]))
        assert_same_run(full, resumed)
    # Every 5 steps of 7 per epoch: the checkpoints fall at every position within an epoch.
    assert [int(p.name[5:]) for p in checkpoints] == [5, 10, 15, 20, 25, 30, 35]
    assert {b for _, b in positions} == {0, 1, 2, 3, 4, 5, 6}


class Crash(Callback):
    """Dies like a killed process: an exception in the middle of an epoch, after step ``at``."""

    def __init__(self, at):
        self.at = at

    def on_step_end(self, trainer):
        if trainer.step == self.at:
            raise KeyboardInterrupt


def test_crash_and_resume_twice_in_the_same_epoch(tmp_path):
    full = make_trainer(tmp_path / "full", every_steps=2)
    full.fit(X, Y, epochs=3)
    run = tmp_path / "run"
    for crash_at in (11, 13, None):  # epoch 2 has steps 8–14: resumed at step 10, then at step 12
        t = make_trainer(run, every_steps=2)
        if crash_at:
            t.callbacks.append(Crash(crash_at))
        if list_checkpoints(run):
            restore(t, *latest_checkpoint(run, t)[1:])
            assert t.epoch == 1 and t.batch_index in (3, 5)
        try:
            t.fit(X, Y, epochs=3 - t.epoch)
        except KeyboardInterrupt:
            assert t.step == crash_at
    assert_same_run(full, t)


def test_checkpoint_options(tmp_path):
    t = make_trainer(tmp_path / "s", every_steps=3, keep=2)
    t.fit(X, Y, epochs=2)
    assert [p.name for p in list_checkpoints(tmp_path / "s")] == ["ckpt-000000012", "ckpt-000000014"]  # last 2 kept
    t = make_trainer(tmp_path / "e", every_steps=0, every_epochs=2, keep=0)
    t.fit(X, Y, epochs=5)
    assert [int(p.name[5:]) for p in list_checkpoints(tmp_path / "e")] == [14, 28, 35]  # epochs 2, 4, and the end
    assert Checkpoint(tmp_path, every=3).every_epochs == 3  # the older keyword
    assert Checkpoint(tmp_path).every_epochs == 1 and Checkpoint(tmp_path, every_steps=4).every_epochs == 0
    for bad in ({"every_steps": -1}, {"keep": 1.5}, {"every_epochs": "2"}, {"every": 2, "every_epochs": 2}):
        with pytest.raises(ConfigError):
            Checkpoint(tmp_path, **bad)


def test_a_step_checkpoint_due_at_an_epochs_last_batch_is_written_after_the_epoch(tmp_path):
    t = make_trainer(tmp_path, every_steps=7)  # 7 batches per epoch: due exactly at each epoch's end
    t.fit(X, Y, epochs=2)
    for path in list_checkpoints(tmp_path):
        _, state = read_checkpoint(path)
        assert state["position"]["batch_index"] == 0 and len(state["history"]["loss"]) == state["epoch"]


def test_on_step_end_sees_the_counted_step():
    seen = []

    class Spy(Callback):
        def on_step_end(self, trainer):
            seen.append((trainer.step, trainer.epoch, trainer.batch_index, trainer.epoch_samples,
                         trainer.epoch_loss_sum > 0))

    t = Trainer(nn.MLP([2, 4, 2]), batch_size=8, verbose=0, callbacks=[Spy()])
    t.fit(X, Y, epochs=2)
    assert len(seen) == 14 and seen[0] == (1, 0, 1, 8, True) and seen[6] == (7, 0, 7, 50, True)
    assert seen[7] == (8, 1, 1, 8, True)


def test_corrupted_newest_checkpoint_warns_naming_both_and_uses_the_previous(tmp_path):
    t = make_trainer(tmp_path, every_steps=4)
    t.fit(X, Y, epochs=2)
    *_, previous, newest = list_checkpoints(tmp_path)
    truncate, edit = (lambda b: b[: len(b) // 2]), (lambda b: b.replace(b'"epoch": 2', b'"epoch": 3'))
    for name, damage in ((TENSORS, truncate), (STATE, edit)):
        original = (newest / name).read_bytes()
        (newest / name).write_bytes(damage(original))
        with pytest.warns(CheckpointWarning) as record:
            path, _, state = latest_checkpoint(tmp_path)
        message = str(record[0].message)
        assert path == previous and str(newest) in message and str(previous) in message, message
        assert name in message and "checksum" in message
        (newest / name).write_bytes(original)
    shutil.rmtree(newest / CHECKSUMS, ignore_errors=True)
    (newest / CHECKSUMS).unlink()
    with pytest.warns(CheckpointWarning, match="incomplete"):
        assert latest_checkpoint(tmp_path)[0] == previous


def test_every_checkpoint_corrupted_is_a_clear_error(tmp_path):
    t = make_trainer(tmp_path, every_steps=6)
    t.fit(X, Y, epochs=1)
    for path in list_checkpoints(tmp_path):
        (path / TENSORS).write_bytes(b"\0" * 10)
    with pytest.raises(CheckpointError, match="no intact checkpoint in .*does not match its checksum"):
        latest_checkpoint(tmp_path)


def test_checkpoints_are_written_atomically_and_leftovers_are_cleaned(tmp_path):
    t = make_trainer(tmp_path, every_steps=3)
    t.fit(X, Y, epochs=1)
    (tmp_path / ".tmp-ckpt-000000099-12345").mkdir()  # what a crash mid-write leaves
    (tmp_path / ".tmp-ckpt-000000099-12345" / TENSORS).write_bytes(b"partial")
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-000000003", "ckpt-000000006", "ckpt-000000007"]
    t.fit(X, Y, epochs=1)  # on_train_begin removes the leftover
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    # Saving the same step again replaces the checkpoint whole.
    path = save_checkpoint(t, tmp_path, keep=0)
    assert read_checkpoint(path)[1]["step"] == t.step and sorted(q.name for q in path.iterdir()) == sorted(
        [CHECKSUMS, STATE, TENSORS])


def test_checkpoint_for_another_model_or_optimizer_is_refused_and_the_trainer_left_alone(tmp_path):
    t = make_trainer(tmp_path / "a")
    t.fit(X, Y, epochs=1)
    arrays, state = read_checkpoint(list_checkpoints(tmp_path / "a")[-1])
    other = Trainer(nn.MLP([2, 5, 2]), verbose=0)
    before = {k: v.copy() for k, v in other.model.params.items()}
    with pytest.raises(CheckpointMismatchError, match="does not fit"):
        restore(other, arrays, state)
    with pytest.raises(CheckpointMismatchError, match="does not fit"):
        latest_checkpoint(tmp_path / "a", other)  # checked from the header, before reading any tensor
    sgd = make_trainer(tmp_path / "b", optimizer="sgd")
    with pytest.raises(CheckpointMismatchError, match="optimizer"):
        restore(sgd, arrays, state)
    assert all(np.array_equal(before[k], other.model.params[k]) for k in before)
    # A state that fails half-way (its EarlyStopping state is broken) leaves everything as it was.
    fresh = make_trainer(tmp_path / "c")
    snapshot = {k: v.copy() for k, v in fresh.model.params.items()}
    broken = json.loads(json.dumps(state))
    broken["callbacks"][0]["state"]["best"] = "not a number"
    with pytest.raises(CheckpointMismatchError):
        restore(fresh, arrays, broken)
    assert all(np.array_equal(snapshot[k], fresh.model.params[k]) for k in snapshot)
    assert fresh.step == 0 and fresh.optimizer.step_count == 0


def test_mid_epoch_checkpoint_needs_the_same_data(tmp_path):
    t = make_trainer(tmp_path, every_steps=3)
    t.fit(X, Y, epochs=1)
    arrays, state = read_checkpoint(tmp_path / "ckpt-000000003")
    resumed = make_trainer(tmp_path / "r")
    restore(resumed, arrays, state)
    with pytest.raises(CheckpointError, match="different data: its n was 50, this run's is 40"):
        resumed.fit(X[:40], Y[:40], epochs=1)


def test_huge_shapes_in_a_checkpoint_are_refused_without_allocating(tmp_path):
    t = make_trainer(tmp_path, every_steps=7)
    t.fit(X, Y, epochs=1)
    path = list_checkpoints(tmp_path)[-1]
    data = (path / TENSORS).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    for key in ("param/0.weight", "optimizer/m/0.weight"):
        hostile = json.loads(json.dumps(header))
        hostile[key]["shape"] = [10**6, 10**6]
        raw = json.dumps(hostile).encode()
        (path / TENSORS).write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
        sums = json.loads((path / CHECKSUMS).read_text())  # a crafted file: checksums made to match
        sums["sha256"][TENSORS] = hashlib.sha256((path / TENSORS).read_bytes()).hexdigest()
        (path / CHECKSUMS).write_text(json.dumps(sums))
        tracemalloc.start()
        with pytest.raises(CheckpointError, match=f"'{key}'.*needs 8000000000000 bytes"):
            read_checkpoint(path, make_trainer(tmp_path / "x"))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 20 * 2**20  # nothing near the 8 TB declared


def test_nan_state_is_never_checkpointed(tmp_path):
    t = make_trainer(tmp_path, every_steps=3)
    t.fit(X, Y, epochs=1)
    newest = list_checkpoints(tmp_path)[-1]
    t.model.params["0.weight"][0, 0] = np.nan
    with pytest.raises(Exception, match="'param/0.weight' is not finite.*last good checkpoint is kept"):
        save_checkpoint(t, tmp_path)
    assert list_checkpoints(tmp_path)[-1] == newest and not [p for p in tmp_path.iterdir() if p.name[0] == "."]
    # And a checkpoint file holding NaN (crafted, its checksums made to match) is refused on reading.
    arrays, _ = read_checkpoint(newest)
    key = next(k for k in arrays if k.startswith("optimizer/v/"))
    arrays[key].flat[0] = np.inf
    save_weights(arrays, newest / TENSORS)
    sums = json.loads((newest / CHECKSUMS).read_text())
    sums["sha256"][TENSORS] = hashlib.sha256((newest / TENSORS).read_bytes()).hexdigest()
    (newest / CHECKSUMS).write_text(json.dumps(sums))
    with pytest.raises(CheckpointError, match=f"'{key}' contains NaN or inf"):
        read_checkpoint(newest)
