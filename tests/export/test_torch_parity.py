"""chainrule <-> PyTorch parity: for every supported layer and a few stacks, both directions
(to_torch of a chainrule model, from_torch of a hand-built torch module), outputs and parameter
gradients agree within 1e-12 in float64 on random inputs, in evaluation mode and (without
dropout) in training mode with BatchNorm's new running statistics.

Tolerance: outputs and gradients are O(1) (inputs ~N(0, 2²), weights of fan-in scale); the two
libraries evaluate the same formulas in a different order, so they differ by a few ulps (~1e-16).
1e-12 leaves room for that and nothing else: a wrong constant (GELU's tanh approximation for the
exact one, a BatchNorm variance off by n/(n−1)) is off by 1e-4 or more.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule import numpy as cnp  # noqa: E402
from chainrule.errors import ArgumentTypeError, ConfigError  # noqa: E402
from chainrule.export import from_torch, to_torch  # noqa: E402
from chainrule.export.torch_modules import Residual as TorchResidual  # noqa: E402
from chainrule.export.torch_modules import Standardize as TorchStandardize  # noqa: E402

TOL = 1e-12
D = 4
T = torch.nn


def _dense_around(layer, torch_layer):
    """Dense(4, 4) -> layer -> Dense(4, 3): the layer between parameters, so its derivative reaches both."""
    return (lambda: nn.Sequential(nn.Dense(D, D), layer(), nn.Dense(D, 3)),
            lambda: T.Sequential(T.Linear(D, D), torch_layer(), T.Linear(D, 3)))


# id -> (chainrule factory, torch factory): the same network in each library
CASES = {
    "dense": (lambda: nn.Sequential(nn.Dense(D, 3)), lambda: T.Sequential(T.Linear(D, 3))),
    "identity": _dense_around(nn.Identity, T.Identity),
    "sigmoid": _dense_around(nn.Sigmoid, T.Sigmoid),
    "tanh": _dense_around(nn.Tanh, T.Tanh),
    "relu": _dense_around(nn.ReLU, T.ReLU),
    "leaky_relu": _dense_around(lambda: nn.LeakyReLU(0.2), lambda: T.LeakyReLU(0.2)),
    "leaky_relu_default": _dense_around(nn.LeakyReLU, T.LeakyReLU),
    "elu": _dense_around(lambda: nn.ELU(0.7), lambda: T.ELU(0.7)),
    "gelu": _dense_around(nn.GELU, T.GELU),
    "gelu_tanh": _dense_around(lambda: nn.GELU("tanh"), lambda: T.GELU(approximate="tanh")),
    "softmax": _dense_around(nn.Softmax, lambda: T.Softmax(dim=-1)),
    "batchnorm": _dense_around(lambda: nn.BatchNorm(D, momentum=0.3, eps=1e-3),
                               lambda: T.BatchNorm1d(D, momentum=0.3, eps=1e-3)),
    "dropout": _dense_around(lambda: nn.Dropout(0.25), lambda: T.Dropout(0.25)),
    "standardize": (lambda: nn.Sequential(nn.Standardize([1.0, -2.0, 0.5, 3.0], [2.0, 0.5, 1.5, 4.0]),
                                          nn.Dense(D, 3)),
                    lambda: T.Sequential(TorchStandardize(D), T.Linear(D, 3))),
    "residual": (lambda: nn.Sequential(nn.Residual(nn.Dense(D, D), nn.Tanh()), nn.Dense(D, 3)),
                 lambda: T.Sequential(TorchResidual(T.Linear(D, D), T.Tanh()), T.Linear(D, 3))),
    "mlp_stack": (lambda: nn.MLP([D, 8, 8, 3], activation=["relu", "gelu"], batchnorm=True, dropout=0.1),
                  lambda: T.Sequential(T.Linear(D, 8), T.BatchNorm1d(8), T.ReLU(), T.Dropout(0.1),
                                       T.Linear(8, 8), T.BatchNorm1d(8), T.GELU(), T.Dropout(0.1), T.Linear(8, 3))),
    "nested_stack": (lambda: nn.Sequential(nn.Sequential(nn.Dense(D, 6), nn.ELU()),
                                           nn.Residual(nn.Dense(6, 6), nn.BatchNorm(6), nn.LeakyReLU(0.1)),
                                           nn.Sequential(nn.Dense(6, 3), nn.Sigmoid())),
                     lambda: T.Sequential(T.Sequential(T.Linear(D, 6), T.ELU()),
                                          TorchResidual(T.Linear(6, 6), T.BatchNorm1d(6), T.LeakyReLU(0.1)),
                                          T.Sequential(T.Linear(6, 3), T.Sigmoid()))),
    "standardized_mlp": (lambda: nn.Sequential(nn.Standardize([0.5] * D, [3.0] * D),
                                               *nn.MLP([D, 5, 3], activation="tanh").layers, nn.Softmax()),
                         lambda: T.Sequential(TorchStandardize(D), T.Linear(D, 5), T.Tanh(), T.Linear(5, 3),
                                              T.Softmax(dim=1))),
}
HAS_DROPOUT = {"dropout", "mlp_stack"}


def _inputs(seed=0, n=9):
    return np.random.default_rng(seed).normal(scale=2.0, size=(n, D))


def _randomized(model, seed=1):
    """A chainrule model with random parameters and buffers (BatchNorm not at its identity start)."""
    model.init(seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 100)
    model.params = {k: v + rng.normal(scale=0.3, size=v.shape) for k, v in model.params.items()}
    for k, v in model.buffers.items():
        if k.endswith("running_mean"):
            model.buffers[k] = rng.normal(size=v.shape)
        elif k.endswith("running_var"):
            model.buffers[k] = rng.uniform(0.5, 2.0, size=v.shape)
        elif k.endswith("num_batches_tracked"):
            model.buffers[k] = np.asarray(5, np.int64)
    return model


def _randomized_torch(module, seed=1):
    torch.manual_seed(seed)
    module = module.double()
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if name.endswith("running_var") or name.endswith("scale"):
                t.copy_(torch.rand_like(t) * 1.5 + 0.5)
            elif name.endswith("num_batches_tracked"):
                t.fill_(5)
            else:
                t.copy_(torch.randn_like(t))
    return module


def _chainrule_run(model, X, R, training=False):
    """(output, {name: ∂(Σ R ⊙ output)/∂param}, new buffers) of a chainrule model."""

    def loss(params):
        out, buffers = model.apply(params, X, training=training, return_state=True)
        return cnp.sum(out * R), (out, buffers)

    (_, (out, buffers)), grads = cr.value_and_grad(loss, has_aux=True)(model.params)
    return np.asarray(out), {k: np.asarray(v) for k, v in grads.items()}, buffers


def _torch_run(module, X, R, training=False):
    module.train(training)
    module.zero_grad()
    out = module(torch.from_numpy(X))
    (out * torch.from_numpy(R)).sum().backward()
    grads = {k: p.grad.numpy().copy() for k, p in module.named_parameters()}
    return out.detach().numpy(), grads, {k: v.numpy().copy() for k, v in module.state_dict().items()
                                          if k not in grads}


def _assert_same(ours, theirs):
    out, grads, buffers = ours
    t_out, t_grads, t_buffers = theirs
    np.testing.assert_allclose(out, t_out, rtol=0, atol=TOL)
    assert sorted(grads) == sorted(t_grads)
    for k in grads:
        np.testing.assert_allclose(grads[k], t_grads[k], rtol=0, atol=TOL, err_msg=k)
    for k in t_buffers:  # BatchNorm's running statistics and batch count, Standardize's mean and scale
        np.testing.assert_allclose(np.asarray(buffers[k], np.float64), t_buffers[k], rtol=0, atol=TOL, err_msg=k)


def _modes(case):
    return [False] if case in HAS_DROPOUT else [False, True]  # dropout draws differ: training compared below


@pytest.mark.parametrize("case", sorted(CASES))
def test_to_torch_outputs_gradients_and_buffers_agree(case):
    model = _randomized(CASES[case][0]())
    module = to_torch(model)
    expected = repr(CASES[case][1]().double()).replace("Softmax(dim=1)", "Softmax(dim=-1)")  # (the same for 2-D)
    assert repr(module) == expected, "not the torch layers this case expects"
    X, R = _inputs(), np.random.default_rng(7).normal(size=(9, 3))
    for training in _modes(case):
        _assert_same(_chainrule_run(model, X, R, training), _torch_run(module, X, R, training))


@pytest.mark.parametrize("case", sorted(CASES))
def test_from_torch_outputs_gradients_and_buffers_agree(case):
    module = _randomized_torch(CASES[case][1]())
    model = from_torch(module)
    assert model.config() == CASES[case][0]().config(), "not the chainrule layers this case expects"
    assert model.dtype == np.float64
    X, R = _inputs(3), np.random.default_rng(8).normal(size=(9, 3))
    for training in _modes(case):
        theirs = _torch_run(module, X, R, training)
        _assert_same(_chainrule_run(model, X, R, training), theirs)
        module.load_state_dict(_randomized_torch(CASES[case][1]()).state_dict())  # undo the statistics update


def test_round_trip_keeps_float32_and_every_number():
    model = nn.MLP([D, 6, 3], activation="elu", batchnorm=True)
    model.init(4, dtype="float32")
    module = to_torch(model)
    assert all(t.dtype == torch.float32 for t in module.parameters())
    back = from_torch(module)
    assert back.dtype == np.float32
    for k, v in model.state_dict().items():
        assert np.array_equal(back.state_dict()[k], v) and back.state_dict()[k].dtype == v.dtype, k


def test_dropout_in_training_drops_and_rescales_in_both_and_is_the_identity_in_evaluation():
    model = nn.Sequential(nn.Dense(D, 50), nn.Dropout(0.4))
    model.init(0)
    module = to_torch(model)
    X = _inputs()
    kept = model.apply(model.params, X)  # evaluation: the identity
    np.testing.assert_allclose(module(torch.from_numpy(X)).detach().numpy(), kept, rtol=0, atol=TOL)
    ours = np.asarray(model.apply(model.params, X, training=True, rng=np.random.default_rng(0)))
    theirs = module.train()(torch.from_numpy(X)).detach().numpy()
    for out in (ours, theirs):
        dropped = out == 0
        assert 0.2 < dropped.mean() < 0.6  # ~40% of 450 units
        np.testing.assert_allclose(out[~dropped], kept[~dropped] / 0.6, rtol=1e-14)


def test_to_torch_returns_evaluation_mode():
    model = nn.MLP([D, 5, 3], batchnorm=True)
    model.init(0)
    assert not to_torch(model).training


# -- activations whose torch counterpart differs are refused, not approximated --------------------

def test_softplus_differs_from_torch_above_its_threshold_so_it_is_refused_both_ways():
    z = np.array([20.5])
    ours = np.asarray(nn.Softplus().call({}, z, None))
    theirs = T.Softplus()(torch.from_numpy(z)).numpy()
    assert abs(ours - theirs)[0] > 1e-10  # why: log(1 + e^20.5) − 20.5 = 1.2e-9, torch returns 20.5
    model = nn.Sequential(nn.Dense(D, 3), nn.Softplus())
    model.init(0)
    with pytest.raises(ConfigError, match=r"^layer 1 \(Activation\): the activation 'softplus' cannot be exported "
                                          r"to PyTorch: torch.nn.Softplus returns z"):
        to_torch(model)
    with pytest.raises(ConfigError, match=r"^from_torch: module '1' \(Softplus\) is not supported: "):
        from_torch(T.Sequential(T.Linear(D, 3), T.Softplus()))


def test_gelu_is_mapped_exact_to_exact_and_tanh_to_tanh():
    # the two differ by ~1e-4: a swapped mapping would fail the parity tests above
    z = torch.linspace(-3, 3, 61, dtype=torch.float64)
    assert (T.GELU()(z) - T.GELU(approximate="tanh")(z)).abs().max() > 1e-5
    assert from_torch(T.Sequential(T.GELU(approximate="tanh"))).layers[0].name == "gelu_tanh"
    assert from_torch(T.Sequential(T.GELU())).layers[0].name == "gelu"


# -- bad input: one line naming the layer or module --------------------------------------------------

class Doubling(nn.Layer):
    def call(self, params, a, ctx):
        return 2 * a


def test_an_unsupported_chainrule_layer_is_named_with_the_format():
    model = nn.Sequential(nn.Dense(D, 3), nn.Sequential(nn.ReLU(), Doubling()))
    model.init(0)
    with pytest.raises(ConfigError, match=r"^layer 1\.1 \(Doubling\) cannot be exported to PyTorch: supported are "
                                          r"Dense, BatchNorm"):
        to_torch(model)


@pytest.mark.parametrize("module, message", [
    (T.Sequential(T.Linear(D, 3), T.Sequential(T.ReLU(), T.Conv1d(1, 1, 1))),
     r"^from_torch: module '1\.1' \(Conv1d\) is not supported; supported are Linear"),
    (T.Sequential(T.Linear(D, 3, bias=False)), r"module '0' \(Linear\) has no bias"),
    (T.Sequential(T.BatchNorm1d(D, momentum=None)), r"module '0' \(BatchNorm1d\) must have .* momentum=None"),
    (T.Sequential(T.BatchNorm1d(D, affine=False)), r"affine=False"),
    (T.Sequential(T.Softmax(dim=0)), r"module '0' \(Softmax\) must take the softmax over the features.*dim=0"),
    (T.Sequential(T.Sequential()), r"module '0' \(Sequential\) is empty"),
    (T.Sequential(T.Linear(D, 3).half()), r"must all be float32 or all float64, found float16"),
    (T.Sequential(T.Linear(D, 3).double(), T.Linear(3, 2)), r"found float32, float64"),
])
def test_an_unsupported_torch_module_is_named_by_its_path(module, message):
    with pytest.raises(ConfigError, match=message) as info:
        from_torch(module)
    assert "\n" not in str(info.value)


def test_wrong_arguments_are_one_line_errors():
    with pytest.raises(ArgumentTypeError, match="from_torch: expected a torch.nn.Sequential, found Linear"):
        from_torch(T.Linear(D, 3))
    with pytest.raises(ArgumentTypeError, match=r"to_torch: expected a chainrule network .* found list"):
        to_torch([1, 2])
    with pytest.raises(ConfigError, match="no parameters yet"):
        to_torch(nn.MLP([D, 3]))


# float32, both ways: float32 rounds each operation to ~6e-8 relative and the two libraries order
# their sums differently, so outputs and gradients (O(1), sums over ≤ 9 samples and ≤ 8 units)
# differ by a few ulps, ~1e-6 relative at worst; rtol 1e-5 (atol 1e-6 for entries near zero) allows
# that and catches any wrong constant or formula (≥ 1e-4, as in float64 above).
F32 = {"rtol": 1e-5, "atol": 1e-6}


def _as_float32(model):
    model.params = {k: v.astype(np.float32) for k, v in model.params.items()}
    model.buffers = {k: v.astype(np.float32) if np.issubdtype(np.asarray(v).dtype, np.floating) else v
                     for k, v in model.buffers.items()}
    return model


def _assert_close32(ours, theirs):
    (out, grads, _), (t_out, t_grads, _) = ours, theirs
    assert out.dtype == t_out.dtype == np.float32
    np.testing.assert_allclose(out, t_out, **F32)
    assert sorted(grads) == sorted(t_grads)
    for k in grads:
        assert grads[k].dtype == np.float32, k
        np.testing.assert_allclose(grads[k], t_grads[k], **F32, err_msg=k)


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_both_ways(case):
    model = _as_float32(_randomized(CASES[case][0]()))
    assert model.dtype == np.float32
    X, R = _inputs().astype(np.float32), np.random.default_rng(7).normal(size=(9, 3)).astype(np.float32)
    module = to_torch(model)
    assert all(t.dtype == torch.float32 for t in module.parameters())
    _assert_close32(_chainrule_run(model, X, R), _torch_run(module, X, R))
    module = _randomized_torch(CASES[case][1]()).float()
    model = from_torch(module)
    assert model.dtype == np.float32
    _assert_close32(_chainrule_run(model, X, R), _torch_run(module, X, R))
