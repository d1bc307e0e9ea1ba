"""Errors a user can act on: each names what went wrong (the dtype, both shapes, the op and
argument, the NumPy function) and is of the built-in type a Python user would catch."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.engine.core import Tracer
from chainrule.errors import (
    ChainruleError,
    DifferentiationTypeError,
    GradientCheckError,
    MissingRuleError,
    ShapeError,
)
from chainrule.extend import defjvp, defvjp, primitive


@pytest.mark.parametrize(("dtype", "name"), [(np.int64, "int64"), (np.int32, "int32"), (bool, "bool")])
def test_differentiating_with_respect_to_integers_or_booleans(dtype, name):
    x = np.ones(3, dtype)
    for call in (
        lambda: cr.grad(lambda x: cnp.sum(x * 1.0))(x),
        lambda: cr.jvp(lambda x: x * 1.0, (x,), (np.ones(3),)),
        lambda: cr.vjp(lambda x: x * 1.0, x),
        lambda: cr.jacfwd(lambda x: x * 1.0)(x),
    ):
        with pytest.raises(TypeError, match=rf"dtype {name}") as info:
            call()
        assert isinstance(info.value, DifferentiationTypeError)
    # inside a tree, the message names the leaf
    with pytest.raises(TypeError, match=r"argument 0/labels has dtype int64"):
        cr.grad(lambda p: cnp.sum(p["w"]))({"w": np.ones(2), "labels": np.arange(2)})


SHAPE_ERRORS = {
    "matmul": (lambda x: cnp.matmul(x, np.ones((4, 2))), (2, 3), ["(2, 3)", "(4, 2)"]),
    "matmul-operator": (lambda x: x @ np.ones((4, 2)) if isinstance(x, Tracer) else None, (2, 3), ["(2, 3)", "(4, 2)"]),
    "concatenate": (lambda x: cnp.concatenate([x, np.ones((2, 2))], axis=0), (2, 3), ["(2, 3)", "(2, 2)"]),
    "reshape": (lambda x: cnp.reshape(x, (4,)), (2, 3), ["(2, 3)", "(4,)"]),
    "broadcast_to": (lambda x: cnp.broadcast_to(x, (4, 2)), (2, 3), ["(2, 3)", "(4, 2)"]),
    "stack": (lambda x: cnp.stack([x, np.ones(2)]), (3,), ["(3,)", "(2,)"]),
}


@pytest.mark.parametrize("op", SHAPE_ERRORS)
def test_shape_errors_name_both_shapes(op):
    f, shape, shapes = SHAPE_ERRORS[op]
    x = np.ones(shape)
    plain = [] if op == "matmul-operator" else [lambda: f(x)]  # ndarray @ ndarray is NumPy's own
    for call in (*plain, lambda: cr.grad(lambda x: cnp.sum(f(x)))(x), lambda: cr.jvp(f, (x,), (x,))):
        with pytest.raises(ValueError) as info:
            call()
        assert isinstance(info.value, ShapeError)
        message = str(info.value)
        assert op.split("-")[0] in message and all(s in message for s in shapes), message


def test_missing_rule_names_the_primitive_and_the_argument():
    scale = primitive("scale_by", lambda x, s: x * s)
    defvjp(scale, lambda g, ans, x, s: g * s)  # no rule for s
    defjvp(scale, lambda x_dot, ans, x, s: x_dot * s)
    x, s = np.ones(2), np.array(3.0)
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(scale(x, s)))(x), [3.0, 3.0])  # arg 0 is fine
    for call in (
        lambda: cr.grad(lambda s: cnp.sum(scale(x, s)))(s),
        lambda: cr.jvp(lambda s: scale(x, s), (s,), (s,)),
    ):
        with pytest.raises(NotImplementedError, match=r"primitive 'scale_by' with respect to argument 1") as info:
            call()
        assert isinstance(info.value, MissingRuleError)


def test_non_scalar_output_to_grad():
    with pytest.raises(ValueError, match=r"real scalar.*shape \(3,\).*use jacrev or vjp"):
        cr.grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(ValueError, match=r"real scalar.*dtype int64"):
        cr.grad(lambda x: np.int64(1))(np.ones(3))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda x: np.sort(x), "np.sort"),
        (lambda x: np.cumprod(x), "np.cumprod"),
        (lambda x: np.linalg.slogdet(np.outer(x, x))[1], "np.linalg.slogdet"),
        (lambda x: np.logaddexp(x, x), "np.logaddexp"),
        (lambda x: np.add.reduce(x), "np.add.reduce"),
        (lambda x: np.add(x, x, out=np.empty(3)), "np.add(..., out=...)"),
    ],
    ids=["sort", "cumprod", "linalg.slogdet", "ufunc-logaddexp", "ufunc-method", "ufunc-out"],
)
def test_unsupported_numpy_function_on_a_tracer_names_it(call, name):
    for transform in (
        lambda: cr.grad(lambda x: cnp.sum(call(x)))(np.ones(3)),
        lambda: cr.jvp(call, (np.ones(3),), (np.ones(3),)),
    ):
        with pytest.raises(TypeError, match="not differentiable by chainrule") as info:
            transform()
        assert name in str(info.value)


def test_truth_value_float_and_array_conversion_of_a_tracer():
    def branch(x):
        return x if x else -x

    with pytest.raises(TypeError, match=r"truth value of a traced array.*cnp\.where"):
        cr.grad(branch)(1.0)
    with pytest.raises(TypeError, match=r"float\(\) of a traced value.*stop_gradient"):
        cr.grad(lambda x: float(x))(1.0)
    with pytest.raises(TypeError, match=r"cannot be converted to a NumPy array"):
        cr.jvp(lambda x: np.asarray(x), (1.0,), (1.0,))


def test_structural_errors_of_transforms():
    with pytest.raises(TypeError, match=r"argnums=2 but the function was called with 2 arguments"):
        cr.grad(lambda a, b: a * b, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError, match=r"tangent of shape \(2,\) for primal 0 of shape \(3,\)"):
        cr.jvp(lambda x: x, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match=r"1 primals but 2 tangents"):
        cr.jvp(lambda x: x, (np.ones(3),), (np.ones(3), np.ones(3)))
    _, vjp_fn = cr.vjp(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ValueError, match=r"cotangent of shape \(2,\) for an output of shape \(3,\)"):
        vjp_fn(np.ones(2))
    with pytest.raises(TypeError, match=r"must return a pair \(value, aux\)"):
        cr.grad(lambda x: x * 1.0, has_aux=True)(1.0)


def test_check_grads_rejects_integer_leaves_and_unknown_modes():
    with pytest.raises(GradientCheckError, match=r"dtype int64 cannot be differentiated"):
        cr.check_grads(lambda x: x * 1.0, (np.arange(3),))
    with pytest.raises(ValueError, match=r"check_grads\(modes\): expected .*'fwd', 'rev', got \('backward',\)"):
        cr.check_grads(lambda x: x * 1.0, (np.ones(3),), modes=("backward",))


def test_every_deliberate_error_is_a_chainrule_error():
    for cls in (DifferentiationTypeError, GradientCheckError, MissingRuleError, ShapeError):
        assert issubclass(cls, ChainruleError)
