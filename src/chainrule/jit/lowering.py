"""The rules that write a primitive as NumPy statements, keyed by primitive.

``LOWERINGS[prim](args, params)`` returns ``(statements, values)`` or ``None``: statements equal to
``prim.impl`` for arguments like these (same types, shapes and dtypes, which the program's signature
fixes), written into the compiled code instead of a call of ``impl``. Statements name the output
``{out}``, the arguments ``{a0}, {a1}, ...`` and the entries of ``values`` by their keys; the code
generator replaces each by a generated identifier or a literal (never by text a user wrote). A
primitive without a rule, or a rule that returns None, becomes a call of its ``impl``.
"""

from __future__ import annotations

import re

import numpy as np

from ..primitives.einsum import einsum_p
from ..primitives.elementwise import greater
from ..primitives.linalg import _two_matrices, matmul, norm_p
from ..primitives.nn import _ZERO, DENSE_STATEMENTS, _one_network, dense
from ..primitives.reduce import prod_
from ..primitives.scan import cumsum_p
from ..primitives.shape import reshape, transpose
from ..primitives.unary import arctan, tan


def _greater_than_zero(args, params):
    """x > 0 for a float array x (relu's mask): compared with a 0-d zero of x's dtype, the same
    booleans without converting the Python 0 at each call."""
    x, y = args
    if type(x) is np.ndarray and x.dtype.kind == "f" and type(y) is int and y == 0 and not params:
        return ["{out} = np.greater({a0}, {zero})"], {"zero": np.zeros((), x.dtype)}
    return None


def _matmul(args, params):
    return (["{out} = {a0}.dot({a1})"], {}) if _two_matrices(*args) else None  # what _matmul_impl runs


def _reshape(args, params):
    return (["{out} = {a0}.reshape({a1})"], {}) if type(args[0]) is np.ndarray else None


def _transpose(args, params):
    if type(args[0]) is not np.ndarray or len(args) > 1:
        return None
    axes = params.get("axes")
    if axes is None:
        return ["{out} = {a0}.T"], {}
    return ["{out} = {a0}.transpose({axes})"], {"axes": tuple(int(a) for a in axes)}


_DENSE_NAMES = re.compile(r"\b(x|W|b|z|zero)\b")
_DENSE_SLOTS = {"x": "{a0}", "W": "{a1}", "b": "{a2}", "z": "{out}", "zero": "{zero}"}


def _dense(args, params):
    """dense's one-network formula: the statements ``primitives/nn.py`` runs (DENSE_STATEMENTS)."""
    x, W, b = args
    statements = DENSE_STATEMENTS.get(params.get("activation", "identity"))
    if statements is None or not _one_network(x, W, b):
        return None
    zero = _ZERO.get(x.dtype, 0)
    return [_DENSE_NAMES.sub(lambda m: _DENSE_SLOTS[m.group(1)], line) for line in statements], {"zero": zero}


def _einsum(args, params):
    """what _einsum_impl runs (the subscripts are a string literal, ascii()-escaped by codegen)"""
    operands = ", ".join(f"{{a{i}}}" for i in range(len(args)))
    return [f"{{out}} = np.einsum({{subscripts}}, {operands}, optimize={len(args) > 2})"], \
        {"subscripts": params["subscripts"]}


def _reduction(*statements):
    """``statements`` over ``{a0}`` with the primitive's axis and keepdims as literals."""
    def lower(args, params):
        axis = params.get("axis")
        if not (axis is None or type(axis) is int or type(axis) is tuple and all(type(a) is int for a in axis)):
            return None
        return list(statements), {"axis": axis, "keepdims": bool(params.get("keepdims", False))}
    return lower


def _elementwise(name):
    return lambda args, params: ([f"{{out}} = np.{name}({{a0}})"], {}) if not params else None


LOWERINGS = {
    greater: _greater_than_zero,
    matmul: _matmul,
    reshape: _reshape,
    transpose: _transpose,
    dense: _dense,
    einsum_p: _einsum,
    prod_: _reduction("{out} = np.prod({a0}, axis={axis}, keepdims={keepdims})"),
    norm_p: _reduction("{out} = np.asarray({a0})",  # what _norm_impl runs
                       "{out} = np.sqrt(np.add.reduce({out} * {out}, axis={axis}, keepdims={keepdims}))"),
    cumsum_p: lambda args, params: (["{out} = np.cumsum({a0}, axis={axis})"], {"axis": int(params["axis"])}),
    tan: _elementwise("tan"),
    arctan: _elementwise("arctan"),
}
