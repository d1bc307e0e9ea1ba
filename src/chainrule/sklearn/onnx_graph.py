"""``est.to_onnx(path)``: a fitted estimator as an ONNX graph (chainrule.export's builder, the estimator's head).

Input 'input': (batch, n_features_in_) in the estimator's dtype. A classifier gives 'logits'
(batch, n_outputs_), 'probabilities' (batch, n_classes): softmax, or [1 − σ(z), σ(z)] for two
classes, as ``predict_proba``) and 'labels' (batch,): ``classes_`` themselves (int64, double or
string), the argmax of the probabilities as ``predict``. A regressor gives 'output': (batch,) when
it was fitted on a 1-D y, else (batch, n_outputs_), as ``predict`` (through Exp for loss='poisson').
A ``seeds=`` ensemble exports as one graph, its members' predictions averaged.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..errors import ConfigError
from ..export.onnx_export import _onnx, _sequence_ops, check_path, start_graph, write_graph


def _classes_tensor(g, classes):
    onnx = g.onnx
    kind = classes.dtype.kind
    if kind in "iu":
        return g.constant("classes", classes, np.int64), onnx.TensorProto.INT64
    if kind == "f":
        return g.constant("classes", classes, np.float64), onnx.TensorProto.DOUBLE
    if all(isinstance(c, str) for c in classes.tolist()):
        return g.constant("classes", classes.astype(object), object), onnx.TensorProto.STRING
    raise ConfigError(f"to_onnx: classes_ must be integers, floats or strings to be ONNX labels, found "
                      f"{classes.dtype} labels such as {classes[0]!r}")


def _member_ops(g, member, k, opset):
    """One network on 'input', its initializers named 'member<k>/0.weight'... (k None: chainrule's own names)."""
    model = member._model
    prefix = "" if k is None else f"member{k}/"
    params = {prefix + name: v for name, v in model.params.items()}
    buffers = {prefix + name: v for name, v in (model.buffers or {}).items()}
    return _sequence_ops(g, model, prefix, params, buffers, "input", opset)


def _head(g, estimator, z):
    """The member's prediction from its outputs z: probabilities (classifier) or values (regressor)."""
    where = "/probabilities" if isinstance(estimator, ClassifierMixin) else "/output"
    if estimator.out_activation_ == "logistic":
        p = g.op("Sigmoid", [z], where)
        return g.op("Concat", [g.op("Sub", [g.scalar(1.0), p], where), p], where, axis=1)
    if estimator.out_activation_ == "softmax":
        return g.op("Softmax", [z], where, axis=-1)
    return g.op("Exp", [z], where) if estimator.out_activation_ == "exp" else z  # (exp: loss='poisson')


def estimator_to_onnx(estimator, path, opset=None):
    """Write the fitted ``estimator`` (MLPClassifier or MLPRegressor) as an ONNX model to ``path``.

    A ``seeds=`` ensemble is one graph: its K networks side by side on the same input, their
    probabilities or values averaged (Sum, then ÷ K), as ``predict_proba``/``predict``; it has no
    'logits' output (the members' logits are not averaged by the estimator either).
    """
    check_is_fitted(estimator)
    onnx = _onnx()
    check_path(path)
    members = estimator.__dict__.get("estimators_")
    first = (members or [estimator])[0]
    model = first._model
    opsets = [start_graph(onnx, m._model, opset)[1] for m in members or [estimator]]
    g, _ = start_graph(onnx, model, max(opsets))
    opset = max(opsets)
    if members is None:
        z = _member_ops(g, estimator, None, opset)
        prediction = _head(g, estimator, z)
    else:
        z = None
        total = g.op("Sum", [_head(g, m, _member_ops(g, m, k, opset)) for k, m in enumerate(members)], "/mean")
        prediction = g.op("Div", [total, g.scalar(float(len(members)))], "/mean")
    elem = onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    if isinstance(estimator, ClassifierMixin):
        classes, label_type = _classes_tensor(g, estimator.classes_)
        labels = g.op("Gather", [classes, g.op("ArgMax", [prediction], "/labels", axis=1, keepdims=0)], "/labels")
        outputs = [] if z is None else [("logits", z, elem, ["batch", model.d_out])]
        outputs += [("probabilities", prediction, elem, ["batch", len(estimator.classes_)]),
                    ("labels", labels, label_type, ["batch"])]
    elif estimator._y_2d:
        outputs = [("output", prediction, elem, ["batch", model.d_out])]
    else:
        flat = g.op("Reshape", [prediction, g.constant("/shape", np.array([-1]), np.int64)], "/output")
        outputs = [("output", flat, elem, ["batch"])]
    return write_graph(g, model.d_in, outputs, opset, path)
