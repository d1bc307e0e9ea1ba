"""ONNX export (issue 13 item 2): the file passes onnx's full check, and onnxruntime computes what
chainrule computes, for every layer type × batch sizes {1, 7, 1000} × float32/float64.

Tolerances: float32 rtol 1e-5, atol 1e-6 — onnxruntime's Gemm sums in another order than NumPy's
matmul (a few float32 ulps, ~1e-7 relative, on width-8 sums) and its exp/tanh/erf are other
approximations; float64 rtol = atol = 1e-12, far above float64 rounding (~1e-16) and far below
the ~1e-8 a float32 constant (an ONNX attribute such as alpha or epsilon) would cause.
One cell of the matrix cannot run: onnxruntime has no float64 kernel for Erf, so exact GELU
(opset 20's Gelu is expanded into Erf) is checked in float32 only; test_float64_gelu_has_no_kernel
says so, and fails when a newer onnxruntime gains the kernel.
"""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from chainrule import nn  # noqa: E402
from chainrule.errors import ArgumentTypeError, ChainruleError, ConfigError  # noqa: E402
from chainrule.export import to_onnx  # noqa: E402

TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}
D_IN, WIDTH, D_OUT = 5, 8, 3


def activation(name, alpha=None):
    return lambda: nn.Activation(name, alpha)


LAYERS = {  # each between two Dense layers, so its inputs and outputs span a range of values
    "identity": activation("identity"),
    "relu": activation("relu"),
    "sigmoid": activation("sigmoid"),
    "tanh": activation("tanh"),
    "leaky_relu": activation("leaky_relu", 0.2),
    "leaky_relu_default": activation("leaky_relu"),
    "elu": activation("elu", 0.7),
    "softplus": activation("softplus"),
    "gelu": activation("gelu"),
    "gelu_tanh": activation("gelu_tanh"),
    "softmax": activation("softmax"),
    "batchnorm": lambda: nn.BatchNorm(WIDTH, eps=1e-3),
    "dropout": lambda: nn.Dropout(0.5),
    "residual": lambda: nn.Residual(nn.Dense(WIDTH, WIDTH), nn.Tanh()),
    "sequential": lambda: nn.Sequential(nn.Dense(WIDTH, WIDTH), nn.ReLU()),
}
NO_FLOAT64_KERNEL = {"gelu"}  # onnxruntime: no float64 Erf


def build(kind, dtype):
    if kind == "standardize":
        model = nn.Sequential(nn.Standardize([0.5, -1, 2, 0, 3], [2, 0.5, 1, 3, 0.25]), nn.Dense(D_IN, D_OUT))
    else:
        model = nn.Sequential(nn.Dense(D_IN, WIDTH), LAYERS[kind](), nn.Dense(WIDTH, D_OUT))
    model.init(seed=1, dtype=dtype)
    if kind == "batchnorm":  # running statistics that are not the identity's
        rng = np.random.default_rng(2)
        model.buffers = {**model.buffers, "1.running_mean": rng.normal(size=WIDTH).astype(dtype),
                         "1.running_var": rng.uniform(0.2, 3, WIDTH).astype(dtype)}
        model.params = {**model.params, "1.weight": rng.normal(size=WIDTH).astype(dtype),
                        "1.bias": rng.normal(size=WIDTH).astype(dtype)}
    return model


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


CASES = [(kind, dtype) for kind in [*LAYERS, "standardize"] for dtype in (np.float32, np.float64)
         if not (dtype == np.float64 and kind in NO_FLOAT64_KERNEL)]


@pytest.mark.parametrize("kind,dtype", CASES, ids=[f"{k}-{d.__name__}" for k, d in CASES])
def test_onnxruntime_equals_chainrule(kind, dtype, tmp_path):
    model = build(kind, dtype)
    path = to_onnx(model, tmp_path / "m.onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    sess = session(path)
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"
    for n in (1, 7, 1000):
        X = np.random.default_rng(n).normal(scale=2, size=(n, D_IN)).astype(dtype)
        (out,) = sess.run(None, {"input": X})
        assert out.dtype == dtype and out.shape == (n, D_OUT)
        np.testing.assert_allclose(out, model(X), **TOL[dtype])


def test_float64_gelu_has_no_kernel(tmp_path):
    """The one cell the matrix leaves out: the file is valid ONNX, onnxruntime cannot run it."""
    path = to_onnx(build("gelu", np.float64), tmp_path / "m.onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    with pytest.raises(Exception, match="NOT_IMPLEMENTED.*Erf"):
        session(path)


@pytest.mark.parametrize("kind,opset", [("relu", 13), ("gelu", 20), ("gelu_tanh", 20)])
def test_default_opset_is_the_lowest_that_covers_the_model(kind, opset, tmp_path):
    proto = onnx.load(str(to_onnx(build(kind, np.float32), tmp_path / "m.onnx")))
    assert [o.version for o in proto.opset_import] == [opset]
    assert proto.ir_version <= onnx.IR_VERSION


@pytest.mark.parametrize("kind", ["gelu", "gelu_tanh"])
def test_gelu_below_opset_20_is_built_from_its_formula(kind, tmp_path):
    model = build(kind, np.float32)
    path = to_onnx(model, tmp_path / "m.onnx", opset=17)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "Gelu" not in ops and ("Erf" if kind == "gelu" else "Tanh") in ops
    X = np.random.default_rng(0).normal(scale=2, size=(7, D_IN)).astype(np.float32)
    np.testing.assert_allclose(session(path).run(None, {"input": X})[0], model(X), **TOL[np.float32])


def test_weights_are_initializers_under_chainrule_names(tmp_path):
    model = build("batchnorm", np.float64)
    proto = onnx.load(str(to_onnx(model, tmp_path / "m.onnx")))
    names = {t.name for t in proto.graph.initializer}
    assert {"0.weight", "0.bias", "1.weight", "1.running_mean", "2.weight"} <= names
    gemm = next(n for n in proto.graph.node if n.op_type == "Gemm")
    assert onnx.helper.get_attribute_value(gemm.attribute[0]) == 1  # transB: W is (d_out, d_in)


class Custom(nn.Layer):
    def call(self, params, a, ctx):
        return a


@pytest.mark.parametrize("model,match", [
    (lambda: nn.Sequential(nn.Dense(2, 2), nn.Residual(nn.Dense(2, 2), Custom())),
     r"^to_onnx: layer /1/fn/1 \(Custom\) has no ONNX equivalent"),
])
def test_unsupported_layer_is_one_line_naming_it(model, match, tmp_path):
    m = model()
    m.init(0)
    with pytest.raises(ConfigError, match=match) as info:
        to_onnx(m, tmp_path / "m.onnx")
    assert "\n" not in str(info.value) and "ONNX" in str(info.value)
    assert not (tmp_path / "m.onnx").exists()


def test_bad_arguments_are_one_line(tmp_path):
    model = build("relu", np.float32)
    (tmp_path / "file").write_text("x")
    cases = [
        (lambda: to_onnx(model, tmp_path), ConfigError, "is a directory"),
        (lambda: to_onnx(model, tmp_path / "file" / "m.onnx"), ConfigError, "cannot write"),
        (lambda: to_onnx(model, 3), ArgumentTypeError, "expected a file path"),
        (lambda: to_onnx(tmp_path / "no-such-run", tmp_path / "m.onnx"), ConfigError, "run folder not found"),
        (lambda: to_onnx(tmp_path, tmp_path / "m.onnx"), ConfigError, "not a chainrule run folder"),
        (lambda: to_onnx(nn.Dense(2, 2), tmp_path / "m.onnx"), ArgumentTypeError, "a single layer"),
        (lambda: to_onnx(nn.MLP([2, 3]), tmp_path / "m.onnx"), ConfigError, "no parameters yet"),
        (lambda: to_onnx(model, tmp_path / "m.onnx", opset=12), ConfigError, "opset.*found 12"),
    ]
    for call, kind, match in cases:
        with pytest.raises(kind, match=match) as info:
            call()
        assert isinstance(info.value, ChainruleError) and "\n" not in str(info.value)


def test_without_onnx_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"the 'onnx' extra.*chainrule\[onnx\]") as info:
        to_onnx(build("relu", np.float32), tmp_path / "m.onnx")
    assert isinstance(info.value, ChainruleError) and not (tmp_path / "m.onnx").exists()
