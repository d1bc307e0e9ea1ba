"""Initializers: seeded, the right variance, the right default for each activation."""

import math

import numpy as np
import pytest

from chainrule import nn
from chainrule.errors import ConfigError
from chainrule.nn import init

D_OUT, D_IN = 400, 300  # weights are (d_out, d_in): fan_in = 300, fan_out = 400
N = D_OUT * D_IN

VARIANCES = {
    "xavier_normal": 2 / (D_IN + D_OUT), "xavier_uniform": 2 / (D_IN + D_OUT),
    "he_normal": 2 / D_IN, "he_uniform": 2 / D_IN,
    "lecun_normal": 1 / D_IN, "lecun_uniform": 1 / D_IN,
    "torch_default": 1 / (3 * D_IN),
}


def assert_variance(w, var, uniform):
    """E[w] = 0 and E[w²] = var, each within 5 standard errors of its sampling distribution.

    The estimate s² = mean(w²) of N iid draws has standard error √(Var(w²)/N) with Var(w²) =
    E[w⁴] − var²: 2 var² for a normal (E w⁴ = 3σ⁴), 0.8 var² for U(−a, a) (E w⁴ = a⁴/5, var =
    a²/3). Five standard errors fail a correct initializer with probability < 1e-6 and the
    seeds are fixed; for 400×300 that is ±2% (normal) / ±1.3% (uniform), while the nearest
    wrong variance (LeCun vs He, Xavier vs He) is off by 50% or more.
    """
    s2 = float(np.mean(np.asarray(w, np.float64) ** 2))
    se = var * math.sqrt((0.8 if uniform else 2.0) / w.size)
    assert abs(s2 - var) <= 5 * se, f"mean(w²) = {s2:.6g}, expected {var:.6g} ± {5 * se:.2g}"
    assert abs(float(np.mean(w))) <= 5 * math.sqrt(var / w.size)


@pytest.mark.parametrize("name", list(VARIANCES))
def test_variance(name):
    w = init.get(name)(np.random.default_rng(0), (D_OUT, D_IN), np.float64)
    assert w.shape == (D_OUT, D_IN) and w.dtype == np.float64
    uniform = name.endswith("uniform") or name == "torch_default"
    assert_variance(w, VARIANCES[name], uniform)
    if uniform:  # U(−a, a) with a = √(3 var): bounded by a and filling the interval
        a = math.sqrt(3 * VARIANCES[name])
        assert np.abs(w).max() <= a and np.abs(w).max() > 0.999 * a
    else:  # a normal has tails beyond √3 σ, a uniform of the same variance does not
        assert np.abs(w).max() > 3 * math.sqrt(VARIANCES[name])


def test_variance_check_can_fail():
    # He has twice LeCun's variance: the check tells them apart.
    w = init.he_normal(np.random.default_rng(0), (D_OUT, D_IN))
    with pytest.raises(AssertionError):
        assert_variance(w, VARIANCES["lecun_normal"], uniform=False)


def test_leaky_relu_gain():
    w = init.he_normal(np.random.default_rng(1), (D_OUT, D_IN), alpha=0.5)
    assert_variance(w, 2 / (1 + 0.25) / D_IN, uniform=False)


@pytest.mark.parametrize("name", list(init.INITIALIZERS) + ["uniform", "normal", "constant"])
def test_seeded_reproducibility(name):
    makers = {"uniform": {"uniform": [-0.5, 0.5]}, "normal": {"normal": 0.1}, "constant": {"constant": 0.3}}
    spec = makers.get(name, name)
    make = init.get(spec)
    a = make(np.random.default_rng(7), (5, 4), np.float32)
    b = make(np.random.default_rng(7), (5, 4), np.float32)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    c = make(np.random.default_rng(8), (5, 4), np.float32)
    if name in ("zeros", "ones", "constant"):
        np.testing.assert_array_equal(a, c)
        assert np.all(a == {"zeros": 0, "ones": 1, "constant": np.float32(0.3)}[name])
    else:
        assert not np.any(a == c)


def test_model_init_is_seeded():
    model = nn.MLP([3, 8, 8, 2], activation="tanh", batchnorm=True)
    p1 = {k: v.copy() for k, v in model.init(seed=5).items()}
    p2 = model.init(seed=5)
    p3 = nn.MLP([3, 8, 8, 2], activation="tanh", batchnorm=True).init(seed=6)
    assert list(p1) == list(p2) == list(p3)
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert not np.array_equal(p1["0.weight"], p3["0.weight"])
    assert p1["0.weight"].dtype == np.float64
    assert model.init(seed=5, dtype="float32")["0.weight"].dtype == np.float32
    np.testing.assert_array_equal(model.init(seed=5, dtype="float32")["0.weight"], p1["0.weight"].astype(np.float32))


@pytest.mark.parametrize(
    "activation, variance",
    [("relu", 2 / D_IN), ("leaky_relu", 2 / D_IN), ("elu", 2 / D_IN), ("gelu", 2 / D_IN), ("gelu_tanh", 2 / D_IN),
     ("tanh", 2 / (D_IN + D_OUT)), ("sigmoid", 2 / (D_IN + D_OUT)), ("identity", 2 / (D_IN + D_OUT))],
)
def test_default_init_by_activation(activation, variance):
    # He for the ReLU family, Xavier for tanh/sigmoid (and for a linear layer).
    model = nn.MLP([D_IN, D_OUT, 2], activation=activation)
    assert_variance(model.init(seed=2)["0.weight"], variance, uniform=False)
    # With BatchNorm between the Dense layer and its activation, the activation still decides.
    model = nn.MLP([D_IN, D_OUT, 2], activation=activation, batchnorm=True)
    assert_variance(model.init(seed=3)["0.weight"], variance, uniform=False)


def test_output_layer_and_biases():
    params = nn.MLP([D_IN, D_OUT, D_IN], activation="relu").init(seed=4)
    assert_variance(params["2.weight"], 2 / (D_IN + D_OUT), uniform=False)  # no activation after: Xavier
    assert not params["0.bias"].any() and not params["2.bias"].any()  # biases start at zero


def test_explicit_init_overrides_the_default():
    model = nn.MLP([D_IN, D_OUT, 2], activation="relu", init="lecun_uniform")
    assert_variance(model.init(seed=5)["0.weight"], 1 / D_IN, uniform=True)


def test_uniform_bounds():
    # Seed 003's "naive" initialization U(−0.5, 0.5).
    layer = nn.Sequential(nn.Dense(D_IN, D_OUT, init={"uniform": [-0.5, 0.5]}))
    w = layer.init(seed=6)["0.weight"]
    assert w.min() >= -0.5 and w.max() < 0.5
    assert w.min() < -0.499 and w.max() > 0.499
    assert_variance(w, 1 / 12, uniform=True)
    w = init.get({"normal": [0.2, 1.0]})(np.random.default_rng(0), (D_OUT, D_IN))
    assert_variance(w - 1.0, 0.04, uniform=False)


def test_unknown_initializer_lists_valid_names():
    with pytest.raises(ValueError) as err:
        nn.Dense(2, 3, init="he_nromal")
    msg = str(err.value)
    assert "unknown initializer 'he_nromal'" in msg and "did you mean 'he_normal'" in msg
    for name in ("xavier_normal", "xavier_uniform", "he_uniform", "lecun_normal", "zeros", "uniform(a, b)"):
        assert name in msg
    assert "\n" not in msg
    with pytest.raises(ValueError, match=r"initializer 'uniform' needs its parameters: write \"uniform\(a, b\)\""):
        nn.Dense(2, 3, bias_init="uniform")


# --- initializers with parameters, written as a string, a dict, or a short dict --------------------

SPELLINGS = [
    ("normal(0.1)", {"name": "normal", "std": 0.1}, "normal(0.1)"),
    ("normal(0.1, 1)", {"name": "normal", "std": 0.1, "mean": 1}, "normal(0.1, 1)"),
    ("uniform(-0.5, 0.5)", {"name": "uniform", "a": -0.5, "b": 0.5}, "uniform(-0.5, 0.5)"),
    (" uniform( \u22120.5 ,.5 ) ", {"uniform": [-0.5, 0.5]}, "uniform(-0.5, 0.5)"),  # a typeset minus sign
    ("constant(0.3)", {"name": "constant", "value": 0.3}, "constant(0.3)"),
    ("constant(-2e-1)", {"constant": -0.2}, "constant(-0.2)"),
]


@pytest.mark.parametrize("text, mapping, canonical", SPELLINGS)
def test_parametrized_spellings_agree(text, mapping, canonical):
    from_text, from_dict = init.get(text), init.get(mapping)
    assert str(from_text) == str(from_dict) == canonical
    assert str(init.get(canonical)) == canonical  # the printed spelling reads back
    a = from_text(np.random.default_rng(3), (6, 5), np.float32)
    b = from_dict(np.random.default_rng(3), (6, 5), np.float32)
    assert a.dtype == np.float32 and a.shape == (6, 5)
    np.testing.assert_array_equal(a, b)


def test_a_named_initializer_in_a_dict():
    assert init.get({"name": "he_normal"}) is init.he_normal


@pytest.mark.parametrize("spec, says", [
    ("normal", r"'normal' needs its parameters: write \"normal\(std\)\" or \"normal\(std, mean\)\""),
    ("normal(std=0.1)", r"cannot read initializer 'normal\(std=0.1\)'; write one of \"normal\(std\)\", "
                        r".*\"uniform\(a, b\)\", \"constant\(value\)\", { name = \"normal\", std = 0.1 }$"),
    ("uniform(0.5)", r"uniform takes 2 number\(s\), found 1; write \"uniform\(a, b\)\""),
    ("uniform(0.5, -0.5)", r"uniform\(a, b\) needs a < b, found a = 0.5, b = -0.5"),
    ("normal(-1)", r"needs std >= 0, found std = -1"),
    ("constant(1, 2)", r"constant takes 1 number\(s\), found 2"),
    ("constant(nan)", r"cannot read initializer 'constant\(nan\)'"),
    ("normol(0.1)", r"unknown initializer 'normol' in 'normol\(0.1\)' \(did you mean 'normal'\?\)"),
    ("he_normal(2)", r"he_normal takes no parameters; write 'he_normal'"),
    ({"name": "normal"}, r"initializer 'normal' takes std, mean \(missing std\)"),
    ({"name": "normal", "sd": 0.1}, r"initializer 'normal' takes std, mean \(unknown 'sd'\)"),
    ({"name": "normal", "std": "0.1"}, r"normal: std must be a finite number, found '0.1'"),
    ({"std": 0.1}, r"an initializer dict needs a name"),
    ({"name": "zeros", "value": 1}, r"initializer 'zeros' takes no parameters, found value"),
    ({"uniform": [1, 2, 3]}, r"uniform takes at most 2 number\(s\) \(a, b\), found 3"),
    (3, r"an initializer is a name, a string such as 'uniform\(-0.5, 0.5\)', a dict or a callable, found int"),
])
def test_bad_parametrized_specs_are_config_errors(spec, says):
    with pytest.raises(ConfigError, match=says) as err:
        nn.MLP([2, 3, 1], init=spec)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("spec", ["uniform(-0.5, 0.5)", {"name": "uniform", "a": -0.5, "b": 0.5}])
def test_the_lectures_uniform_init_in_an_mlp(spec):
    """U[−0.5, 0.5]: every weight in [−0.5, 0.5], the interval filled, Var = (b − a)²/12 = 1/12."""
    model = nn.MLP([D_IN, D_OUT, 2], activation="sigmoid", init=spec)
    model.init(seed=0)
    w = model.params["0.weight"]
    assert w.shape == (D_OUT, D_IN)
    assert w.min() >= -0.5 and w.max() <= 0.5 and w.min() < -0.499 and w.max() > 0.499
    assert_variance(w, 1 / 12, uniform=True)
    assert not np.any(model.params["0.bias"])  # biases stay zero


def test_a_parametrized_init_round_trips_through_a_saved_model(tmp_path):
    pytest.importorskip("safetensors")
    from chainrule.saving import load_model, save_model

    for spec in ("normal(0.1)", {"name": "uniform", "a": -0.5, "b": 0.5}):
        model = nn.MLP([3, 4, 2], init=spec)
        model.init(seed=1)
        save_model(model, tmp_path / str(len(str(spec))))
        loaded = load_model(tmp_path / str(len(str(spec))))
        fresh = loaded.init_params(np.random.default_rng(5), np.float64)[0]
        again = model.init_params(np.random.default_rng(5), np.float64)[0]
        for k in again:
            np.testing.assert_array_equal(fresh[k], again[k])
        assert str(init.get(loaded.layers[0].init_spec)) == str(init.get(spec))
