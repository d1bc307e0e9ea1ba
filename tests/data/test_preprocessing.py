"""Standardizer, train/validation split and one-hot encoding."""

import numpy as np
import pytest

from chainrule.data import Standardizer, one_hot, train_val_split
from chainrule.errors import ConfigError, DataError


def test_standardized_columns_have_mean_zero_and_unit_std():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[5.0, -300.0, 0.0], scale=[0.01, 40.0, 1.0], size=(500, 3))
    Z = Standardizer().fit_transform(X)
    # float64 sums of 500 values of size ~3: rounding error ~1e-15, far below 1e-12.
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)


def test_inverse_transform_round_trip():
    rng = np.random.default_rng(1)
    X = rng.normal(loc=100.0, scale=7.0, size=(50, 4))
    scaler = Standardizer().fit(X)
    # Two float64 operations each way: a few ulps of |X| ≈ 100, i.e. ~1e-13 absolute.
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, rtol=1e-14)


def test_constant_columns_get_scale_one():
    X = np.column_stack([
        np.zeros(7),
        np.full(7, 0.1),        # computed variance is ~2e-34, pure rounding error
        np.full(7, 1e10 / 3),   # computed variance is ~2e-13
        [0, 1e-8, 0, 1e-8, 0, 1e-8, 0],  # tiny but real variance: must be kept
    ])
    assert np.var(X[:, 1]) > 0 and np.var(X[:, 2]) > 0  # the rounding cases really occur
    scaler = Standardizer().fit(X)
    assert scaler.scale_[:3].tolist() == [1.0, 1.0, 1.0] and scaler.scale_[3] < 1e-7
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z[:, :3], 0.0, atol=1e-6)
    np.testing.assert_allclose(Z[:, 3].std(), 1.0, rtol=1e-9)


def test_state_round_trip_is_bit_exact():
    X = np.random.default_rng(2).normal(size=(30, 3))
    scaler = Standardizer().fit(X)
    state = scaler.state_dict()
    assert set(state) == {"mean", "scale"} and all(isinstance(v, np.ndarray) for v in state.values())
    restored = Standardizer()
    restored.load_state_dict(state)
    assert np.array_equal(restored.transform(X), scaler.transform(X))
    state["mean"][0] = 99.0  # the state is a copy, not a view of the scaler
    assert scaler.mean_[0] != 99.0


def test_float32_stays_float32():
    X = np.random.default_rng(3).normal(size=(10, 2)).astype(np.float32)
    assert Standardizer().fit_transform(X).dtype == np.float32


def test_standardizer_errors():
    with pytest.raises(DataError, match="not fitted; call fit"):
        Standardizer().transform(np.ones((2, 2)))
    scaler = Standardizer().fit(np.random.default_rng(0).normal(size=(5, 3)))
    with pytest.raises(DataError, match="X has 2 features but the Standardizer was fitted on 3"):
        scaler.transform(np.ones((4, 2)))
    with pytest.raises(DataError, match="NaN at row 1, column 0"):
        Standardizer().fit([[1.0, 2.0], [np.nan, 3.0]])
    with pytest.raises(DataError, match="finite positive 'scale'"):
        Standardizer().load_state_dict({"mean": np.zeros(2), "scale": np.array([1.0, 0.0])})
    with pytest.raises(DataError, match="missing 'scale'"):
        Standardizer().load_state_dict({"mean": np.zeros(2)})


def test_split_is_a_disjoint_cover_with_the_right_sizes():
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50) % 2
    X_train, X_val, y_train, y_val = train_val_split(X, y, val_fraction=0.2, seed=0)
    assert len(X_train) == 40 and len(X_val) == 10
    rows = np.concatenate([X_train[:, 0], X_val[:, 0]]) // 2
    assert sorted(rows.tolist()) == list(range(50))
    assert np.array_equal(y_train, rows[:40] % 2) and np.array_equal(y_val, rows[40:] % 2)


def test_split_is_seeded():
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 4
    first, again, other = (train_val_split(X, y, seed=s) for s in (1, 1, 2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], other[1])


@pytest.mark.parametrize("counts", [[50, 30, 20], [7, 5, 3], [90, 10], [1, 40, 9], [33, 33, 34]])
@pytest.mark.parametrize("val_fraction", [0.1, 0.25, 0.5])
def test_stratified_split_keeps_class_proportions(counts, val_fraction):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.zeros((len(y), 1))
    for seed in range(3):
        _, _, y_train, y_val = train_val_split(X, y, val_fraction=val_fraction, seed=seed)
        n_val = len(y_val)
        assert n_val == min(max(round(val_fraction * len(y)), 1), len(y) - 1)
        # Largest-remainder allocation: each class is within one sample of its exact share.
        quota = n_val * np.array(counts) / len(y)
        assert np.all(np.abs(np.bincount(y_val, minlength=len(counts)) - quota) < 1)
        assert np.array_equal(np.bincount(y_train, minlength=len(counts)) + np.bincount(y_val, minlength=len(counts)),
                              counts)


def test_stratified_split_of_string_labels():
    y = np.array(["a"] * 60 + ["b"] * 20)
    _, _, _, y_val = train_val_split(np.zeros((80, 1)), y, val_fraction=0.25)
    assert (y_val == "a").sum() == 15 and (y_val == "b").sum() == 5


def test_float_targets_are_split_at_random():
    X, y = np.zeros((30, 1)), np.linspace(0, 1, 30).reshape(-1, 1)
    _, _, y_train, y_val = train_val_split(X, y, val_fraction=0.3, seed=0)
    assert y_val.shape == (9, 1) and sorted(np.concatenate([y_train, y_val])[:, 0]) == sorted(y[:, 0])


def test_split_errors():
    with pytest.raises(ConfigError, match=r"val_fraction must be a number in \(0, 1\); got 1.0"):
        train_val_split(np.zeros((5, 1)), np.zeros(5), val_fraction=1.0)
    with pytest.raises(DataError, match="X has 5, y has 4"):
        train_val_split(np.zeros((5, 1)), np.zeros(4))
    with pytest.raises(DataError, match="cannot split 1 sample"):
        train_val_split(np.zeros((1, 1)), np.zeros(1))


def test_one_hot_matches_rows_of_the_identity():
    y = np.array([2, 0, 1, 2])
    assert np.array_equal(one_hot(y, 3), np.eye(3)[y])
    assert one_hot(y, 4, dtype=np.float32).dtype == np.float32
    with pytest.raises(DataError, match=r"labels must be in \[0, 3\) for 3 classes; got y\[1\] = 3"):
        one_hot([0, 3], 3)
    with pytest.raises(DataError, match=r"class labels must be integers; got y\[0\] = 0.5"):
        one_hot([0.5], 3)
