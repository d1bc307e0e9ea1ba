"""Bad arguments to the network API (layers, MLP, model.init, model.apply): issue 12, items 10-11."""

import numpy as np
import pytest
from api_cases import assert_refused

from chainrule import nn

nan = float("nan")


def _model():
    model = nn.MLP([2, 3, 2])
    model.init(0)
    return model


def _without(key):
    model = _model()
    params = {k: v for k, v in model.params.items() if k != key}
    return lambda: model.apply(params, np.ones((4, 2)))


CASES = [
    # (id, call, built-in, words the message holds)
    ("MLP-bool-size", lambda: nn.MLP([2, True, 3]), TypeError, "MLP(sizes=...)", "[2, True, 3]"),
    ("MLP-None", lambda: nn.MLP(None), TypeError, "MLP(sizes=...)", "None"),
    ("MLP-int", lambda: nn.MLP(5), TypeError, "MLP(sizes=...)", "got 5"),
    ("MLP-float-size", lambda: nn.MLP([2, 3.0, 1]), TypeError, "MLP(sizes=...)"),
    ("MLP-zero-size", lambda: nn.MLP([2, 0, 1]), ValueError, "MLP(sizes=...)"),
    ("MLP-one-size", lambda: nn.MLP([2]), ValueError, "MLP(sizes=...)"),
    ("MLP-batchnorm-str", lambda: nn.MLP([2, 3, 1], batchnorm="yes"), TypeError, "MLP(batchnorm=...)", "bool"),
    ("MLP-dropout-1", lambda: nn.MLP([2, 3, 1], dropout=1.0), ValueError, "MLP(dropout=...)"),
    ("MLP-activation-int", lambda: nn.MLP([2, 3, 1], activation=3), TypeError, "MLP(activation=...)"),
    ("Dense-float", lambda: nn.Dense(2.5, 3), TypeError, "Dense(d_in=...)", "2.5"),
    ("Dense-bool", lambda: nn.Dense(2, True), TypeError, "Dense(d_out=...)"),
    ("Dense-negative", lambda: nn.Dense(2, -1), ValueError, "Dense(d_out=...)", "-1"),
    ("BatchNorm-str", lambda: nn.BatchNorm("x"), TypeError, "BatchNorm(num_features=...)", "'x'"),
    ("BatchNorm-4.7", lambda: nn.BatchNorm(4.7), TypeError, "BatchNorm(num_features=...)", "4.7"),
    ("BatchNorm-negative", lambda: nn.BatchNorm(-3), ValueError, "BatchNorm(num_features=...)", "-3"),
    ("BatchNorm-momentum-2", lambda: nn.BatchNorm(3, momentum=2), ValueError, "BatchNorm(momentum=...)", "[0, 1]"),
    ("BatchNorm-momentum-nan", lambda: nn.BatchNorm(3, momentum=nan), ValueError, "BatchNorm(momentum=...)", "nan"),
    ("BatchNorm-eps-negative", lambda: nn.BatchNorm(3, eps=-1e-5), ValueError, "BatchNorm(eps=...)"),
    ("BatchNorm-eps-inf", lambda: nn.BatchNorm(3, eps=float("inf")), ValueError, "BatchNorm(eps=...)"),
    ("Dropout-str", lambda: nn.Dropout("x"), TypeError, "Dropout(p=...)", "'x'"),
    ("Dropout-1", lambda: nn.Dropout(1), ValueError, "Dropout(p=...)", "[0, 1)"),
    ("Dropout-nan", lambda: nn.Dropout(nan), ValueError, "Dropout(p=...)"),
    ("Dropout-bool", lambda: nn.Dropout(True), TypeError, "Dropout(p=...)"),
    ("LeakyReLU-nan", lambda: nn.LeakyReLU(nan), ValueError, "LeakyReLU(alpha=...)", "nan"),
    ("ELU-inf", lambda: nn.ELU(float("inf")), ValueError, "ELU(alpha=...)"),
    ("ELU-str", lambda: nn.ELU("1"), TypeError, "ELU(alpha=...)"),
    ("Activation-alpha-nan", lambda: nn.Activation("elu", nan), ValueError, "Activation(alpha=...)"),
    ("Activation-name-int", lambda: nn.Activation(5), TypeError, "Activation(name=...)"),
    ("GELU-approximate", lambda: nn.GELU("fast"), ValueError, "GELU(approximate=...)", "'fast'"),
    ("Sequential-None", lambda: nn.Sequential(None), TypeError, "Sequential(layers=...)", "NoneType"),
    ("Residual-str", lambda: nn.Residual("relu"), TypeError, "Residual(layers=...)", "str"),
    ("init-seed-negative", lambda: nn.MLP([2, 2]).init(seed=-1), ValueError, "init(seed)", "-1"),
    ("init-seed-float", lambda: nn.MLP([2, 2]).init(seed=1.5), TypeError, "init(seed)", "1.5"),
    ("init-seed-str", lambda: nn.MLP([2, 2]).init(seed="0"), TypeError, "init(seed)"),
    ("apply-missing-weight", _without("0.weight"), ValueError, "apply(params)", "missing '0.weight'"),
    ("apply-missing-bias", _without("2.bias"), ValueError, "apply(params)", "missing '2.bias'"),
    ("apply-None-params", lambda: _model().apply(None, np.ones((4, 2))), TypeError, "apply(params)", "NoneType"),
    ("apply-complex", lambda: _model().apply(_model().params, np.ones((4, 2)) + 1j), ValueError,
     "apply(x)", "complex128"),
    ("apply-timedelta", lambda: _model().apply(_model().params, np.ones((4, 2), "m8[s]")), ValueError,
     "apply(x)", "timedelta64"),
    ("apply-object", lambda: _model().apply(_model().params, np.ones((4, 2), object)), ValueError,
     "apply(x)", "object"),
    ("call-complex", lambda: _model()(np.ones((4, 2)) + 1j), ValueError, "apply(x)", "complex"),
]


@pytest.mark.parametrize(("name", "call", "builtin", "words"), [(c[0], c[1], c[2], c[3:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_argument(name, call, builtin, words):
    assert_refused(call, builtin, *words)


def test_apply_missing_buffers_names_them():
    model = nn.Sequential(nn.Dense(2, 3), nn.BatchNorm(3))
    model.init(0)
    buffers = {k: v for k, v in model.buffers.items() if k != "1.running_var"}
    assert_refused(lambda: model.apply(model.params, np.ones((4, 2)), buffers=buffers), ValueError,
                   "apply(buffers)", "missing '1.running_var'")


def test_good_arguments_still_work():
    assert nn.BatchNorm(np.int64(4)).d_in == 4
    assert nn.MLP((2, np.int32(3), 1)).d_out == 1
    assert nn.Dropout(0).p == 0.0 and nn.BatchNorm(2, momentum=1, eps=1e-3).momentum == 1.0
    model = nn.MLP([2, 3, 1], batchnorm=True, dropout=0.5)
    model.init(seed=np.random.default_rng(0))
    assert model.apply(model.params, np.ones((4, 2), np.int64)).shape == (4, 1)  # integer inputs are numbers
