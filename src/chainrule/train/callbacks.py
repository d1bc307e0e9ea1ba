"""Callbacks: hooks the training loop calls at the start and end of training, of each epoch,
and after each optimizer step.

A callback may set ``trainer.stop_training = True`` to stop after the current epoch. ``logs``
is the epoch's dict of metrics (``loss``, ``val_loss``, ``accuracy``…). ``on_step_end(trainer)``
runs after each update, once ``trainer.step`` and ``trainer.batch_index`` count it; the loop
calls it only for callbacks that override it, so the others cost nothing per step.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np


class Callback:
    def on_train_begin(self, trainer):
        pass

    def on_step_end(self, trainer):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass


def overrides(callback, method):
    """Whether ``callback`` defines ``method`` other than as Callback's empty default."""
    fn = getattr(type(callback), method, None)
    return callable(fn) and fn is not getattr(Callback, method, None)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs; with
    ``restore_best`` put back the weights of the best epoch (as Keras's EarlyStopping)."""

    def __init__(self, monitor="val_loss", patience=10, min_delta=0.0, mode="min", restore_best=True):
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.sign = 1.0 if mode == "min" else -1.0
        self.restore_best = restore_best
        self.best = math.inf
        self.best_epoch = None
        self.best_params = None
        self.wait = 0

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r}, but the logs have only {sorted(logs)}")
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_params = {k: v.copy() for k, v in trainer.model.params.items()}
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
        return state

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = float(state["best"]), state["best_epoch"], int(state["wait"])
        best = {k[5:]: np.array(v) for k, v in state.items() if k.startswith("best/")}
        self.best_params = best or None

    def on_train_end(self, trainer):
        if self.restore_best and self.best_params is not None:
            for k, v in self.best_params.items():
                trainer.model.params[k][...] = v


class MetricLogger(Callback):
    """Append each epoch's logs to a CSV or JSON-lines file (by the file's suffix)."""

    def __init__(self, path):
        self.path = Path(path)
        self.jsonl = self.path.suffix in (".jsonl", ".json")
        self._fields = None

    def on_train_begin(self, trainer):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            return
        if trainer.epoch == 0:
            self.path.unlink()
            return
        # Resuming: keep the rows of epochs up to the checkpoint's (later ones will be trained
        # again) and drop a last row cut short by a crash; rewritten atomically.
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
            self.on_train_begin(trainer)

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
