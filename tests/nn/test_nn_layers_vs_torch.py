"""Layers and activations against PyTorch in float64: values, gradients and BatchNorm's state.

Both libraries evaluate the same formulas in float64 with different kernels (summation order
in matmul, libm's tanh/erf/exp). Each such operation is accurate to a few ulps (~1e-16
relative) and the networks here are a few layers of width ≤ 8, so 1e-12 relative to the
values' size leaves a margin of ~1e3 over the expected differences while any real
discrepancy (a wrong constant, a missing term) is ≥ 1e-3.
"""

import numpy as np
import pytest
from nn_helpers import away_from_zero, random_params

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn

torch = pytest.importorskip("torch")

TOL = 1e-12


def assert_close(ours, theirs, tol=TOL):
    ours = np.asarray(ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.abs(theirs).max()))
    assert np.abs(ours - theirs).max() <= tol * scale, np.abs(ours - theirs).max()


def torch_activation(name, alpha=None):
    return {
        "identity": lambda: torch.nn.Identity(),
        "relu": lambda: torch.nn.ReLU(),
        "leaky_relu": lambda: torch.nn.LeakyReLU(alpha),
        "tanh": lambda: torch.nn.Tanh(),
        "sigmoid": lambda: torch.nn.Sigmoid(),
        "elu": lambda: torch.nn.ELU(alpha),
        "gelu": lambda: torch.nn.GELU(approximate="none"),
        "gelu_tanh": lambda: torch.nn.GELU(approximate="tanh"),
        "softplus": lambda: torch.nn.Softplus(),
        "softmax": lambda: torch.nn.Softmax(dim=-1),
    }[name]()


def to_torch_model(layers):
    """The torch.nn.Sequential equivalent to a list of chainrule layers (the flat kinds only)."""
    out = []
    for layer in layers:
        if isinstance(layer, nn.Dense):
            out.append(torch.nn.Linear(layer.d_in, layer.d_out, dtype=torch.float64))
        elif isinstance(layer, nn.BatchNorm):
            out.append(torch.nn.BatchNorm1d(layer.d_in, eps=layer.eps, momentum=layer.momentum, dtype=torch.float64))
        elif isinstance(layer, nn.Activation):
            out.append(torch_activation(layer.name, layer.alpha))
        else:
            raise TypeError(layer)
    return torch.nn.Sequential(*out)


def compare_forward_backward(layers, x, training=False, seed=0):
    """Copy the chainrule model's parameters into torch; compare output and every gradient."""
    model = nn.Sequential(list(layers))
    params = random_params(model, seed)
    tmodel = to_torch_model(layers)
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()}, strict=True)
    tmodel.train(training)
    u = np.random.default_rng(seed + 1).standard_normal((x.shape[0], model.d_out))

    def objective(p, x):
        return cnp.sum(model.apply(p, x, training=training) * u)

    out = model.apply(params, x, training=training)
    grads = cr.grad(objective, argnums=(0, 1))(params, x)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = tmodel(xt)
    (yt * torch.from_numpy(u)).sum().backward()
    assert_close(out, yt)
    tgrads = {k: v.grad for k, v in tmodel.named_parameters()}
    assert list(grads[0]) == list(tgrads)
    for k in tgrads:
        assert_close(grads[0][k], tgrads[k])
    assert_close(grads[1], xt.grad)
    return model, tmodel


@pytest.mark.parametrize(
    "name, alpha",
    [("identity", None), ("relu", None), ("leaky_relu", 0.01), ("leaky_relu", 0.25), ("tanh", None),
     ("sigmoid", None), ("elu", 1.0), ("elu", 0.4), ("elu", 2.5), ("gelu", None), ("gelu_tanh", None),
     ("softplus", None), ("softmax", None)],
)
def test_linear_then_activation(name, alpha):
    x = np.random.default_rng(1).standard_normal((7, 4))
    layers = [nn.Dense(4, 5), nn.Activation(name, alpha), nn.Dense(5, 3)]
    compare_forward_backward(layers, x, seed=2)


@pytest.mark.parametrize(
    "layer, tlayer",
    [(nn.GELU(), lambda: torch.nn.GELU()), (nn.GELU("tanh"), lambda: torch.nn.GELU(approximate="tanh")),
     (nn.ELU(0.3), lambda: torch.nn.ELU(0.3)), (nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
     (nn.Softplus(), lambda: torch.nn.Softplus()), (nn.Softmax(), lambda: torch.nn.Softmax(-1))],
    ids=repr,
)
def test_activation_alone_over_a_wide_range(layer, tlayer):
    # |z| up to 15: the tails (GELU's Φ, ELU's saturation) as well as the middle. torch's Softplus
    # switches to z itself above 20 (threshold=20); below that both are log(1 + e^z).
    z = np.concatenate([np.linspace(-15, 15, 61), away_from_zero(np.random.default_rng(3), 20)]).reshape(9, 9)
    u = np.random.default_rng(4).standard_normal(z.shape)
    out, vjp_fn = cr.vjp(lambda z: layer.call({}, z, nn.Context()), z)
    zt = torch.from_numpy(z.copy()).requires_grad_(True)
    yt = tlayer()(zt)
    (yt * torch.from_numpy(u)).sum().backward()
    assert_close(out, yt)
    assert_close(vjp_fn(u)[0], zt.grad)


def test_gelu_forms_differ():
    # The two GELU forms are different functions (up to ~1e-3 apart): the comparisons above
    # would notice a swap.
    z = np.linspace(-3, 3, 13)
    erf_form = nn.GELU().call({}, z, nn.Context())
    tanh_form = nn.GELU("tanh").call({}, z, nn.Context())
    assert 1e-4 < np.abs(erf_form - tanh_form).max() < 1e-2


@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3)])
def test_batchnorm_train_and_eval(momentum, eps):
    rng = np.random.default_rng(5)
    layers = [nn.Dense(3, 4), nn.BatchNorm(4, momentum=momentum, eps=eps), nn.Tanh(), nn.Dense(4, 2)]
    model = nn.Sequential(layers)
    params = random_params(model, 6)
    tmodel = to_torch_model(layers)
    tmodel.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()}, strict=True)
    tmodel.train()
    for step in range(5):
        x = 3 * rng.standard_normal((6 + step, 3)) + 2  # batch sizes 6..10; mean and variance far from 0, 1
        out, model.buffers = model.apply(params, x, training=True, return_state=True)
        assert_close(out, tmodel(torch.from_numpy(x)))
    tstate = tmodel.state_dict()
    for k in ("1.running_mean", "1.running_var"):
        assert_close(model.buffers[k], tstate[k])
        assert not np.allclose(model.buffers[k], [0.0, 1.0][k.endswith("var")])  # they did move
    assert model.buffers["1.num_batches_tracked"].dtype == np.int64
    assert int(model.buffers["1.num_batches_tracked"]) == int(tstate["1.num_batches_tracked"]) == 5

    # Gradients in training mode (batch statistics) and in evaluation mode (running statistics),
    # one forward pass each in both libraries (a training pass moves the running statistics).
    x = rng.standard_normal((8, 3))
    for training in (True, False):
        tmodel.train(training)
        u = rng.standard_normal((8, 2))
        out, vjp_fn = cr.vjp(lambda p, x, training=training: model.apply(p, x, training=training), params, x)
        grads = vjp_fn(u)
        tmodel.zero_grad()
        xt = torch.from_numpy(x.copy()).requires_grad_(True)
        yt = tmodel(xt)
        assert_close(out, yt)
        (yt * torch.from_numpy(u)).sum().backward()
        for k, v in tmodel.named_parameters():
            assert_close(grads[0][k], v.grad)
        assert_close(grads[1], xt.grad)
        if training:  # the new running statistics come back as values: keep them, as a training step does
            _, model.buffers = model.apply(params, x, training=True, return_state=True)
    # Evaluation mode left the running statistics alone; the training pass moved them once more.
    assert int(model.buffers["1.num_batches_tracked"]) == int(tmodel.state_dict()["1.num_batches_tracked"]) == 6
    for k in ("1.running_mean", "1.running_var"):
        assert_close(model.buffers[k], tmodel.state_dict()[k])


def test_batchnorm_running_var_is_unbiased():
    # After one step from (0, 1) with momentum 1, running_var is the unbiased batch variance.
    layer = nn.Sequential(nn.BatchNorm(2, momentum=1.0))
    layer.init(0)
    x = np.array([[1.0, 2.0], [3.0, 5.0], [8.0, -1.0]])
    _, layer.buffers = layer.apply(layer.params, x, training=True, return_state=True)
    np.testing.assert_allclose(layer.buffers["0.running_var"], np.var(x, axis=0, ddof=1), rtol=1e-15)
    np.testing.assert_allclose(layer.buffers["0.running_mean"], x.mean(axis=0), rtol=1e-15)


@pytest.mark.parametrize("name, alpha", [("relu", None), ("leaky_relu", 0.2), ("elu", 0.5), ("elu", 1.0)])
def test_derivative_at_the_kink_follows_torch(name, alpha):
    # Units 0 and 1 have zero weights and bias, so z = 0 exactly: relu'(0) = 0, leaky_relu'(0) = α and
    # elu'(0) = α (the left derivative), as torch. relu/leaky_relu run fused, elu unfused.
    x = np.random.default_rng(7).standard_normal((5, 3))
    layers = [nn.Dense(3, 4), nn.Activation(name, alpha), nn.Dense(4, 2)]
    model = nn.Sequential(layers)
    params = random_params(model, 8)
    params["0.weight"][:2] = 0.0
    params["0.bias"][:2] = 0.0
    tmodel = to_torch_model(layers)
    tmodel.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in params.items()}, strict=True)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    tmodel(xt).sum().backward()
    grads = cr.grad(lambda p, x: cnp.sum(model.apply(p, x)), argnums=(0, 1))(params, x)
    for k, v in tmodel.named_parameters():
        assert_close(grads[0][k], v.grad)
    assert_close(grads[1], xt.grad)
