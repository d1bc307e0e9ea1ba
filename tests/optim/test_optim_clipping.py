"""The clipping functions on their own (the optimizers' clip_norm / clip_value are in the golden tests)."""

import math

import numpy as np
import pytest

import chainrule.optim as optim


def test_global_norm_over_all_arrays():
    # √(3² + 4² + 12²) = 13; accepts a dict or any iterable of arrays
    grads = {"a": np.array([3.0]), "b": np.array([[4.0], [12.0]])}
    assert optim.global_norm(grads) == 13.0
    assert optim.global_norm(grads.values()) == 13.0


def test_clip_by_global_norm_golden():
    grads = {"a": np.array([3.0]), "b": np.array([[4.0], [12.0]])}
    clipped, norm = optim.clip_by_global_norm(grads, 6.5)
    assert norm == 13.0
    # every array scaled by 6.5 / 13 = 0.5; exact in binary floating point
    np.testing.assert_array_equal(clipped["a"], [1.5])
    np.testing.assert_array_equal(clipped["b"], [[2.0], [6.0]])
    np.testing.assert_array_equal(grads["a"], [3.0])  # the input is left alone
    same, _ = optim.clip_by_global_norm(grads, 20.0)  # within bounds: unchanged
    np.testing.assert_array_equal(same["b"], grads["b"])


def test_clip_by_value_golden():
    clipped = optim.clip_by_value({"g": np.array([3.0, -0.2, -4.0, 0.5])}, 0.5)
    np.testing.assert_array_equal(clipped["g"], [0.5, -0.2, -0.5, 0.5])


def test_float32_stays_float32():
    grads = {"g": np.array([3.0, 4.0], dtype=np.float32)}
    assert optim.clip_by_global_norm(grads, 1.0)[0]["g"].dtype == np.float32
    assert optim.clip_by_value(grads, 1.0)["g"].dtype == np.float32


def test_a_non_finite_norm_is_not_hidden():
    # scaling by clip_norm / inf would turn the gradient into zeros and hide the overflow from the trainer
    clipped, norm = optim.clip_by_global_norm({"g": np.array([np.inf, 1.0])}, 1.0)
    assert math.isinf(norm)
    np.testing.assert_array_equal(clipped["g"], [np.inf, 1.0])
    params = {"w": np.zeros(2)}
    optim.SGD(params, learning_rate=1.0, clip_norm=1.0).step({"w": np.array([np.nan, 1.0])})
    assert np.isnan(params["w"][0]) and params["w"][1] == -1.0


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_bad_bounds(bad):
    with pytest.raises(ValueError, match="clip_norm must be"):
        optim.clip_by_global_norm({"g": np.ones(2)}, bad)
    with pytest.raises(ValueError, match="clip_value must be"):
        optim.clip_by_value({"g": np.ones(2)}, bad)
