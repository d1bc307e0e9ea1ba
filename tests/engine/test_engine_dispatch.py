"""Plain ``np.`` calls, operators and methods on traced values give the gradients of ``cnp``.

Each pair below spells the same computation with plain NumPy (dispatched through
``__array_ufunc__``/``__array_function__``, operators and methods) and with ``chainrule.numpy``.
They reach the same primitives in the same order, so values, gradients and tangents must be
bit-identical: the comparisons are exact.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

rng = np.random.default_rng(5)
X = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1, 1], (3, 4))
W = rng.standard_normal((4, 2))
V = rng.standard_normal((5, 3))
C = X > 0

PAIRS = {
    "tanh": (lambda x: np.tanh(x), lambda x: cnp.tanh(x)),
    "sum-axis": (lambda x: np.sum(x, axis=0), lambda x: cnp.sum(x, axis=0)),
    "mean-keepdims": (lambda x: np.mean(x, axis=1, keepdims=True), lambda x: cnp.mean(x, axis=1, keepdims=True)),
    "transpose-attr": (lambda x: x.T, lambda x: cnp.transpose(x)),
    "matmul-op": (lambda x: x @ W, lambda x: cnp.matmul(x, W)),
    "ndarray-matmul-tracer": (lambda x: V @ x, lambda x: cnp.matmul(V, x)),
    "ndarray-times-tracer": (lambda x: X[::-1] * x, lambda x: cnp.multiply(X[::-1], x)),
    "ndarray-ops": (
        lambda x: (X - x) / (2.0 + X * X) + X / (x * x + 1.0),
        lambda x: cnp.add(
            cnp.divide(cnp.subtract(X, x), 2.0 + X * X), cnp.divide(X, cnp.add(cnp.multiply(x, x), 1.0))
        ),
    ),
    "numpy-scalar": (
        lambda x: np.float64(2.0) * x - np.float64(1.0),
        lambda x: cnp.subtract(cnp.multiply(2.0, x), 1.0),
    ),
    "python-operators": (
        lambda x: -abs(x) ** 2 + 2.0**x - x,
        lambda x: cnp.subtract(cnp.add(cnp.negative(cnp.power(cnp.abs(x), 2)), cnp.power(2.0, x)), x),
    ),
    "ufuncs": (
        lambda x: np.exp(x) + np.log(np.abs(x)) + np.sqrt(np.square(x)) + np.sin(x) * np.cos(x) + np.log1p(x * x)
        - np.expm1(x),
        lambda x: cnp.exp(x) + cnp.log(cnp.abs(x)) + cnp.sqrt(cnp.square(x)) + cnp.sin(x) * cnp.cos(x)
        + cnp.log1p(x * x) - cnp.expm1(x),
    ),
    "maximum-minimum": (
        lambda x: np.maximum(x, 0.1) + np.minimum(x, -0.2),
        lambda x: cnp.maximum(x, 0.1) + cnp.minimum(x, -0.2),
    ),
    "where": (lambda x: np.where(C, x, x * x), lambda x: cnp.where(C, x, x * x)),
    "clip": (lambda x: np.clip(x, -1.0, 1.0), lambda x: cnp.clip(x, -1.0, 1.0)),
    "dot": (lambda x: np.dot(x, W), lambda x: cnp.dot(x, W)),
    "reductions": (
        lambda x: np.max(x, axis=1) + np.min(x, axis=1) + np.amax(x, axis=1) + np.var(x, axis=1, ddof=1)
        + np.std(x, axis=1),
        lambda x: cnp.max(x, axis=1) + cnp.min(x, axis=1) + cnp.max(x, axis=1) + cnp.var(x, axis=1, ddof=1)
        + cnp.std(x, axis=1),
    ),
    "methods": (
        lambda x: x.sum(axis=1) + x.mean() + x.max(axis=1) + x.min(axis=1) + x.var(axis=1) + x.std(axis=1),
        lambda x: cnp.sum(x, axis=1) + cnp.mean(x) + cnp.max(x, axis=1) + cnp.min(x, axis=1) + cnp.var(x, axis=1)
        + cnp.std(x, axis=1),
    ),
    "shape-methods": (
        lambda x: x.reshape(2, -1).transpose(1, 0).ravel()[::2].reshape((3, 2)).squeeze(),
        lambda x: cnp.squeeze(cnp.reshape(cnp.ravel(cnp.transpose(cnp.reshape(x, (2, -1)), (1, 0)))[::2], (3, 2))),
    ),
    "shape-functions": (
        lambda x: np.swapaxes(np.expand_dims(np.reshape(x, (4, 3)), 0), 0, 2)
        + np.broadcast_to(np.ravel(x)[:1], (3, 4, 1)),
        lambda x: cnp.swapaxes(cnp.expand_dims(cnp.reshape(x, (4, 3)), 0), 0, 2)
        + cnp.broadcast_to(cnp.ravel(x)[:1], (3, 4, 1)),
    ),
    "concatenate-stack": (
        lambda x: np.concatenate([x, x[:1]], axis=0) * np.stack([x[0]] * 4, axis=0)[:1],
        lambda x: cnp.concatenate([x, x[:1]], axis=0) * cnp.stack([x[0]] * 4, axis=0)[:1],
    ),
    "outer-squeeze-transpose": (
        lambda x: np.outer(x[0], x[1]) + np.transpose(np.squeeze(x[None]))[:, :1],
        lambda x: cnp.outer(x[0], x[1]) + cnp.transpose(cnp.squeeze(x[None]))[:, :1],
    ),
    "astype-method": (lambda x: x.astype(np.float32) * 2, lambda x: cnp.astype(x, np.float32) * 2),
}


@pytest.mark.parametrize("name", PAIRS)
def test_plain_numpy_gives_the_gradients_of_cnp(name):
    f_np, f_cnp = PAIRS[name]
    np.testing.assert_array_equal(f_np(X), f_cnp(X))  # the NumPy spelling works on plain arrays too
    loss = lambda f: lambda x: cnp.sum(cnp.sin(f(x)))
    np.testing.assert_array_equal(cr.grad(loss(f_np))(X), cr.grad(loss(f_cnp))(X))
    v = rng.standard_normal(X.shape)
    np.testing.assert_array_equal(cr.jvp(f_np, (X,), (v,))[1], cr.jvp(f_cnp, (X,), (v,))[1])


def test_tracer_reports_shape_ndim_size_dtype_len():
    def f(x):
        assert (x.shape, x.ndim, x.size, x.dtype, len(x)) == ((3, 4), 2, 12, np.float64, 3)
        assert (np.shape(x), np.ndim(x), np.size(x)) == ((3, 4), 2, 12)
        assert np.result_type(x, np.float32) == np.float64
        return cnp.sum(x)

    cr.grad(f)(X)
    cr.jvp(f, (X,), (X,))
    cr.hessian(lambda x: f(x) ** 2)(X)  # a tracer of a tracer answers the same


def test_comparisons_give_plain_boolean_arrays():
    def f(x):
        mask = x > 0
        assert type(mask) is np.ndarray and mask.dtype == bool
        assert type(x == x) is np.ndarray and type(np.less_equal(x, 0.0)) is np.ndarray
        return cnp.sum(np.where(mask, x, 0.0))

    np.testing.assert_array_equal(cr.grad(f)(X), (X > 0).astype(float))
