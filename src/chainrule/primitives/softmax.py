"""The log-sum-exp family: logsumexp, softmax and log_softmax along an axis, all stable.

Subtracting the maximum before exponentiating makes them exact and warning-free for inputs
of any size. Their derivatives are each other's: ∂ logsumexp/∂x = softmax(x), the Jacobian
of softmax is diag(s) − s sᵀ, and that of log_softmax is I − 1 sᵀ.
"""

from __future__ import annotations

import math

import numpy as np

from ..extend import defjvp, defvjp, primitive
from .elementwise import multiply, subtract
from .reduce import _expand, sum_
from .unary import exp


def _row_max(z):
    """max over the last axis; a loop over the columns when they are few (a reduction along a
    short axis is slow in NumPy), identical result either way."""
    if z.shape[-1] > 16 or z.shape[-1] == 0:
        return np.max(z, axis=-1)
    m = z[..., 0].copy()
    for j in range(1, z.shape[-1]):
        np.maximum(m, z[..., j], out=m)
    return m


def _row_sum(e):
    """Σ over the last axis, row by row in a fixed order (so each row's sum does not depend on
    how many rows there are: an ensemble and a single model get the same bits)."""
    if e.shape[-1] > 16 or e.shape[-1] == 0:
        return np.sum(e, axis=-1)
    s = e[..., 0].copy()
    for j in range(1, e.shape[-1]):
        s += e[..., j]
    return s


def _is_last(x, axis):
    return axis == -1 or axis == x.ndim - 1


def _finite_shift(m):
    """The shift m itself, or m with its non-finite entries (all -inf or inf rows) set to 0: no shift,
    no NaN from inf - inf. A sum is finite only if every term is (or, rarely, on overflow: then the
    entries are checked one by one), one reduction instead of isfinite + all."""
    if math.isfinite(np.add.reduce(m, axis=None)):
        return m
    return np.where(np.isfinite(m), m, 0)


def _shifted(x, axis):
    x = np.asarray(x)
    m = _row_max(x)[..., None] if x.ndim and _is_last(x, axis) else np.max(x, axis=axis, keepdims=True)
    m = _finite_shift(m)
    return x - m, m


def _logsumexp_rows(z):
    """(log Σ_j exp(z_ij) for each row of a (batch, classes) array, shifted by the row's max;
    the shifted exponentials e; their row sums s): softmax(z) is e / s, with the same bits as
    ``_softmax_impl(z, axis=-1)``."""
    m = _finite_shift(_row_max(z))
    e = np.exp(z - m[:, None])
    s = _row_sum(e)
    return np.log(s) + m, e, s


def _logsumexp_impl(x, axis=None, keepdims=False):
    z, m = _shifted(x, axis)
    out = np.log(np.sum(np.exp(z), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


logsumexp = primitive("logsumexp", _logsumexp_impl)


def _lse_softmax(ans, x, axis, keepdims):
    return exp(subtract(x, _expand(ans, x, axis, keepdims)))


defvjp(
    logsumexp,
    lambda g, ans, x, axis=None, keepdims=False: multiply(
        _expand(g, x, axis, keepdims), _lse_softmax(ans, x, axis, keepdims)
    ),
)
defjvp(
    logsumexp,
    lambda x_dot, ans, x, axis=None, keepdims=False: sum_(
        multiply(x_dot, _lse_softmax(ans, x, axis, keepdims)), axis=axis, keepdims=keepdims
    ),
)


def _softmax_impl(x, axis=-1):
    z, _ = _shifted(x, axis)
    e = np.exp(z, out=z)
    e /= _row_sum(e)[..., None] if _is_last(e, axis) else np.sum(e, axis=axis, keepdims=True)
    return e


softmax = primitive("softmax", _softmax_impl)


def _softmax_linear(v, ans, axis):
    # (diag(s) - s sᵀ) v = s * (v - <s, v>); symmetric, so the same form is the VJP and the JVP.
    return multiply(ans, subtract(v, sum_(multiply(v, ans), axis=axis, keepdims=True)))


defvjp(softmax, lambda g, ans, x, axis=-1: _softmax_linear(g, ans, axis))
defjvp(softmax, lambda x_dot, ans, x, axis=-1: _softmax_linear(x_dot, ans, axis))


def _log_softmax_impl(x, axis=-1):
    z, _ = _shifted(x, axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


log_softmax = primitive("log_softmax", _log_softmax_impl)
defvjp(
    log_softmax,
    lambda g, ans, x, axis=-1: subtract(g, multiply(exp(ans), sum_(g, axis=axis, keepdims=True))),
)
defjvp(
    log_softmax,
    lambda x_dot, ans, x, axis=-1: subtract(
        x_dot, sum_(multiply(exp(ans), x_dot), axis=axis, keepdims=True)
    ),
)
