"""Checkpoints: everything needed to continue a run exactly, written atomically with checksums.

A checkpoint is a folder ``ckpt-<step>/`` holding

- ``tensors.safetensors``: parameters, buffers and the optimizer's arrays;
- ``state.json``: epoch and step counters, the history so far, every generator's state, the
  optimizer's scalars, and the SHA-256 of ``tensors.safetensors``.

It is written to a temporary folder, fsynced, then renamed into place, so a crash mid-write
leaves either the previous checkpoint or the new one. On loading, a checkpoint whose checksum
does not match is skipped with a warning naming it, and the newest good one is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from ..errors import ChainruleError
from ..saving.atomic import _fsync_dir, atomic_write_bytes, atomic_write_json
from ..saving.weights import load_weights, save_weights
from .callbacks import Callback

FORMAT = "chainrule-checkpoint"


class CheckpointError(ChainruleError, ValueError):
    """No usable checkpoint, or one that does not fit the run."""


def trainer_state(trainer):
    """(arrays, scalars): the trainer's complete state, split for safetensors and JSON."""
    arrays = {f"param/{k}": v for k, v in trainer.model.params.items()}
    arrays.update({f"buffer/{k}": v for k, v in trainer.model.buffers.items()})
    scalars = {}
    for k, v in trainer.optimizer.state_dict().items():
        if isinstance(v, np.ndarray):
            arrays[f"optimizer/{k}"] = v
        else:
            scalars[k] = v
    callbacks = []
    for i, cb in enumerate(trainer.callbacks):
        cb_state = cb.state_dict() if hasattr(cb, "state_dict") else None
        if cb_state is not None:
            for k in [k for k, v in cb_state.items() if isinstance(v, np.ndarray)]:
                arrays[f"callback{i}/{k}"] = cb_state.pop(k)
        callbacks.append(cb_state)
    return arrays, {
        "format": FORMAT,
        "epoch": trainer.epoch,
        "step": trainer.step,
        "history": trainer.history,
        "last_finite_loss": trainer.last_finite_loss,
        "dropout_rng": trainer.dropout_rng.bit_generator.state,
        "optimizer": scalars,
        "callbacks": callbacks,
    }


def save_checkpoint(trainer, directory, keep=3):
    """Write ``<directory>/ckpt-<step>/`` atomically; keep the newest ``keep``; return its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"ckpt-{trainer.step:09d}"
    tmp = directory / f".tmp-{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    arrays, state = trainer_state(trainer)
    save_weights(arrays, tmp / "tensors.safetensors", metadata={"format": FORMAT})
    state["sha256"] = _sha256(tmp / "tensors.safetensors")
    atomic_write_json(tmp / "state.json", state)
    _fsync_dir(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _fsync_dir(directory)
    for old in list_checkpoints(directory)[:-keep] if keep else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(directory):
    """Checkpoint folders in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_dir() and p.name.startswith("ckpt-"))


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read(path):
    """(arrays, state) of one checkpoint folder, or raise CheckpointError saying what is wrong."""
    try:
        state = json.loads((path / "state.json").read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}/state.json is unreadable ({type(e).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}/state.json is not a chainrule checkpoint")
    tensors = path / "tensors.safetensors"
    if not tensors.is_file() or _sha256(tensors) != state.get("sha256"):
        raise CheckpointError(f"{tensors} does not match its checksum (truncated or corrupted)")
    return load_weights(tensors), state


def latest_checkpoint(directory):
    """(path, arrays, state) of the newest checkpoint that reads back intact."""
    bad = []
    for path in reversed(list_checkpoints(directory)):
        try:
            arrays, state = _read(path)
        except (CheckpointError, ValueError) as e:
            bad.append((path, e))
            continue
        for b, e in bad:
            warnings.warn(f"skipping checkpoint {b} ({e}); resuming from {path}", stacklevel=2)
        return path, arrays, state
    if bad:
        raise CheckpointError(f"no intact checkpoint in {directory}: " + "; ".join(str(e) for _, e in bad))
    raise CheckpointError(f"no checkpoint found in {directory}")


def restore(trainer, arrays, state):
    """Put a checkpoint's state into ``trainer`` (same model architecture and optimizer)."""
    params, buffers = trainer.model.params, trainer.model.buffers
    expected = {f"param/{k}" for k in params} | {f"buffer/{k}" for k in buffers}
    got = {k for k in arrays if k.startswith(("param/", "buffer/"))}
    if expected != got:
        raise CheckpointError(f"checkpoint does not fit the model: differs in {sorted(expected ^ got)[:5]}")
    for k, v in params.items():
        v[...] = arrays[f"param/{k}"]
    for k, v in buffers.items():
        v[...] = arrays[f"buffer/{k}"]
    opt_state = dict(state["optimizer"])
    opt_state.update({k[len("optimizer/"):]: v for k, v in arrays.items() if k.startswith("optimizer/")})
    trainer.optimizer.load_state_dict(opt_state)
    trainer.epoch, trainer.step = int(state["epoch"]), int(state["step"])
    trainer.history = {k: list(v) for k, v in state["history"].items()}
    trainer.last_finite_loss = state["last_finite_loss"]
    trainer.dropout_rng.bit_generator.state = state["dropout_rng"]
    for i, (cb, s) in enumerate(zip(trainer.callbacks, state.get("callbacks", []))):
        if s is not None and hasattr(cb, "load_state_dict"):
            prefix = f"callback{i}/"
            cb.load_state_dict({**s, **{k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}})


class Checkpoint(Callback):
    """Save a checkpoint every ``every`` epochs (and at the end), keeping the newest ``keep``."""

    def __init__(self, directory, every=1, keep=3):
        self.directory, self.every, self.keep = Path(directory), max(1, int(every)), int(keep)

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch % self.every == 0:
            save_checkpoint(trainer, self.directory, self.keep)

    def on_train_end(self, trainer):
        last = list_checkpoints(self.directory)
        if not last or not last[-1].name.endswith(f"{trainer.step:09d}"):
            save_checkpoint(trainer, self.directory, self.keep)


__all__ = ["Checkpoint", "CheckpointError", "atomic_write_bytes", "latest_checkpoint", "restore",
           "save_checkpoint"]
