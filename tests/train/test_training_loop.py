"""The training loop: it learns, it is bitwise reproducible, its callbacks do what they say."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import make_moons, xor
from chainrule.train import EarlyStopping, MetricLogger, NonFiniteError, Trainer


def test_xor_learned_by_2_4_1_sigmoid_network():
    # Seed 000/001: a [2, 4, 1] sigmoid network learns XOR. Full-batch gradient descent with
    # the ½-MSE of the seeds on the sigmoid output; "learned" means every output on the right
    # side of 0.5 and the loss below 1e-3 (from ~0.125 = ½·0.25 at a random start).
    X, y = xor()
    model = nn.MLP([2, 4, 1], activation="sigmoid", output_activation="sigmoid")
    model.init(seed=1)

    def half_mse(out, target):
        return nn.losses.mse(out, target, half=True)

    trainer = Trainer(model, loss=half_mse, optimizer="sgd", learning_rate=2.0, batch_size=4, seed=1,
                      metrics=["mse"], verbose=0)
    trainer.fit(X, y.astype(float), epochs=5000)
    out = model(X)[:, 0]
    assert np.all((out > 0.5) == (y == 1)), out
    assert trainer.history["loss"][-1] < 1e-3
    assert trainer.history["loss"][0] > 0.1


def _moons_run(seed=0, epochs=15, **kw):
    X, y = make_moons(n=120, noise=0.2, seed=0)
    model = nn.MLP([2, 16, 16, 2], activation="relu", dropout=0.1)
    trainer = Trainer(model, optimizer="adam", learning_rate=0.01, batch_size=16, seed=seed, verbose=0, **kw)
    trainer.fit(X, y, epochs=epochs, validation_data=(X[:30], y[:30]))
    return trainer


def test_training_is_bitwise_reproducible_for_a_seed():
    a, b = _moons_run(seed=3), _moons_run(seed=3)
    for k in a.model.params:
        assert a.model.params[k].tobytes() == b.model.params[k].tobytes(), k
    c = _moons_run(seed=4)
    assert any(a.model.params[k].tobytes() != c.model.params[k].tobytes() for k in a.model.params)


def test_moons_reaches_high_accuracy_and_history_has_every_metric():
    t = _moons_run(epochs=40)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"):
        assert len(t.history[key]) == 40, key
    # Two moons with noise 0.2 are ~97% separable; 40 epochs of Adam on a 16-16 ReLU net get past 90%.
    assert t.history["accuracy"][-1] > 0.9
    assert t.history["loss"][-1] < t.history["loss"][0]


def test_float32_training_stays_float32():
    X, y = make_moons(n=64, seed=1)
    model = nn.MLP([2, 8, 2])
    model.init(seed=0, dtype="float32")
    t = Trainer(model, optimizer="sgd", learning_rate=0.1, batch_size=8, verbose=0)
    t.fit(X, y, epochs=2)
    assert all(v.dtype == np.float32 for v in model.params.values())


def test_early_stopping_stops_and_restores_best_weights():
    X, y = make_moons(n=100, noise=0.3, seed=2)
    model = nn.MLP([2, 32, 2])
    stopper = EarlyStopping("val_loss", patience=2, restore_best=True)
    # A huge learning rate makes validation loss rise quickly after the first epochs.
    t = Trainer(model, optimizer="sgd", learning_rate=3.0, batch_size=10, verbose=0, callbacks=[stopper])
    t.fit(X, y, epochs=200, validation_data=(X[:40], y[:40]))
    assert t.epoch < 200 and t.stop_reason.startswith("early stopping")
    restored = t.evaluate(X[:40], y[:40])["loss"]
    assert math.isclose(restored, min(t.history["val_loss"]), rel_tol=1e-9)


def test_early_stopping_restores_batchnorm_statistics_with_the_best_weights():
    # In inference mode a BatchNorm network computes with its running statistics: the best
    # epoch's weights with the last epoch's statistics would score neither epoch's loss.
    X, y = make_moons(n=100, noise=0.3, seed=2)
    model = nn.MLP([2, 32, 2], batchnorm=True)
    stopper = EarlyStopping("val_loss", patience=2, restore_best=True)
    t = Trainer(model, optimizer="sgd", learning_rate=3.0, batch_size=10, verbose=0, callbacks=[stopper])
    t.fit(X, y, epochs=200, validation_data=(X[:40], y[:40]))
    assert t.epoch < 200 and t.stop_reason.startswith("early stopping") and t.epoch - 1 > stopper.best_epoch
    assert stopper.best_buffers, "the model has running statistics to restore"
    restored = t.evaluate(X[:40], y[:40])["loss"]
    assert math.isclose(restored, min(t.history["val_loss"]), rel_tol=1e-9)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point of this test
def test_non_finite_loss_stops_with_step_and_layer():
    X, y = make_moons(n=40, seed=0)
    model = nn.MLP([2, 8, 2])
    # 1e300: the first update overflows, so the loss goes straight to NaN (a learning rate that
    # only makes it grow, like 1e6, is caught earlier as an exploded loss: test_finite_divergence.py).
    t = Trainer(model, optimizer="sgd", learning_rate=1e300, batch_size=40, verbose=0)
    with pytest.raises(NonFiniteError, match=r"at epoch \d+, step \d+ .*last finite loss"):
        t.fit(X, y, epochs=50)


def test_metric_logger_writes_one_row_per_epoch(tmp_path):
    X, y = make_moons(n=40, seed=0)
    path = tmp_path / "m.csv"
    t = Trainer(nn.MLP([2, 4, 2]), batch_size=10, verbose=0, callbacks=[MetricLogger(path)])
    t.fit(X, y, epochs=3)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("epoch,step,loss,accuracy") and len(lines) == 4
    jl = tmp_path / "m.jsonl"
    t2 = Trainer(nn.MLP([2, 4, 2]), batch_size=10, verbose=0, callbacks=[MetricLogger(jl)])
    t2.fit(X, y, epochs=2)
    assert len(jl.read_text().splitlines()) == 2


def test_gradient_checkpointing_gives_identical_training():
    X, y = make_moons(n=64, seed=0)

    def run(remat):
        model = nn.Sequential([nn.Dense(2, 8), nn.Tanh()] + [nn.Dense(8, 8), nn.ReLU()] * 1
                              + [layer for _ in range(5) for layer in (nn.Dense(8, 8), nn.Tanh())] + [nn.Dense(8, 2)])
        t = Trainer(model, batch_size=16, verbose=0, gradient_checkpointing=remat)
        t.fit(X, y, epochs=3)
        return model.params

    a, b = run(False), run(True)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_bad_inputs_are_clear_errors():
    X, y = make_moons(n=20, seed=0)
    with pytest.raises(cr.errors.DataError, match="batch_size"):
        Trainer(nn.MLP([2, 4, 2]), batch_size=0)
    t = Trainer(nn.MLP([2, 4, 2]), verbose=0)
    with pytest.raises(cr.errors.DataError, match="3"):
        t.fit(np.c_[X, X[:, :1]], y, epochs=1)  # 3 features for a 2-input model
    bad = X.copy()
    bad[5, 1] = np.nan
    with pytest.raises(cr.errors.DataError, match="NaN|nan|finite"):
        t.fit(bad, y, epochs=1)
    with pytest.raises(cr.errors.DataError, match="label|class|range"):
        t.fit(X, y + 5, epochs=1)
    with pytest.raises(ValueError, match="unknown loss"):
        Trainer(nn.MLP([2, 4, 2]), loss="cross_entropyy")
    with pytest.raises(ValueError, match="adam"):
        Trainer(nn.MLP([2, 4, 2]), optimizer="adma")


def test_batch_larger_than_data_is_clamped_with_warning():
    X, y = make_moons(n=20, seed=0)
    t = Trainer(nn.MLP([2, 4, 2]), batch_size=500, verbose=0)
    with pytest.warns(UserWarning, match="batch"):
        t.fit(X, y, epochs=1)
    assert t.step == 1  # M = N: one step of batch gradient descent per epoch


def test_lbfgs_full_batch_training_converges():
    # L-BFGS needs the loss re-evaluated in its line search: the trainer passes a closure.
    X, y = make_moons(n=100, seed=0)
    t = Trainer(nn.MLP([2, 8, 2], activation="tanh"), optimizer="lbfgs", batch_size=100, verbose=0)
    t.fit(X, y, epochs=30)
    assert t.history["loss"][-1] < 0.05 < t.history["loss"][0]
