"""Elementwise functions of one array: exp, log, tanh, tan, arctan, sigmoid, softplus, erf, relu, ... and
``power`` (x ** y), whose derivative in y needs ``log``.

Each rule reuses the forward output ``ans`` where the math does (d tanh = 1 - ans²,
d sigmoid = ans (1 - ans), d exp = ans). Conventions at kinks follow PyTorch and JAX:
relu'(0) = 0 and abs'(0) = 0.
"""

from __future__ import annotations

import math

import numpy as np

from ..extend import defjvp, defvjp, primitive
from .elementwise import add, divide, equal, greater, multiply, negative, sign, square, subtract, where
from .erf import erf as _erf_impl


def _unary(name, impl, derivative):
    """A primitive f with f'(x) = derivative(ans, x); VJP g·f'(x), JVP f'(x)·x_dot."""
    prim = primitive(name, impl)
    defvjp(prim, lambda g, ans, x: multiply(g, derivative(ans, x)))
    defjvp(prim, lambda x_dot, ans, x: multiply(x_dot, derivative(ans, x)))
    return prim


exp = _unary("exp", np.exp, lambda ans, x: ans)
log = _unary("log", np.log, lambda ans, x: divide(1.0, x))
log1p = _unary("log1p", np.log1p, lambda ans, x: divide(1.0, add(1.0, x)))
expm1 = _unary("expm1", np.expm1, lambda ans, x: add(ans, 1.0))
sqrt = _unary("sqrt", np.sqrt, lambda ans, x: divide(0.5, ans))
absolute = _unary("abs", np.abs, lambda ans, x: sign(x))
sin = _unary("sin", np.sin, lambda ans, x: cos(x))
cos = _unary("cos", np.cos, lambda ans, x: negative(sin(x)))
tanh = _unary("tanh", np.tanh, lambda ans, x: subtract(1.0, square(ans)))
tan = _unary("tan", np.tan, lambda ans, x: add(1.0, square(ans)))  # sec² = 1 + tan²
arctan = _unary("arctan", np.arctan, lambda ans, x: divide(1.0, add(1.0, square(x))))


def _safe_log_base(x):
    # d(x**y)/dy = log(x) x**y. For x <= 0 the real logarithm does not exist; we return 0
    # there (as JAX does for x == 0) rather than NaN, since x**y itself is then either 0
    # (x == 0) or only defined for integer y, where y is not a continuous variable.
    return log(where(greater(x, 0), x, 1))


def _pow_dx(g, ans, x, y):
    # y * x**(y-1), written so that y == 0 gives 0 and not 0 * inf at x == 0.
    exponent = where(equal(y, 0), 1, subtract(y, 1))
    return multiply(g, multiply(y, power(x, exponent)))


power = primitive("power", np.power)
defvjp(
    power,
    _pow_dx,
    lambda g, ans, x, y: multiply(g, multiply(ans, _safe_log_base(x))),
)
defjvp(
    power,
    lambda x_dot, ans, x, y: _pow_dx(x_dot, ans, x, y),
    lambda y_dot, ans, x, y: multiply(y_dot, multiply(ans, _safe_log_base(x))),
)


def _sigmoid_impl(x):
    # 1/(1+e^-x) overflows for x << 0; with e = exp(-|x|) <= 1 both branches are exact.
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(e.dtype, copy=False)


sigmoid = _unary("sigmoid", _sigmoid_impl, lambda ans, x: multiply(ans, subtract(1.0, ans)))


def _softplus_impl(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, exact for large |x|.
    return np.logaddexp(0, x)


softplus = _unary("softplus", _softplus_impl, lambda ans, x: sigmoid(x))


def _relu_impl(x):
    return np.maximum(x, 0)


relu = _unary("relu", _relu_impl, lambda ans, x: greater(x, 0))

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
erf = _unary("erf", _erf_impl, lambda ans, x: multiply(_TWO_OVER_SQRT_PI, exp(negative(square(x)))))
