"""Every primitive chainrule defines, found by walking ``chainrule.primitives`` (so a new one is
covered as soon as it exists, and fails here until it has test inputs below).

Differentiable primitives:
1. ``check_grads`` in both modes to order 2 (forward J·v and reverse Jᵀu, and the derivatives of
   both, against central differences in float64). Its default threshold, 1e-7 relative, is what
   it is because the central difference at ε = 1e-6 has truncation error ≈ 1e-12 and round-off
   ≈ 1e-10, while a wrong rule is off by O(1).
2. ``jit(grad(f))`` and ``jit(hessian(f))`` equal the eager ``grad(f)`` and ``hessian(f)`` bit for
   bit, on a second input that was not the one traced (the compiled code runs the same
   implementations in the same order, so any difference is a bug, not round-off).

Non-differentiable primitives (comparisons, masks): a compiled function using one gives the eager
result on a second input whose answer differs from the first's (so the op is part of the program,
not a constant frozen at the first call).

Inputs keep away from kinks and domain edges, as in test_engine_grid.py.
"""

import importlib
import pkgutil
import zlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.primitives as primitives_package
from chainrule.engine.core import Primitive
from chainrule.engine.tree import flatten


def _registered():
    found = {}
    for info in pkgutil.iter_modules(primitives_package.__path__):
        module = importlib.import_module(f"chainrule.primitives.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Primitive):
                found[value.name] = value
    return found


PRIMITIVES = _registered()


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def normal(shape, key=0):
    return _rng("n", shape, key).standard_normal(shape)


def positive(shape, key=0):
    return _rng("p", shape, key).uniform(0.5, 2.0, shape)


def away(shape, key=0):
    rng = _rng("a", shape, key)
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def distinct(shape, key=0):
    """Entries at least 0.1 apart (no ties for max/min/maximum)."""
    n = int(np.prod(shape))
    return _rng("d", shape, key).permutation(np.arange(n) * 0.1 - 0.05 * n).reshape(shape)


LABELS = np.array([0, 2, 1, 2])
PROBS = np.abs(normal((4, 3), 7)) / np.abs(normal((4, 3), 7)).sum(axis=1, keepdims=True)
ZEROS = np.array([[1.5, -0.7, 2.0], [0.0, 1.3, -0.9], [0.0, 0.0, 1.2]])  # prod: 0, 1 and 2 zeros in a row
MASK = np.array([[True, False, True], [False, True, True]])

# name -> list of (make(key) -> args, argnums differentiated, params)
CASES = {
    "abs": [(lambda k: (away((2, 3), k),), (0,), {})],
    "add": [(lambda k: (normal((2, 3), k), normal((3,), k + 1)), (0, 1), {})],
    "subtract": [(lambda k: (normal((2, 1), k), normal((1, 3), k + 1)), (0, 1), {})],
    "multiply": [(lambda k: (normal((2, 3), k), normal((3,), k + 1)), (0, 1), {})],
    "divide": [(lambda k: (normal((2, 3), k), positive((3,), k)), (0, 1), {})],
    "maximum": [(lambda k: (distinct((2, 3), k), distinct((2, 3), k) + 0.05), (0, 1), {})],
    "minimum": [(lambda k: (distinct((2, 3), k), distinct((2, 3), k) + 0.05), (0, 1), {})],
    "power": [(lambda k: (positive((2, 3), k), normal((2, 3), k)), (0, 1), {})],
    "negative": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "square": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "astype": [(lambda k: (normal((2, 3), k), np.dtype(np.float64)), (0,), {})],
    "broadcast_to": [(lambda k: (normal((3,), k), (2, 3)), (0,), {})],
    "clip": [(lambda k: (np.array([-1.5, -0.2, 0.3, 1.7]) * (1 + 0.01 * k),), (0,), {"lo": -1.0, "hi": 1.0}),
             (lambda k: (np.array([-1.5, -0.2, 0.3, 1.7]) * (1 + 0.01 * k),), (0,), {"lo": -1.0})],
    "where": [(lambda k: (MASK, normal((2, 3), k), normal((3,), k + 1)), (1, 2), {})],
    "concatenate": [(lambda k: (normal((2, 2), k), normal((2, 3), k + 1)), (0, 1), {"axis": 1})],
    "stack": [(lambda k: (normal((2,), k), normal((2,), k + 1)), (0, 1), {"axis": 1})],
    # (index entries are positional arguments: an index tuple is passed with tuple_index=True)
    "getitem": [(lambda k: (normal((3, 4), k), slice(0, 2), [1, 3]), (0,), {"tuple_index": True}),
                (lambda k: (normal((3, 4), k), np.arange(3), np.array([1, 0, 1])), (0,), {"tuple_index": True}),
                (lambda k: (normal((3, 4), k), [2, 0, 2]), (0,), {})],
    "scatter_add": [(lambda k: (normal((3,), k), [0, 2, 0]), (0,), {"shape": (4,)}),
                    (lambda k: (normal((2, 2), k), slice(None), [1, 0]), (0,), {"shape": (2, 3), "tuple_index": True})],
    "reshape": [(lambda k: (normal((2, 3), k), (3, 2)), (0,), {})],
    "transpose": [(lambda k: (normal((2, 3, 2), k),), (0,), {"axes": (2, 0, 1)})],
    "sum": [(lambda k: (normal((2, 3), k),), (0,), {"axis": 0}),
            (lambda k: (normal((2, 3), k),), (0,), {"axis": 1, "keepdims": True})],
    "max": [(lambda k: (distinct((3, 4), k),), (0,), {"axis": 1})],
    "min": [(lambda k: (distinct((3, 4), k),), (0,), {"axis": 0, "keepdims": True})],
    "matmul": [(lambda k: (normal((2, 3), k), normal((3, 4), k + 1)), (0, 1), {}),
               (lambda k: (normal((3,), k), normal((2, 3, 2), k + 1)), (0, 1), {})],
    "exp": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "expm1": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "log": [(lambda k: (positive((2, 3), k),), (0,), {})],
    "log1p": [(lambda k: (positive((2, 3), k),), (0,), {})],
    "sqrt": [(lambda k: (positive((2, 3), k),), (0,), {})],
    "sin": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "cos": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "tanh": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "sigmoid": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "softplus": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "erf": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "relu": [(lambda k: (away((2, 3), k),), (0,), {})],
    "tan": [(lambda k: (0.4 * normal((2, 3), k),), (0,), {})],
    "arctan": [(lambda k: (normal((2, 3), k),), (0,), {})],
    "prod": [(lambda k: (normal((2, 3), k),), (0,), {}),
             (lambda k: (ZEROS * (1 + 0.01 * k),), (0,), {"axis": 1}),  # rows with 0, 1 and 2 zeros
             (lambda k: (ZEROS.T * (1 + 0.01 * k),), (0,), {"axis": 0, "keepdims": True})],
    "cumsum": [(lambda k: (normal((2, 3), k),), (0,), {"axis": 1}),
               (lambda k: (normal((3, 2, 2), k),), (0,), {"axis": 0})],
    "norm": [(lambda k: (normal((2, 3), k),), (0,), {}),
             (lambda k: (normal((2, 3), k),), (0,), {"axis": (1,), "keepdims": True}),
             (lambda k: (normal((2, 3, 2), k),), (0,), {"axis": (0, 2)})],
    # (subscripts as the primitive takes them: explicit, no ellipsis; einsum() normalizes NumPy's forms)
    "einsum": [(lambda k: (normal((2, 3), k), normal((3, 4), k + 1)), (0, 1), {"subscripts": "ij,jk->ik"}),
               (lambda k: (normal((3, 3), k),), (0,), {"subscripts": "ii->i"}),
               (lambda k: (normal((3, 3), k),), (0,), {"subscripts": "ii->"}),
               (lambda k: (normal((2, 3), k), normal((2,), k + 1)), (0, 1), {"subscripts": "ij,i->i"}),
               (lambda k: (normal((3, 3, 2), k), normal((2, 4), k + 1)), (0, 1), {"subscripts": "iij,jk->ki"}),
               (lambda k: (normal((2, 2, 3), k), normal((2, 3, 2), k + 1)), (0, 1),
                {"subscripts": "aij,ajk->aik"}),
               (lambda k: (normal((2, 3), k), normal((3, 4), k + 1), normal((4,), k + 2)), (0, 1, 2),
                {"subscripts": "ij,jk,k->i"})],
    "logsumexp": [(lambda k: (normal((2, 4), k),), (0,), {"axis": 1})],
    "softmax": [(lambda k: (normal((2, 4), k),), (0,), {"axis": 1})],
    "log_softmax": [(lambda k: (normal((2, 4), k),), (0,), {"axis": -1})],
    "dense": [(lambda k: (normal((4, 3), k), normal((2, 3), k + 1), normal((2,), k + 2)), (0, 1, 2),
               {"activation": act}) for act in ("identity", "tanh", "sigmoid")]
    + [(lambda k: (normal((2, 4, 3), k), normal((2, 2, 3), k + 1), normal((2, 2), k + 2)), (0, 1, 2),
        {"activation": "tanh"})],
    "softmax_cross_entropy": [(lambda k: (normal((4, 3), k), LABELS), (0,), {}),
                              (lambda k: (normal((4, 3), k), PROBS * (1 + 0.01 * k)), (0, 1), {})],
    "mean_softmax_cross_entropy": [(lambda k: (normal((4, 3), k), LABELS), (0,), {})],
    "sce_residual": [(lambda k: (normal((4, 3), k), LABELS), (0,), {})],
}

# name -> f(x) using it, and two inputs on which its answer differs
NONDIFF_CASES = {
    "equal": lambda x: cnp.where(cnp.equal(x, 1.0), x, 0.0),
    "not_equal": lambda x: cnp.where(cnp.not_equal(x, 1.0), x, 0.0),
    "greater": lambda x: cnp.where(cnp.greater(x, 0.5), x, 0.0),
    "greater_equal": lambda x: cnp.where(cnp.greater_equal(x, 1.0), x, 0.0),
    "less": lambda x: cnp.where(cnp.less(x, 0.5), x, 0.0),
    "less_equal": lambda x: cnp.where(cnp.less_equal(x, 1.0), x, 0.0),
    "logical_and": lambda x: cnp.where(cnp.logical_and(cnp.greater(x, 0.5), cnp.less(x, 1.5)), x, 0.0),
    "isfinite": lambda x: cnp.where(cnp.isfinite(1.0 / (x - 1.0)), x, 0.0),
    "isnan": lambda x: cnp.where(cnp.isnan(cnp.log(x - 0.5)), 0.0, x),
    "sign": lambda x: x * cnp.sign(x - 1.0),
    "floor": lambda x: x * cnp.floor(x),
    "ceil": lambda x: x * cnp.ceil(x),
    "round": lambda x: x * cnp.round(x),
    "stop_gradient": lambda x: x * cr.stop_gradient(x),
}
NONDIFF_INPUTS = (np.array([0.2, 1.0, 2.3]), np.array([1.0, 2.3, 0.2]))


def test_every_primitive_has_test_inputs():
    differentiable = {n for n, p in PRIMITIVES.items() if p.differentiable}
    constant = {n for n, p in PRIMITIVES.items() if not p.differentiable}
    assert differentiable - set(CASES) == set(), "differentiable primitives without test inputs in CASES"
    assert constant - set(NONDIFF_CASES) == set(), "non-differentiable primitives without a case"
    assert len(differentiable) > 30 and len(constant) > 10  # the walk found the primitives


def _cases():
    return [pytest.param(name, case, id=f"{name}-{k}")
            for name, cases in sorted(CASES.items()) for k, case in enumerate(cases)]


def _as_function(name, case):
    make, argnums, params = case
    prim = PRIMITIVES[name]
    fixed = make(0)

    def f(*xs):
        args = list(fixed)
        for i, x in zip(argnums, xs):
            args[i] = x
        return prim(*args, **params)

    return f, make, argnums


@pytest.mark.parametrize("name, case", _cases())
def test_check_grads_to_second_order_in_both_modes(name, case):
    f, make, argnums = _as_function(name, case)
    args = make(0)
    cr.check_grads(f, tuple(args[i] for i in argnums), modes=("fwd", "rev"), order=2)


def _same_bits(a, b):
    la, lb = flatten(a)[0], flatten(b)[0]
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


@pytest.mark.parametrize("name, case", _cases())
def test_compiled_grad_and_hessian_equal_eager_bitwise(name, case):
    f, make, argnums = _as_function(name, case)
    out_shape = np.shape(f(*[make(0)[i] for i in argnums]))
    w = normal(out_shape, 99)  # a fixed, non-trivial output cotangent

    def scalar(*xs):
        return cnp.sum(f(*xs) * w)

    g_eager = cr.grad(scalar, argnums=tuple(range(len(argnums))))
    g_jit = cr.jit(g_eager)
    h_eager = cr.hessian(scalar)  # with respect to the first differentiated argument
    h_jit = cr.jit(h_eager)
    for key in (0, 1):  # compiled at key 0, replayed at key 1
        xs = [make(key)[i] for i in argnums]
        _same_bits(g_jit(*xs), g_eager(*xs))
        _same_bits(h_jit(*xs), h_eager(*xs))
    assert len(g_jit.programs) == 1 and len(h_jit.programs) == 1  # the second call replayed


@pytest.mark.parametrize("name", sorted(NONDIFF_CASES))
def test_non_differentiable_primitives_are_part_of_the_compiled_program(name):
    f = NONDIFF_CASES[name]
    compiled = cr.jit(f)
    first, second = NONDIFF_INPUTS
    with np.errstate(divide="ignore", invalid="ignore"):
        assert not np.array_equal(f(first) / first, f(second) / second, equal_nan=True)  # the op's answer differs
        for x in (first, second):
            _same_bits(compiled(x), f(x))
        g = cr.jit(cr.grad(lambda x: cnp.sum(f(x))))  # under a differentiating trace too
        for x in (first, second):
            _same_bits(g(x), cr.grad(lambda x: cnp.sum(f(x)))(x))
