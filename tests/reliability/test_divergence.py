"""Divergence: a NaN/inf in the loss or in a gradient stops training with the step, the layer and
the last finite loss; no NaN state is ever checkpointed; optional rollback with a lower rate."""

import numpy as np
import pytest
from reliability_helpers import Spike

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import NonFiniteError
from chainrule.train import DivergenceWarning, Trainer
from chainrule.train.checkpoint import Checkpoint, list_checkpoints, read_checkpoint, restore

pytest.importorskip("safetensors")
# The spike's √0 divides by zero in NumPy on purpose; the tests check what the trainer makes of it.
pytestmark = pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                                        "ignore:invalid value:RuntimeWarning")

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 2))
Y = (X @ np.array([1.5, -2.0]) + 0.1 * rng.standard_normal(40)).reshape(-1, 1)


def trainer(loss, tmp_path=None, **kw):
    callbacks = [Checkpoint(tmp_path, every_steps=1, keep=0)] if tmp_path is not None else []
    model = nn.MLP([2, 8, 1], activation="tanh")
    options = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 10, "seed": 0, "verbose": 0, **kw}
    return Trainer(model, loss=loss, callbacks=callbacks, **options)


def test_the_spike_is_what_it_claims():
    out = np.ones((3, 1))
    value, g = cr.value_and_grad(lambda o: Spike(1)(o, np.zeros((3, 1))))(out)
    assert np.isfinite(value) and np.isnan(g).all()


def test_non_finite_gradient_with_finite_loss_is_caught_at_the_next_step():
    t = trainer(Spike(at=6))
    with pytest.raises(NonFiniteError) as err:
        t.fit(X, Y, epochs=3)
    msg = str(err.value)
    # The update of step 6 made the first layer NaN; step 7's loss shows it. The message names both.
    assert "epoch 2, step 7" in msg and "parameter '0.weight' became non-finite in the update of step 6" in msg
    assert f"last finite loss {t.last_finite_loss}" in msg and np.isfinite(t.last_finite_loss)
    assert "\n" not in msg


def test_non_finite_gradient_in_the_last_step_is_caught_at_the_epochs_end():
    t = trainer(Spike(at=4))  # 4 steps per epoch: the last one
    with pytest.raises(NonFiniteError, match="'0.weight' became non-finite by step 4 .*last finite loss"):
        t.fit(X, Y, epochs=1)


def test_check_gradients_names_the_step_and_layer_at_once():
    t = trainer(Spike(at=6), check_gradients=True)
    with pytest.raises(NonFiniteError, match=r"gradient of '\d.weight' is not finite at epoch 2, step 6 .*"
                                             r"last finite loss [0-9.e-]+"):
        t.fit(X, Y, epochs=3)
    assert t.step == 5 and all(np.isfinite(p).all() for p in t.model.params.values())  # nothing applied


def test_exploding_loss_stops_before_the_update_and_keeps_the_last_good_checkpoint(tmp_path):
    t = trainer("mse", tmp_path, optimizer="sgd", learning_rate=3.0, batch_size=40)
    # The loss grows by orders of magnitude before it overflows: caught while still finite
    # (over 1000 × the fit's first loss), before the update that would take it further.
    with pytest.raises(NonFiniteError, match=r"training diverged: the loss is \S+ at epoch \d+, step \d+, over 1000 "
                                             r"× the fit's first loss"):
        t.fit(X, Y * 1e3, epochs=500)
    assert all(np.isfinite(p).all() for p in t.model.params.values())
    newest = list_checkpoints(tmp_path)[-1]
    arrays, state = read_checkpoint(newest)  # reads back, and is finite
    assert state["step"] == t.step and all(np.isfinite(v).all() for v in arrays.values())


def test_a_nan_update_is_never_checkpointed(tmp_path):
    t = trainer(Spike(at=6), tmp_path)  # a checkpoint after every step
    with pytest.raises(NonFiniteError, match="became non-finite by step 6"):
        t.fit(X, Y, epochs=3)
    assert [int(p.name[5:]) for p in list_checkpoints(tmp_path)][-1] == 5  # step 6 was refused
    assert all(np.isfinite(v).all() for v in read_checkpoint(list_checkpoints(tmp_path)[-1])[0].values())


def test_rollback_restores_the_last_good_state_and_lowers_the_learning_rate():
    t = trainer(Spike(at=6), on_divergence="rollback", rollback_factor=0.5)
    with pytest.warns(DivergenceWarning, match=r"rolled back from step 6 to the state at the end of the last good "
                                              r"epoch \(step 4\).*learning rate × 0.5 \(rollback 1 of at most 3\)"):
        t.fit(X, Y, epochs=3)
    assert t.rollbacks == 1 and t.lr_scale == 0.5 and t.optimizer.learning_rate == 0.005
    assert t.epoch == 3 and t.step == 4 * 3 and len(t.history["loss"]) == 3
    assert all(np.isfinite(p).all() for p in t.model.params.values())
    # Deterministic: the same run again gives the same weights.
    u = trainer(Spike(at=6), on_divergence="rollback", rollback_factor=0.5)
    with pytest.warns(DivergenceWarning):
        u.fit(X, Y, epochs=3)
    assert all(t.model.params[k].tobytes() == u.model.params[k].tobytes() for k in t.model.params)


def test_rollback_uses_the_newest_checkpoint_when_there_is_one(tmp_path):
    t = trainer(Spike(at=6), tmp_path, on_divergence="rollback")
    with pytest.warns(DivergenceWarning, match="to checkpoint ckpt-000000005 \\(step 5\\)"):
        t.fit(X, Y, epochs=3)
    assert t.rollbacks == 1 and t.step == 12
    # The rollback state is in the checkpoints: resuming keeps the lowered learning rate.
    resumed = trainer("mse", tmp_path / "other", on_divergence="rollback")
    restore(resumed, *read_checkpoint(list_checkpoints(tmp_path)[-1]))
    assert resumed.lr_scale == 0.5 and resumed.optimizer.learning_rate == 0.005 and resumed.rollbacks == 1


def test_rollback_scales_a_schedule():
    schedule = optim.get_schedule("cosine", learning_rate=0.02, total_steps=12)
    t = trainer(Spike(at=6), on_divergence="rollback", rollback_factor=0.25, learning_rate=schedule)
    with pytest.warns(DivergenceWarning):
        t.fit(X, Y, epochs=3)
    step = t.optimizer.step_count
    assert t.optimizer.learning_rate_now == pytest.approx(0.25 * schedule(step), rel=1e-15)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_rollbacks_are_bounded():
    t = trainer("mse", optimizer="sgd", learning_rate=50.0, batch_size=40, on_divergence="rollback",
                rollback_factor=0.9, max_rollbacks=2)
    with pytest.warns(DivergenceWarning), pytest.raises(NonFiniteError, match=r"after 2 rollbacks with the learning "
                                                                            r"rate × 0.9 each"):
        t.fit(X, Y * 1e3, epochs=400)


def test_divergence_options_are_checked():
    from chainrule.errors import ArgumentTypeError, ConfigError

    for bad in ({"on_divergence": "retry"}, {"rollback_factor": 1.0}, {"rollback_factor": 0}, {"max_rollbacks": -1}):
        with pytest.raises(ConfigError):
            trainer("mse", **bad)
    with pytest.raises(ArgumentTypeError, match=r"Trainer\(rollback_factor=\.\.\.\)"):  # a TypeError: not a number
        trainer("mse", rollback_factor="half")


def test_rollback_across_epochs_rewinds_the_metric_log(tmp_path):
    from chainrule.train import MetricLogger

    log = tmp_path / "metrics.csv"
    t = Trainer(nn.MLP([2, 8, 1], activation="tanh"), loss=Spike(at=14), optimizer="adam", learning_rate=0.01,
                batch_size=10, verbose=0, on_divergence="rollback",
                callbacks=[MetricLogger(log), Checkpoint(tmp_path / "ck", every_epochs=2)])
    with pytest.warns(DivergenceWarning, match="to checkpoint ckpt-000000008"):  # epoch 4 goes back to epoch 2
        t.fit(X, Y, epochs=5)
    epochs = [int(line.split(",")[0]) for line in log.read_text().splitlines()[1:]]
    assert epochs == [1, 2, 3, 4, 5] and len(t.history["loss"]) == 5
