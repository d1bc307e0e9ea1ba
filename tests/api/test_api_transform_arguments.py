"""Bad arguments to grad, value_and_grad, jvp, vjp, jacrev/jacfwd and check_grads (issue 12, items 10-11)."""

import numpy as np
import pytest
from api_cases import assert_refused

import chainrule as cr

x = np.ones(3)


def f(x):
    return (x * x).sum()


CASES = [
    ("grad-None", lambda: cr.grad(lambda x: None)(x), TypeError, "grad(f)",
     "the function returned None; grad needs a scalar array"),
    ("value_and_grad-None", lambda: cr.value_and_grad(lambda x: None)(x), TypeError, "returned None"),
    ("grad-list", lambda: cr.grad(lambda x: [x.sum()])(x), TypeError, "grad(f)", "returned list"),
    ("grad-str", lambda: cr.grad(lambda x: "loss")(x), TypeError, "grad(f)", "returned str"),
    ("grad-argnums-str", lambda: cr.grad(f, argnums="a"), TypeError, "grad(argnums)", "'a'"),
    ("grad-argnums-bool", lambda: cr.grad(f, argnums=True), TypeError, "grad(argnums)"),
    ("grad-argnums-float", lambda: cr.grad(f, argnums=0.0), TypeError, "grad(argnums)"),
    ("grad-argnums-list", lambda: cr.grad(f, argnums=[0]), TypeError, "grad(argnums)"),
    ("grad-argnums-empty", lambda: cr.grad(f, argnums=()), ValueError, "grad(argnums)"),
    ("grad-argnums-range", lambda: cr.grad(f, argnums=5)(x), TypeError, "grad(argnums)", "argnums=5", "1 arguments"),
    ("grad-argnums-tuple-range", lambda: cr.grad(lambda a, b: (a * b).sum(), argnums=(0, 2))(x, x), TypeError,
     "grad(argnums)"),
    ("grad-not-callable", lambda: cr.grad(3), TypeError, "grad(f)"),
    ("grad-has_aux-str", lambda: cr.grad(f, has_aux="yes"), TypeError, "grad(has_aux)"),
    ("jacrev-argnums", lambda: cr.jacrev(f, argnums="0"), TypeError, "jacrev(argnums)"),
    ("jacfwd-argnums", lambda: cr.jacfwd(f, argnums=None), TypeError, "jacfwd(argnums)"),
    ("jvp-bare-arrays", lambda: cr.jvp(f, x, x), TypeError, "jvp(primals)", "ndarray", "(x,)"),
    ("jvp-bare-tangent", lambda: cr.jvp(f, (x,), x), TypeError, "jvp(tangents)"),
    ("jvp-not-callable", lambda: cr.jvp(None, (x,), (x,)), TypeError, "jvp(f)"),
    ("vjp-not-callable", lambda: cr.vjp("f", x), TypeError, "vjp(f)"),
    ("check_grads-argnums-5", lambda: cr.check_grads(f, (x,), argnums=5), ValueError, "check_grads(argnums)",
     "got 5"),
    ("check_grads-argnums-str", lambda: cr.check_grads(f, (x,), argnums="0"), TypeError, "check_grads(argnums)"),
    ("check_grads-order-0", lambda: cr.check_grads(f, (x,), order=0), ValueError, "check_grads(order)"),
    ("check_grads-mode", lambda: cr.check_grads(f, (x,), modes=("backward",)), ValueError, "check_grads(modes)"),
    ("check_grads-rtol", lambda: cr.check_grads(f, (x,), rtol=-1.0), ValueError, "check_grads(rtol)"),
    ("check_grads-eps-nan", lambda: cr.check_grads(f, (x,), eps=float("nan")), ValueError, "check_grads(eps)"),
]


@pytest.mark.parametrize(("name", "call", "builtin", "words"), [(c[0], c[1], c[2], c[3:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_argument(name, call, builtin, words):
    assert_refused(call, builtin, *words)


def test_numpy_integer_argnums_are_ints():
    a, b = np.ones(2), np.full(2, 3.0)
    g = cr.grad(lambda a, b: (a * b).sum(), argnums=np.int64(1))(a, b)
    np.testing.assert_array_equal(g, a)  # one array, as for argnums=1, not a tuple
    report = cr.check_grads(lambda a, b: (a * b).sum(), (a, b), argnums=-1, order=1)
    assert report.passed


def test_a_function_returning_a_constant_number_still_has_a_zero_gradient():
    np.testing.assert_array_equal(cr.grad(lambda x: 3.0)(x), np.zeros(3))
