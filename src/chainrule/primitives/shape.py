"""Operations that move entries without changing them: reshape, transpose, broadcast_to,
indexing and slicing, concatenate, stack.

They are linear, so each JVP applies the operation to the tangent (``deflinear``) and each
VJP applies the adjoint: reshape back, transpose by the inverse permutation, sum over
broadcast axes (done by the engine's ``unbroadcast``), scatter-add into zeros, slice.
"""

from __future__ import annotations

import numpy as np

from ..engine.core import dtype_of, shape_of
from ..errors import ShapeError
from ..extend import defjvp_argnum, deflinear, defvjp, defvjp_argnum, primitive


def _reshape_impl(x, shape):
    try:
        return np.asarray(x).reshape(shape)
    except ValueError:
        raise ShapeError(f"reshape: cannot reshape array of shape {np.shape(x)} into shape {shape}") from None


reshape = primitive("reshape", _reshape_impl)
defvjp(reshape, lambda g, ans, x, shape: reshape(g, shape_of(x)))
deflinear(reshape)


def _transpose_impl(x, axes=None):
    return np.asarray(x).transpose(axes)


def _inverse_axes(x, axes):
    if axes is None:
        return None
    return tuple(np.argsort([a % len(axes) for a in axes]))


transpose = primitive("transpose", _transpose_impl)

defvjp(transpose, lambda g, ans, x, axes=None: transpose(g, axes=_inverse_axes(x, axes)))
deflinear(transpose)


def _broadcast_to_impl(x, shape):
    # A filled new array rather than np.broadcast_to's read-only view: about 4x faster for the
    # small arrays where overhead matters, and the result can be updated in place.
    x = np.asarray(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    out = np.empty(shape, dtype=x.dtype)
    try:
        np.copyto(out, x)
        return out
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {np.shape(x)} to shape {tuple(shape)}") from None


broadcast_to = primitive("broadcast_to", _broadcast_to_impl)
# The cotangent has the broadcast shape; the engine's unbroadcast sums it back to x's shape.
defvjp(broadcast_to, lambda g, ans, x, shape: g)
deflinear(broadcast_to)


def _is_basic_index(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, int | np.integer | slice) or i is None or i is Ellipsis for i in items)


# An index is passed as positional arguments, one per entry of an index tuple (``tuple_index=True``),
# so an entry that is a traced array (``z[rows, y]`` with ``y`` traced) is an argument like any other
# and the engine's dispatch sees it; slices, None and Ellipsis are constants among them.


def _index(index, tuple_index):
    return index if tuple_index else index[0]


def _scatter_add_impl(g, *index, shape, tuple_index=False):
    """Zeros of ``shape`` with ``g`` added at ``x[idx]`` (repeated indices accumulate)."""
    idx = _index(index, tuple_index)
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic_index(idx):
        out[idx] = g  # a basic index selects each entry at most once
    else:
        np.add.at(out, idx, g)
    return out


def _getitem_impl(x, *index, tuple_index=False):
    return np.asarray(x)[_index(index, tuple_index)]


getitem_p = primitive("getitem", _getitem_impl)
scatter_add_p = primitive("scatter_add", _scatter_add_impl)


def getitem(x, idx):
    """``x[idx]``."""
    if type(idx) is tuple:
        return getitem_p(x, *idx, tuple_index=True)
    return getitem_p(x, idx)


def scatter_add(g, idx, shape):
    """Zeros of ``shape`` with ``g`` added at ``[idx]``: the adjoint of ``getitem``."""
    if type(idx) is tuple:
        return scatter_add_p(g, *idx, shape=shape, tuple_index=True)
    return scatter_add_p(g, idx, shape=shape)


# Only the array argument (0) has a derivative; index entries are integers (zero derivative).
defvjp_argnum(getitem_p, lambda i, g, ans, x, *index, tuple_index=False:
              scatter_add(g, _index(index, tuple_index), shape_of(x)) if i == 0 else None)
defjvp_argnum(getitem_p, lambda i, x_dot, ans, x, *index, tuple_index=False:
              getitem_p(x_dot, *index, tuple_index=tuple_index) if i == 0 else None)
defvjp_argnum(scatter_add_p, lambda i, g, ans, x, *index, shape, tuple_index=False:
              getitem(g, _index(index, tuple_index)) if i == 0 else None)
defjvp_argnum(scatter_add_p, lambda i, x_dot, ans, x, *index, shape, tuple_index=False:
              scatter_add_p(x_dot, *index, shape=shape, tuple_index=tuple_index) if i == 0 else None)


def _concatenate_impl(*xs, axis=0):
    try:
        return np.concatenate(xs, axis=axis)
    except ValueError as e:
        shapes = ", ".join(str(np.shape(x)) for x in xs)
        raise ShapeError(f"concatenate along axis {axis}: shapes {shapes} do not fit ({e})") from None


def _concatenate_slices(xs, axis):
    ndim = len(shape_of(xs[0]))
    axis = axis % ndim
    start = 0
    for x in xs:
        stop = start + shape_of(x)[axis]
        yield (slice(None),) * axis + (slice(start, stop),)
        start = stop


concatenate = primitive("concatenate", _concatenate_impl)


def _concatenate_vjp(i, g, ans, *xs, axis=0):
    return getitem(g, list(_concatenate_slices(xs, axis))[i])


def _concatenate_jvp(i, x_dot, ans, *xs, axis=0):
    parts = [x_dot if j == i else np.zeros(shape_of(x), dtype_of(x)) for j, x in enumerate(xs)]
    return concatenate(*parts, axis=axis)


defvjp_argnum(concatenate, _concatenate_vjp)
defjvp_argnum(concatenate, _concatenate_jvp)


def _stack_impl(*xs, axis=0):
    try:
        return np.stack(xs, axis=axis)
    except ValueError:
        shapes = ", ".join(str(np.shape(x)) for x in xs)
        raise ShapeError(f"stack: all arrays must have the same shape, found {shapes}") from None


def _stack_index(i, ndim, axis):
    axis = axis % (ndim + 1)
    return (slice(None),) * axis + (i,)


stack = primitive("stack", _stack_impl)
defvjp_argnum(stack, lambda i, g, ans, *xs, axis=0: getitem(g, _stack_index(i, len(shape_of(xs[0])), axis)))
defjvp_argnum(stack, lambda i, x_dot, ans, *xs, axis=0: stack(
    *[x_dot if j == i else np.zeros(shape_of(x), dtype_of(x)) for j, x in enumerate(xs)], axis=axis))
