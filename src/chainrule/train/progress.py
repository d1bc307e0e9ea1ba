"""A progress bar over epochs showing loss and metrics: tqdm when installed, plain lines otherwise."""

from __future__ import annotations

import sys
import time

from .callbacks import Callback


def _fmt(logs):
    return " ".join(f"{k}={v:.4g}" for k, v in logs.items() if isinstance(v, float | int))


class Progress:
    def __init__(self, total, verbose=1, desc="training"):
        self.verbose = verbose
        self.bar = None
        self.total = total
        if verbose:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=desc, unit="epoch", file=sys.stderr, dynamic_ncols=True)
            except ImportError:
                self.bar = None

    def update(self, epoch, logs):
        if not self.verbose:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt(logs), refresh=False)
            self.bar.update(1)
        elif epoch == self.total or epoch % max(1, self.total // 20) == 0:
            print(f"epoch {epoch}/{self.total} {_fmt(logs)}", file=sys.stderr)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class ProgressBar(Callback):
    """The progress bar as a callback: one tick per epoch of a fit of ``total`` epochs.

    summarize: logs -> the numbers shown (the Ensemble shows the mean over its models).
    A fit that a callback stopped early (EarlyStopping, or any ``trainer.stop_training = True``)
    ends with one line that says so and why, so a bar left at 17% is not a mystery."""

    def __init__(self, total, verbose=1, desc="training", summarize=None):
        self.total, self.verbose, self.desc, self.summarize = total, verbose, desc, summarize
        self.bar = None
        self.done = 0

    def on_fit_begin(self, trainer):
        self.bar = Progress(self.total, self.verbose, desc=self.desc)
        self.done = 0

    def on_epoch_end(self, trainer, epoch, logs):
        self.done += 1
        self.bar.update(epoch, self.summarize(logs) if self.summarize else logs)

    def on_fit_end(self, trainer):
        self.close()
        if self.verbose and trainer.stop_training and self.done < self.total:
            print(stopped_early(self.done, self.total, getattr(trainer, "stop_reason", None)), file=sys.stderr)

    def close(self):
        """Also called when training stops with an error (the loop's ``finally``)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def stopped_early(done, total, reason):
    """The line that ends an early-stopped fit: how far it got, and why it stopped."""
    return f"training stopped after {done} of {total} epochs — {reason or 'a callback set trainer.stop_training'}"


class StageProgress:
    """Progress over ``total`` stages of a long computation (an experiment's runs), with an ETA
    from the mean time per stage so far: a tqdm bar when tqdm is installed, else one line per
    stage through ``log`` (None: silent)."""

    def __init__(self, total, desc, log=print):
        self.total, self.desc, self.log, self.done = int(total), desc, log, 0
        self.start = time.perf_counter()
        self.bar = None
        if log is not None and self.total > 1:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=self.total, desc=desc, unit="stage", file=sys.stderr, dynamic_ncols=True,
                                leave=False)
            except ImportError:
                self.bar = None

    def step(self):
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.log is not None and self.total > 1:
            elapsed = time.perf_counter() - self.start
            eta = elapsed / self.done * (self.total - self.done)
            self.log(f"{self.desc} {self.done}/{self.total}, {elapsed:.0f} s, ETA {eta:.0f} s")

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
