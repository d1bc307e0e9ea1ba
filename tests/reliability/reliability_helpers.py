"""What the divergence and rollback tests share."""

import numpy as np

import chainrule.numpy as cnp
from chainrule import nn


class Spike:
    """MSE whose training call number ``at`` has a finite value and a NaN gradient
    (0 · √0: value 0, derivative 0 · ∞): the case the loss check alone cannot see."""

    __name__ = "spike"

    def __init__(self, at):
        self.at, self.calls = at, 0

    def __call__(self, out, y):
        loss = nn.losses.mse(out, y)
        if isinstance(out, np.ndarray):  # evaluation (no tracing): not counted
            return loss
        self.calls += 1
        if self.calls == self.at:
            loss = loss + 0.0 * cnp.sum(cnp.sqrt(out - out))
        return loss
