"""A progress bar over epochs showing loss and metrics: tqdm when installed, plain lines otherwise."""

from __future__ import annotations

import sys

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
