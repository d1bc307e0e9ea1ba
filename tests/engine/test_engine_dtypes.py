"""float32 in, float32 out: no primitive silently upcasts a gradient, a tangent or a value.

Python floats and NumPy scalars are the usual culprits (``x * 2.5``, ``2.0 ** x``,
``np.float64(3) * x``), so every function below mixes one in. Values are compared with the
same computation in float64 to rtol = 1e-4: float32 carries ε ≈ 6e-8, and these expressions
take at most a few dozen roundings with condition numbers of order 10, so the float32 result
is within ~1e-5 of the float64 one; a gradient that is wrong is off by O(1).
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

rng = np.random.default_rng(3)
X = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1, 1], (3, 4))  # |x| ≥ 0.5: no kinks
POS = np.abs(X)
MASK = X > 0

FUNCTIONS = {
    "add": lambda x: x + 1.5,
    "radd": lambda x: 1.5 + x,
    "subtract": lambda x: 2.0 - x,
    "multiply": lambda x: x * 2.5,
    "divide": lambda x: 1.0 / x,
    "negative": lambda x: -x,
    "power-int": lambda x: x**2,
    "power-float": lambda x: cnp.abs(x) ** 1.5,
    "rpower": lambda x: 2.0**x,
    "power-both": lambda x: cnp.abs(x) ** x,
    "square": cnp.square,
    "exp": cnp.exp,
    "log": lambda x: cnp.log(cnp.abs(x)),
    "log1p": lambda x: cnp.log1p(cnp.abs(x)),
    "expm1": cnp.expm1,
    "sqrt": lambda x: cnp.sqrt(cnp.abs(x)),
    "abs": cnp.abs,
    "maximum": lambda x: cnp.maximum(x, 0.25),
    "minimum": lambda x: cnp.minimum(0.25, x),
    "where": lambda x: cnp.where(MASK, x, 0.0),
    "tanh": cnp.tanh,
    "sigmoid": cnp.sigmoid,
    "softplus": cnp.softplus,
    "erf": cnp.erf,
    "sin": cnp.sin,
    "cos": cnp.cos,
    "relu": cnp.relu,
    "matmul": lambda x: x @ POS.T.astype(np.float32),
    "matmul-vector": lambda x: x @ np.ones(4, np.float32),
    "dot": lambda x: cnp.dot(x, np.ones((4, 2), np.float32)),
    "sum": lambda x: cnp.sum(x, axis=0),
    "mean": lambda x: cnp.mean(x, axis=1, keepdims=True),
    "max": lambda x: cnp.max(x, axis=0),
    "min": lambda x: cnp.min(x),
    "var": lambda x: cnp.var(x, axis=1),
    "std": lambda x: cnp.std(x, axis=0, ddof=1),
    "logsumexp": lambda x: cnp.logsumexp(x, axis=1),
    "softmax": lambda x: cnp.softmax(x, axis=-1),
    "log_softmax": lambda x: cnp.log_softmax(x, axis=0),
    "reshape": lambda x: cnp.reshape(x, (4, 3)),
    "transpose": lambda x: x.T,
    "broadcast_to": lambda x: cnp.broadcast_to(x, (2, 3, 4)),
    "expand_dims": lambda x: cnp.expand_dims(x, 1),
    "squeeze": lambda x: cnp.squeeze(x[None]),
    "getitem": lambda x: x[1:, ::-1],
    "getitem-fancy": lambda x: x[[0, 0, 2]],
    "getitem-mask": lambda x: x[MASK],
    "concatenate": lambda x: cnp.concatenate([x, 2.0 * x], axis=1),
    "stack": lambda x: cnp.stack([x, x * x]),
    "clip": lambda x: cnp.clip(x, -1.0, 1.0),
    "astype-roundtrip": lambda x: cnp.astype(cnp.astype(x, np.float64) * 2.0, np.float32),
}


def _loss(f):
    # A Python-float weight on the output, so the seed of the sweep mixes scalars in as well.
    return lambda x: cnp.sum(f(x) * 0.5)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_float32_stays_float32(name):
    f = FUNCTIONS[name]
    x32, x64 = X.astype(np.float32), X.astype(np.float64)
    y = f(x32)
    assert np.result_type(y) == np.float32, "forward value upcast"
    g32 = cr.grad(_loss(f))(x32)
    assert g32.dtype == np.float32, "gradient upcast"
    np.testing.assert_allclose(g32, cr.grad(_loss(f))(x64), rtol=1e-4, atol=1e-5)
    v = np.ones_like(x32)
    y, y_dot = cr.jvp(f, (x32,), (v,))
    assert np.result_type(y) == np.float32 and np.result_type(y_dot) == np.float32, "tangent upcast"
    _, vjp_fn = cr.vjp(f, x32)
    (ct,) = vjp_fn(np.ones(np.shape(y), np.float32))
    assert ct.dtype == np.float32, "cotangent upcast"
    # second order: the rules of the rules keep the dtype too
    hv = cr.hvp(_loss(f), x32, v)
    assert hv.dtype == np.float32, "Hessian-vector product upcast"


def test_float32_python_scalar_argument_mix():
    # A float32 array meeting a float64 array is promoted by NumPy (as it should be), but the
    # gradient of each input still has that input's dtype.
    x32, w64 = np.ones(3, np.float32), np.arange(3.0)
    gx, gw = cr.grad(lambda x, w: cnp.sum(x * w), argnums=(0, 1))(x32, w64)
    assert gx.dtype == np.float32 and gw.dtype == np.float64
    np.testing.assert_array_equal(gx, w64.astype(np.float32))


def test_numpy_float64_scalar_promotes_the_value_but_not_the_gradient():
    # NumPy's own rule (NEP 50): an np.float64 scalar is not "weak", so the value is float64.
    # The gradient of the float32 input is still float32.
    x32 = np.ones(3, np.float32)
    assert cr.grad(lambda x: cnp.sum(np.float64(3.0) * x))(x32).dtype == np.float32


def test_cast_to_an_integer_dtype_passes_no_derivative():
    x = np.array([0.4, 1.6, 2.5])
    f = lambda x: cnp.sum(cnp.astype(x * 2.0, np.int64) * x)  # d/dx = int(2x), not 2x + int(2x)
    np.testing.assert_array_equal(cr.grad(f)(x), [0.0, 3.0, 5.0])
    assert cr.jvp(f, (x,), (np.ones(3),))[1] == 8.0
