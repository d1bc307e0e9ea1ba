"""state_dict / load_state_dict: N steps == k steps + save + JSON/array round trip + load + N − k steps, bit for bit."""

import json

import numpy as np
import pytest

import chainrule.optim as optim

rng = np.random.default_rng(3)
A = rng.standard_normal((6, 5))
Y = rng.standard_normal(6)
START = {"0.weight": rng.standard_normal(5), "0.bias": rng.standard_normal(1)}


def loss_and_grads(params):
    """f = ½ ‖A w + b − y‖²."""
    r = A @ params["0.weight"] + params["0.bias"] - Y
    return 0.5 * float(r @ r), {"0.weight": A.T @ r, "0.bias": np.array([r.sum()])}


def run(opt, params, steps):
    for t in steps:
        loss, grads = loss_and_grads(params)
        if isinstance(opt, optim.LBFGS):
            opt.step(grads, lambda p=params: loss_and_grads(p), loss=loss)
        else:
            opt.step(grads)
        if opt.schedule is not None and t % 2 == 1:
            opt.schedule.observe(loss if t < 2 else 1e9)  # a plateau from step 3 on: ReduceOnPlateau acts


def through_json(state):
    """What a checkpoint keeps: scalars through JSON, arrays as fresh arrays (as from safetensors)."""
    scalars = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    restored = json.loads(json.dumps(scalars, allow_nan=False))
    restored.update({k: np.array(v) for k, v in state.items() if isinstance(v, np.ndarray)})
    return restored


CONFIGS = [
    ("sgd", {"learning_rate": 0.01}),
    ("momentum", {"learning_rate": 0.01, "dampening": 0.1}),
    ("nesterov", {"learning_rate": 0.01, "weight_decay": 0.1, "clip_norm": 1.0}),
    ("adagrad", {"learning_rate": 0.1, "l1": 0.01, "clip_value": 0.5}),
    ("rmsprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
    ("adam", {"amsgrad": True, "learning_rate": optim.Cosine(0.05, total_steps=8)}),
    ("adamw", {"learning_rate": optim.LinearWarmup(3, then=optim.ReduceOnPlateau(0.05, patience=0))}),
    ("lbfgs", {"history_size": 3}),
    ("lbfgs", {"line_search": None, "learning_rate": 0.05, "clip_norm": 1.0}),
]


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_resume_is_bit_exact(name, kwargs):
    n, k = 10, 4

    def make(params):
        fresh = {key: (optim.get_schedule(**v.config()) if isinstance(v, optim.Schedule) else v)
                 for key, v in kwargs.items()}
        return optim.get(name, params, **fresh)

    straight = {key: v.copy() for key, v in START.items()}
    run(make(straight), straight, range(n))

    first = {key: v.copy() for key, v in START.items()}
    opt = make(first)
    run(opt, first, range(k))
    state = opt.state_dict()
    saved = through_json(state)
    run(opt, first, range(k, k + 1))  # keep using the first optimizer: the saved copy must not change
    assert all(np.array_equal(saved[key], v) for key, v in state.items() if isinstance(v, np.ndarray))

    resumed = {key: v.copy() for key, v in START.items()}
    run(make(resumed), resumed, range(k))  # the parameters at step k (saved with the model weights)
    opt2 = make(resumed)
    opt2.load_state_dict(saved)
    assert opt2.step_count == k
    run(opt2, resumed, range(k, n))
    for key in START:
        assert straight[key].tobytes() == resumed[key].tobytes(), key
        assert not np.array_equal(straight[key], START[key])


def test_without_the_state_the_run_differs():
    # The check above can fail: a fresh Adam (step 0, zero moments) continues differently.
    params, other = ({key: v.copy() for key, v in START.items()} for _ in range(2))
    run(optim.Adam(params, learning_rate=0.05), params, range(6))
    run(optim.Adam(other, learning_rate=0.05), other, range(3))
    run(optim.Adam(other, learning_rate=0.05), other, range(3, 6))
    assert params["0.weight"].tobytes() != other["0.weight"].tobytes()


def test_state_dict_layout():
    params = {"0.weight": np.zeros((2, 3), np.float32), "0.bias": np.zeros(2, np.float32)}
    state = optim.Adam(params, amsgrad=True).state_dict()
    assert state["type"] == "Adam" and state["step_count"] == 0
    assert sorted(k for k in state if "/" in k) == ["m/0.bias", "m/0.weight", "v/0.bias", "v/0.weight",
                                                    "v_max/0.bias", "v_max/0.weight"]
    assert state["m/0.weight"].shape == (2, 3) and state["m/0.weight"].dtype == np.float32
    lbfgs = optim.LBFGS(params, history_size=4).state_dict()
    assert lbfgs["history/s"].shape == (4, 8) and lbfgs["history_count"] == 0


def test_bad_states_are_rejected_and_change_nothing():
    params = {"w": np.ones(3)}
    opt = optim.Adam(params)
    opt.step({"w": np.ones(3)})
    good = opt.state_dict()
    with pytest.raises(ValueError, match=r"missing \['v/w'\]"):
        opt.load_state_dict({k: v for k, v in good.items() if k != "v/w"})
    with pytest.raises(ValueError, match=r"unexpected \['momentum/w'\]"):
        opt.load_state_dict({**good, "momentum/w": np.ones(3)})
    with pytest.raises(ValueError, match="saved by SGD"):
        opt.load_state_dict({**good, "type": "SGD"})
    with pytest.raises(ValueError, match=r"'m/w' has shape \(2,\) but the optimizer's buffer has shape \(3,\)"):
        opt.load_state_dict({**good, "m/w": np.zeros(2), "step_count": 7})
    assert opt.step_count == 1  # the failed loads left everything as it was
    np.testing.assert_array_equal(opt.state_dict()["m/w"], good["m/w"])
