"""Checkpoint files: a ``state_dict()`` written atomically with checksums, read back verified.

This module knows files, not trainers: what it writes is ``(arrays, state)`` as a trainer's
``state_dict()`` returns them (arrays: parameters, buffers, the optimizer's and callbacks' arrays;
state: the JSON part, the ``TrainState`` fields and the optimizer's and callbacks' scalars). What
it asks of a trainer when reading is only ``check_fits(spec, where)``, before any tensor is read.
A checkpoint is a folder ``ckpt-<step>/`` (step zero-padded to 9 digits) holding

- ``tensors.safetensors``: the arrays;
- ``state.json``: the state, with the format's name and version;
- ``checksums.json``: the SHA-256 of the two files above.

It is written to a temporary folder, fsynced, then renamed into place, so a crash mid-write
leaves either the previous checkpoint or the new one. A state with a NaN or infinity is never
written (the last good checkpoint stays the newest). On loading, a checkpoint that fails its
checksums or its validation is skipped with a warning naming it and the one used instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import warnings
from pathlib import Path

import numpy as np

from ..constraints import is_count
from ..errors import ChainruleError, CheckpointError, CheckpointMismatchError, NonFiniteError
from ..saving.atomic import _fsync_dir, _json_default
from ..saving.checksums import sha256_of
from ..saving.weights import load_weights, read_header, tensors_bytes
from .callbacks import callback_state_bound
from .state import TrainState, check_state_dict

FORMAT = "chainrule-checkpoint"
FORMAT_VERSION = 4  # 4: the trainer's state_dict (TrainState); 3: one PCG64 stream per seed (see Batcher)
TENSORS, STATE, CHECKSUMS = "tensors.safetensors", "state.json", "checksums.json"
MAX_STATE_BYTES = 1 << 30  # the ceiling of state_bytes_bound, whatever a forged folder name claims
_NAME = re.compile(r"ckpt-(\d{9,})")
# Test hook: seconds to sleep between writing the temporary folder and renaming it into place,
# so that a crash test can kill a process in the middle of a checkpoint write.
DELAY_ENV = "CHAINRULE_TEST_CHECKPOINT_DELAY"


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (corrupted or incomplete) in favour of an older one."""


def _first_non_finite(arrays):
    for k, v in arrays.items():
        if np.issubdtype(v.dtype, np.inexact) and not np.all(np.isfinite(v)):
            return k
    return None


# -- writing ----------------------------------------------------------------------------------------

def write_checkpoint(directory, arrays, state, keep=3):
    """Write (arrays, state) — a ``state_dict()``, whose ``state['step']`` names the folder — atomically."""
    directory = Path(directory)
    bad = _first_non_finite(arrays)
    if bad is not None:
        raise NonFiniteError(f"refusing to write a checkpoint at step {state['step']}: '{bad}' is not finite "
                             f"(last finite loss {state.get('last_finite_loss')}); the last good checkpoint is kept")
    state = {"format": FORMAT, "format_version": FORMAT_VERSION, **state}
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"ckpt-{state['step']:09d}"
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


def discard_after(directory, step):
    """Remove the checkpoints of steps after ``step`` (a rollback abandoned them); return how many."""
    later = [p for p in list_checkpoints(directory) if step_of(p) > step]
    for path in later:
        _discard(path)
    return len(later)


def list_checkpoints(directory):
    """Checkpoint folders in ``directory``, oldest (fewest steps) first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.fullmatch(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


# -- reading ----------------------------------------------------------------------------------------

def _check_size(path, limit):
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing (incomplete checkpoint)") from None
    except OSError as e:
        raise CheckpointError(f"{path} cannot be read ({e.strerror or type(e).__name__})") from None
    if size > limit:
        raise CheckpointError(f"{path} is {size} bytes, more than this checkpoint's can be ({limit})")


def _read_json(path, limit):
    _check_size(path, limit)  # (outside the try: its CheckpointError is a ValueError too)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing (incomplete checkpoint)") from None
    except OSError as e:
        raise CheckpointError(f"{path} cannot be read ({e.strerror or type(e).__name__})") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"{path} is not valid JSON ({type(e).__name__})") from None


def state_bytes_bound(n_arrays, steps):
    """Without a trainer (whose callbacks declare their states' bounds, ``trainer_state_bound``):
    the most bytes a state.json of a checkpoint at optimizer step ``steps``, for a state of
    ``n_arrays`` arrays, is taken to hold: 1 MiB of fixed fields (positions, optimizer scalars,
    generator state), plus per step at most one history row (an epoch has at least one step) and
    one training-recorder record, each a few numbers per array. A row is ~25 bytes per number;
    1 KiB + 1 KiB per array and step leaves room for ~40 numbers per array and step, several
    times what the recorder and history write (so a real state is never refused)."""
    return min(MAX_STATE_BYTES, (1 << 20) + (steps + 1) * 1024 * (1 + n_arrays))


def trainer_state_bound(trainer, steps):
    """The most bytes a state.json of ``trainer`` at optimizer step ``steps`` can legitimately hold:
    the TrainState's (its fixed fields and one history row per epoch: the loss, the metrics and
    their val_ forms, lr and time) plus what each of its callbacks declares
    (``callback_state_bound``)."""
    n_metrics = 4 + 2 * len(getattr(trainer, "metric_names", ()) or ())
    total = TrainState.bytes_bound(steps, n_metrics)
    total += sum(callback_state_bound(cb, steps, trainer) for cb in getattr(trainer, "callbacks", ()))
    return min(MAX_STATE_BYTES, total)


def read_checkpoint(path, trainer=None):
    """(arrays, state) of one checkpoint folder, or a CheckpointError saying what is wrong.

    The checksums are verified first, then the state's structure and the tensors' header; with
    ``trainer`` the tensors' names, shapes and dtypes are checked by ``trainer.check_fits``
    (CheckpointMismatchError) before any tensor is read."""
    path = Path(path)
    sums = _read_json(path / CHECKSUMS, 1 << 16)
    if not isinstance(sums, dict) or sums.get("format") != FORMAT or not isinstance(sums.get("sha256"), dict):
        raise CheckpointError(f"{path / CHECKSUMS} is not a chainrule checkpoint's checksum file")
    for name in (STATE, TENSORS):
        if not (path / name).is_file():
            raise CheckpointError(f"{path / name} is missing (incomplete checkpoint)")
    if sha256_of(path / TENSORS) != sums["sha256"].get(TENSORS):
        raise CheckpointError(f"{path / TENSORS} does not match its checksum (truncated or corrupted)")
    try:
        spec, _ = read_header(path / TENSORS)
    except ChainruleError as e:
        raise CheckpointError(str(e)) from None
    # What this trainer's state can hold at this step bounds state.json before it is hashed or parsed
    # (without a trainer: what the arrays in the header allow, generically).
    if hasattr(trainer, "callbacks"):
        state_limit = trainer_state_bound(trainer, step_of(path))
    else:
        n_arrays = len(trainer.tensor_spec()) if hasattr(trainer, "tensor_spec") else len(spec)
        state_limit = state_bytes_bound(n_arrays, step_of(path))
    _check_size(path / STATE, state_limit)
    if sha256_of(path / STATE) != sums["sha256"].get(STATE):
        raise CheckpointError(f"{path / STATE} does not match its checksum (truncated or corrupted)")
    state = _read_json(path / STATE, state_limit)
    _check_state(path / STATE, state)
    if state["step"] != step_of(path):
        raise CheckpointError(f"{path / STATE} is of step {state['step']}, but its folder is {path.name}")
    if trainer is not None:
        trainer.check_fits(spec, f"checkpoint {path / TENSORS}")
    try:
        arrays = load_weights(path / TENSORS)
    except ChainruleError as e:
        raise CheckpointError(str(e)) from None
    bad = _first_non_finite(arrays)
    if bad is not None:  # save_checkpoint never writes one
        raise CheckpointError(f"{path / TENSORS}: tensor '{bad[:60]}' contains NaN or inf")
    return arrays, state


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



def _check_state(where, s):
    """Raise CheckpointError unless ``s`` is a state.json of this format (one line saying why)."""
    def need(ok, what):
        if not ok:
            raise CheckpointError(f"{where} is not a valid checkpoint state: {what}")

    need(isinstance(s, dict) and s.get("format") == FORMAT, f"expected format {FORMAT!r}")
    version = s.get("format_version")
    need(version != 2, "format_version 2 was written by an earlier chainrule whose mini-batch order "
         "differs from this one's: resuming it would skip and repeat samples; start a new run (its weights load "
         "with chainrule.saving.load_weights)")
    if is_count(version) and version < FORMAT_VERSION:
        raise CheckpointError(f"{where} is from an older checkpoint format (format_version {version}; this chainrule "
                              f"reads {FORMAT_VERSION}): start a new run (its weights load with "
                              "chainrule.saving.load_weights)")
    need(version == FORMAT_VERSION, f"expected format_version {FORMAT_VERSION}, found {str(version)[:20]}")
    check_state_dict(where, s)


def step_of(path):
    """The step a checkpoint folder's name records."""
    return int(_NAME.fullmatch(Path(path).name).group(1))
