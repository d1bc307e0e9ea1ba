"""Elementwise functions of one array: exp, log, tanh, sigmoid, softplus, erf, relu, ...

Each rule reuses the forward output ``ans`` where the math does (d tanh = 1 - ans²,
d sigmoid = ans (1 - ans), d exp = ans). Conventions at kinks follow PyTorch and JAX:
relu'(0) = 0 and abs'(0) = 0.
"""

from __future__ import annotations

import math

import numpy as np

from ..extend import defjvp, defvjp, primitive
from .elementwise import add, divide, greater, multiply, negative, sign, square, subtract


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

try:  # SciPy's erf is vectorized C; without SciPy, the C library's erf, elementwise.
    from scipy.special import erf as _erf_impl
except ImportError:  # pragma: no cover - exercised when SciPy is absent
    _erf_vec = np.frompyfunc(math.erf, 1, 1)

    def _erf_impl(x):
        x = np.asarray(x)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return _erf_vec(x).astype(dtype)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
erf = _unary("erf", _erf_impl, lambda ans, x: multiply(_TWO_OVER_SQRT_PI, exp(negative(square(x)))))
