"""Gradient checks of every layer, activation, loss and of whole models.

``chainrule.check_grads`` compares forward mode (J·v) and reverse mode (Jᵀu) with central
differences along random directions in float64, and to second order (the derivatives of the
derivatives, both modes). Its default threshold, a relative error of 1e-7, sits between the
O(ε²) ≈ 1e-12 truncation plus ~1e-10 round-off error of a correct rule at ε = 1e-6 and the
O(1) error of a wrong one. Inputs are kept away from the ReLU-family kinks (see nn_helpers).
"""

import numpy as np
import pytest
from nn_helpers import FUSED, assert_kink_free, away_from_zero, dense_act, preactivations, random_params

import chainrule as cr
from chainrule import nn
from chainrule.errors import GradientCheckError
from chainrule.nn import losses
from chainrule.nn.model import Context

MODES = ("fwd", "rev")


def full_check(f, args, **kw):
    """check_grads in both modes to order 2; returns the report (raises if any leaf fails)."""
    report = cr.check_grads(f, args, modes=MODES, order=2, **kw)
    assert report.passed
    # 2 modes at order 1 + 4 mode pairs at order 2, for every leaf: nothing was skipped.
    n_leaves = len({e.leaf for e in report.entries})
    assert len(report.entries) == 6 * n_leaves
    assert not [e for e in report.entries if e.status == "kink"], str(report)
    return report


@pytest.mark.parametrize("activation", FUSED)
def test_fused_dense_layer(activation):
    rng = np.random.default_rng(1)
    model = dense_act(activation, alpha=0.2 if activation == "leaky_relu" else None)
    steps = []
    params = random_params(model, seed=2)
    x = rng.standard_normal((5, 3))
    model.apply(params, x, record=lambda name, a: steps.append(name))
    assert steps == ["1"], "Dense + activation should run as one fused step"
    assert_kink_free(preactivations(params, x))

    report = full_check(lambda p: model.apply(p, x), (params,))
    assert {e.leaf for e in report.entries} == {"0.weight", "0.bias"}
    full_check(lambda x: model.apply(params, x), (x,))  # the error signal passed to the layer below


@pytest.mark.parametrize(
    "layer",
    [nn.ELU(0.7), nn.GELU(), nn.GELU("tanh"), nn.Softplus(), nn.Softmax(), nn.LeakyReLU(0.3), nn.Sigmoid(),
     nn.Tanh(), nn.ReLU()],
    ids=lambda layer: repr(layer),
)
def test_activation_layer(layer):
    # ±0.25 from zero: ELU's second derivative and every ReLU-family derivative jump there.
    z = away_from_zero(np.random.default_rng(3), (4, 5))
    full_check(lambda z: layer.call({}, z, Context()), (z,))


def test_activation_layer_unfused_after_dense():
    # ELU is not fusable: Dense then ELU run as two steps, checked together.
    model = nn.Sequential(nn.Dense(3, 4), nn.ELU(1.5), nn.Dense(4, 2), nn.GELU("tanh"))
    params = random_params(model, seed=4)
    x = np.random.default_rng(5).standard_normal((6, 3))
    steps = []
    model.apply(params, x, record=lambda name, a: steps.append(name))
    assert steps == ["0", "1", "2", "3"]
    assert_kink_free(preactivations(params, x))
    report = full_check(lambda p: model.apply(p, x), (params,))
    assert list(report.by_leaf()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batchnorm(training):
    rng = np.random.default_rng(6)
    model = nn.Sequential(nn.Dense(3, 4), nn.BatchNorm(4), nn.Tanh(), nn.Dense(4, 2))
    params = random_params(model, seed=7)
    for _ in range(3):  # non-trivial running statistics for evaluation mode
        _, model.buffers = model.apply(params, 2 * rng.standard_normal((8, 3)) + 1, training=True, return_state=True)
    x = rng.standard_normal((6, 3))
    report = full_check(lambda p: model.apply(p, x, training=training), (params,))
    assert list(report.by_leaf()) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    full_check(lambda x: model.apply(params, x, training=training), (x,))


def test_batchnorm_in_training_depends_on_the_whole_batch():
    # The check above would pass for a BatchNorm that ignored the batch statistics' dependence
    # on x (treating μ_B, σ_B as constants) only if the checker were blind: show the two differ.
    layer = nn.BatchNorm(3)
    params, buffers = layer.init_params(None, np.float64)
    x = np.random.default_rng(8).standard_normal((5, 3))
    ctx = lambda: Context(True, None, {k: v.copy() for k, v in buffers.items()})
    J = cr.jacrev(lambda x: layer.call(params, x, ctx()))(x)
    # Each output row depends on every input row through μ_B and σ²_B.
    assert np.abs(J[0, :, 1, :]).max() > 1e-3


def test_dropout_in_training_with_a_fixed_generator():
    layer = nn.Dropout(0.4)
    x = np.random.default_rng(9).standard_normal((6, 5))
    f = lambda x: layer.call({}, x, Context(True, np.random.default_rng(10)))
    y = f(x)
    dropped = y == 0
    assert 0 < dropped.sum() < x.size  # the mask is neither empty nor full
    np.testing.assert_array_equal(y[~dropped], x[~dropped] / 0.6)  # inverted-dropout scaling, exact here
    full_check(f, (x,))


def test_residual():
    model = nn.Sequential(nn.Dense(3, 4), nn.Tanh(), nn.Residual(nn.Dense(4, 4), nn.Sigmoid(), nn.Dense(4, 4)),
                          nn.Dense(4, 2))
    params = random_params(model, seed=11)
    x = np.random.default_rng(12).standard_normal((5, 3))
    report = full_check(lambda p: model.apply(p, x), (params,))
    assert list(report.by_leaf()) == [
        "0.weight", "0.bias", "2.fn.0.weight", "2.fn.0.bias", "2.fn.2.weight", "2.fn.2.bias", "3.weight", "3.bias"]
    full_check(lambda x: model.apply(params, x), (x,))


@pytest.mark.parametrize(
    "activation",
    [["tanh", "sigmoid", "softplus"], ["relu", "leaky_relu", "elu"], ["gelu", "gelu_tanh", "tanh"]],
    ids=lambda a: "-".join(a),
)
def test_whole_mlp(activation):
    model = nn.MLP([3, 5, 4, 4, 2], activation=activation, output_activation="softmax")
    params = random_params(model, seed=13)
    x = np.random.default_rng(14).standard_normal((6, 3))
    # Kink-free precondition for every hidden pre-activation (a plain forward pass layer by layer).
    zs = []
    model.apply(params, x, record=lambda name, a: zs.append(np.asarray(a)))
    if "relu" in activation:
        assert_kink_free(preactivations(params, x))
        for k, a in zip((2, 4), zs[:2]):
            assert_kink_free(preactivations(params, a, f"{k}."))
    y = np.random.default_rng(15).integers(0, 2, 6)
    report = full_check(lambda p: losses.cross_entropy(model.apply(p, x), y), (params,))
    assert list(report.by_leaf()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias",
                                      "6.weight", "6.bias"]


def test_whole_model_with_batchnorm_dropout_residual_in_training():
    model = nn.Sequential(nn.Dense(3, 6), nn.BatchNorm(6), nn.Tanh(), nn.Dropout(0.3),
                          nn.Residual(nn.Dense(6, 6), nn.ELU()), nn.Dense(6, 2))
    params = random_params(model, seed=16)
    x = np.random.default_rng(17).standard_normal((7, 3))
    f = lambda p: model.apply(p, x, training=True, rng=np.random.default_rng(18))
    full_check(f, (params,))


def test_gradient_check_catches_a_wrong_layer():
    # The checks above can fail: a layer whose bias is cut out of the derivative is caught.
    model = dense_act("tanh")
    params = random_params(model, seed=19)
    x = np.random.default_rng(20).standard_normal((4, 3))
    wrong = lambda p: model.apply({**p, "0.bias": cr.stop_gradient(p["0.bias"])}, x)
    with pytest.raises(GradientCheckError, match="0.bias"):
        cr.check_grads(wrong, (params,), order=1)


# -- losses ----------------------------------------------------------------------------------------

def _pm1(rng, n):
    return np.where(rng.random(n) < 0.5, -1.0, 1.0)


LOSS_CASES = {
    "mse": lambda rng: (losses.mse, rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), {}),
    "mse_half": lambda rng: (losses.mse, rng.standard_normal(5), rng.standard_normal(5), {"half": True}),
    # |ŷ − y| ≥ 0.25: away from the kink of |·|.
    "mae": lambda rng: (losses.mae, away_from_zero(rng, (5, 2)), np.zeros((5, 2)), {}),
    # δ = 1 and |r| = 0.3, 0.6, 1.7, 2.4, 0.8: both branches, every |r| at least 0.2 from the switch at δ.
    "huber": lambda rng: (losses.huber, np.array([0.3, -0.6, 1.7, -2.4, 0.8]), np.zeros(5), {"delta": 1.0}),
    "bce": lambda rng: (losses.binary_cross_entropy, rng.standard_normal(5), rng.integers(0, 2, 5), {}),
    "bce_soft": lambda rng: (losses.binary_cross_entropy, rng.standard_normal(5), rng.random(5), {}),
    "bce_2d": lambda rng: (losses.binary_cross_entropy, rng.standard_normal((5, 3)), rng.integers(0, 2, (5, 3)), {}),
    "ce_labels": lambda rng: (losses.cross_entropy, rng.standard_normal((5, 3)), rng.integers(0, 3, 5), {}),
    "logistic": lambda rng: (losses.logistic, rng.standard_normal(5), _pm1(rng, 5), {}),
    # margins 1 − y z = 0.7, 2.6, −1.5, 0.8, 1.6: both sides of the hinge, none within 0.7 of it.
    "hinge": lambda rng: (losses.hinge, np.array([0.3, -1.6, 2.5, -0.2, 0.6]), np.array([1.0, 1, 1, -1, -1]), {}),
}


@pytest.mark.parametrize("name", list(LOSS_CASES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_gradients(name, reduction):
    rng = np.random.default_rng(21)
    loss, y_hat, y, kw = LOSS_CASES[name](rng)
    w = rng.random(len(y_hat)) + 0.5
    full_check(lambda y_hat: loss(y_hat, y, reduction=reduction, **kw), (y_hat,))
    full_check(lambda y_hat: loss(y_hat, y, reduction=reduction, sample_weight=w, **kw), (y_hat,))


def test_cross_entropy_with_probability_targets_in_both_arguments():
    rng = np.random.default_rng(22)
    z = rng.standard_normal((4, 3))
    # Rows of y summing to 0.4–2.3, not 1: ℓ = Σ_k y_k (logsumexp(z) − z_k) and its gradient
    # softmax(z) Σ_k y_k − y, which only equals softmax(z) − y on normalized rows.
    y = rng.random((4, 3))
    y[0] *= 0.3
    report = full_check(lambda z, y: losses.cross_entropy(z, y), (z, y))
    assert list(report.by_leaf()) == ["arg0", "arg1"]
