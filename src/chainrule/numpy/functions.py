"""The functions of ``chainrule.numpy``: NumPy names for chainrule's differentiable operations.

Write model code with ``cnp`` and it works on plain arrays (at NumPy speed) and inside
``grad``/``jvp``/``hessian`` alike. Traced values also accept the plain ``np.`` spellings of
these functions (through NumPy's ``__array_ufunc__``/``__array_function__`` protocols, see
``tracer_methods.py``); a NumPy function chainrule does not support raises a
TypeError naming it, rather than silently dropping the derivative.
"""

from __future__ import annotations

import numpy as _np
from numpy import (  # noqa: F401  (re-exported non-differentiable helpers)
    array,
    asarray,
    float32,
    float64,
    ones,
    ones_like,
    zeros,
    zeros_like,
)

from ..engine.core import Tracer as _Tracer
from ..engine.core import shape_of as _shape_of
from ..primitives.einsum import einsum  # noqa: F401
from ..primitives.elementwise import (  # noqa: F401
    add,
    astype,
    ceil,
    divide,
    equal,
    floor,
    greater,
    greater_equal,
    isfinite,
    isnan,
    less,
    less_equal,
    logical_and,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    sign,
    square,
    stop_gradient,
    subtract,
    where,
)
from ..primitives.elementwise import clip as _clip
from ..primitives.elementwise import round_ as round  # noqa: A004, F401
from ..primitives.linalg import dot, matmul  # noqa: F401
from ..primitives.reduce import max_ as _max
from ..primitives.reduce import mean as _mean
from ..primitives.reduce import min_ as _min
from ..primitives.reduce import normalize_axis as _normalize_axis
from ..primitives.reduce import prod_ as _prod
from ..primitives.reduce import sum_ as _sum
from ..primitives.scan import cumsum  # noqa: F401
from ..primitives.shape import broadcast_to, getitem  # noqa: F401
from ..primitives.shape import concatenate as _concatenate
from ..primitives.shape import reshape as _reshape
from ..primitives.shape import stack as _stack
from ..primitives.shape import transpose as _transpose
from ..primitives.softmax import log_softmax, logsumexp, softmax  # noqa: F401
from ..primitives.unary import (  # noqa: F401
    absolute,
    arctan,
    cos,
    erf,
    exp,
    expm1,
    log,
    log1p,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tan,
    tanh,
)

abs = absolute  # noqa: A001
true_divide = divide
expit = sigmoid  # SciPy's name


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return _sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return _mean(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Maximum along ``axis``. With ties, the gradient is split equally among the tied entries."""
    return _max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum along ``axis``. With ties, the gradient is split equally among the tied entries."""
    return _min(x, axis=axis, keepdims=keepdims)


amax, amin = max, min


def prod(x, axis=None, keepdims=False):
    """Product along ``axis``. Its gradient is the product of the other entries, right at zeros too
    (never a division by zero); see ``primitives/reduce.py`` for second derivatives at zeros."""
    return _prod(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance: mean of squared deviations (``ddof`` as in NumPy)."""
    shape = _shape_of(x)
    n = int(_np.prod([shape[a] for a in _normalize_axis(axis, len(shape))]))
    d = subtract(x, _mean(x, axis=axis, keepdims=True))
    return divide(_sum(square(d), axis=axis, keepdims=keepdims), n - ddof)


def std(x, axis=None, keepdims=False, ddof=0):
    return sqrt(var(x, axis=axis, keepdims=keepdims, ddof=ddof))


def clip(x, a_min=None, a_max=None):
    """Clip to [a_min, a_max]; the gradient passes where a_min <= x <= a_max (as torch.clamp).

    The bounds are constants: a traced bound is a TypeError (use maximum/minimum to differentiate
    with respect to it)."""
    if isinstance(a_min, _Tracer) or isinstance(a_max, _Tracer):
        raise TypeError("clip: the bounds a_min/a_max must be numbers or plain arrays, found a traced value; "
                        "use chainrule.numpy.maximum(x, lo) / minimum(x, hi) to differentiate with respect to them")
    return _clip(x, lo=a_min, hi=a_max)


def reshape(x, shape):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _reshape(x, shape)


def ravel(x):
    return _reshape(x, (-1,))


def transpose(x, axes=None):
    return _transpose(x, axes=None if axes is None else tuple(axes))


def swapaxes(x, axis1, axis2):
    axes = list(range(len(_shape_of(x))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _transpose(x, axes=tuple(axes))


def expand_dims(x, axis):
    return _reshape(x, _np.expand_dims(_np.empty(_shape_of(x), dtype=bool), axis).shape)


def squeeze(x, axis=None):
    return _reshape(x, _np.squeeze(_np.empty(_shape_of(x), dtype=bool), axis).shape)


def concatenate(arrays, axis=0):
    if axis is None:  # NumPy's meaning: flatten first
        arrays, axis = [_reshape(a, (-1,)) for a in arrays], 0
    return _concatenate(*arrays, axis=axis)


def stack(arrays, axis=0):
    return _stack(*arrays, axis=axis)


def outer(a, b):
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def log_sigmoid(x):
    """log σ(x) = −softplus(−x), exact for large |x|."""
    return negative(softplus(negative(x)))

