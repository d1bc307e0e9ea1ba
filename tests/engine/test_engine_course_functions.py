"""The NumPy functions course exercises use: einsum, prod, cumsum, linalg.norm, tan, arctan.

Each is checked here for what test_engine_every_primitive.py (which gradient-checks every primitive
in float64, both modes, order 2, and jit against eager bit for bit) does not cover: NumPy's own
spellings on traced values, NumPy's results on plain arrays, the edge cases (prod at zeros, norm at
0, einsum's implicit/ellipsis/repeated-letter forms) and the errors for what is not supported.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import ShapeError
from chainrule.numpy import tracer_methods

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4, 2))
SQUARE = RNG.standard_normal((3, 3))
BATCH = RNG.standard_normal((2, 3, 4))

# (name, chainrule function, NumPy function, arguments): both spellings must give NumPy's value
SAME_AS_NUMPY = [
    ("tan", cnp.tan, np.tan, (0.4 * A,)),
    ("arctan", cnp.arctan, np.arctan, (A,)),
    ("prod", cnp.prod, np.prod, (A,)),
    ("prod-axis", lambda x: cnp.prod(x, axis=1, keepdims=True), lambda x: np.prod(x, axis=1, keepdims=True), (A,)),
    ("cumsum-flat", cnp.cumsum, np.cumsum, (A,)),
    ("cumsum-axis", lambda x: cnp.cumsum(x, axis=-1), lambda x: np.cumsum(x, axis=-1), (BATCH,)),
    ("norm", cnp.linalg.norm, np.linalg.norm, (A,)),
    ("einsum-matmul", lambda a, b: cnp.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,jk->ik", a, b), (A, B)),
    ("einsum-implicit", lambda a, b: cnp.einsum("ij,jk", a, b), lambda a, b: np.einsum("ij,jk", a, b), (A, B)),
    ("einsum-implicit-order", lambda a: cnp.einsum("ji", a), lambda a: np.einsum("ji", a), (A,)),
    ("einsum-trace", lambda a: cnp.einsum("ii", a), lambda a: np.einsum("ii", a), (SQUARE,)),
    ("einsum-diagonal", lambda a: cnp.einsum("ii->i", a), lambda a: np.einsum("ii->i", a), (SQUARE,)),
    ("einsum-ellipsis", lambda a, b: cnp.einsum("...ij,jk->...ik", a, b),
     lambda a, b: np.einsum("...ij,jk->...ik", a, b), (BATCH, B)),
    ("einsum-ellipsis-implicit", lambda a, b: cnp.einsum("...j,j", a, b),
     lambda a, b: np.einsum("...j,j", a, b), (BATCH, B[:, 0])),
    ("einsum-empty-ellipsis", lambda a: cnp.einsum("...ij->j", a), lambda a: np.einsum("...ij->j", a), (A,)),
    ("einsum-three", lambda a, b, c: cnp.einsum("ij,jk,k->i", a, b, c),
     lambda a, b, c: np.einsum("ij,jk,k->i", a, b, c), (A, B, B[0])),
]


@pytest.mark.parametrize("name, ours, numpys, args", SAME_AS_NUMPY, ids=[c[0] for c in SAME_AS_NUMPY])
def test_value_is_numpys_and_numpy_spelling_differentiates(name, ours, numpys, args):
    np.testing.assert_allclose(ours(*args), numpys(*args), rtol=1e-13, atol=1e-13)  # float64 round-off only
    # NumPy's own spelling on traced values gives chainrule's derivative (not a TypeError, not a lost one)
    w = RNG.standard_normal(np.shape(numpys(*args)))
    argnums = tuple(range(len(args)))
    g_numpy = cr.grad(lambda *xs: cnp.sum(numpys(*xs) * w), argnums=argnums)(*args)
    g_ours = cr.grad(lambda *xs: cnp.sum(ours(*xs) * w), argnums=argnums)(*args)
    for a, b in zip(g_numpy, g_ours):
        np.testing.assert_array_equal(a, b)
    cr.check_grads(lambda *xs: ours(*xs), args, modes=("fwd", "rev"), order=2)


def test_tracer_methods_prod_and_cumsum():
    g = cr.grad(lambda x: x.prod() + cnp.sum(x.cumsum(axis=0)))(A[:2, :2])
    a, b, c, d = A[:2, :2].ravel()
    np.testing.assert_allclose(g, np.array([[b * c * d, a * c * d], [a * b * d, a * b * c]]) + [[2, 2], [1, 1]])


# --- prod at zeros: the product of the others, never a division by zero ---------------------------

@pytest.mark.parametrize("x, grad, hessian", [
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0], [[0, 3, 0], [3, 0, 2], [0, 2, 0]]),
    ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0], [[0, 3, 0], [3, 0, 0], [0, 0, 0]]),
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]),
    ([2.0, -1.0, 3.0], [-3.0, 6.0, -2.0], [[0, 3, -1], [3, 0, 2], [-1, 2, 0]]),
])
def test_prod_derivatives_at_zeros_by_hand(x, grad, hessian):
    x = np.array(x)
    with np.errstate(divide="raise", invalid="raise"):  # a division by zero anywhere raises
        np.testing.assert_array_equal(cr.grad(cnp.prod)(x), grad)
        np.testing.assert_array_equal(cr.jacfwd(cnp.prod)(x), grad)
        np.testing.assert_array_equal(cr.hessian(cnp.prod)(x), np.array(hessian, float))
        np.testing.assert_array_equal(cr.jacfwd(cr.grad(cnp.prod))(x), np.array(hessian, float))


def test_prod_gradient_per_row_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]])
    g = cr.grad(lambda x: cnp.sum(cnp.prod(x, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0, 6, 0], [0, 0, 0], [8, 4, 2]])


# --- norm at 0: the subgradient 0 ----------------------------------------------------------------

@pytest.mark.parametrize("order, axis", [(None, None), (2, None), ("fro", (0, 1)), (None, 1), (1, None)])
def test_norm_at_zero_has_gradient_zero_in_both_modes(order, axis):
    zero = np.zeros((2, 3)) if axis is not None or order == "fro" else np.zeros(3)

    def f(x):
        return cnp.sum(cnp.linalg.norm(x, ord=order, axis=axis))

    with np.errstate(divide="raise", invalid="raise"):
        np.testing.assert_array_equal(cr.grad(f)(zero), np.zeros_like(zero))
        _, tangent = cr.jvp(f, (zero,), (np.ones_like(zero),))
        assert tangent == 0.0


def test_norm_gradient_is_the_unit_vector():
    np.testing.assert_allclose(cr.grad(cnp.linalg.norm)(np.array([3.0, 4.0])), [0.6, 0.8], rtol=1e-15)


@pytest.mark.parametrize("order, axis", [(1, 0), (np.inf, 0), (-np.inf, -1), (1, (0, 1)), (-1, (1, 0)),
                                         (np.inf, (0, 1)), (-np.inf, None), ("fro", None)])
def test_norm_orders_and_keepdims_match_numpy(order, axis):
    x = A  # 2-D: a matrix norm when axis is None or a pair, a vector norm along an int axis
    for keepdims in (False, True):
        ours = cnp.linalg.norm(x, ord=order, axis=axis, keepdims=keepdims)
        theirs = np.linalg.norm(x, ord=order, axis=axis, keepdims=keepdims)
        assert np.shape(ours) == np.shape(theirs)
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    cr.check_grads(lambda x: cnp.linalg.norm(x, ord=order, axis=axis), (x,), order=2)


@pytest.mark.parametrize("call, says", [
    (lambda: cnp.linalg.norm(A, ord=2), "matrix ord=2 is not supported (it needs singular values)"),
    (lambda: cnp.linalg.norm(A, ord="nuc"), "matrix ord='nuc' is not supported"),
    (lambda: cnp.linalg.norm(A[0], ord=3), "vector ord=3 is not supported; supported: None, 2, 1, inf, -inf"),
    (lambda: cnp.linalg.norm(BATCH, ord=1), "ord=1 needs a 1-D or 2-D array or an axis"),
])
def test_unsupported_norms_say_what_is_supported(call, says):
    with pytest.raises(ValueError) as e:
        call()
    assert says in str(e.value)


# --- einsum errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, says", [
    (lambda: cnp.einsum(A, [0, 1]), TypeError, "the sublist form"),
    (lambda: cnp.einsum("ij,jk->ik", A, A), ShapeError, "letter 'j' has sizes 4 and 3"),
    (lambda: cnp.einsum("...i,...i->...", BATCH, A[:1]), ShapeError,
     "an ellipsis axis has sizes 3 and 1 (broadcasting inside einsum is not supported: broadcast_to first)"),
    (lambda: cnp.einsum("ij,jk->ik", A), ShapeError, "2 operand subscripts for 1 operands"),
    (lambda: cnp.einsum("...ij->j", BATCH), ShapeError, "the output must name '...' too (as in NumPy"),
    (lambda: cnp.einsum("ij->ii", SQUARE), ShapeError, "each output letter must appear once, and in an operand"),
    (lambda: cnp.einsum("ij->k", SQUARE), ShapeError, "each output letter must appear once"),
    (lambda: cnp.einsum("i1->i", SQUARE), ShapeError, "subscripts are letters a-z, A-Z"),
    (lambda: cnp.einsum("ijk->i", SQUARE), ShapeError, "term 'ijk' names 3 axes, its operand has shape (3, 3)"),
])
def test_einsum_refuses_what_it_does_not_support_in_one_line(call, error, says):
    with pytest.raises(error) as e:
        call()
    assert says in str(e.value) and "\n" not in str(e.value)


# --- dtype, jit ------------------------------------------------------------------------------------

@pytest.mark.parametrize("f", [
    lambda x: cnp.sum(cnp.tan(x) + cnp.arctan(x)),
    lambda x: cnp.prod(x),
    lambda x: cnp.sum(cnp.cumsum(x, axis=1) ** 2),
    lambda x: cnp.linalg.norm(x),
    lambda x: cnp.linalg.norm(x, ord=1, axis=0).sum(),
    lambda x: cnp.einsum("ij,ij", x, x),
    lambda x: cnp.einsum("ii", x[:, :3]),
], ids=["tan-arctan", "prod", "cumsum", "norm", "norm-1", "einsum", "einsum-trace"])
def test_float32_stays_float32_and_jit_equals_eager(f):
    x = (0.3 * A).astype(np.float32)
    g = cr.grad(f)(x)
    assert g.dtype == np.float32
    compiled = cr.jit(cr.grad(f))
    for y in (x, (0.2 * A[::-1]).astype(np.float32)):  # compiled at x, replayed at another input
        np.testing.assert_array_equal(compiled(y), cr.grad(f)(y))


def test_jit_writes_them_as_numpy_statements():
    source = cr.jit(lambda x: cnp.sum(cnp.einsum("ij,jk", x, x.T)) + cnp.prod(x) + cnp.linalg.norm(x)
                    + cnp.sum(cnp.tan(x) + cnp.arctan(cnp.cumsum(x, axis=0)))).program(SQUARE).source
    for call in ("np.einsum('ij,jk->ik'", "np.prod(", "np.add.reduce(", "np.tan(", "np.arctan(", "np.cumsum("):
        assert call in source


# --- the unsupported-function error lists the dispatch tables --------------------------------------

def test_the_unsupported_function_error_lists_exactly_what_dispatches():
    with pytest.raises(TypeError) as e:
        cr.grad(lambda x: cnp.sum(np.sort(x)))(np.ones(3))
    message = str(e.value)
    for func in tracer_methods._FUNCTIONS:
        assert tracer_methods._numpy_name(func) in message
    for ufunc in tracer_methods._UFUNCS:
        assert f" {ufunc.__name__}," in message or f" {ufunc.__name__} and" in message
    for new in ("np.einsum", "np.prod", "np.cumsum", "np.linalg.norm", " tan,", " arctan,"):
        assert new in message
    assert "\n" not in message
    listed = message.split("the functions ", 1)[1].split(", ")
    assert len(listed) == len({tracer_methods._numpy_name(f) for f in tracer_methods._FUNCTIONS})
