"""Synthetic datasets: determinism, shapes, class balance, and geometry checked against formulas."""

import numpy as np
import pytest

from chainrule.data import (
    REGRESSION_TARGETS,
    make_blobs,
    make_circles,
    make_moons,
    make_regression_1d,
    make_spiral,
    xor,
)
from chainrule.errors import ConfigError

GENERATORS = [
    (make_moons, {"n": 101}),
    (make_circles, {"n": 101}),
    (make_blobs, {"n": 101, "centers": 4, "dim": 3}),
    (make_spiral, {"n_per_class": 40, "n_classes": 5}),
    *[(make_regression_1d, {"target": target, "n": 50, "noise": 0.1}) for target in REGRESSION_TARGETS],
]
IDS = [f"{fn.__name__}-{kw.get('target', '')}" for fn, kw in GENERATORS]


@pytest.mark.parametrize(("make", "kwargs"), GENERATORS, ids=IDS)
def test_same_seed_same_arrays_and_different_seed_different_arrays(make, kwargs):
    X1, y1 = make(**kwargs, seed=7)
    X2, y2 = make(**kwargs, seed=7)
    X3, y3 = make(**kwargs, seed=8)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize(("make", "kwargs"), GENERATORS, ids=IDS)
def test_shapes_and_dtypes(make, kwargs):
    X, y = make(**kwargs)
    assert X.dtype == np.float64 and X.ndim == 2
    assert np.all(np.isfinite(X))
    if make is make_regression_1d:
        assert X.shape == (50, 1) and y.shape == (50, 1) and y.dtype == np.float64
    else:
        assert y.shape == (X.shape[0],) and y.dtype == np.int64


def test_xor_is_the_truth_table():
    X, y = xor()
    assert X.shape == (4, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.array_equal(y, X[:, 0].astype(int) ^ X[:, 1].astype(int))
    assert {tuple(row) for row in X} == {(0, 0), (0, 1), (1, 0), (1, 1)}


@pytest.mark.parametrize(("make", "kwargs", "sizes"), [
    (make_moons, {"n": 101}, [50, 51]),
    (make_circles, {"n": 101}, [50, 51]),
    (make_blobs, {"n": 101, "centers": 4}, [26, 25, 25, 25]),
    (make_spiral, {"n_per_class": 40, "n_classes": 5}, [40] * 5),
])
def test_class_sizes(make, kwargs, sizes):
    _, y = make(**kwargs)
    assert np.bincount(y).tolist() == sizes


def test_rows_are_shuffled_not_grouped_by_class():
    _, y = make_spiral(n_per_class=50)
    # Grouped rows would change class only twice; 150 shuffled labels change far more often.
    assert np.count_nonzero(np.diff(y)) > 50


def test_moons_without_noise_lie_on_their_arcs():
    X, y = make_moons(n=60, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-12)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_circles_without_noise_have_radii_one_and_factor():
    X, y = make_circles(n=60, noise=0.0, factor=0.3)
    radius = np.hypot(*X.T)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-12)


def test_blobs_gather_around_given_centers():
    centers = np.array([[0.0, 0.0], [5.0, -5.0], [-3.0, 8.0]])
    X, y = make_blobs(n=3000, centers=centers, std=0.5)
    for k, center in enumerate(centers):
        # The class mean has standard error 0.5/sqrt(1000) ≈ 0.016 per coordinate; 0.08 is 5 of those.
        np.testing.assert_allclose(X[y == k].mean(axis=0), center, atol=0.08)
        np.testing.assert_allclose(X[y == k].std(axis=0), 0.5, rtol=0.1)


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_spiral_radii_are_evenly_spaced_in_unit_interval(noise):
    X, y = make_spiral(n_per_class=30, n_classes=3, noise=noise)
    radius = np.hypot(*X.T)
    for k in range(3):
        np.testing.assert_allclose(np.sort(radius[y == k]), np.linspace(0, 1, 30), atol=1e-12)


@pytest.mark.parametrize(("n_classes", "turns"), [(2, 0.5), (3, 2 / np.pi), (4, 1.5)])
def test_spiral_without_noise_recovers_each_arm_from_angle_and_radius(n_classes, turns):
    X, y = make_spiral(n_per_class=50, n_classes=n_classes, noise=0.0, turns=turns)
    radius = np.hypot(*X.T)
    away_from_origin = radius > 1e-9  # at r = 0 every arm meets and the angle is undefined
    theta = np.arctan2(X[:, 1], X[:, 0])
    start = np.mod(theta - 2 * np.pi * turns * radius, 2 * np.pi)  # = 2πk/K by construction
    k = np.round(start / (2 * np.pi / n_classes)).astype(int) % n_classes
    assert np.array_equal(k[away_from_origin], y[away_from_origin])


def test_regression_targets_match_their_formulas():
    low, high = -np.pi, np.pi
    x, _ = make_regression_1d("sin", n=500)
    x = x[:, 0]
    u = 2 * (x - low) / (high - low) - 1
    expected = {
        "sin": np.sin(x),
        "abs": np.abs(x),
        "step": np.where(x >= 0, 1.0, 0.0),
        "gaussian_bump": np.exp(-0.5 * (x / (0.1 * (high - low))) ** 2),
        "polynomial": np.cos(3 * np.arccos(u)),  # Chebyshev T3, computed another way
    }
    for target, values in expected.items():
        X, y = make_regression_1d(target, n=500)
        assert np.array_equal(X[:, 0], x)
        np.testing.assert_allclose(y[:, 0], values, atol=1e-12, err_msg=target)


def test_sawtooth_has_three_rising_teeth():
    X, y = make_regression_1d("sawtooth", n=2000)
    assert np.all((y >= -1) & (y < 1))
    jumps = np.diff(y[:, 0]) < -1
    assert np.count_nonzero(jumps) == 2  # three teeth, two drops
    np.testing.assert_allclose(np.diff(X[:, 0])[~jumps] * 3 / np.pi, np.diff(y[:, 0])[~jumps], atol=1e-9)


def test_regression_x_is_sorted_in_range_and_noise_is_added_to_y():
    X, clean = make_regression_1d("sin", n=4000, x_range=(0.0, 2.0))
    assert np.all(np.diff(X[:, 0]) >= 0) and X.min() >= 0.0 and X.max() <= 2.0
    Xn, noisy = make_regression_1d("sin", n=4000, noise=0.3, x_range=(0.0, 2.0))
    assert np.array_equal(X, Xn)
    # The sample standard deviation of 4000 N(0, 0.3²) draws is within 3% of 0.3 with >99.9% probability.
    np.testing.assert_allclose(np.std(noisy - clean), 0.3, rtol=0.03)


def test_unknown_regression_target_suggests_closest():
    with pytest.raises(ConfigError, match=r"'sinn'.*did you mean 'sin'.*sawtooth"):
        make_regression_1d("sinn")


@pytest.mark.parametrize(("make", "kwargs", "pattern"), [
    (make_moons, {"n": 0}, "n must be an integer >= 2"),
    (make_moons, {"noise": -0.1}, "noise must be a finite number >= 0"),
    (make_circles, {"factor": 1.5}, r"factor .* must be in \(0, 1\)"),
    (make_blobs, {"centers": 0}, "centers must be an integer >= 1"),
    (make_spiral, {"n_classes": 2.5}, "n_classes must be an integer"),
    (make_regression_1d, {"x_range": (1.0, 1.0)}, "low < high"),
])
def test_bad_parameters_are_config_errors(make, kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        make(**kwargs)
