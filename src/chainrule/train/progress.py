"""A progress bar over epochs showing loss and metrics: tqdm when installed, plain lines otherwise."""

from __future__ import annotations

import sys


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
