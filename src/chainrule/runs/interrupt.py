"""Ctrl-C during a run: finish the step, write a checkpoint, say where, then stop.

A SIGINT that lands in the middle of an optimizer update would leave half-updated parameters, so
the first Ctrl-C only raises a flag; at the end of the current step ``SaveOnInterrupt`` writes
a checkpoint (atomically, like every checkpoint) and raises ``RunInterrupted``. A second Ctrl-C
interrupts at once, as usual. ``chainrule train --resume RUN`` continues from that checkpoint and
ends bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path

from ..train.callbacks import Callback
from ..train.checkpoint import save_checkpoint


class RunInterrupted(KeyboardInterrupt):
    """Training stopped at a Ctrl-C after writing a checkpoint (``path``)."""

    def __init__(self, path, epoch, step):
        super().__init__(f"interrupted in epoch {epoch + 1}, after step {step}; checkpoint written to {path}")
        self.path, self.epoch, self.step = path, epoch, step


class SaveOnInterrupt(Callback):
    """The training callback: a checkpoint in ``directory`` at the end of an interrupted step."""

    def __init__(self, directory, keep=3):
        self.directory, self.keep = Path(directory), keep
        self.requested = False

    @contextmanager
    def armed(self):
        """While in this block, the first Ctrl-C asks for a checkpoint instead of interrupting."""
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        previous = signal.getsignal(signal.SIGINT)

        def ask(signum, frame):
            self.requested = True
            signal.signal(signal.SIGINT, previous)  # a second Ctrl-C interrupts at once

        signal.signal(signal.SIGINT, ask)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self.requested = False

    def on_step_end(self, trainer):
        if self.requested:
            path = save_checkpoint(trainer, self.directory, keep=self.keep)
            raise RunInterrupted(path, trainer.epoch, trainer.step)
