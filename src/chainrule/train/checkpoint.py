"""Checkpoints: everything needed to continue a run exactly, written atomically with checksums.

A checkpoint is a folder ``ckpt-<step>/`` (step zero-padded to 9 digits) holding

- ``tensors.safetensors``: parameters, buffers, the optimizer's arrays and callbacks' arrays;
- ``state.json``: epoch and step counters, the position in the data (epoch, batch index, the
  running loss sum of the partial epoch, and the batcher's configuration), the history so far,
  every generator's state, the optimizer's and schedule's scalars, callbacks' state, and the
  divergence-rollback state (learning-rate scale, rollbacks so far);
- ``checksums.json``: the SHA-256 of the two files above.

It is written to a temporary folder, fsynced, then renamed into place, so a crash mid-write
leaves either the previous checkpoint or the new one. A state with a NaN or infinity is never
written (the last good checkpoint stays the newest). On loading, a checkpoint that fails its
checksums or its validation is skipped with a warning naming it and the one used instead.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import shutil
import time
import warnings
from pathlib import Path

import numpy as np

from ..errors import ChainruleError, CheckpointError, CheckpointMismatchError, ConfigError, NonFiniteError
from ..saving.atomic import _fsync_dir, _json_default, atomic_write_bytes
from ..saving.weights import load_weights, read_header, tensors_bytes
from .callbacks import Callback

FORMAT = "chainrule-checkpoint"
FORMAT_VERSION = 3  # 3: the data order of an epoch is a jump into one PCG64 stream per seed (see Batcher)
TENSORS, STATE, CHECKSUMS = "tensors.safetensors", "state.json", "checksums.json"
MAX_STATE_BYTES = 1 << 30  # the history of a very long run is a few MB
_NAME = re.compile(r"ckpt-(\d{9,})")
# Test hook: seconds to sleep between writing the temporary folder and renaming it into place,
# so that a crash test can kill a process in the middle of a checkpoint write.
DELAY_ENV = "CHAINRULE_TEST_CHECKPOINT_DELAY"


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (corrupted or incomplete) in favour of an older one."""


# -- the state ------------------------------------------------------------------------------------

def trainer_state(trainer):
    """(arrays, scalars): the trainer's complete state, split for safetensors and JSON.

    The arrays are the trainer's own (not copies); ``capture`` copies them."""
    arrays = {f"param/{k}": v for k, v in trainer.model.params.items()}
    arrays.update({f"buffer/{k}": v for k, v in trainer.model.buffers.items()})
    scalars = {}
    for k, v in trainer.optimizer.state_dict().items():
        if isinstance(v, np.ndarray):
            arrays[f"optimizer/{k}"] = v
        else:
            scalars[k] = v
    callbacks = []  # per callback: None, or its class name and the JSON part of its state_dict()
    for i, cb in enumerate(trainer.callbacks):
        cb_state = cb.state_dict() if hasattr(cb, "state_dict") else None
        if cb_state is not None:
            for k in [k for k, v in cb_state.items() if isinstance(v, np.ndarray)]:
                arrays[f"callback{i}/{k}"] = cb_state.pop(k)
            cb_state = {"type": type(cb).__name__, "state": cb_state}
        callbacks.append(cb_state)
    batcher = getattr(trainer, "batcher", None)
    data = None
    if batcher is not None:
        data = {k: v for k, v in batcher.state_dict().items() if k not in ("epoch", "batch_index")}
    return arrays, {
        "stop_reason": trainer.stop_reason if trainer.stop_training else None,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "epoch": trainer.epoch,
        "step": trainer.step,
        "position": {"batch_index": trainer.batch_index, "loss_sum": trainer.epoch_loss_sum,
                     "samples": trainer.epoch_samples, "data": data},
        "history": trainer.history,
        "last_finite_loss": trainer.last_finite_loss,
        "dropout_rng": trainer.dropout_rng.bit_generator.state,
        "optimizer": scalars,
        "callbacks": callbacks,
        "divergence": {"lr_scale": trainer.lr_scale, "rollbacks": trainer.rollbacks},
    }


def capture(trainer):
    """An in-memory snapshot (arrays copied, scalars deep-copied) that ``restore`` puts back."""
    arrays, state = trainer_state(trainer)
    history = state.pop("history")
    state = copy.deepcopy(state)
    state["history"] = {k: list(v) for k, v in history.items()}  # floats: a shallow copy is a copy
    return {k: np.array(v, copy=True) for k, v in arrays.items()}, state


def _first_non_finite(arrays):
    for k, v in arrays.items():
        if np.issubdtype(v.dtype, np.inexact) and not np.all(np.isfinite(v)):
            return k
    return None


# -- writing ----------------------------------------------------------------------------------------

def save_checkpoint(trainer, directory, keep=3):
    """Write ``<directory>/ckpt-<step>/`` atomically; keep the newest ``keep`` (0: all); return its path.

    Raises NonFiniteError, writing nothing, if any parameter or optimizer array is NaN or infinite."""
    directory = Path(directory)
    arrays, state = trainer_state(trainer)
    bad = _first_non_finite(arrays)
    if bad is not None:
        raise NonFiniteError(f"refusing to write a checkpoint at step {trainer.step}: '{bad}' is not finite "
                             f"(last finite loss {trainer.last_finite_loss}); the last good checkpoint is kept")
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"ckpt-{trainer.step:09d}"
    tmp = directory / f".tmp-{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    tensors = tensors_bytes(arrays, metadata={"format": FORMAT})
    text = (json.dumps(state, indent=1, default=_json_default) + "\n").encode()
    sums = {"format": FORMAT, "sha256": {TENSORS: hashlib.sha256(tensors).hexdigest(),
                                         STATE: hashlib.sha256(text).hexdigest()}}
    for name, data in ((TENSORS, tensors), (STATE, text), (CHECKSUMS, (json.dumps(sums) + "\n").encode())):
        _write_synced(tmp / name, data)
    _fsync_dir(tmp)
    _test_delay()
    if final.exists():  # the same step saved again: the old one goes aside first
        _discard(final)
    os.replace(tmp, final)
    _fsync_dir(directory)
    for stale in list_checkpoints(directory)[:-keep] if keep else []:
        _discard(stale)
    return final


def _discard(path):
    """Remove a checkpoint folder: renamed away first (atomic), then deleted at leisure."""
    aside = path.parent / f".old-{path.name}-{os.getpid()}-{time.monotonic_ns()}"
    os.replace(path, aside)
    shutil.rmtree(aside, ignore_errors=True)


def _test_delay():
    try:
        seconds = float(os.environ.get(DELAY_ENV) or 0)
    except ValueError:
        return
    if seconds > 0:
        time.sleep(seconds)


def _write_synced(path, data):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def remove_partial_writes(directory):
    """Delete temporary folders left by a process killed while writing a checkpoint."""
    directory = Path(directory)
    if directory.is_dir():
        for p in directory.iterdir():
            if p.is_dir() and p.name.startswith((".tmp-ckpt-", ".old-ckpt-")):
                shutil.rmtree(p, ignore_errors=True)


def list_checkpoints(directory):
    """Checkpoint folders in ``directory``, oldest (fewest steps) first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.fullmatch(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- reading ----------------------------------------------------------------------------------------

def _read_json(path, limit):
    try:
        size = path.stat().st_size
        if size > limit:
            raise CheckpointError(f"{path} is {size} bytes, more than a checkpoint file can be ({limit})")
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing (incomplete checkpoint)") from None
    except OSError as e:
        raise CheckpointError(f"{path} cannot be read ({e.strerror or type(e).__name__})") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"{path} is not valid JSON ({type(e).__name__})") from None


def read_checkpoint(path, trainer=None):
    """(arrays, state) of one checkpoint folder, or a CheckpointError saying what is wrong.

    The checksums are verified first, then the state's structure and the tensors' header; with
    ``trainer`` the tensors' names, shapes and dtypes are checked against its model and optimizer
    (CheckpointMismatchError) before any tensor is read."""
    path = Path(path)
    sums = _read_json(path / CHECKSUMS, 1 << 16)
    if not isinstance(sums, dict) or sums.get("format") != FORMAT or not isinstance(sums.get("sha256"), dict):
        raise CheckpointError(f"{path / CHECKSUMS} is not a chainrule checkpoint's checksum file")
    for name in (STATE, TENSORS):
        file = path / name
        if not file.is_file():
            raise CheckpointError(f"{file} is missing (incomplete checkpoint)")
        if _sha256(file) != sums["sha256"].get(name):
            raise CheckpointError(f"{file} does not match its checksum (truncated or corrupted)")
    state = _read_json(path / STATE, MAX_STATE_BYTES)
    _check_state(path / STATE, state)
    try:
        spec, _ = read_header(path / TENSORS)
    except ChainruleError as e:
        raise CheckpointError(str(e)) from None
    if trainer is not None:
        _check_fits(path / TENSORS, spec, trainer)
    try:
        arrays = load_weights(path / TENSORS)
    except ChainruleError as e:
        raise CheckpointError(str(e)) from None
    bad = _first_non_finite(arrays)
    if bad is not None:  # save_checkpoint never writes one
        raise CheckpointError(f"{path / TENSORS}: tensor '{bad[:60]}' contains NaN or inf")
    return arrays, state


_read = read_checkpoint  # the name older code used


def latest_checkpoint(directory, trainer=None):
    """(path, arrays, state) of the newest checkpoint that reads back intact.

    Checkpoints that fail their checksums or validation are skipped, each with a
    ``CheckpointWarning`` naming it and the checkpoint used instead. With ``trainer`` a checkpoint
    that is intact but does not fit the trainer raises CheckpointMismatchError at once."""
    bad = []
    for path in reversed(list_checkpoints(directory)):
        try:
            arrays, state = read_checkpoint(path, trainer)
        except CheckpointMismatchError:
            raise
        except CheckpointError as e:
            bad.append((path, e))
            continue
        for skipped, e in bad:
            warnings.warn(f"skipping checkpoint {skipped}: {e}; resuming from {path} instead", CheckpointWarning,
                          stacklevel=2)
        return path, arrays, state
    if bad:
        raise CheckpointError(f"no intact checkpoint in {directory}: " + "; ".join(str(e) for _, e in bad))
    raise CheckpointError(f"no checkpoint found in {directory}")


def _is_int(x, low=0):
    return isinstance(x, int) and not isinstance(x, bool) and x >= low


def _is_number(x):
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_finite(x):
    try:
        return _is_number(x) and math.isfinite(x)
    except OverflowError:  # an integer beyond float range
        return False


def _check_state(where, s):
    """Raise CheckpointError unless ``s`` has the structure ``trainer_state`` writes."""
    def need(ok, what):
        if not ok:
            raise CheckpointError(f"{where} is not a valid checkpoint state: {what}")

    need(isinstance(s, dict) and s.get("format") == FORMAT, f"expected format {FORMAT!r}")
    need(s.get("format_version") != 2, "format_version 2 was written by an earlier chainrule whose mini-batch order "
         "differs from this one's: resuming it would skip and repeat samples; start a new run (its weights load "
         "with chainrule.saving.load_weights)")
    need(s.get("format_version") == FORMAT_VERSION, f"expected format_version {FORMAT_VERSION}, "
         f"found {str(s.get('format_version'))[:20]}")
    need(_is_int(s.get("epoch")) and _is_int(s.get("step")), "epoch and step must be non-negative integers")
    pos = s.get("position")
    need(isinstance(pos, dict) and _is_int(pos.get("batch_index")) and _is_int(pos.get("samples"))
         and _is_finite(pos.get("loss_sum")),
         "position must hold batch_index, samples (non-negative integers) and a finite loss_sum")
    data = pos.get("data")
    need(data is None or (isinstance(data, dict) and all(_is_int(data.get(k)) for k in ("n", "batch_size", "seed"))
                          and all(isinstance(data.get(k), bool) for k in ("shuffle", "drop_last"))),
         "position.data must describe the batcher (n, batch_size, seed, shuffle, drop_last)")
    hist = s.get("history")
    need(isinstance(hist, dict) and all(isinstance(v, list) and all(x is None or _is_number(x) for x in v)
                                        for v in hist.values()), "history must map names to lists of numbers")
    need(s.get("last_finite_loss") is None or _is_number(s["last_finite_loss"]), "last_finite_loss must be a number")
    need(isinstance(s.get("dropout_rng"), dict), "dropout_rng must be a generator state")
    try:
        np.random.default_rng().bit_generator.state = s["dropout_rng"]
    except (TypeError, ValueError, KeyError, OverflowError):
        need(False, "dropout_rng is not a valid PCG64 generator state")
    need(isinstance(s.get("optimizer"), dict), "optimizer must be an object")
    need(isinstance(s.get("callbacks"), list) and all(
        c is None or (isinstance(c, dict) and isinstance(c.get("type"), str) and isinstance(c.get("state"), dict))
        for c in s["callbacks"]), "callbacks must be a list of null or {type, state} objects")
    div = s.get("divergence")
    need(isinstance(div, dict) and _is_finite(div.get("lr_scale")) and 0 < div["lr_scale"] <= 1
         and _is_int(div.get("rollbacks")),
         "divergence must hold lr_scale in (0, 1] and a rollback count")


def _expected_spec(trainer):
    spec = {f"param/{k}": (v.shape, v.dtype) for k, v in trainer.model.params.items()}
    spec.update({f"buffer/{k}": (v.shape, v.dtype) for k, v in trainer.model.buffers.items()})
    spec.update({f"optimizer/{k}": (v.shape, v.dtype) for k, v in trainer.optimizer.state_dict().items()
                 if isinstance(v, np.ndarray)})
    return spec


def _check_fits(where, spec, trainer):
    """CheckpointMismatchError unless the file's model and optimizer tensors are exactly the trainer's."""
    expected = _expected_spec(trainer)
    got = {k for k in spec if not k.startswith("callback")}
    if set(expected) != got:
        diff = sorted(set(expected) ^ got)
        raise CheckpointMismatchError(f"checkpoint {where} does not fit the model and optimizer: they differ in "
                                      f"{str(diff[:5])[:200]}")
    for k, (shape, dtype) in expected.items():
        f_shape, f_dtype = spec[k]
        if tuple(f_shape) != tuple(shape) or np.dtype(f_dtype) != np.dtype(dtype):
            raise CheckpointMismatchError(
                f"checkpoint {where} does not fit: '{k}' has shape {tuple(f_shape)} and dtype {f_dtype}, "
                f"the run expects {tuple(shape)} and {np.dtype(dtype)}")


# -- restoring --------------------------------------------------------------------------------------

def restore(trainer, arrays, state):
    """Put a checkpoint's (or ``capture``'s) state into ``trainer`` (same architecture and optimizer).

    All or nothing: if any part does not fit, the trainer is left exactly as it was and a
    CheckpointMismatchError says what did not fit."""
    spec = {k: (np.shape(v), np.asarray(v).dtype) for k, v in arrays.items()}
    _check_fits("state", spec, trainer)
    before = capture(trainer)
    try:
        _apply(trainer, arrays, state)
    except (ChainruleError, ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError) as e:
        _apply(trainer, *before)
        text = str(e).splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise CheckpointMismatchError(f"checkpoint does not fit this trainer: {text}") from None


def _apply(trainer, arrays, state):
    for k, v in trainer.model.params.items():
        v[...] = arrays[f"param/{k}"]
    for k, v in trainer.model.buffers.items():
        v[...] = arrays[f"buffer/{k}"]
    div = state["divergence"]
    scale = float(div["lr_scale"])
    if scale != trainer.lr_scale or scale != 1.0:  # untouched otherwise: a rate the user set stays
        trainer.lr_scale = scale
        trainer.apply_lr_scale()
    trainer.rollbacks = int(div["rollbacks"])
    opt_state = dict(state["optimizer"])
    opt_state.update({k[len("optimizer/"):]: v for k, v in arrays.items() if k.startswith("optimizer/")})
    trainer.optimizer.load_state_dict(opt_state)
    trainer.epoch, trainer.step = int(state["epoch"]), int(state["step"])
    pos = state["position"]
    trainer.batch_index, trainer.epoch_samples = int(pos["batch_index"]), int(pos["samples"])
    trainer.epoch_loss_sum = float(pos["loss_sum"])
    trainer.resume_data = pos["data"]
    trainer.history = {k: list(v) for k, v in state["history"].items()}
    trainer.stop_reason = state.get("stop_reason")
    trainer.last_finite_loss = state["last_finite_loss"]
    trainer.dropout_rng.bit_generator.state = state["dropout_rng"]
    for i, saved in enumerate(state["callbacks"]):
        if saved is None:
            continue
        cb = trainer.callbacks[i] if i < len(trainer.callbacks) else None
        if cb is None or type(cb).__name__ != saved["type"] or not hasattr(cb, "load_state_dict"):
            found = "nothing" if cb is None else type(cb).__name__
            raise ConfigError(f"the checkpoint holds the state of a {saved['type']} as callback {i}, the trainer "
                              f"has {found} there")
        prefix = f"callback{i}/"
        cb.load_state_dict({**saved["state"], **{k[len(prefix):]: v for k, v in arrays.items()
                                                  if k.startswith(prefix)}})


# -- the callback -----------------------------------------------------------------------------------

class Checkpoint(Callback):
    """Save a checkpoint every ``every_epochs`` epochs and every ``every_steps`` optimizer steps
    (either may be 0 = never), and at the end of training; keep the newest ``keep`` (0: all).

    ``every`` is the older name of ``every_epochs``. With neither given, every epoch. A step
    checkpoint due at an epoch's last batch is written after that epoch's end instead (same
    step, with the epoch's metrics), so no two checkpoints share a step.
    """

    def __init__(self, directory, every_epochs=None, every_steps=0, keep=3, every=None):
        if every is not None and every_epochs is not None:
            raise ConfigError("Checkpoint: give every_epochs or its older name every, not both")
        if every is not None:
            every_epochs = every
        if every_epochs is None:
            every_epochs = 0 if every_steps else 1
        for name, value in (("every_epochs", every_epochs), ("every_steps", every_steps), ("keep", keep)):
            if not _is_int(value) and not (isinstance(value, np.integer) and value >= 0):
                raise ConfigError(f"Checkpoint: {name} must be a non-negative integer, found {value!r}")
        self.directory = Path(directory)
        self.every_epochs, self.every_steps, self.keep = int(every_epochs), int(every_steps), int(keep)
        self.every = self.every_epochs
        self.last_step = None  # the step of the newest checkpoint on disk
        self._pending = False

    def on_train_begin(self, trainer):
        remove_partial_writes(self.directory)
        newest = list_checkpoints(self.directory)
        if newest and trainer.step == 0:
            # Another run's checkpoints would take the 'keep' slots (and be loaded on rollback).
            raise CheckpointError(f"{self.directory} already holds checkpoints of another run "
                                  f"({newest[-1].name}); restore from them or use another folder")
        self.last_step = int(_NAME.fullmatch(newest[-1].name).group(1)) if newest else None
        self._pending = False

    def save(self, trainer):
        if hasattr(trainer, "check_finite"):
            trainer.check_finite()  # names the step and the layer; nothing is written
        path = save_checkpoint(trainer, self.directory, self.keep)
        self.last_step = trainer.step
        return path

    def on_step_end(self, trainer):
        if self.every_steps and trainer.step % self.every_steps == 0:
            if trainer.batch_index >= trainer.batcher.n_batches:
                self._pending = True  # the epoch's end, at this same step, comes next
            else:
                self.save(trainer)

    def on_epoch_end(self, trainer, epoch, logs):
        # Also when a callback has just decided to stop (early stopping): this is the last
        # consistent state, before on_train_end may put back the best weights.
        if self._pending or trainer.stop_training or (self.every_epochs and epoch % self.every_epochs == 0):
            self.save(trainer)
        self._pending = False

    def on_train_end(self, trainer):
        # After an early stop, callbacks may already have changed the weights (restore_best): the
        # stopping epoch was saved in on_epoch_end (or, if this callback runs before the stopper,
        # a resume replays that epoch deterministically).
        if self.last_step != trainer.step and not trainer.stop_training:
            self.save(trainer)


__all__ = ["Checkpoint", "CheckpointError", "CheckpointMismatchError", "CheckpointWarning", "atomic_write_bytes",
           "capture", "latest_checkpoint", "list_checkpoints", "read_checkpoint", "restore", "save_checkpoint"]
