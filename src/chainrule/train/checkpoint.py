"""Checkpointing: the ``Checkpoint`` callback, which writes the trainer's ``state_dict()`` every so
many epochs or steps, and ``restore``, which puts one back (``trainer.load_state_dict``).

The files themselves — layout, atomic writes, checksums, retention, validation — are
``chainrule.train.checkpoint_files``; its names are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from ..constraints import is_count
from ..errors import CheckpointError, CheckpointMismatchError, ConfigError
from .callbacks import Callback
from .checkpoint_files import (
    CHECKSUMS,
    DELAY_ENV,
    FORMAT,
    FORMAT_VERSION,
    STATE,
    TENSORS,
    CheckpointWarning,
    _check_state,
    discard_after,
    latest_checkpoint,
    list_checkpoints,
    read_checkpoint,
    remove_partial_writes,
    step_of,
    write_checkpoint,
)


def save_checkpoint(trainer, directory, keep=3):
    """Write ``trainer.state_dict()`` to ``<directory>/ckpt-<step>/`` atomically; keep the newest
    ``keep`` (0: all); return its path.

    Raises NonFiniteError, writing nothing, if any array is NaN or infinite."""
    arrays, state = trainer.state_dict()
    return write_checkpoint(directory, arrays, state, keep)


# -- restoring --------------------------------------------------------------------------------------

def restore(trainer, arrays, state):
    """Put a checkpoint's state into ``trainer``: ``trainer.load_state_dict(arrays, state)``
    (all or nothing: CheckpointMismatchError, the trainer unchanged, if any part does not fit)."""
    trainer.load_state_dict(arrays, state)


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
            if not is_count(value):
                raise ConfigError(f"Checkpoint: {name} must be a non-negative integer, found {value!r}")
        self.directory = Path(directory)
        self.every_epochs, self.every_steps, self.keep = int(every_epochs), int(every_steps), int(keep)
        self.every = self.every_epochs
        self.last_step = None  # the step of the newest checkpoint on disk
        self._pending = False

    def on_fit_begin(self, trainer):
        remove_partial_writes(self.directory)
        newest = list_checkpoints(self.directory)
        if newest and trainer.step == 0:
            # Another run's checkpoints would take the 'keep' slots (and be loaded on rollback).
            raise CheckpointError(f"{self.directory} already holds checkpoints of another run "
                                  f"({newest[-1].name}); restore from them or use another folder")
        self.last_step = step_of(newest[-1]) if newest else None
        self._pending = False

    def save(self, trainer):
        if hasattr(trainer, "check_finite"):
            trainer.check_finite()  # names the step and the layer; nothing is written
        path = save_checkpoint(trainer, self.directory, self.keep)
        self.last_step = trainer.step
        callbacks = getattr(trainer, "callback_list", None)
        if callbacks is not None:  # the divergence guard learns of a state it may roll back to
            callbacks.on_checkpoint(trainer, path)
        return path

    def on_step_end(self, trainer):
        if self.every_steps and trainer.step % self.every_steps == 0:
            if trainer.batch_index >= trainer.batcher.n_batches:
                self._pending = True  # the epoch's end, at this same step, comes next
            else:
                self.save(trainer)

    def on_epoch_end(self, trainer, epoch, logs):
        # Also when a callback has just decided to stop (early stopping): this is the last
        # consistent state, before on_fit_end may put back the best weights.
        if self._pending or trainer.stop_training or (self.every_epochs and epoch % self.every_epochs == 0):
            self.save(trainer)
        self._pending = False

    def on_rollback(self, trainer):
        # The checkpoints after the state training went back to are of the abandoned, diverging
        # branch: a resume must not pick them up (nor may they take the 'keep' slots).
        discard_after(self.directory, trainer.step)
        newest = list_checkpoints(self.directory)
        self.last_step = step_of(newest[-1]) if newest else None
        self._pending = False

    def on_fit_end(self, trainer):
        # After an early stop, callbacks may already have changed the weights (restore_best): the
        # stopping epoch was saved in on_epoch_end (or, if this callback runs before the stopper,
        # a resume replays that epoch deterministically).
        if self.last_step != trainer.step and not trainer.stop_training:
            self.save(trainer)


__all__ = ["CHECKSUMS", "DELAY_ENV", "FORMAT", "FORMAT_VERSION", "STATE", "TENSORS", "Checkpoint", "CheckpointError",
           "CheckpointMismatchError", "CheckpointWarning", "_check_state", "latest_checkpoint", "list_checkpoints",
           "read_checkpoint", "remove_partial_writes", "restore", "save_checkpoint", "write_checkpoint"]
