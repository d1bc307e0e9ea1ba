"""One training state: ``TrainState`` round-trips, ``Trainer.state_dict()`` round-trips into a fresh
trainer that then trains bit for bit like the original, and an older checkpoint format is refused
in one line."""

import hashlib
import json

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.errors import CheckpointError
from chainrule.train import EarlyStopping, Trainer, TrainState
from chainrule.train.checkpoint import (
    CHECKSUMS,
    FORMAT,
    FORMAT_VERSION,
    STATE,
    TENSORS,
    latest_checkpoint,
    read_checkpoint,
    save_checkpoint,
)

X, Y = make_moons(n=50, noise=0.2, seed=0)  # batches of 8: 7 per epoch


def make_trainer(seed=5):
    model = nn.MLP([2, 12, 2], activation="tanh", dropout=0.2)  # dropout: the generator's state matters
    return Trainer(model, optimizer="adam", learning_rate=0.01, batch_size=8, seed=seed, verbose=0,
                   callbacks=[EarlyStopping("loss", patience=100)], on_divergence="rollback")


def test_train_state_round_trips_through_json():
    s = TrainState(epoch=3, step=25, batch_index=4, loss_sum=1.25, samples=32,
                   data={"n": 50, "batch_size": 8, "seed": 5, "shuffle": True, "drop_last": False},
                   history={"loss": [0.7, 0.5, 0.4], "accuracy": [0.5, 0.75, 0.8]}, lr_scale=0.25, rollbacks=2,
                   dropout_rng=np.random.default_rng(11), last_finite_loss=0.375, stop_reason="early stopping",
                   stop_training=True)
    s.dropout_rng.random(7)  # a generator somewhere in its stream, not at its seed
    back = TrainState()
    back.load_dict(json.loads(json.dumps(s.to_dict())))
    assert not back.stop_training  # a request of the fit that saved it, not of the next
    back.stop_training = True
    assert back.to_dict() == s.to_dict()
    for field in ("epoch", "step", "batch_index", "loss_sum", "samples", "data", "history", "lr_scale",
                  "rollbacks", "last_finite_loss", "stop_reason"):
        assert getattr(back, field) == getattr(s, field), field
    assert np.array_equal(back.dropout_rng.random(5), s.dropout_rng.random(5))
    # stop_training belongs to one fit: not saved, so a resumed run trains on (and its reason is not kept)
    s.stop_training = False
    assert s.to_dict()["stop_reason"] is None


def test_trainer_state_dict_round_trip_continues_bit_for_bit():
    a = make_trainer()
    a.fit(X, Y, epochs=2)
    for _ in range(3):  # into the middle of epoch 3, as a step checkpoint would stop
        a.train_step(X[:8], Y[:8])
    a.batch_index = 3
    arrays, state = a.state_dict()
    state = json.loads(json.dumps(state))  # what a checkpoint file holds
    b = make_trainer(seed=5)
    b.load_state_dict({k: np.array(v) for k, v in arrays.items()}, state)
    assert b.state.to_dict() == a.state.to_dict()
    assert all(a.model.params[k].tobytes() == b.model.params[k].tobytes() for k in a.model.params)
    assert b.callbacks[0].state_dict().keys() == a.callbacks[0].state_dict().keys()
    a.fit(X, Y, epochs=2)
    b.fit(X, Y, epochs=2)
    assert all(a.model.params[k].tobytes() == b.model.params[k].tobytes() for k in a.model.params)
    sa, sb = a.state.to_dict(), b.state.to_dict()
    for s in (sa, sb):
        s["history"].pop("time")  # wall-clock seconds per epoch: the one thing that may differ
    assert sa == sb


def test_a_failed_load_leaves_the_trainer_as_it_was():
    a = make_trainer()
    a.fit(X, Y, epochs=1)
    arrays, state = a.state_dict()
    b = make_trainer(seed=6)
    before = b.state.to_dict(), {k: v.copy() for k, v in b.model.params.items()}
    broken = json.loads(json.dumps(state))
    broken["callbacks"][0]["state"]["best"] = "not a number"  # fails after the arrays were put in
    with pytest.raises(CheckpointError, match="does not fit"):
        b.load_state_dict({k: np.array(v) for k, v in arrays.items()}, broken)
    assert b.state.to_dict() == before[0]
    assert all(np.array_equal(b.model.params[k], v) for k, v in before[1].items())


def _rewrite_state(path, change):
    state = json.loads((path / STATE).read_text())
    change(state)
    (path / STATE).write_text(json.dumps(state))
    sums = {"format": FORMAT, "sha256": {n: hashlib.sha256((path / n).read_bytes()).hexdigest()
                                         for n in (STATE, TENSORS)}}
    (path / CHECKSUMS).write_text(json.dumps(sums))


@pytest.mark.parametrize("version", [1, 3])
def test_an_older_checkpoint_format_is_refused_in_one_line(tmp_path, version):
    pytest.importorskip("safetensors")
    t = make_trainer()
    t.fit(X, Y, epochs=1)
    path = save_checkpoint(t, tmp_path)
    assert json.loads((path / STATE).read_text())["format_version"] == FORMAT_VERSION
    read_checkpoint(path, t)  # intact: reads back
    _rewrite_state(path, lambda s: s.update(format_version=version))
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(path, t)
    msg = str(err.value)
    assert f"is from an older checkpoint format (format_version {version}" in msg and "\n" not in msg
    with pytest.raises(CheckpointError, match="older checkpoint format"):
        latest_checkpoint(tmp_path, t)


def test_a_newer_or_malformed_version_is_not_called_older(tmp_path):
    pytest.importorskip("safetensors")
    t = make_trainer()
    t.fit(X, Y, epochs=1)
    path = save_checkpoint(t, tmp_path)
    _rewrite_state(path, lambda s: s.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(CheckpointError, match=f"expected format_version {FORMAT_VERSION}, found") as err:
        read_checkpoint(path, t)
    assert "older" not in str(err.value)


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_restore_into_a_live_trainer_after_compiled_batchnorm_steps(steps):
    """A compiled program's integer count can come back as a NumPy scalar; the Trainer keeps
    buffers as arrays, and a restore replaces them (a rollback used to die with a TypeError)."""
    from chainrule.train import Trainer

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 2)), rng.integers(0, 2, 64)
    model = nn.Sequential(nn.Dense(2, 8), nn.BatchNorm(8), nn.ReLU(), nn.Dense(8, 2))
    trainer = Trainer(model, batch_size=16, verbose=0, compiled=True)
    snap = trainer.snapshot()
    start = {k: np.array(v) for k, v in model.buffers.items()}
    for i in range(steps):
        trainer.train_step(X[16 * i : 16 * i + 16], y[16 * i : 16 * i + 16])
    assert trainer.compiled
    assert all(type(v) is np.ndarray for v in model.buffers.values())
    assert int(model.buffers["1.num_batches_tracked"]) == steps
    trainer.load_state_dict(*snap)
    assert trainer.step == 0
    for k, v in start.items():
        np.testing.assert_array_equal(model.buffers[k], v)
        assert model.buffers[k].dtype == v.dtype
