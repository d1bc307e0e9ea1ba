"""Broadcasting undone in one place, so no rule has to think about it.

A VJP rule may return a cotangent of the *broadcast* (output) shape; :func:`unbroadcast`
sums it back to the shape of the argument it belongs to, and casts it to that argument's
dtype (a float32 input never receives a float64 gradient). :func:`broadcast_tangent` is
the forward-mode twin: it expands a tangent to the shape of the output. Both are installed into
the engine's sweep (``engine/fitting.py``) when this module is imported.
"""

from __future__ import annotations

import numpy as np

from ..engine import fitting
from ..engine.core import lower
from .elementwise import astype
from .reduce import sum_
from .shape import broadcast_to, reshape


def _shape_dtype(x):
    v = lower(x)
    if isinstance(v, np.ndarray | np.generic):
        return v.shape, v.dtype
    return np.shape(v), np.result_type(v)


def unbroadcast(g, target):
    """Sum ``g`` over the axes that broadcasting added or stretched, to ``target``'s shape."""
    shape, dtype = _shape_dtype(target)
    g_shape, g_dtype = _shape_dtype(g)
    if g_shape != shape:
        extra = len(g_shape) - len(shape)
        if extra:
            g = sum_(g, axis=tuple(range(extra)))
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g_shape[extra + i] != 1)
        if stretched:
            g = sum_(g, axis=stretched, keepdims=True)
        if _shape_dtype(g)[0] != shape:
            g = reshape(g, shape)
    if g_dtype != dtype and np.issubdtype(dtype, np.inexact):
        g = astype(g, dtype)
    return g


def broadcast_tangent(t, ans):
    """Expand the tangent ``t`` to the shape (and dtype) of the primal output ``ans``."""
    shape, dtype = _shape_dtype(ans)
    t_shape, t_dtype = _shape_dtype(t)
    if t_shape != shape:
        t = broadcast_to(t, shape)
    if t_dtype != dtype and np.issubdtype(dtype, np.inexact):
        t = astype(t, dtype)
    return t


fitting.install(unbroadcast, broadcast_tangent)
