"""Matrix products: ``matmul`` (vector, matrix and batched, with NumPy's rules) and ``dot``; norms.

For C = A B the VJPs are the two products of the seeds' BP4: ∂L/∂A = G Bᵀ and ∂L/∂B = Aᵀ G.
Vectors are promoted to matrices (a row for the left operand, a column for the right) so one
rule covers every case; batch axes that were broadcast are summed by the engine. ``norm``: the
Euclidean/Frobenius norm is a primitive (its gradient x/‖x‖ is taken as 0 at 0, where the
composition sqrt(sum(x²)) would give NaN); the other orders are sums and maxima of |x|.
"""

from __future__ import annotations

import numpy as np

from ..engine.core import shape_of
from ..errors import ShapeError
from ..extend import defjvp, deflinear, defvjp, primitive
from .elementwise import divide, equal, multiply, where
from .reduce import _expand, max_, min_, normalize_axis, sum_
from .shape import reshape, transpose
from .unary import absolute


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
    nda, ndb = len(shape_of(a)), len(shape_of(b))
    if nda == 0 or ndb == 0:
        return multiply(a, b)
    if nda <= 2 and ndb <= 2:
        return matmul(a, b)
    raise ShapeError(
        f"dot: operands of {nda} and {ndb} dimensions are not supported; "
        "use matmul (batched) or tensordot-style reshapes"
    )


# -- norms -------------------------------------------------------------------------------------

def _norm_impl(x, axis=None, keepdims=False):
    x = np.asarray(x)
    return np.sqrt(np.add.reduce(x * x, axis=axis, keepdims=keepdims))


def _unit(ans, x, axis, keepdims):
    """x / ‖x‖, and 0 where ‖x‖ = 0 (there x is 0 too: dividing by 1 instead gives the subgradient 0)."""
    r = _expand(ans, x, axis, keepdims)
    return divide(x, where(equal(r, 0), 1, r))


norm_p = primitive("norm", _norm_impl)
defvjp(norm_p, lambda g, ans, x, axis=None, keepdims=False: multiply(
    _expand(g, x, axis, keepdims), _unit(ans, x, axis, keepdims)))
defjvp(norm_p, lambda x_dot, ans, x, axis=None, keepdims=False: sum_(
    multiply(x_dot, _unit(ans, x, axis, keepdims)), axis=axis, keepdims=keepdims))


VECTOR_ORDS = (None, 2, 1, np.inf, -np.inf)
MATRIX_ORDS = (None, "fro", 1, -1, np.inf, -np.inf)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (NumPy's name)
    """``np.linalg.norm`` for the orders with a gradient made of sums and maxima.

    Vectors (``axis`` an int, or a 1-D ``x``): ord None or 2 (Euclidean), 1, inf, -inf. Matrices
    (``axis`` a pair, or a 2-D ``x`` with ``ord`` given): None/'fro' (Frobenius), 1, -1, inf, -inf.
    ``axis=None`` with ``ord=None``: the 2-norm of all entries. At ‖x‖ = 0 the gradient of the
    Euclidean and Frobenius norms is the subgradient 0 (as torch's); that of ord=1 is sign(x) = 0.
    ord=±2 of a matrix and 'nuc' (singular values) are not supported: a ValueError says so."""
    ndim = len(shape_of(x))
    if axis is None:
        if ord is None:
            return norm_p(x, axis=None, keepdims=keepdims)
        if ndim not in (1, 2):
            raise ValueError(f"linalg.norm: ord={ord!r} needs a 1-D or 2-D array or an axis, found shape {shape_of(x)}")
        axis = tuple(range(ndim))
    axes = normalize_axis(axis, ndim) if ndim else ()
    if isinstance(axis, int | np.integer) or len(axes) == 1:
        if ord not in VECTOR_ORDS:
            raise ValueError(f"linalg.norm: vector ord={ord!r} is not supported; supported: "
                             "None, 2, 1, inf, -inf")
        if ord in (None, 2):
            return norm_p(x, axis=axes, keepdims=keepdims)
        if ord == 1:
            return sum_(absolute(x), axis=axes, keepdims=keepdims)
        return (max_ if ord > 0 else min_)(absolute(x), axis=axes, keepdims=keepdims)
    if len(axes) != 2:
        raise ValueError(f"linalg.norm: axis={axis!r} must be an int or a pair of axes")
    if ord not in MATRIX_ORDS:
        raise ValueError(f"linalg.norm: matrix ord={ord!r} is not supported (it needs singular values); "
                         "supported: None, 'fro', 1, -1, inf, -inf")
    if ord in (None, "fro"):
        return norm_p(x, axis=axes, keepdims=keepdims)
    row, col = (axis if isinstance(axis, tuple | list) else axes)
    row, col = row % ndim, col % ndim
    if ord in (np.inf, -np.inf):  # the largest (smallest) row sum: sum along the columns
        row, col = col, row
    extremum = max_ if ord > 0 else min_
    sums = sum_(absolute(x), axis=row, keepdims=keepdims)
    if not keepdims and col > row:
        col -= 1
    return extremum(sums, axis=col, keepdims=keepdims)
