"""Sequential, Residual and MLP: names, counts, shape errors, configs, gradient checkpointing."""

import json

import numpy as np
import pytest
from nn_helpers import random_params

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.errors import ConfigError, ShapeError


def torch_equivalent(model):
    """The torch module with the same structure (so the same state_dict keys) as a chainrule model."""
    torch = pytest.importorskip("torch")

    class Residual(torch.nn.Module):  # a + fn(a): a module with attribute ``fn``
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, a):
            return a + self.fn(a)

    def convert(layer):
        if isinstance(layer, nn.Residual):
            return Residual(torch.nn.Sequential(*[convert(x) for x in layer.layers]))
        if isinstance(layer, nn.Sequential):
            return torch.nn.Sequential(*[convert(x) for x in layer.layers])
        if isinstance(layer, nn.Dense):
            return torch.nn.Linear(layer.d_in, layer.d_out, dtype=torch.float64)
        if isinstance(layer, nn.BatchNorm):
            return torch.nn.BatchNorm1d(layer.d_in, dtype=torch.float64)
        if isinstance(layer, nn.Dropout):
            return torch.nn.Dropout(layer.p)
        return {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
                "elu": torch.nn.ELU}[layer.name]()

    return convert(model)


MODELS = {
    "mlp_relu": lambda: nn.MLP([2, 4, 3, 1], activation="relu"),
    "mlp_bn_dropout": lambda: nn.MLP([3, 5, 5, 2], activation="tanh", batchnorm=True, dropout=0.2),
    "residual": lambda: nn.Sequential(nn.Dense(3, 4), nn.ReLU(), nn.Residual(nn.Dense(4, 4), nn.Tanh(),
                                                                            nn.Dense(4, 4)), nn.Dense(4, 2)),
    "nested": lambda: nn.Sequential(nn.Sequential(nn.Dense(2, 3), nn.Sigmoid()), nn.BatchNorm(3), nn.Dense(3, 1)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_state_dict_keys_match_torch(name):
    torch = pytest.importorskip("torch")
    model = MODELS[name]()
    model.init(seed=0)
    tmodel = torch_equivalent(model)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in tmodel.state_dict().items()}
    assert list(ours) == list(theirs)  # same names in the same order
    assert ours == theirs
    trainable = [k for k, _ in tmodel.named_parameters()]
    assert list(model.params) == trainable == model.param_keys()
    assert model.n_params() == sum(p.numel() for p in tmodel.parameters())
    tmodel.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in model.state_dict().items()}, strict=True)


def test_parameter_count():
    # Σ_l (n_l · n_{l−1} + n_l): [2, 4, 3, 1] → (8 + 4) + (12 + 3) + (3 + 1) = 31.
    model = nn.MLP([2, 4, 3, 1])
    model.init(0)
    assert model.n_params() == 31
    model = nn.MLP([784, 512, 512, 10], batchnorm=True)
    model.init(0)
    assert model.n_params() == (784 * 512 + 512) + (512 * 512 + 512) + (512 * 10 + 10) + 2 * (2 * 512)
    with pytest.raises(ValueError, match="call init"):
        nn.MLP([2, 1]).n_params()


def test_per_layer_activations():
    model = nn.MLP([2, 3, 4, 5, 1], activation=["tanh", "relu", "elu"], output_activation="sigmoid")
    kinds = [(type(x).__name__, getattr(x, "name", None)) for x in model.layers]
    assert kinds == [("Dense", None), ("Activation", "tanh"), ("Dense", None), ("Activation", "relu"),
                     ("Dense", None), ("Activation", "elu"), ("Dense", None), ("Activation", "sigmoid")]
    assert [(d.d_in, d.d_out) for d in model.dense_layers()] == [(2, 3), (3, 4), (4, 5), (5, 1)]
    # The output is a sigmoid: in (0, 1).
    y = model.apply(model.init(0), np.random.default_rng(0).standard_normal((6, 2)))
    assert y.shape == (6, 1) and np.all((y > 0) & (y < 1))
    with pytest.raises(ValueError, match="2 activations given for 3 hidden layers"):
        nn.MLP([2, 3, 4, 5, 1], activation=["tanh", "relu"])
    with pytest.raises(ValueError, match="unknown activation 'rleu'.*did you mean 'relu'.*valid activations: "):
        nn.MLP([2, 3, 1], activation="rleu")


def test_sequential_shape_mismatch_names_both_widths():
    with pytest.raises(ShapeError, match="layer 2 \\(Dense\\) expects 3 features but the layer before produces 4"):
        nn.Sequential(nn.Dense(2, 4), nn.ReLU(), nn.Dense(3, 1))
    with pytest.raises(ShapeError, match="expects 5 features but the layer before produces 4"):
        nn.Sequential(nn.Dense(2, 4), nn.BatchNorm(5))


def test_model_input_feature_mismatch():
    model = nn.MLP([2, 4, 1])
    params = model.init(0)
    with pytest.raises(ShapeError, match=r"model expects 2 input features, found 3 \(input shape \(5, 3\)\)"):
        model.apply(params, np.zeros((5, 3)))
    with pytest.raises(ShapeError, match=r"must be 2-D \(batch, 2\), found shape \(2,\)"):
        model.apply(params, np.zeros(2))


def test_residual_width_mismatch():
    with pytest.raises(ShapeError, match="Residual: f must keep the width, but maps 3 -> 4 features"):
        nn.Residual(nn.Dense(3, 4), nn.ReLU())
    # a + f(a) really is added: with f's weights at zero the block is the identity.
    block = nn.Sequential(nn.Residual(nn.Dense(3, 3), nn.Tanh()))
    params = {k: np.zeros_like(v) for k, v in block.init(0).items()}
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_array_equal(block.apply(params, x), x)


def test_bad_layer_arguments():
    with pytest.raises(ValueError, match=r"Dense\(d_out=\.\.\.\): expected an int in \[1, inf\), got 0"):
        nn.Dense(3, 0)
    with pytest.raises(ValueError, match=r"MLP\(sizes=\.\.\.\): expected a list .* of at least 2 items"):
        nn.MLP([3])
    with pytest.raises(ValueError, match=r"Dropout\(p=\.\.\.\): expected a finite real number in \[0, 1\), got 1.0"):
        nn.Dropout(1.0)
    with pytest.raises(TypeError, match="item 1 is ufunc, not a chainrule layer"):
        nn.Sequential(nn.Dense(2, 2), np.tanh)
    with pytest.raises(ValueError, match="needs a seeded generator"):
        model = nn.Sequential(nn.Dense(2, 2), nn.Dropout(0.5))
        model.apply(model.init(0), np.zeros((3, 2)), training=True)
    with pytest.raises(ValueError, match="batch of at least 2"):
        model = nn.Sequential(nn.Dense(2, 2), nn.BatchNorm(2))
        model.apply(model.init(0), np.zeros((1, 2)), training=True)


@pytest.mark.parametrize("name", list(MODELS))
def test_config_round_trip(name):
    model = MODELS[name]()
    cfg = model.config()
    assert json.loads(json.dumps(cfg)) == cfg  # plain JSON
    rebuilt = nn.layer_from_config(cfg)
    assert rebuilt.config() == cfg
    assert repr(rebuilt) == repr(model)
    p1, p2 = model.init(seed=3), rebuilt.init(seed=3)
    assert list(p1) == list(p2)
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    x = np.random.default_rng(1).standard_normal((5, model.d_in))
    np.testing.assert_array_equal(model.apply(p1, x), rebuilt.apply(p2, x))


def test_config_keeps_layer_options():
    model = nn.Sequential(nn.Dense(2, 3, init="he_uniform", bias_init={"constant": 0.1}), nn.LeakyReLU(0.2),
                          nn.BatchNorm(3, momentum=0.3, eps=1e-3), nn.ELU(0.5), nn.GELU("tanh"), nn.Dropout(0.25))
    rebuilt = nn.layer_from_config(json.loads(json.dumps(model.config())))
    assert rebuilt.config() == model.config()
    dense, leaky, bn, elu, gelu, drop = rebuilt.layers
    assert (dense.init_spec, dense.bias_init) == ("he_uniform", {"constant": 0.1})
    assert (leaky.alpha, bn.momentum, bn.eps, elu.alpha, gelu.name, drop.p) == (0.2, 0.3, 1e-3, 0.5, "gelu_tanh", 0.25)
    np.testing.assert_array_equal(rebuilt.init(0)["0.bias"], [0.1, 0.1, 0.1])


def test_layer_from_config_errors():
    with pytest.raises(ConfigError, match="unknown layer type 'conv'; valid types: dense, activation"):
        nn.layer_from_config({"type": "conv"})
    with pytest.raises(ConfigError, match="layer of type 'dense' is missing the key 'd_out'"):
        nn.layer_from_config({"type": "dense", "d_in": 3})


# -- gradient checkpointing ------------------------------------------------------------------------

class CountingLayer(nn.Layer):
    """The identity, counting how often it runs (to see the recomputation happen)."""

    kind = "counting"

    def __init__(self):
        self.calls = 0

    def call(self, params, a, ctx):
        self.calls += 1
        return a


def remat_model(counter):
    return nn.Sequential(nn.Dense(3, 8), nn.BatchNorm(8), nn.ReLU(), nn.Dropout(0.5), counter,
                         nn.Dense(8, 8), nn.Tanh(), nn.Residual(nn.Dense(8, 8), nn.ELU()), nn.Dropout(0.3),
                         nn.Dense(8, 8), nn.Sigmoid(), nn.Dense(8, 2))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_remat_gives_identical_gradients(training):
    counter = CountingLayer()
    model = remat_model(counter)
    params = random_params(model, seed=0)
    x = np.random.default_rng(1).standard_normal((16, 3))
    y = np.random.default_rng(2).integers(0, 2, 16)
    for _ in range(2):  # non-trivial running statistics
        _, model.buffers = model.apply(params, x + 1, training=True, rng=np.random.default_rng(3), return_state=True)

    results = {}
    for remat in (False, True):
        start_buffers = {k: v.copy() for k, v in model.buffers.items()}
        counter.calls = 0

        def loss(p, remat=remat):
            out, buffers = model.apply(p, x, training=training, rng=np.random.default_rng(4), remat=remat,
                                       return_state=True)
            return nn.losses.cross_entropy(out, y), buffers

        (value, model.buffers), g = cr.value_and_grad(loss, has_aux=True)(params)
        (_, model.buffers), (tangent, _) = cr.jvp(loss, (params,), (params,))
        results[remat] = (value, g, tangent, model.buffers, counter.calls)
        model.buffers = start_buffers

    (v0, g0, t0, b0, calls0), (v1, g1, t1, b1, calls1) = results[False], results[True]
    assert calls0 == 2  # once under grad, once under jvp
    assert calls1 > calls0  # the backward pass (and forward mode) re-ran the segment
    assert v0 == v1
    assert np.abs(t0 - t1) <= 1e-15 * max(1.0, abs(t0))
    for k in g0:
        # Bitwise: the recomputation performs exactly the same operations on the same inputs,
        # with the same dropout masks (replayed from the generator's state).
        np.testing.assert_array_equal(g0[k], g1[k], err_msg=k)
    assert any(np.any(g0[k] != 0) for k in g0)
    for k in b0:  # running statistics moved exactly as often (twice: grad and jvp) in both
        np.testing.assert_array_equal(b0[k], b1[k], err_msg=k)
    if training:
        assert int(b1["1.num_batches_tracked"]) == 2 + 2


def test_remat_dropout_masks_match_the_plain_run():
    # Same generator seed, same masks, with or without checkpointing (outputs bitwise equal).
    model = remat_model(CountingLayer())
    params = random_params(model, seed=5)
    x = np.random.default_rng(6).standard_normal((10, 3))
    outs = [model.apply(params, x, training=True, rng=np.random.default_rng(7), remat=r) for r in (False, True)]
    np.testing.assert_array_equal(outs[0], outs[1])
    other = model.apply(params, x, training=True, rng=np.random.default_rng(8))
    assert not np.array_equal(outs[0], other)  # a different seed gives different masks


def test_forward_pass_with_traced_inputs_too():
    model = nn.MLP([3, 4, 2], activation="tanh")
    params = model.init(0)
    x = np.random.default_rng(9).standard_normal((5, 3))
    g = cr.grad(lambda x: cnp.sum(model.apply(params, x, remat=True)))(x)
    g_plain = cr.grad(lambda x: cnp.sum(model.apply(params, x)))(x)
    np.testing.assert_array_equal(g, g_plain)
