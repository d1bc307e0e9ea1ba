"""Trainer.prepare and Trainer.set_optimizer: what the playground and the recorder use instead of
the Trainer's private attributes."""

import warnings

import numpy as np
import pytest

from chainrule import nn, optim
from chainrule.data import make_moons, make_regression_1d
from chainrule.errors import ConfigError, DataError, NonFiniteError
from chainrule.train import Trainer


def moons_trainer(**options):
    return Trainer(nn.MLP([2, 8, 2]), batch_size=16, seed=3, verbose=0, **options)


def test_prepare_converts_as_the_loss_declares():
    X, y = make_moons(n=40, seed=0)
    t = moons_trainer(dtype="float32")
    Xp, yp = t.prepare(X.tolist(), list(y))
    assert Xp.dtype == np.float32 and Xp.flags.c_contiguous and yp.dtype == np.int64
    assert np.array_equal(Xp, X.astype(np.float32)) and np.array_equal(yp, y)
    Xr, yr = make_regression_1d("sin", n=10, seed=0)
    r = Trainer(nn.MLP([1, 4, 1]), loss="mse", verbose=0)
    _, yq = r.prepare(Xr, yr)
    assert yq.shape == (10, 1) and yq.dtype == np.float64
    with pytest.raises(DataError, match=r"^probe data: .*3"):  # the name opens the message
        t.prepare(np.zeros((4, 3)), np.zeros(4, int), name="probe")


def test_prepared_batches_train_as_fit_does():
    X, y = make_moons(n=48, seed=1)
    a, b = moons_trainer(), moons_trainer()
    a.fit(X, y, epochs=1)
    Xp, yp = b.prepare(X, y)
    from chainrule.data.batching import Batcher

    for idx in Batcher(len(Xp), 16, seed=3).batches(0, 0):
        b.train_step(Xp[idx], yp[idx])
    assert all(a.model.params[k].tobytes() == b.model.params[k].tobytes() for k in a.model.params)


def test_set_optimizer_by_name_is_a_trainer_built_with_it():
    X, y = make_moons(n=48, seed=1)
    a = moons_trainer(optimizer="adam", learning_rate=0.02)
    b = moons_trainer(optimizer="sgd", learning_rate=0.5)
    assert isinstance(b.set_optimizer("adam", learning_rate=0.02), optim.Adam)
    a.fit(X, y, epochs=2)
    b.fit(X, y, epochs=2)
    assert all(a.model.params[k].tobytes() == b.model.params[k].tobytes() for k in a.model.params)
    assert b.history["lr"] == [0.02, 0.02]


def test_set_optimizer_starts_a_fresh_state():
    X, y = make_moons(n=48, seed=1)
    t = moons_trainer(optimizer="adam", learning_rate=0.02)
    t.fit(X, y, epochs=1)
    assert t.optimizer.step_count > 0
    old = t.optimizer
    t.set_optimizer("adam", learning_rate=0.02, betas=(0.8, 0.99))
    assert t.optimizer is not old and t.optimizer.step_count == 0 and tuple(t.optimizer.betas) == (0.8, 0.99)
    assert all(np.all(v == 0) for k, v in t.optimizer.state_dict().items() if isinstance(v, np.ndarray))


def test_set_optimizer_keeps_the_learning_rate_scale_right():
    t = moons_trainer(optimizer="sgd", learning_rate=0.1, on_divergence="rollback")
    t.lr_scale = 0.5  # as two rollbacks of 0.5 … one of 0.5 would leave it
    t.set_optimizer("momentum", learning_rate=0.4)
    assert t.optimizer.learning_rate == 0.2  # the new rate × the state's scale, as after a restore
    t.lr_scale = 0.25
    t.apply_lr_scale()  # what a rollback does next: it scales the NEW base rate, not the old 0.1
    assert t.optimizer.learning_rate == 0.1
    t.lr_scale = 1.0
    t.apply_lr_scale()
    assert t.optimizer.learning_rate == 0.4


def test_a_rollback_after_set_optimizer_lowers_the_new_rate():
    X, y = make_moons(n=48, seed=1)
    t = moons_trainer(optimizer="sgd", learning_rate=0.01, on_divergence="rollback", max_rollbacks=2)
    t.fit(X, y, epochs=1)
    t.set_optimizer("sgd", learning_rate=1e9)  # diverges at any scale the guard tries
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NonFiniteError, match="after 2 rollbacks"):
            t.fit(X, y, epochs=3)
    assert t.optimizer.learning_rate == 1e9 * 0.25


def test_set_optimizer_to_lbfgs_steps_with_its_closure():
    X, y = make_moons(n=48, seed=1)
    t = moons_trainer(optimizer="sgd", learning_rate=0.1)
    t.set_optimizer("lbfgs")
    before = {k: v.copy() for k, v in t.model.params.items()}
    t.fit(X, y, epochs=1)
    assert np.isfinite(t.history["loss"][0])
    assert any(not np.array_equal(before[k], v) for k, v in t.model.params.items())


def test_set_optimizer_refusals_are_one_line():
    t = moons_trainer()
    other = optim.get("sgd", nn.MLP([2, 8, 2]).init(seed=0), learning_rate=0.1)
    with pytest.raises(ConfigError, match="built on other parameters"):
        t.set_optimizer(other)
    with pytest.raises(ConfigError, match="learning_rate and options go with an optimizer's name"):
        t.set_optimizer(optim.get("sgd", t.model.params, learning_rate=0.1), learning_rate=0.2)
    with pytest.raises(ConfigError, match="must be a name or a chainrule.optim optimizer"):
        t.set_optimizer(42)
    kept = t.optimizer
    with pytest.raises(ConfigError, match="unknown optimizer"):  # nothing swapped
        t.set_optimizer("no-such-optimizer")
    assert t.optimizer is kept


def test_set_optimizer_with_the_optimizer_in_use_keeps_its_base_rate():
    """After a rollback the optimizer's rate is base × lr_scale; handing that optimizer back must
    not scale it a second time (review finding)."""
    import numpy as np

    from chainrule import nn
    from chainrule.train import Trainer

    t = Trainer(nn.MLP([2, 4, 2]), optimizer="sgd", learning_rate=0.1, on_divergence="rollback", verbose=0)
    t.state.lr_scale = 0.5
    t.apply_lr_scale()
    assert t.optimizer.learning_rate == 0.05
    for _ in range(2):
        t.set_optimizer(t.optimizer)
        assert t.optimizer.learning_rate == 0.05
    assert np.isclose(t._base_learning_rate, 0.1)
