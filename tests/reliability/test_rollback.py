"""Rollback works with every callback attached, and goes back to a state that is good: one whose
loss was seen finite and not exploded (a finite state from which every step overflows is not)."""

import warnings

import numpy as np
import pytest
from reliability_helpers import Spike

from chainrule import nn
from chainrule.diagnostics import TrainingRecorder
from chainrule.train import Callback, Checkpoint, DivergenceWarning, EarlyStopping, MetricLogger, Trainer
from chainrule.train.checkpoint import list_checkpoints, step_of
from chainrule.train.divergence import EXPLODED

pytestmark = pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning",
                                        "ignore:overflow:RuntimeWarning")

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 2))
Y = (X @ np.array([1.5, -2.0])).reshape(-1, 1)


@pytest.mark.parametrize("at", [3, 7])  # in the first epoch (back to the start) and in the second
def test_rollback_with_a_training_recorder_attached(at, tmp_path):
    recorder = TrainingRecorder(every=1)
    t = Trainer(nn.MLP([2, 8, 1], activation="tanh"), loss=Spike(at), optimizer="adam", learning_rate=0.01,
                batch_size=10, verbose=0, on_divergence="rollback",
                callbacks=[recorder, EarlyStopping("loss", patience=50), MetricLogger(tmp_path / "log.csv")])
    with pytest.warns(DivergenceWarning, match="rolled back"):
        t.fit(X, Y, epochs=3)
    assert t.rollbacks == 1 and t.step == 12 and t.epoch == 3
    # The recorder's records were rolled back with the state and continue without gaps or repeats.
    assert recorder.steps == list(range(12))
    assert all(len(v) == 12 for v in recorder.series["grad_norm"].values())
    assert recorder.layers == ["0.weight", "2.weight"]


def diverging(**kw):
    """Linear least squares with one full batch per epoch and a step size past 2/λ_max: the loss
    grows by a factor > 10 per step until it overflows; × 0.1 the step size converges."""
    options = {"optimizer": "sgd", "learning_rate": 3.0, "batch_size": 40, "verbose": 0, "metrics": [],
               "on_divergence": "rollback", "rollback_factor": 0.1, "max_rollbacks": 3, **kw}
    return Trainer(nn.Sequential(nn.Dense(2, 1)), loss="mse", **options)


class LossAtState(Callback):
    """loss[k]: the loss measured at the state after k steps, as first seen (before any rollback)."""

    def __init__(self):
        self.loss = {}

    def on_gradients(self, trainer, loss, grads):
        self.loss.setdefault(trainer.step, loss)


def test_rollback_goes_to_a_state_whose_loss_was_not_exploded():
    seen = LossAtState()
    t = diverging(callbacks=[seen])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t.fit(X, Y, epochs=300)
    rolled = [str(w.message) for w in caught if issubclass(w.category, DivergenceWarning)]
    assert len(rolled) == 1 and t.rollbacks == 1
    target = int(rolled[0].split("(step ")[1].split(")")[0])
    exploded = float(rolled[0].split("the loss is ")[1].split(" ")[0])
    # The divergence is caught at the first loss over EXPLODED × the first one, while it is still
    # finite (a finite loss that grew by orders of magnitude is divergence, issue 11 defect 3)...
    assert np.isfinite(exploded) and exploded > EXPLODED * seen.loss[0]
    # ...and the target is the newest state whose loss was within EXPLODED × the first loss
    # (the end of the last epoch before the explosion), not one the run had already lost.
    assert seen.loss[target] <= EXPLODED * seen.loss[0] and rolled[0].startswith("training diverged")
    assert f"rolled back from step {target + 1} to" in rolled[0]
    assert np.isfinite(t.history["loss"][-1]) and t.history["loss"][-1] < 1e-6  # from it, training converges


def test_an_exploded_checkpoint_is_not_a_rollback_target(tmp_path):
    t = diverging(callbacks=[Checkpoint(tmp_path, every_epochs=1, keep=0)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t.fit(X, Y, epochs=300)
    rolled = [str(w.message) for w in caught if issubclass(w.category, DivergenceWarning)]
    assert len(rolled) == 1 and "to checkpoint ckpt-00000000" in rolled[0]
    target = int(rolled[0].split("(step ")[1].split(")")[0])
    assert target < 10 and np.isfinite(t.history["loss"][-1]) and t.history["loss"][-1] < 1e-6


def test_a_rollback_removes_the_checkpoints_of_the_abandoned_branch(tmp_path):
    class DiskAtRollback(Callback):
        def on_rollback(self, trainer):
            self.on_disk = [step_of(p) for p in list_checkpoints(tmp_path)]
            self.step = trainer.step

    spy = DiskAtRollback()
    t = diverging(callbacks=[Checkpoint(tmp_path, every_epochs=1, keep=0), spy])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t.fit(X, Y, epochs=300)
    assert t.rollbacks == 1 and spy.step < 10
    # Every epoch had been checkpointed up to the divergence; the later (exploded) ones are gone,
    # so a resume from this folder continues the good branch.
    assert spy.on_disk == list(range(1, spy.step + 1))
    assert [step_of(p) for p in list_checkpoints(tmp_path)] == list(range(1, 301))
