"""Seed ensembles on per-model data: model k trained on its own (X[k], y[k]) equals a Trainer with
seed k trained on that data, bit for bit (parameters, losses, metrics, validation curves)."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons, make_regression_1d
from chainrule.errors import DataError
from chainrule.train import Trainer
from chainrule.train.ensemble import Ensemble

SEEDS = [0, 1, 7]


def moons_per_model(n, seed_base):
    """One moons sample per model: different points (and noise) for each."""
    return [make_moons(n=n, noise=0.1 + 0.05 * k, seed=seed_base + k) for k in range(len(SEEDS))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("as_array", [False, True])  # a list of K arrays, or one (K, n, d) array
def test_per_model_data_equals_separate_trainers_bit_for_bit(dtype, as_array):
    train, val = moons_per_model(72, 10), moons_per_model(30, 50)
    X = [Xk for Xk, _ in train]
    y = [yk for _, yk in train]
    Xv, yv = [Xk for Xk, _ in val], [yk for _, yk in val]
    if as_array:
        X, y, Xv, yv = np.stack(X), np.stack(y), np.stack(Xv), np.stack(yv)
    ens = Ensemble(lambda: nn.MLP([2, 8, 2]), SEEDS, optimizer="adam", learning_rate=0.02, batch_size=16,
                   dtype=dtype, verbose=0)
    history = ens.fit(X, y, epochs=3, validation_data=(Xv, yv), per_model=True)
    assert history["val_loss"].shape == (3, 3)
    for k, seed in enumerate(SEEDS):
        t = Trainer(nn.MLP([2, 8, 2]), optimizer="adam", learning_rate=0.02, batch_size=16, seed=seed,
                    dtype=dtype, verbose=0)
        t.fit(train[k][0], train[k][1], epochs=3, validation_data=val[k])
        for name, value in t.model.params.items():
            assert value.dtype == ens.params[name].dtype
            assert value.tobytes() == ens.params[name][k].tobytes(), (seed, name)
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert np.array(t.history[name]).tobytes() == history[name][:, k].tobytes(), (seed, name)
        # the same models scored later on their own data, and their outputs
        assert t.evaluate(*val[k])["loss"] == ens.evaluate(Xv, yv, per_model=True)["loss"][k]
        assert t.predict(val[k][0]).tobytes() == ens.predict(np.stack([v[0] for v in val]), per_model=True)[k].tobytes()


def test_per_model_data_differs_from_shared_data():
    """The flag matters: with per-model data the models do not end where shared data takes them."""
    train = moons_per_model(64, 10)
    X, y = [a for a, _ in train], [b for _, b in train]
    per = Ensemble(lambda: nn.MLP([2, 4, 2]), SEEDS, learning_rate=0.1, batch_size=16, verbose=0)
    per.fit(X, y, epochs=2, per_model=True)
    shared = Ensemble(lambda: nn.MLP([2, 4, 2]), SEEDS, learning_rate=0.1, batch_size=16, verbose=0)
    shared.fit(X[0], y[0], epochs=2)
    assert per.params["0.weight"][0].tobytes() == shared.params["0.weight"][0].tobytes()  # model 0: the same data
    assert not np.array_equal(per.params["0.weight"][1], shared.params["0.weight"][1])


def test_per_model_regression_float32_targets_with_columns():
    data = [make_regression_1d("sin", n=40, seed=s) for s in (1, 2)]
    X = np.stack([a for a, _ in data])
    y = np.stack([np.asarray(b).reshape(-1, 1) for _, b in data])  # (K, n, 1)
    ens = Ensemble(lambda: nn.MLP([1, 6, 1], activation="tanh"), [3, 4], loss="mse", learning_rate=0.05,
                   batch_size=8, dtype="float32", verbose=0)
    h = ens.fit(X, y, epochs=2, per_model=True)
    for k, seed in enumerate([3, 4]):
        t = Trainer(nn.MLP([1, 6, 1], activation="tanh"), loss="mse", optimizer="sgd", learning_rate=0.05,
                    batch_size=8, seed=seed, dtype="float32", verbose=0)
        t.fit(X[k], y[k], epochs=2)
        assert all(t.model.params[n].tobytes() == ens.params[n][k].tobytes() for n in t.model.params)
        assert np.array(t.history["r2"]).tobytes() == h["r2"][:, k].tobytes()


def test_per_model_shape_errors_are_one_line_and_name_the_shapes():
    ens = Ensemble(lambda: nn.MLP([2, 4, 2]), SEEDS, verbose=0)
    X, y = make_moons(n=20, seed=0)
    with pytest.raises(DataError, match=r"every model needs the same number of rows, found X shapes "
                                        r"\(20, 2\), \(19, 2\), \(20, 2\)") as e:
        ens.fit([X, X[:19], X], [y, y[:19], y], epochs=1, per_model=True)
    assert "\n" not in str(e.value)
    with pytest.raises(DataError, match="X holds data for 2 models, the ensemble has 3"):
        ens.fit([X, X], [y, y], epochs=1, per_model=True)
    with pytest.raises(DataError, match="y holds data for 2 models, the ensemble has 3"):
        ens.fit([X, X, X], [y, y], epochs=1, per_model=True)
    with pytest.raises(DataError, match=r"X has shape \(3, 20, 2\), 3-D.*pass per_model=True"):
        ens.fit(np.stack([X] * 3), np.stack([y] * 3), epochs=1)  # 3-D without the flag: not guessed
    with pytest.raises(DataError, match=r"y must be \(3, n, ...\) \(a leading model axis\) or a list of 3 "
                                        r"arrays, found shape \(20,\)"):
        ens.fit(np.stack([X] * 3), y, epochs=1, per_model=True)
    with pytest.raises(DataError, match=r"X must be \(3, n, d_in\) .* found shape \(4, 2\)"):  # rows are not models
        ens.fit(X[:4], y[:4], epochs=1, per_model=True)
    with pytest.raises(DataError, match="model 1's training data"):  # each model's part checked on its own
        ens.fit([X, X[:, :1], X], [y, y, y], epochs=1, per_model=True)
    with pytest.raises(DataError, match=r"validation data with per_model=True: every model.*\(5, 2\), \(4, 2\)"):
        ens.fit([X] * 3, [y] * 3, epochs=1, per_model=True,
                validation_data=([X[:5], X[:4], X[:5]], [y[:5], y[:4], y[:5]]))
    with pytest.raises(DataError, match=r"expected X of shape \(3, n, d_in\), found \(2, 20, 2\)"):
        ens.predict(np.stack([X, X]), per_model=True)


@pytest.mark.parametrize("per_model", [False, True])
def test_training_metrics_on_the_first_metric_samples_rows_as_the_trainer(per_model):
    train = moons_per_model(72, 10)
    X = [a for a, _ in train] if per_model else train[0][0]
    y = [b for _, b in train] if per_model else train[0][1]
    ens = Ensemble(lambda: nn.MLP([2, 8, 2]), SEEDS, learning_rate=0.2, batch_size=16, verbose=0, metric_samples=25)
    h = ens.fit(X, y, epochs=3, per_model=per_model)
    all_rows = Ensemble(lambda: nn.MLP([2, 8, 2]), SEEDS, learning_rate=0.2, batch_size=16, verbose=0)
    h_all = all_rows.fit(X, y, epochs=3, per_model=per_model)
    assert not np.array_equal(h["accuracy"], h_all["accuracy"])  # the limit changes the scores here
    for k, seed in enumerate(SEEDS):
        t = Trainer(nn.MLP([2, 8, 2]), optimizer="sgd", learning_rate=0.2, batch_size=16, seed=seed, verbose=0,
                    metric_samples=25)
        t.fit(*(train[k] if per_model else train[0]), epochs=3)
        assert np.array(t.history["accuracy"]).tobytes() == h["accuracy"][:, k].tobytes()
