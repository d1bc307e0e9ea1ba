"""Elementwise arithmetic: + - * / and friends, with broadcasting (``power`` is in ``unary.py``).

Rules return cotangents of the broadcast shape; the engine sums them back to each
argument's shape (``broadcast.py``). Conventions at non-differentiable points follow
PyTorch and JAX: ``maximum``/``minimum`` split the gradient equally between tied arguments;
``clip`` passes the gradient where ``lo <= x <= hi`` (inclusive, as ``torch.clamp``).
"""

from __future__ import annotations

import numpy as np

from ..engine.core import dtype_of
from ..extend import defjvp, deflinear, defvjp, primitive

add = primitive("add", np.add)
defvjp(add, lambda g, ans, x, y: g, lambda g, ans, x, y: g)
defjvp(add, lambda x_dot, ans, x, y: x_dot, lambda y_dot, ans, x, y: y_dot)

subtract = primitive("subtract", np.subtract)
defvjp(subtract, lambda g, ans, x, y: g, lambda g, ans, x, y: negative(g))
defjvp(subtract, lambda x_dot, ans, x, y: x_dot, lambda y_dot, ans, x, y: negative(y_dot))

negative = primitive("negative", np.negative)
defvjp(negative, lambda g, ans, x: negative(g))
deflinear(negative)

multiply = primitive("multiply", np.multiply)
defvjp(multiply, lambda g, ans, x, y: multiply(g, y), lambda g, ans, x, y: multiply(x, g))
deflinear(multiply, 2)

divide = primitive("divide", np.true_divide)
defvjp(
    divide,
    lambda g, ans, x, y: divide(g, y),
    lambda g, ans, x, y: negative(multiply(g, divide(ans, y))),
)
defjvp(
    divide,
    lambda x_dot, ans, x, y: divide(x_dot, y),
    lambda y_dot, ans, x, y: negative(multiply(y_dot, divide(ans, y))),
)


square = primitive("square", np.square)
defvjp(square, lambda g, ans, x: multiply(g, multiply(2, x)))
defjvp(square, lambda x_dot, ans, x: multiply(x_dot, multiply(2, x)))


def _tie_share(x, y, ans):
    # 1 where x alone attains the extremum, 1/2 where x and y tie, 0 elsewhere.
    return divide(
        astype(equal(x, ans), dtype_of(ans)),
        add(1.0, astype(equal(x, y), dtype_of(ans))),
    )


maximum = primitive("maximum", np.maximum)
minimum = primitive("minimum", np.minimum)
for _p in (maximum, minimum):
    defvjp(
        _p,
        lambda g, ans, x, y: multiply(g, _tie_share(x, y, ans)),
        lambda g, ans, x, y: multiply(g, _tie_share(y, x, ans)),
    )
    defjvp(
        _p,
        lambda x_dot, ans, x, y: multiply(x_dot, _tie_share(x, y, ans)),
        lambda y_dot, ans, x, y: multiply(y_dot, _tie_share(y, x, ans)),
    )


def _where_impl(condition, x, y):
    return np.where(condition, x, y)


where = primitive("where", _where_impl)
defvjp(
    where,
    None,
    lambda g, ans, c, x, y: where(c, g, 0),
    lambda g, ans, c, x, y: where(c, 0, g),
)
defjvp(
    where,
    None,
    lambda x_dot, ans, c, x, y: where(c, x_dot, 0),
    lambda y_dot, ans, c, x, y: where(c, 0, y_dot),
)


def _clip_impl(x, lo=None, hi=None):
    return np.clip(x, lo, hi)


def _clip_mask(x, lo, hi):
    """lo <= x <= hi, in chainrule ops (a traced x gives a traced mask: jit records it)."""
    if lo is None:
        return True if hi is None else less_equal(x, hi)
    inside = greater_equal(x, lo)
    return inside if hi is None else logical_and(inside, less_equal(x, hi))


clip = primitive("clip", _clip_impl)
defvjp(clip, lambda g, ans, x, lo=None, hi=None: where(_clip_mask(x, lo, hi), g, 0))
defjvp(clip, lambda x_dot, ans, x, lo=None, hi=None: where(_clip_mask(x, lo, hi), x_dot, 0))


def _astype_impl(x, dtype):
    return np.asarray(x).astype(dtype, copy=False)


def _astype_vjp(g, ans, x, dtype):
    # A cast to an integer or bool dtype is piecewise constant: it passes no derivative.
    return astype(g, dtype_of(x)) if np.issubdtype(dtype, np.inexact) else None


def _astype_jvp(x_dot, ans, x, dtype):
    return astype(x_dot, dtype) if np.issubdtype(dtype, np.inexact) else None


astype = primitive("astype", _astype_impl)
defvjp(astype, _astype_vjp)
defjvp(astype, _astype_jvp)

# Piecewise-constant functions: their derivative is zero wherever it exists, so they are
# non-differentiable primitives whose outputs are plain arrays (constants to every trace).
sign = primitive("sign", np.sign, differentiable=False)
equal = primitive("equal", np.equal, differentiable=False)
not_equal = primitive("not_equal", np.not_equal, differentiable=False)
greater = primitive("greater", np.greater, differentiable=False)

greater_equal = primitive("greater_equal", np.greater_equal, differentiable=False)
less = primitive("less", np.less, differentiable=False)
less_equal = primitive("less_equal", np.less_equal, differentiable=False)
logical_and = primitive("logical_and", np.logical_and, differentiable=False)
floor = primitive("floor", np.floor, differentiable=False)
ceil = primitive("ceil", np.ceil, differentiable=False)
round_ = primitive("round", np.round, differentiable=False)
isfinite = primitive("isfinite", np.isfinite, differentiable=False)
isnan = primitive("isnan", np.isnan, differentiable=False)
stop_gradient = primitive("stop_gradient", lambda x: x, differentiable=False)
