"""Matrix products: ``matmul`` (vector, matrix and batched, with NumPy's rules) and ``dot``.

For C = A B the VJPs are the two products of the seeds' BP4: ∂L/∂A = G Bᵀ and ∂L/∂B = Aᵀ G.
Vectors are promoted to matrices (a row for the left operand, a column for the right) so one
rule covers every case; batch axes that were broadcast are summed by the engine.
"""

from __future__ import annotations

import numpy as np

from ..engine.core import shape_of
from ..errors import ShapeError
from ..extend import deflinear, defvjp, primitive
from .reduce import sum_
from .shape import reshape, transpose


def _two_matrices(a, b):
    """Two fitting matrices of one dtype: then ndarray.dot calls the same BLAS routine as np.matmul
    (the same bits) with a fraction of its dispatch cost (0.3-0.9 µs instead of 1-1.6 µs on small ones)."""
    return (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2
            and a.dtype is b.dtype and a.shape[1] == b.shape[0])


def _matmul_impl(a, b):
    if _two_matrices(a, b):
        return a.dot(b)
    try:
        return np.matmul(a, b)
    except ValueError:
        raise ShapeError(
            f"matmul: shapes {np.shape(a)} and {np.shape(b)} do not fit "
            "(the last axis of the first must equal the second-to-last axis of the second)"
        ) from None


def _swap(x):
    nd = len(shape_of(x))
    return transpose(x, axes=tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _as_matrices(g, a, b):
    """Promote 1-D operands (and the cotangent accordingly) to 2-D."""
    a_shape, b_shape = shape_of(a), shape_of(b)
    if len(a_shape) == 1:
        a = reshape(a, (1,) + a_shape)
        g = reshape(g, shape_of(g)[:-1] + (1,) + shape_of(g)[-1:]) if len(b_shape) > 1 else g
    if len(b_shape) == 1:
        b = reshape(b, b_shape + (1,))
        g = reshape(g, shape_of(g) + (1,))
    if len(a_shape) == 1 and len(b_shape) == 1:
        g = reshape(g, (1, 1))
    return g, a, b


def _to_shape(c, shape):
    """Sum away batch axes that broadcasting added, then drop the promoted axis."""
    extra = len(shape_of(c)) - max(len(shape), 2)
    if extra > 0:
        c = sum_(c, axis=tuple(range(extra)))
    c_shape = shape_of(c)
    stretched = tuple(
        i for i in range(len(c_shape) - 2) if shape[i] == 1 and c_shape[i] != 1
    ) if len(shape) > 2 else ()
    if stretched:
        c = sum_(c, axis=stretched, keepdims=True)
    return reshape(c, shape) if shape_of(c) != tuple(shape) else c


def _matmul_vjp_a(g, ans, a, b):
    g2, a2, b2 = _as_matrices(g, a, b)
    return _to_shape(matmul(g2, _swap(b2)), shape_of(a))


def _matmul_vjp_b(g, ans, a, b):
    g2, a2, b2 = _as_matrices(g, a, b)
    return _to_shape(matmul(_swap(a2), g2), shape_of(b))


matmul = primitive("matmul", _matmul_impl)

defvjp(matmul, _matmul_vjp_a, _matmul_vjp_b)
deflinear(matmul, 2)


def dot(a, b):
    """``np.dot`` for scalars, vectors and matrices (where it equals ``matmul``)."""
    from .elementwise import multiply

    nda, ndb = len(shape_of(a)), len(shape_of(b))
    if nda == 0 or ndb == 0:
        return multiply(a, b)
    if nda <= 2 and ndb <= 2:
        return matmul(a, b)
    raise ShapeError(
        f"dot: operands of {nda} and {ndb} dimensions are not supported; "
        "use matmul (batched) or tensordot-style reshapes"
    )
