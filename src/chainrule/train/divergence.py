"""The divergence guard: on a non-finite or exploded loss or parameter, go back to the last good state and
continue with a lower learning rate (``Trainer(on_divergence='rollback')``).

A state is *good* once the loss measured at it — the next step's loss — is finite and not
exploded: at most ``loss_limit(first loss)`` = ``EXPLODED`` × max(the fit's first loss, 1), the
bound beyond which the Trainer itself calls a finite loss divergence (``LossExplodedError``). (A state reached by a
diverging run can be finite but already so far out that every step from it overflows, whatever
the learning rate; rolling back to it would only use up the rollbacks.) The guard learns of
states through the hooks: at each epoch's end it keeps an in-memory snapshot, and
``on_checkpoint`` tells it of each checkpoint written; rollback prefers the newest good
checkpoint (the run on disk and in memory stay the same run), then the newest good snapshot,
then the state the fit started from.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import CheckpointError, NonFiniteError
from ..optim.schedules import Schedule
from .callbacks import Callback

EXPLODED = 1e3  # × the fit's first loss: beyond it a state is not a rollback target
# A step's loss above EXPLODED × max(the fit's first loss, LOSS_FLOOR) is divergence even though
# it is finite (the Trainer raises LossExplodedError, which rollback handles like a NaN). Mean
# cross-entropy starts at ln(classes) ~ 1 and healthy training only lowers it; a loss 1000× its
# start has left every basin (SGD at lr 1e3 on moons: 4e34 after one epoch). The floor of 1
# keeps a fit that starts near 0 (a resumed, well-trained model at 1e-4) from tripping on a
# noisy step to 0.1: the loss must also exceed 1000 in absolute terms, far above any loss of
# order 1 (mean cross-entropy, MSE on standardized targets).
LOSS_FLOOR = 1.0


class LossExplodedError(NonFiniteError):
    """The loss stayed finite but grew by orders of magnitude: training diverged."""


def loss_limit(first_loss):
    """The largest loss a step may have in a fit whose first step's loss was ``first_loss`` (a
    float, or an array of first losses: one limit each)."""
    return EXPLODED * np.maximum(np.abs(first_loss), LOSS_FLOOR)


class DivergenceWarning(UserWarning):
    """Training diverged and was rolled back to a good state with a lower learning rate."""


class ScaledSchedule(Schedule):
    """``factor`` × another schedule (how a rollback lowers a scheduled learning rate)."""

    name = "scaled"

    def __init__(self, schedule, factor):
        self.schedule, self.factor = schedule, float(factor)
        self.learning_rate = schedule.learning_rate * self.factor

    @property
    def _config(self):
        return {"schedule": self.schedule.config(), "factor": self.factor}

    def __call__(self, step):
        return self.factor * self.schedule(step)

    def observe(self, metric):
        self.schedule.observe(metric)

    def state_dict(self):
        return self.schedule.state_dict()

    def load_state_dict(self, state):
        self.schedule.load_state_dict(state)


class DivergenceGuard(Callback):
    """Roll back to the last good state on divergence, at most ``max_rollbacks`` times, each time
    with the learning rate × ``rollback_factor``. Needs of the trainer: ``snapshot()``,
    ``load_state_dict``, ``step``, ``rollbacks``, ``lr_scale``, ``apply_lr_scale()``,
    ``callback_list`` and, for checkpoints, ``read_checkpoint``-compatible ``check_fits``."""

    def __init__(self, rollback_factor=0.5, max_rollbacks=3):
        self.rollback_factor, self.max_rollbacks = float(rollback_factor), int(max_rollbacks)
        self.start = None  # (step, snapshot) the fit started from
        self.snapshot = None  # (step, snapshot) of the newest good epoch end
        self.checkpoint = None  # (step, path) of the newest good checkpoint
        self.pending = []  # [(kind, step, what)] states whose loss is not measured yet
        self.first_loss = None

    def on_fit_begin(self, trainer):
        self.start = (trainer.step, trainer.snapshot())
        self.snapshot = self.checkpoint = self.first_loss = None
        self.pending = []

    def on_gradients(self, trainer, loss, grads):
        if self.first_loss is None:
            self.first_loss = abs(loss)
        if not self.pending:
            return
        good = abs(loss) <= loss_limit(self.first_loss)  # (the Trainer's own bound: no state it accepts is bad)
        step = trainer.step  # (the loss measured at the state after `step` updates)
        for kind, at, what in self.pending:
            if good and at == step:
                setattr(self, kind, (at, what))
        self.pending = []

    def on_epoch_end(self, trainer, epoch, logs):
        self.pending.append(("snapshot", trainer.step, trainer.snapshot()))

    def on_checkpoint(self, trainer, path):
        self.pending.append(("checkpoint", trainer.step, path))

    def on_divergence(self, trainer, error):
        from .checkpoint import read_checkpoint

        if trainer.rollbacks >= self.max_rollbacks:
            raise NonFiniteError(f"{error} (after {trainer.rollbacks} rollbacks with the learning rate × "
                                 f"{self.rollback_factor} each)") from None
        rollbacks, scale, step = trainer.rollbacks + 1, trainer.lr_scale * self.rollback_factor, trainer.step
        source = None
        if self.checkpoint is not None:
            try:
                source = (f"checkpoint {self.checkpoint[1].name}", read_checkpoint(self.checkpoint[1], trainer))
            except CheckpointError:
                self.checkpoint = None  # removed (retention) or damaged since: use a snapshot
        if source is None and self.snapshot is not None:
            source = ("the state at the end of the last good epoch", self.snapshot[1])
        if source is None:
            source = ("the state this fit started from", self.start[1])
        trainer.load_state_dict(*source[1])
        self.pending = []
        trainer.rollbacks, trainer.lr_scale = rollbacks, scale
        trainer.apply_lr_scale()
        trainer.callback_list.on_rollback(trainer)
        warnings.warn(f"{error}; rolled back from step {step} to {source[0]} (step {trainer.step}) and continuing "
                      f"with the learning rate × {scale:g} (rollback {rollbacks} of at most {self.max_rollbacks})",
                      DivergenceWarning, stacklevel=5)
        return True
