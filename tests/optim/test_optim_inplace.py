"""In-place updates: the caller's arrays change, their dtype stays, and a step allocates no arrays."""

import tracemalloc

import numpy as np
import pytest

import chainrule.optim as optim

ALL_OPTIONS = {"weight_decay": 0.01, "l1": 0.001, "clip_norm": 0.5, "clip_value": 0.01}
FIRST_ORDER = [
    ("sgd", {}), ("momentum", {}), ("nesterov", {"dampening": 0.0}), ("adagrad", {}),
    ("rmsprop", {"centered": True, "momentum": 0.9}), ("adam", {"amsgrad": True}), ("adamw", {}),
]


def quadratic_grads(params, scale):
    return {k: (scale * p).astype(p.dtype) for k, p in params.items()}


@pytest.mark.parametrize(("name", "kwargs"), FIRST_ORDER + [("lbfgs", {"line_search": None})],
                         ids=[n for n, _ in FIRST_ORDER] + ["lbfgs"])
def test_float32_stays_float32_and_tracks_float64(name, kwargs):
    rng = np.random.default_rng(0)
    start = {"0.weight": rng.standard_normal((4, 3)), "0.bias": rng.standard_normal(4)}
    p64 = {k: v.copy() for k, v in start.items()}
    p32 = {k: v.astype(np.float32) for k, v in start.items()}
    ids = {k: id(v) for k, v in p32.items()}
    scale = {"0.weight": 1.0, "0.bias": 2.0}
    # np.float64 hyperparameters must not drag float32 arithmetic into float64
    options = {"learning_rate": np.float64(0.01), "weight_decay": np.float64(0.01), **kwargs}
    o64, o32 = optim.get(name, p64, **options), optim.get(name, p32, **options)
    for _ in range(10):
        o64.step({k: scale[k] * p for k, p in p64.items()})
        o32.step({k: np.float32(scale[k]) * p for k, p in p32.items()})
    assert {k: id(v) for k, v in p32.items()} == ids  # the same arrays, updated in place
    assert all(p.dtype == np.float32 for p in p32.values())
    assert all(v.dtype == np.float32 for v in o32.state_dict().values() if isinstance(v, np.ndarray))
    # float32 rounding (6e-8 relative) over 10 steps of a contraction: 1e-5 is a wide bound for that,
    # while a float32 run that had diverged from the float64 one by a wrong cast would be off by far more.
    for k in start:
        np.testing.assert_allclose(p32[k], p64[k], rtol=1e-5, atol=1e-6)
        assert not np.allclose(p64[k], start[k])


def test_float32_arithmetic_is_float32():
    # w − lr·g computed in float32 differs, for some of these values, from the same computed in float64
    # and rounded once; the optimizer must give the float32 result even when lr is an np.float64.
    rng = np.random.default_rng(1)
    w = rng.standard_normal(1000).astype(np.float32)
    g = rng.standard_normal(1000).astype(np.float32)
    lr = np.float64(0.1)
    as_float32 = w - g * np.float32(lr)
    as_float64 = (w.astype(np.float64) - g.astype(np.float64) * lr).astype(np.float32)
    assert not np.array_equal(as_float32, as_float64)  # the test can tell the two apart
    params = {"w": w.copy()}
    optim.SGD(params, learning_rate=lr).step({"w": g})
    np.testing.assert_array_equal(params["w"], as_float32)


def test_the_callers_gradients_are_not_modified():
    params = {"w": np.array([1.0, -2.0])}
    g = np.array([3.0, 4.0])
    optim.Adam(params, **ALL_OPTIONS).step({"w": g})
    np.testing.assert_array_equal(g, [3.0, 4.0])


@pytest.mark.parametrize(("name", "kwargs"), FIRST_ORDER, ids=[n for n, _ in FIRST_ORDER])
def test_a_step_allocates_no_arrays(name, kwargs):
    n = 50_000  # 400 kB per float64 array: one temporary array would show up at once
    params = {"0.weight": np.ones((n // 50, 50)), "0.bias": np.ones(50)}
    grads = {"0.weight": np.full((n // 50, 50), 0.5), "0.bias": np.full(50, 0.5)}
    opt = optim.get(name, params, **ALL_OPTIONS, **kwargs)
    opt.step(grads)
    tracemalloc.start()
    try:
        for _ in range(3):
            opt.step(grads)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000, f"{name}: a step allocated {peak} bytes"  # Python objects only, no arrays
