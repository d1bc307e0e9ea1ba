"""Running totals: ``cumsum`` along one axis.

y_i = Σ_{j<=i} x_j is linear, and its transpose is the running total taken from the other end:
x̄_j = Σ_{i>=j} ȳ_i, i.e. the reversed cumsum of the reversed cotangent. The reversal is an index
(``getitem`` with a step of -1), so the rule is made of primitives and differentiates again.
"""

from __future__ import annotations

import numpy as np

from ..engine.core import shape_of
from ..errors import ShapeError
from ..extend import deflinear, defvjp, primitive
from .shape import getitem, reshape


def _cumsum_impl(x, axis):
    return np.cumsum(x, axis=axis)


def _reversed(x, axis):
    ndim = len(shape_of(x))
    index = [slice(None)] * ndim
    index[axis % ndim] = slice(None, None, -1)
    return getitem(x, tuple(index))


cumsum_p = primitive("cumsum", _cumsum_impl)
defvjp(cumsum_p, lambda g, ans, x, axis: _reversed(cumsum_p(_reversed(g, axis), axis=axis), axis))
deflinear(cumsum_p)


def cumsum(x, axis=None):
    """``np.cumsum``: along ``axis``; ``axis=None`` runs over the flattened array, as in NumPy."""
    if axis is None:
        return cumsum_p(reshape(x, (-1,)), axis=0)
    ndim = len(shape_of(x))
    if not isinstance(axis, int | np.integer) or not -ndim <= axis < ndim:
        raise ShapeError(f"cumsum: axis {axis!r} is out of range for an array of shape {shape_of(x)}")
    return cumsum_p(x, axis=int(axis) % ndim)
