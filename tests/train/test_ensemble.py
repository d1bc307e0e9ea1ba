"""Seed ensembles: K models in one vectorized call equal K separate trainings, bit for bit."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons, make_regression_1d
from chainrule.errors import ConfigError
from chainrule.train import Trainer
from chainrule.train.ensemble import Ensemble

SEEDS = [0, 1, 7]


@pytest.mark.parametrize("optimizer, learning_rate", [("sgd", 0.1), ("adam", 0.01), ("sgd", [0.1, 0.05, 0.2])])
def test_ensemble_equals_separate_trainings_bitwise(optimizer, learning_rate):
    X, y = make_moons(n=90, noise=0.2, seed=0)
    ens = Ensemble(lambda: nn.MLP([2, 8, 8, 2]), SEEDS, optimizer=optimizer, learning_rate=learning_rate,
                   batch_size=16, verbose=0)
    history = ens.fit(X, y, epochs=4)
    assert history["loss"].shape == (4, 3) and history["accuracy"].shape == (4, 3)
    for k, seed in enumerate(SEEDS):
        lr = learning_rate[k] if isinstance(learning_rate, list) else learning_rate
        t = Trainer(nn.MLP([2, 8, 8, 2]), optimizer=optimizer, learning_rate=lr, batch_size=16, seed=seed, verbose=0)
        t.fit(X, y, epochs=4)
        for name, value in t.model.params.items():
            assert value.tobytes() == ens.params[name][k].tobytes(), (seed, name)
        assert np.array_equal(np.array(t.history["loss"]), history["loss"][:, k])
        assert np.array_equal(np.array(t.history["accuracy"]), history["accuracy"][:, k])


def test_ensemble_regression_float32():
    X, y = make_regression_1d("sin", n=64, seed=0)
    ens = Ensemble(lambda: nn.MLP([1, 16, 1], activation="tanh"), [3, 4], loss="mse", learning_rate=0.05,
                   batch_size=8, dtype="float32", verbose=0)
    h = ens.fit(X, y, epochs=3)
    t = Trainer(nn.MLP([1, 16, 1], activation="tanh"), loss="mse", optimizer="sgd", learning_rate=0.05,
                batch_size=8, seed=4, dtype="float32", verbose=0)
    t.fit(X, y, epochs=3)
    assert all(v.dtype == np.float32 for v in ens.params.values())
    assert all(np.array_equal(t.model.params[k], ens.params[k][1]) for k in t.model.params)
    assert h["r2"].shape == (3, 2)


def test_ensemble_refuses_coupling_options():
    with pytest.raises(ConfigError, match="couple"):
        Ensemble(lambda: nn.MLP([2, 4, 2]), [0, 1], optimizer_options={"clip_norm": 1.0})
    with pytest.raises(ConfigError, match="Dense and activation"):
        Ensemble(lambda: nn.MLP([2, 4, 2], dropout=0.5), [0, 1])
    with pytest.raises(ConfigError, match="without momentum"):
        Ensemble(lambda: nn.MLP([2, 4, 2]), [0, 1], optimizer="adam", learning_rate=[0.1, 0.2])
