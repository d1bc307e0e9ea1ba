"""``est.to_onnx(path)``: a fitted estimator as an ONNX graph (chainrule.export's builder, the estimator's head).

Input 'input': (batch, n_features_in_) in the estimator's dtype. A classifier gives 'logits'
(batch, n_outputs_), 'probabilities' (batch, n_classes): softmax, or [1 − σ(z), σ(z)] for two
classes, as ``predict_proba``) and 'labels' (batch,): ``classes_`` themselves (int64, double or
string), the argmax of the probabilities as ``predict``. A regressor gives 'output': (batch,) when
it was fitted on a 1-D y, else (batch, n_outputs_), as ``predict`` (through Exp for loss='poisson').
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..errors import ConfigError
from ..export.onnx_export import _onnx, check_path, network_ops, start_graph, write_graph


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


def estimator_to_onnx(estimator, path, opset=None):
    """Write the fitted ``estimator`` (MLPClassifier or MLPRegressor) as an ONNX model to ``path``."""
    check_is_fitted(estimator)
    onnx = _onnx()
    check_path(path)
    if "estimators_" in estimator.__dict__:
        raise ConfigError(f"to_onnx: a seeds= ensemble of {len(estimator.estimators_)} networks is not exported as "
                          f"one graph; export its members, estimator.estimators_[k].to_onnx(path), one by one")
    model = estimator._model
    g, opset = start_graph(onnx, model, opset)
    z = network_ops(g, model, "input", opset)
    elem = onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    if isinstance(estimator, ClassifierMixin):
        if estimator.out_activation_ == "logistic":
            p = g.op("Sigmoid", [z], "/probabilities")
            probabilities = g.op("Concat", [g.op("Sub", [g.scalar(1.0), p], "/probabilities"), p], "/probabilities",
                                 axis=1)
        else:
            probabilities = g.op("Softmax", [z], "/probabilities", axis=-1)
        classes, label_type = _classes_tensor(g, estimator.classes_)
        labels = g.op("Gather", [classes, g.op("ArgMax", [probabilities], "/labels", axis=1, keepdims=0)], "/labels")
        outputs = [("logits", z, elem, ["batch", model.d_out]),
                   ("probabilities", probabilities, elem, ["batch", len(estimator.classes_)]),
                   ("labels", labels, label_type, ["batch"])]
    else:
        values = g.op("Exp", [z], "/output") if estimator.out_activation_ == "exp" else z  # (loss='poisson')
        if estimator._y_2d:
            outputs = [("output", values, elem, ["batch", model.d_out])]
        else:
            flat = g.op("Reshape", [values, g.constant("/shape", np.array([-1]), np.int64)], "/output")
            outputs = [("output", flat, elem, ["batch"])]
    return write_graph(g, model.d_in, outputs, opset, path)
