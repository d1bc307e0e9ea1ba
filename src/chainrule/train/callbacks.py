"""Callbacks: one declared set of hooks the training loop calls, and the list that dispatches them.

The hooks (each a method of ``Callback`` that does nothing; override the ones you need):

- ``on_fit_begin(trainer)`` / ``on_fit_end(trainer)``: around each ``fit``;
- ``on_epoch_begin(trainer, epoch)``: before the first step of an epoch (``epoch`` counts from 1);
- ``on_gradients(trainer, loss, grads)``: after a step's loss and gradients, before the update;
- ``on_step_end(trainer)``: after each update, once ``trainer.step`` and ``trainer.batch_index``
  count it;
- ``on_epoch_end(trainer, epoch, logs)``: ``logs`` is the epoch's dict of metrics (``loss``,
  ``val_loss``, ``accuracy``…); set ``trainer.stop_training = True`` to stop after it;
- ``on_divergence(trainer, error)``: the loss or the parameters became non-finite
  (``error`` is the NonFiniteError); return True after restoring a good state to continue;
- ``on_checkpoint(trainer, path)``: a checkpoint of the current (finite) state was written;
- ``on_rollback(trainer)``: training went back to an earlier state.

``CallbackList`` finds once, per hook, the callbacks that override it, so a hook nobody
overrides costs nothing per step. A callback with state to resume has ``state_dict()`` and
``load_state_dict(state)``, and may declare ``state_bytes_bound(steps, trainer)``: the most bytes
its state can take in a checkpoint's state.json after ``steps`` steps (``callback_state_bound``;
a checkpoint whose state.json is larger than its parts' bounds is refused as corrupt).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .state import JSON_NUMBER_BYTES

HOOKS = ("on_fit_begin", "on_epoch_begin", "on_gradients", "on_step_end", "on_epoch_end", "on_fit_end",
         "on_divergence", "on_checkpoint", "on_rollback")
# Hook names of earlier chainrule versions: a callback defining one would silently never be called.
RENAMED = {"on_train_begin": "on_fit_begin", "on_train_end": "on_fit_end", "on_step": "on_gradients"}


class Callback:
    """Base of training callbacks: every hook of ``HOOKS``, doing nothing."""

    def on_fit_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_gradients(self, trainer, loss, grads):
        pass

    def on_step_end(self, trainer):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_fit_end(self, trainer):
        pass

    def on_divergence(self, trainer, error):
        return False

    def on_checkpoint(self, trainer, path):
        pass

    def on_rollback(self, trainer):
        pass


def overrides(callback, method):
    """Whether ``callback`` defines ``method`` other than as Callback's empty default."""
    fn = getattr(type(callback), method, None)
    return callable(fn) and fn is not getattr(Callback, method, None)


def check_callback(cb, who="Trainer"):
    """ConfigError unless ``cb`` is a Callback (or has the hooks of one) without renamed hooks."""
    if not isinstance(cb, Callback) and not any(callable(getattr(cb, h, None)) for h in HOOKS):
        raise ConfigError(f"{who}: callbacks must be chainrule.train.Callback objects, found {type(cb).__name__}")
    for old, new in RENAMED.items():
        if callable(getattr(cb, old, None)):
            raise ConfigError(f"{who}: callback {type(cb).__name__} defines {old}, which is now called {new}")


def _listens(cb, hook):
    if isinstance(cb, Callback):
        return overrides(cb, hook)
    return callable(getattr(cb, hook, None))  # a duck-typed callback


class CallbackList:
    """Dispatches each hook to the callbacks (in order) that override it.

    ``hooks[name]`` is the tuple of bound methods for hook ``name``, found once here; the
    training loop reads the per-step ones into locals."""

    def __init__(self, callbacks=()):
        self.callbacks = list(callbacks)
        self.hooks = {h: tuple(getattr(cb, h) for cb in self.callbacks if _listens(cb, h)) for h in HOOKS}

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def call(self, hook, *args):
        for fn in self.hooks[hook]:
            fn(*args)

    def on_fit_begin(self, trainer):
        self.call("on_fit_begin", trainer)

    def on_epoch_begin(self, trainer, epoch):
        self.call("on_epoch_begin", trainer, epoch)

    def on_epoch_end(self, trainer, epoch, logs):
        self.call("on_epoch_end", trainer, epoch, logs)

    def on_fit_end(self, trainer):
        self.call("on_fit_end", trainer)

    def on_checkpoint(self, trainer, path):
        self.call("on_checkpoint", trainer, path)

    def on_rollback(self, trainer):
        self.call("on_rollback", trainer)

    def on_divergence(self, trainer, error):
        """True when a callback restored a good state (training continues), else False."""
        return any(fn(trainer, error) for fn in self.hooks["on_divergence"])


def callback_states(callbacks):
    """(arrays, states) of callbacks with a ``state_dict()``: arrays named ``callback<i>/<key>``, and
    per callback None or {'type': its class name, 'state': the rest of its state}."""
    arrays, states = {}, []
    for i, cb in enumerate(callbacks):
        state = cb.state_dict() if hasattr(cb, "state_dict") else None
        if state is not None:
            for k in [k for k, v in state.items() if isinstance(v, np.ndarray)]:
                arrays[f"callback{i}/{k}"] = state.pop(k)
            state = {"type": type(cb).__name__, "state": state}
        states.append(state)
    return arrays, states


# A callback with a state_dict() but no state_bytes_bound(steps, trainer): its state may take this
# much plus GENERIC_STEP_BYTES per step (a record of ~20 numbers per step).
GENERIC_STATE_BYTES = 1 << 20
GENERIC_STEP_BYTES = 20 * JSON_NUMBER_BYTES


def callback_state_bound(cb, steps, trainer):
    """The most bytes ``cb``'s part of a state.json can take after ``steps`` optimizer steps: its
    own ``state_bytes_bound(steps, trainer)`` if it declares one, else a generic bound (a
    callback without a ``state_dict()`` writes null)."""
    if not hasattr(cb, "state_dict"):
        return 16
    own = getattr(cb, "state_bytes_bound", None)
    return int(own(steps, trainer)) if own is not None else GENERIC_STATE_BYTES + (steps + 1) * GENERIC_STEP_BYTES


def load_callback_states(callbacks, states, arrays):
    """Put back ``callback_states``'s output into the same callbacks (ConfigError if they differ)."""
    for i, saved in enumerate(states):
        if saved is None:
            continue
        cb = callbacks[i] if i < len(callbacks) else None
        if cb is None or type(cb).__name__ != saved["type"] or not hasattr(cb, "load_state_dict"):
            found = "nothing" if cb is None else type(cb).__name__
            raise ConfigError(f"the checkpoint holds the state of a {saved['type']} as callback {i}, the trainer "
                              f"has {found} there")
        prefix = f"callback{i}/"
        cb.load_state_dict({**saved["state"], **{k[len(prefix):]: v for k, v in arrays.items()
                                                  if k.startswith(prefix)}})


class History(Callback):
    """Append each epoch's logs to ``trainer.history`` ({metric: [value per epoch]}); runs first."""

    def on_epoch_end(self, trainer, epoch, logs):
        history = trainer.history
        for k, v in logs.items():
            history.setdefault(k, []).append(v)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs; with
    ``restore_best`` put back the weights of the best epoch (as Keras's EarlyStopping), and the
    buffers (BatchNorm's running statistics) that go with them."""

    def __init__(self, monitor="val_loss", patience=10, min_delta=0.0, mode="min", restore_best=True):
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.sign = 1.0 if mode == "min" else -1.0
        self.restore_best = restore_best
        self.best = math.inf
        self.best_epoch = None
        self.best_params = None
        self.best_buffers = None
        self.wait = 0

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise ConfigError(f"EarlyStopping monitors {self.monitor!r}, but the logs have only {sorted(logs)}")
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_params = {k: v.copy() for k, v in trainer.model.params.items()}
                self.best_buffers = {k: np.array(v, copy=True) for k, v in (trainer.model.buffers or {}).items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True
                trainer.stop_reason = (
                    f"early stopping: {self.monitor} did not improve for {self.patience} epochs "
                    f"(best {self.sign * self.best:.6g} at epoch {self.best_epoch})"
                )

    def state_dict(self):
        state = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        if self.best_params is not None:
            state.update({f"best/{k}": v.copy() for k, v in self.best_params.items()})
            state.update({f"best_buffer/{k}": v.copy() for k, v in (self.best_buffers or {}).items()})
        return state

    def state_bytes_bound(self, steps, trainer):
        return 4096  # three scalars (the best weights are arrays: they go to the tensors file)

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = float(state["best"]), state["best_epoch"], int(state["wait"])
        best = {k[5:]: np.array(v) for k, v in state.items() if k.startswith("best/")}
        self.best_params = best or None
        self.best_buffers = {k[12:]: np.array(v) for k, v in state.items() if k.startswith("best_buffer/")}

    def on_fit_end(self, trainer):
        if self.restore_best and self.best_params is not None:
            for k, v in self.best_params.items():
                trainer.model.params[k][...] = v
            for k, v in (self.best_buffers or {}).items():
                trainer.model.buffers[k] = v.copy()


class MetricLogger(Callback):
    """Append each epoch's logs to a CSV or JSON-lines file (by the file's suffix)."""

    def __init__(self, path):
        self.path = Path(path)
        self.jsonl = self.path.suffix in (".jsonl", ".json")
        self._fields = None

    def on_fit_begin(self, trainer):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if trainer.epoch == 0:
            self.path.unlink(missing_ok=True)
            return
        # Resuming: the rows of the epochs up to the checkpoint's (later ones will be trained
        # again), rewritten atomically from the restored history, so a file that a crash cut
        # short or another process wrote into is repaired; from the file itself only when the
        # history does not cover every epoch.
        rows = self._rows_from_history(trainer)
        if rows is not None:
            self._write_rows(rows)
            return
        if not self.path.exists():
            return
        text = self.path.read_bytes().decode("utf-8", errors="replace")
        lines = [ln for ln in text.splitlines(keepends=True) if ln.endswith("\n")]
        kept = self._rows_up_to(lines, trainer.epoch)
        if not kept or (not self.jsonl and len(kept) == 1):
            self.path.unlink()
            self._fields = None
            return
        from ..saving.atomic import atomic_write_bytes

        atomic_write_bytes(self.path, "".join(kept).encode())

    def on_rollback(self, trainer):
        """Training went back to an earlier state (divergence rollback): drop the rows after it."""
        if self.path.exists():
            self.on_fit_begin(trainer)

    @staticmethod
    def _rows_from_history(trainer):
        """[{epoch, step, metric: value, ...}] for epochs 1..trainer.epoch from ``trainer.history``, or
        None if it cannot be rebuilt (a metric without a value for every epoch, or no batcher to
        tell the step: the step at the end of epoch e is e · batches per epoch)."""
        history, epochs = trainer.history, trainer.epoch
        n_batches = getattr(getattr(trainer, "batcher", None), "n_batches", None)
        if not history or not isinstance(n_batches, int) or any(len(v) != epochs for v in history.values()):
            return None
        return [{"epoch": e + 1, "step": (e + 1) * n_batches, **{k: v[e] for k, v in history.items()}}
                for e in range(epochs)]

    def _write_rows(self, rows):
        from ..saving.atomic import atomic_write_bytes

        out = io.StringIO(newline="")
        if self.jsonl:
            out.writelines(json.dumps(row) + "\n" for row in rows)
        else:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows)
            self._fields = writer.fieldnames
        atomic_write_bytes(self.path, out.getvalue().encode())

    def _rows_up_to(self, lines, last_epoch):
        if self.jsonl:
            kept = []
            for ln in lines:
                try:
                    row = json.loads(ln)
                except ValueError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("epoch"), int) and row["epoch"] <= last_epoch:
                    kept.append(ln)
            return kept
        if not lines:
            return []
        header = lines[0].strip().split(",")
        if header[:1] != ["epoch"]:
            return []
        self._fields = header
        kept = lines[:1]
        for ln in lines[1:]:
            cells = ln.strip().split(",")
            if len(cells) == len(header) and cells[0].isdigit() and int(cells[0]) <= last_epoch:
                kept.append(ln)
        return kept

    def on_epoch_end(self, trainer, epoch, logs):
        row = {"epoch": epoch, "step": trainer.step, **logs}
        if self.jsonl:
            with self.path.open("a") as f:
                f.write(json.dumps(row) + "\n")
            return
        new = not self.path.exists()
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._fields or list(row))
            self._fields = writer.fieldnames
            if new:
                writer.writeheader()
            writer.writerow(row)


class LambdaCallback(Callback):
    """A callback from a plain function ``fn(trainer, epoch, logs)`` called at each epoch's end."""

    def __init__(self, on_epoch_end):
        self.fn = on_epoch_end

    def on_epoch_end(self, trainer, epoch, logs):
        self.fn(trainer, epoch, logs)
