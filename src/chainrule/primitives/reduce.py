"""Reductions over axes: sum, mean, max, min, prod.

The VJP of a reduction re-inserts the reduced axes (``keepdims``) and broadcasts the
cotangent back over them. ``max``/``min`` with ties split the gradient *equally* among the
tied entries (the convention of JAX and ``torch.amax``), so the gradient is a valid
subgradient and symmetric in the tied inputs. The gradient of ``prod`` is the product of the
other entries, computed without dividing by an entry that is zero.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.core import dtype_of, shape_of
from ..extend import defjvp, deflinear, defvjp, primitive
from .elementwise import astype, divide, equal, multiply, subtract, where
from .shape import broadcast_to, reshape


def normalize_axis(axis, ndim):
    """``axis`` as a sorted tuple of non-negative ints (``None`` means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    return tuple(sorted(a % ndim if ndim else a for a in axes))


def keepdims_shape(shape, axis):
    if axis is None:
        return (1,) * len(shape)
    axes = normalize_axis(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g, x, axis, keepdims):
    """The cotangent of a reduction, reshaped so it broadcasts against ``x``."""
    if keepdims:
        return g
    return reshape(g, keepdims_shape(shape_of(x), axis))


def _sum_impl(x, axis=None, keepdims=False):
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the ufunc directly: np.sum's wrapper costs ~1 µs
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


sum_ = primitive("sum", _sum_impl)
defvjp(
    sum_,
    lambda g, ans, x, axis=None, keepdims=False: broadcast_to(
        _expand(g, x, axis, keepdims), shape_of(x)
    ),
)
deflinear(sum_)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean: ``sum / count`` (a composite, so its rules come from ``sum``)."""
    shape = shape_of(x)
    count = math.prod(shape) if axis is None else math.prod(shape[a] for a in normalize_axis(axis, len(shape)))
    return divide(sum_(x, axis=axis, keepdims=keepdims), max(count, 1))


def _argext_share(ans, x, axis, keepdims):
    """1/k on each of the k entries attaining the extremum along ``axis``, 0 elsewhere."""
    hit = astype(equal(x, _expand(ans, x, axis, keepdims)), dtype_of(x))
    return divide(hit, sum_(hit, axis=axis, keepdims=True))


def _extremum(name, impl):
    prim = primitive(name, impl)
    defvjp(
        prim,
        lambda g, ans, x, axis=None, keepdims=False: multiply(
            _expand(g, x, axis, keepdims), _argext_share(ans, x, axis, keepdims)
        ),
    )
    defjvp(
        prim,
        lambda x_dot, ans, x, axis=None, keepdims=False: sum_(
            multiply(x_dot, _argext_share(ans, x, axis, keepdims)), axis=axis, keepdims=keepdims
        ),
    )
    return prim


max_ = _extremum("max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims))
min_ = _extremum("min", lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims))


def _prod_impl(x, axis=None, keepdims=False):
    return np.prod(x, axis=axis, keepdims=keepdims)


def _product_of_others(x, axis):
    """For each entry, the product of the *other* entries along ``axis``, never dividing by zero.

    At a non-zero entry it is prod(x)/x_i. At a zero it is P·(the product of the other zeros),
    P the product of the non-zero entries: P with no other zero, and with one other zero that
    zero itself, which is written as (the slice's sum of zeros − x_i) so that its derivative is
    right too. Written in primitives, so its own derivative is prod's second derivative, exact at
    any number of zeros (third derivatives at three or more zeros in a slice are not).
    """
    is_zero = equal(x, 0)
    nonzero = where(is_zero, 1, x)
    at_nonzero = divide(prod_(x, axis=axis, keepdims=True), nonzero)
    zeros = sum_(astype(is_zero, np.dtype(np.int64)), axis=axis, keepdims=True)
    other_zero = subtract(sum_(where(is_zero, x, 0), axis=axis, keepdims=True), x)
    at_zero = multiply(prod_(nonzero, axis=axis, keepdims=True),
                       where(equal(zeros, 1), 1, where(equal(zeros, 2), other_zero, 0)))
    return where(is_zero, at_zero, at_nonzero)


prod_ = primitive("prod", _prod_impl)
defvjp(
    prod_,
    lambda g, ans, x, axis=None, keepdims=False: multiply(_expand(g, x, axis, keepdims), _product_of_others(x, axis)),
)
defjvp(
    prod_,
    lambda x_dot, ans, x, axis=None, keepdims=False: sum_(
        multiply(x_dot, _product_of_others(x, axis)), axis=axis, keepdims=keepdims
    ),
)
