"""Make tracers behave like NumPy arrays: operators, methods, and NumPy's dispatch protocols.

``x * y``, ``x @ W``, ``x[1:]``, ``x.T``, ``x.sum(axis=0)``, ``np.tanh(x)`` and ``np.sum(x)``
on a traced ``x`` all become chainrule primitives. Anything else NumPy tries to do with a
tracer raises a TypeError that names the function, so a derivative is never silently lost.
The methods are attached to the engine's ``Tracer`` class when ``chainrule.numpy`` is imported
(they are chainrule.numpy functions, which sit above the engine).
"""

from __future__ import annotations

import numpy as np

from ..engine.core import Tracer
from . import functions as cnp
from . import linalg as cnp_linalg

_UFUNCS = {
    np.add: cnp.add,
    np.subtract: cnp.subtract,
    np.multiply: cnp.multiply,
    np.divide: cnp.divide,
    np.negative: cnp.negative,
    np.positive: lambda x: x,
    np.power: cnp.power,
    np.square: cnp.square,
    np.maximum: cnp.maximum,
    np.minimum: cnp.minimum,
    np.exp: cnp.exp,
    np.log: cnp.log,
    np.log1p: cnp.log1p,
    np.expm1: cnp.expm1,
    np.sqrt: cnp.sqrt,
    np.absolute: cnp.absolute,
    np.sign: cnp.sign,
    np.tanh: cnp.tanh,
    np.tan: cnp.tan,
    np.arctan: cnp.arctan,
    np.sin: cnp.sin,
    np.cos: cnp.cos,
    np.matmul: cnp.matmul,
    np.equal: cnp.equal,
    np.not_equal: cnp.not_equal,
    np.greater: cnp.greater,
    np.greater_equal: cnp.greater_equal,
    np.less: cnp.less,
    np.less_equal: cnp.less_equal,
    np.isfinite: cnp.isfinite,
    np.isnan: cnp.isnan,
    np.floor: cnp.floor,
    np.ceil: cnp.ceil,
}

_FUNCTIONS = {
    np.sum: cnp.sum,
    np.mean: cnp.mean,
    np.max: cnp.max,
    np.min: cnp.min,
    np.amax: cnp.max,
    np.amin: cnp.min,
    np.var: cnp.var,
    np.std: cnp.std,
    np.prod: cnp.prod,
    np.cumsum: cnp.cumsum,
    np.einsum: cnp.einsum,
    np.linalg.norm: cnp_linalg.norm,
    np.dot: cnp.dot,
    np.reshape: cnp.reshape,
    np.ravel: cnp.ravel,
    np.transpose: cnp.transpose,
    np.swapaxes: cnp.swapaxes,
    np.expand_dims: cnp.expand_dims,
    np.squeeze: cnp.squeeze,
    np.broadcast_to: cnp.broadcast_to,
    np.concatenate: cnp.concatenate,
    np.stack: cnp.stack,
    np.where: cnp.where,
    np.clip: cnp.clip,
    np.outer: cnp.outer,
    np.shape: lambda x: x.shape,
    np.ndim: lambda x: x.ndim,
    np.size: lambda x: x.size,
    np.result_type: lambda *xs: np.result_type(*[x.dtype if isinstance(x, Tracer) else x for x in xs]),
}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    f = _UFUNCS.get(ufunc)
    if f is None or method != "__call__" or kwargs:
        raise TypeError(
            f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method}"
            f"{'(..., ' + ', '.join(kwargs) + '=...)' if kwargs else ''} is not differentiable by "
            f"chainrule; {supported()}; or use a chainrule.numpy function (or define a primitive, see "
            "chainrule.extend)"
        )
    return f(*inputs)


def _numpy_name(func):
    """``np.sort``, ``np.linalg.norm``: the name a user wrote."""
    module = getattr(func, "__module__", None) or "numpy"
    if module.startswith("numpy.") and getattr(np, func.__name__, None) is func:
        module = "numpy"  # np.sum, not np._core.fromnumeric.sum
    return module.replace("numpy", "np", 1) + "." + func.__name__


def supported():
    """What tracers accept, read from the dispatch tables (so the list is the truth)."""
    ufuncs = ", ".join(sorted(u.__name__ for u in _UFUNCS))
    functions = ", ".join(sorted({_numpy_name(f) for f in _FUNCTIONS}))
    return f"supported are the ufuncs (called plainly, without out=/where=) {ufuncs} and the functions {functions}"


def _array_function(self, func, types, args, kwargs):
    f = _FUNCTIONS.get(func)
    if f is None:
        raise TypeError(f"{_numpy_name(func)} is not differentiable by chainrule; {supported()}")
    return f(*args, **kwargs)


def _binary(f, reflected=False):
    if reflected:
        return lambda self, other: f(other, self)
    return lambda self, other: f(self, other)


_METHODS = {
    "__array_ufunc__": _array_ufunc,
    "__array_function__": _array_function,
    "__add__": _binary(cnp.add),
    "__radd__": _binary(cnp.add, True),
    "__sub__": _binary(cnp.subtract),
    "__rsub__": _binary(cnp.subtract, True),
    "__mul__": _binary(cnp.multiply),
    "__rmul__": _binary(cnp.multiply, True),
    "__truediv__": _binary(cnp.divide),
    "__rtruediv__": _binary(cnp.divide, True),
    "__pow__": _binary(cnp.power),
    "__rpow__": _binary(cnp.power, True),
    "__matmul__": _binary(cnp.matmul),
    "__rmatmul__": _binary(cnp.matmul, True),
    "__eq__": _binary(cnp.equal),
    "__ne__": _binary(cnp.not_equal),
    "__hash__": object.__hash__,
    "__lt__": _binary(cnp.less),
    "__le__": _binary(cnp.less_equal),
    "__gt__": _binary(cnp.greater),
    "__ge__": _binary(cnp.greater_equal),
    "__neg__": lambda self: cnp.negative(self),
    "__pos__": lambda self: self,
    "__abs__": lambda self: cnp.absolute(self),
    "__getitem__": lambda self, idx: cnp.getitem(self, idx),
    "T": property(lambda self: cnp.transpose(self)),
    "sum": lambda self, axis=None, keepdims=False: cnp.sum(self, axis, keepdims),
    "mean": lambda self, axis=None, keepdims=False: cnp.mean(self, axis, keepdims),
    "max": lambda self, axis=None, keepdims=False: cnp.max(self, axis, keepdims),
    "min": lambda self, axis=None, keepdims=False: cnp.min(self, axis, keepdims),
    "var": lambda self, axis=None, keepdims=False, ddof=0: cnp.var(self, axis, keepdims, ddof),
    "std": lambda self, axis=None, keepdims=False, ddof=0: cnp.std(self, axis, keepdims, ddof),
    "prod": lambda self, axis=None, keepdims=False: cnp.prod(self, axis, keepdims),
    "cumsum": lambda self, axis=None: cnp.cumsum(self, axis),
    "dot": lambda self, other: cnp.dot(self, other),
    "reshape": lambda self, *shape: cnp.reshape(self, shape[0] if len(shape) == 1 else shape),
    "transpose": lambda self, *axes: cnp.transpose(self, (axes[0] if len(axes) == 1 else axes) or None),
    "ravel": lambda self: cnp.ravel(self),
    "flatten": lambda self: cnp.ravel(self),
    "squeeze": lambda self, axis=None: cnp.squeeze(self, axis),
    "clip": lambda self, a_min=None, a_max=None: cnp.clip(self, a_min, a_max),
    "astype": lambda self, dtype: cnp.astype(self, np.dtype(dtype)),
}

for _name, _method in _METHODS.items():
    setattr(Tracer, _name, _method)
