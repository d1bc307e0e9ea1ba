"""Per-layer gradient norms ‖∂L/∂W_l‖ over training: the first instrument for vanishing and
exploding gradients (seed 001: through k sigmoid layers the gradient shrinks like (1/4)^k)."""

from __future__ import annotations

import numpy as np

from ..train.callbacks import Callback


class GradientNormRecorder(Callback):
    """Record ‖∂L/∂W‖ (Frobenius) for each weight matrix every ``every`` steps.

    After training: ``steps`` (list of step numbers) and ``norms`` ({'0.weight': [...], ...}).
    """

    def __init__(self, every=1):
        self.every = max(1, int(every))
        self.steps = []
        self.norms = {}

    def on_step(self, trainer, loss, grads):
        if trainer.step % self.every:
            return
        self.steps.append(trainer.step)
        for name, g in grads.items():
            if name.endswith("weight") and np.ndim(g) == 2:
                self.norms.setdefault(name, []).append(float(np.sqrt(np.sum(np.square(g, dtype=np.float64)))))

    def state_dict(self):
        return {"steps": list(self.steps), "norms": {k: list(v) for k, v in self.norms.items()}}

    def load_state_dict(self, state):
        self.steps = list(state["steps"])
        self.norms = {k: list(v) for k, v in state["norms"].items()}

    def matrix(self):
        """(layers, records) array of norms and the layer names, for a heatmap."""
        names = list(self.norms)
        return np.array([self.norms[n] for n in names]), names
