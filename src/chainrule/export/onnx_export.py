"""``to_onnx``: a chainrule network (or a finished run) as an ONNX graph, built with ``onnx.helper``.

    to_onnx(model, "model.onnx")             # input 'input' (batch, d_in) -> 'output' (batch, d_out)
    to_onnx("runs/a", "model.onnx")          # a classifier run: 'logits', 'probabilities', 'labels'

Layer by layer: Dense -> Gemm(transB=1) (chainrule's W is (d_out, d_in), as torch's);
activations -> Relu, Sigmoid, Tanh, LeakyRelu, Elu, Softplus, Softmax(axis=-1), Gelu (opset 20;
below it built from Erf, or Tanh for the tanh approximation); BatchNorm -> BatchNormalization
with the running statistics (inference); Dropout -> nothing (inference is the identity);
Residual -> Add; Standardize -> Sub, Div. Initializers keep chainrule's own parameter names
('0.weight'). The default opset is the lowest that covers the model: 13 (Softmax over one axis),
20 when a GELU needs the Gelu operator. The graph's dtype is the model's (float32 or float64).
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import ArgumentTypeError, ConfigError, OptionalDependencyError
from ..nn.layers import Activation, BatchNorm, Dense, Dropout, Layer
from ..nn.model import Residual, Sequential
from ..nn.standardize import Standardize

MIN_OPSET = 13  # Softmax with opset-13 semantics (over the given axis alone)
GELU_OPSET = 20  # the first opset with a Gelu operator
_ELEMENTWISE = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus"}
_DEFAULT_ALPHA = {"leaky_relu": 0.01, "elu": 1.0}  # as nn.activations' defaults


def _onnx():
    try:
        import onnx
    except ImportError:
        raise OptionalDependencyError("to_onnx needs the onnx package (the 'onnx' extra): "
                                      "pip install 'chainrule[onnx]'") from None
    return onnx


class _Graph:
    """Nodes and initializers in the order they are made; every value name is generated."""

    def __init__(self, onnx, dtype):
        self.onnx, self.dtype = onnx, np.dtype(dtype)
        self.nodes, self.initializers, self.names = [], [], set()
        self.count = 0
        self.exact = self.dtype == np.float64  # formulas where an op's attribute or kernel is float32

    def constant(self, name, value, dtype=None):
        if not isinstance(name, str):
            raise ArgumentTypeError(f"to_onnx: a tensor name must be text, found {type(name).__name__}")
        if name in self.names:
            raise ConfigError(f"to_onnx: two tensors named {name!r}")
        self.names.add(name)
        array = np.asarray(value, dtype=dtype or self.dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def scalar(self, value):
        self.count += 1
        return self.constant(f"/const_{self.count}", value)

    def op(self, op_type, inputs, where, **attrs):
        self.count += 1
        out = f"{where}/{op_type}_{self.count}"
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out


def _layer_ops(g, layer, key, params, buffers, x, opset):
    """Emit ``layer`` (whose parameters are ``key + 'weight'``...) on value ``x``; return the output value."""
    where = "/" + key.rstrip(".").replace(".", "/")
    if isinstance(layer, Residual):
        return g.op("Add", [x, _sequence_ops(g, layer, key, params, buffers, x, opset)], where)
    if isinstance(layer, Sequential):
        return _sequence_ops(g, layer, key, params, buffers, x, opset)
    if isinstance(layer, Dense):
        w, b = (g.constant(key + n, params[key + n]) for n in ("weight", "bias"))
        return g.op("Gemm", [x, w, b], where, transB=1)
    if isinstance(layer, Activation):
        return _activation_ops(g, layer, x, where, opset)
    if isinstance(layer, BatchNorm):
        # ε goes into the variance here, in the model's dtype, as BatchNorm.call adds it: the
        # attribute epsilon is float32, and 1e-5 rounded to float32 moves float64 results by ~1e-13
        names = [g.constant(key + n, params[key + n]) for n in ("weight", "bias")]
        names.append(g.constant(key + "running_mean", buffers[key + "running_mean"]))
        names.append(g.constant(key + "running_var+eps", buffers[key + "running_var"] + layer.eps))
        return g.op("BatchNormalization", [x, *names], where, epsilon=0.0)
    if isinstance(layer, Dropout):
        return x
    if isinstance(layer, Standardize):
        mean, scale = g.constant(key + "mean", buffers[key + "mean"]), g.constant(key + "scale", buffers[key + "scale"])
        return g.op("Div", [g.op("Sub", [x, mean], where), scale], where)
    raise ConfigError(f"to_onnx: layer {where} ({type(layer).__name__}) has no ONNX equivalent; supported: Dense, "
                      "activations, BatchNorm, Dropout, Standardize, Sequential, Residual")


def _sequence_ops(g, seq, key, params, buffers, x, opset):
    for i, layer in enumerate(seq.layers):
        x = _layer_ops(g, layer, key + seq.child_prefix(i), params, buffers, x, opset)
    return x


def _activation_ops(g, layer, x, where, opset):
    name = layer.name
    if name in ("identity", "linear"):
        return x
    if name == "softmax":
        return g.op("Softmax", [x], where, axis=-1)
    if name in _ELEMENTWISE and not (name == "softplus" and g.exact):
        return g.op(_ELEMENTWISE[name], [x], where)
    if name in _DEFAULT_ALPHA:
        alpha = _DEFAULT_ALPHA[name] if layer.alpha is None else float(layer.alpha)
        if not g.exact:
            return g.op("LeakyRelu" if name == "leaky_relu" else "Elu", [x], where, alpha=alpha)
        # float64: ONNX attributes are float32 (alpha = 0.01 would be rounded), so the formula itself
        negative = g.op("Mul", [x, g.scalar(alpha)], where) if name == "leaky_relu" else \
            g.op("Mul", [g.op("Sub", [g.op("Exp", [g.op("Min", [x, g.scalar(0.0)], where)], where), g.scalar(1.0)],
                              where), g.scalar(alpha)], where)
        return g.op("Where", [g.op("Greater", [x, g.scalar(0.0)], where), x, negative], where)
    if name == "softplus":  # max(x, 0) + log(1 + e^−|x|): no overflow (float64: no Softplus kernel in ORT)
        tail = g.op("Log", [g.op("Add", [g.op("Exp", [g.op("Neg", [g.op("Abs", [x], where)], where)], where),
                                         g.scalar(1.0)], where)], where)
        return g.op("Add", [g.op("Max", [x, g.scalar(0.0)], where), tail], where)
    if name in ("gelu", "gelu_tanh"):
        if _gelu_operator(name, g.dtype) and opset >= GELU_OPSET:
            return g.op("Gelu", [x], where, approximate="tanh" if name == "gelu_tanh" else "none")
        half_x = g.op("Mul", [x, g.scalar(0.5)], where)
        if name == "gelu":  # ½ x (1 + erf(x/√2))
            inner = g.op("Erf", [g.op("Mul", [x, g.scalar(1 / math.sqrt(2))], where)], where)
        else:  # ½ x (1 + tanh(√(2/π)(x + 0.044715 x³)))
            cube = g.op("Mul", [g.op("Mul", [x, x], where), x], where)
            poly = g.op("Add", [x, g.op("Mul", [cube, g.scalar(0.044715)], where)], where)
            inner = g.op("Tanh", [g.op("Mul", [poly, g.scalar(math.sqrt(2 / math.pi))], where)], where)
        return g.op("Mul", [half_x, g.op("Add", [inner, g.scalar(1.0)], where)], where)
    raise ConfigError(f"to_onnx: activation {where} ({name!r}) has no ONNX equivalent")


def _gelu_operator(name, dtype):
    """Whether GELU becomes ONNX's Gelu operator (opset 20): always for the exact GELU; the tanh
    approximation only in float32 (onnxruntime's float64 kernel is off by ~1e-8, the formula is not)."""
    return name == "gelu" or np.dtype(dtype) == np.float32


def _activation_names(layer):
    if isinstance(layer, Activation):
        yield layer.name
    for sub in getattr(layer, "layers", ()):
        yield from _activation_names(sub)


def _resolve(model_or_run):
    """(model, run or None) from a chainrule network, a LoadedRun or a run folder path."""
    from ..runs.loaded import LoadedRun, load_run

    if isinstance(model_or_run, str | os.PathLike):
        model_or_run = load_run(model_or_run)
    if isinstance(model_or_run, LoadedRun):
        return model_or_run.model, model_or_run
    if isinstance(model_or_run, Sequential):
        if model_or_run.params is None:
            raise ConfigError("to_onnx: the model has no parameters yet: call model.init(seed) first")
        return model_or_run, None
    kind = "a single layer" if isinstance(model_or_run, Layer) else type(model_or_run).__name__
    raise ArgumentTypeError(f"to_onnx(model_or_run): expected a chainrule Sequential/MLP, a loaded run or a run "
                            f"folder path, found {kind}")


def _check_opset(opset, needed, onnx):
    latest = onnx.defs.onnx_opset_version()
    if opset is None:
        return needed
    if isinstance(opset, bool) or not isinstance(opset, int | np.integer) or not MIN_OPSET <= opset <= latest:
        raise ConfigError(f"to_onnx(opset): expected an integer from {MIN_OPSET} to {latest} (this onnx), "
                          f"found {opset!r}")
    return int(opset)


def to_onnx(model_or_run, path, opset=None):
    """Write ``model_or_run`` as an ONNX model to ``path``; return the path.

    model_or_run: a chainrule ``Sequential``/``MLP`` with parameters, a ``LoadedRun`` or a run
    folder (read with ``runs.load_run``). Input 'input': (batch, d_in) in the model's dtype, raw
    inputs (a run's standardization is in the graph). Outputs: 'output' (batch, d_out) for a model
    or a regression run; a classification run gives 'logits', 'probabilities' (softmax over the
    last axis) and 'labels' (batch,), the run's own class labels (integers or text).
    opset: None for the lowest that covers the model (13; 20 with GELU), else 13 .. onnx's latest.
    """
    onnx = _onnx()
    check_path(path)
    model, run = _resolve(model_or_run)
    g, opset = start_graph(onnx, model, opset)
    x = "input"
    if run is not None and run.preprocessing.get("standardize") and not run.standardizes_in_model:
        # a folder from before nn.Standardize: its statistics are in preprocessing.json
        mean = g.constant("preprocessing.mean", run.preprocessing["mean"])
        x = g.op("Div", [g.op("Sub", [x, mean], "/preprocessing"),
                         g.constant("preprocessing.scale", run.preprocessing["scale"])], "/preprocessing")
    out = network_ops(g, model, x, opset)
    elem = onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    outputs = [("output", out, elem, ["batch", model.d_out])]
    if run is not None and run.task == "classification":
        labels = g.op("Gather", [g.constant("classes", *_classes_array(run.classes)),
                                 g.op("ArgMax", [out], "/labels", axis=1, keepdims=0)], "/labels")
        label_type = onnx.TensorProto.STRING if isinstance(run.classes[0], str) else onnx.TensorProto.INT64
        outputs = [("logits", out, elem, ["batch", model.d_out]),
                   ("probabilities", g.op("Softmax", [out], "/probabilities", axis=-1), elem, ["batch", model.d_out]),
                   ("labels", labels, label_type, ["batch"])]
    return write_graph(g, model.d_in, outputs, opset, path)


def check_path(path):
    """A ConfigError/ArgumentTypeError unless ``path`` can name the ONNX file to write."""
    if not isinstance(path, str | os.PathLike):
        raise ArgumentTypeError(f"to_onnx(path): expected a file path, found {type(path).__name__}")
    if os.path.isdir(path):
        raise ConfigError(f"to_onnx(path): {os.fspath(path)!r} is a directory, expected a file name")


def start_graph(onnx, model, opset):
    """(an empty graph in the model's dtype, the opset: the given one checked, or the lowest that covers it)."""
    dtype = np.dtype(model.dtype)
    needs_gelu = any(name in ("gelu", "gelu_tanh") and _gelu_operator(name, dtype) for name in _activation_names(model))
    return _Graph(onnx, dtype), _check_opset(opset, GELU_OPSET if needs_gelu else MIN_OPSET, onnx)


def network_ops(g, model, x, opset):
    """The network's layers on value ``x``; returns its output value (batch, d_out)."""
    return _sequence_ops(g, model, "", model.params, model.buffers or {}, x, opset)


def write_graph(g, d_in, outputs, opset, path):
    """Name the graph's outputs [(name, value, element type, shape)], check the model in full, write it."""
    onnx = g.onnx
    elem = onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    for name, value, _, _ in outputs:  # the graph's outputs get their public names
        g.nodes.append(onnx.helper.make_node("Identity", [value], [name], name=f"/{name}"))
    graph = onnx.helper.make_graph(
        g.nodes, "chainrule", [onnx.helper.make_tensor_value_info("input", elem, ["batch", d_in])],
        [onnx.helper.make_tensor_value_info(n, t, shape) for n, _, t, shape in outputs], g.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    # the oldest IR version that carries this opset: what any onnxruntime that runs the opset reads
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="chainrule",
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto, full_check=True)
    from ..saving.atomic import atomic_write_bytes

    try:
        atomic_write_bytes(path, proto.SerializeToString())
    except OSError as e:
        raise ConfigError(f"to_onnx(path): cannot write {os.fspath(path)!r}: {e.strerror or e}") from None
    return path


def _classes_array(classes):
    dtype = object if isinstance(classes[0], str) else np.int64
    return np.array(classes, dtype=dtype), dtype
