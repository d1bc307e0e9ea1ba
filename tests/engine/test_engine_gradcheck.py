"""The gradient checker itself: it must fail on wrong rules, name the leaf, tell a kink from an
error, and not be fooled into passing by its own retries.

Bad rules are defined with ``chainrule.extend``, as a user would define a new primitive.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import GradientCheckError
from chainrule.extend import defjvp, defvjp, primitive

rng = np.random.default_rng(11)


def _square(name, vjp_factor=2.0, jvp_factor=2.0, vjp_differentiable=True):
    """x² with VJP ``vjp_factor·x·g`` and JVP ``jvp_factor·x·ẋ`` (2 is right)."""
    p = primitive(name, np.square)
    if vjp_differentiable:
        defvjp(p, lambda g, ans, x: g * vjp_factor * x)
    else:  # right value, but the rule's own derivative is lost: order 2 must notice
        defvjp(p, lambda g, ans, x: g * vjp_factor * cr.stop_gradient(x))
    defjvp(p, lambda x_dot, ans, x: x_dot * jvp_factor * x)
    return p


def test_correct_rules_pass():
    good = _square("good_square")
    report = cr.check_grads(lambda x: good(x), (rng.standard_normal(4),))
    assert report.passed and report.max_error < 1e-9
    assert [(e.mode, e.order) for e in report.entries] == [
        ("fwd", 1), ("rev", 1), ("fwd→fwd", 2), ("fwd→rev", 2), ("rev→fwd", 2), ("rev→rev", 2)
    ]


def test_detects_a_wrong_vjp_and_names_the_leaf():
    bad = _square("bad_vjp_square", vjp_factor=3.0)
    params = {"weight": rng.standard_normal((2, 3)), "bias": rng.standard_normal(3)}
    f = lambda p: cnp.sum(bad(p["weight"]) + p["bias"])
    with pytest.raises(GradientCheckError) as info:
        cr.check_grads(f, (params,))
    message = str(info.value)
    failing = [line for line in message.splitlines() if line.endswith("finite difference")]
    assert failing and all(line.startswith("weight ") for line in failing), message
    assert "FAILED" in message
    report = cr.check_grads(f, (params,), raise_on_failure=False)
    assert not report.passed
    assert {(e.leaf, e.mode) for e in report.failures()} >= {("weight", "rev")}
    assert all(e.leaf == "weight" and "rev" in e.mode for e in report.failures())
    assert report.by_leaf()["bias"] < 1e-9  # the other leaf is fine
    # forward mode alone uses the (right) JVP and passes
    assert cr.check_grads(f, (params,), modes=("fwd",)).passed


def test_detects_a_wrong_jvp():
    bad = _square("bad_jvp_square", jvp_factor=-2.0)
    report = cr.check_grads(lambda x: bad(x), (rng.standard_normal(3),), raise_on_failure=False)
    assert {e.mode for e in report.failures()} >= {"fwd"}
    assert all("fwd" in e.mode for e in report.failures())


def test_detects_a_small_relative_error_despite_the_kink_retries():
    # Off by 1e-5 relative: above the checker's resolution; the retries with smaller steps
    # (meant for kinks) must not swallow it, since the quotient does not change with the step.
    bad = _square("slightly_bad_square", vjp_factor=2.0 * (1 + 1e-5), jvp_factor=2.0 * (1 + 1e-5))
    report = cr.check_grads(lambda x: bad(x), (rng.standard_normal(5),), order=1, raise_on_failure=False)
    assert {e.mode for e in report.failures()} == {"fwd", "rev"}


def test_order_two_checks_the_rules_own_derivatives():
    bad = _square("not_twice_differentiable_square", vjp_differentiable=False)
    x = (rng.standard_normal(3),)
    assert cr.check_grads(lambda x: bad(x), x, order=1).passed
    report = cr.check_grads(lambda x: bad(x), x, order=2, raise_on_failure=False)
    assert report.failures() and all(e.order == 2 and e.mode.startswith("rev→") for e in report.failures())


def test_leaf_names_of_trees_and_several_arguments():
    params = {"layers": [{"W": np.ones((2, 2)), "b": np.ones(2)}, (np.ones(2), np.ones(1))]}
    report = cr.check_grads(lambda p: cnp.sum(cnp.tanh(p["layers"][0]["W"]) * p["layers"][1][0]), (params,))
    assert list(report.by_leaf()) == ["layers[0]/W", "layers[0]/b", "layers[1][0]", "layers[1][1]"]
    report = cr.check_grads(lambda a, p: cnp.sum(a * p["w"]), (np.ones(2), {"w": np.ones(2)}))
    assert list(report.by_leaf()) == ["arg0", "arg1/w"]
    report = cr.check_grads(lambda a, b: cnp.sum(a * b), (np.ones(2), np.ones(2)), argnums=1)
    assert list(report.by_leaf()) == ["x"]


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (cnp.relu, np.array([0.0, 1.0, -2.0])),  # relu'(0) = 0, the one-sided values are 0 and 1
        (lambda x: cnp.clip(x, -1.0, 1.0), np.array([1.0, 0.5])),  # clip'(hi) = 1 (inclusive)
    ],
    ids=["relu", "clip-bound"],
)
def test_a_kink_at_the_point_is_reported_as_kink_not_failure(f, x):
    report = cr.check_grads(f, (x,), order=1)
    assert report.passed
    kinks = [e for e in report.entries if e.status == "kink"]
    assert {e.mode for e in kinks} == {"fwd", "rev"}, str(report)
    assert all("probe crossed a kink at this point" in e.detail for e in kinks)
    # the engine's conventional value is one of the one-sided derivatives: the report says which
    assert all(("matches left" in e.detail or "matches right" in e.detail) for e in kinks), str(report)


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (cnp.abs, np.array([0.5, 0.0])),
        (lambda x: cnp.max(x), np.array([1.0, 3.0, 3.0])),
        (lambda x: cnp.maximum(x[0], x[1]), np.array([2.0, 2.0])),
    ],
    ids=["abs", "max-tie", "maximum-tie"],
)
def test_symmetric_kinks_pass_because_the_convention_is_the_central_difference(f, x):
    # abs'(0) = 0 and the equal split of ties are the average of the one-sided derivatives,
    # which is exactly what the central difference (f(x+εv) − f(x−εv))/2ε measures there.
    report = cr.check_grads(f, (x,), order=1)
    assert {e.status for e in report.entries} == {"pass"}, str(report)


def test_relu_at_zero_kink_at_both_orders():
    report = cr.check_grads(cnp.relu, (np.array([0.0, 0.7]),), order=2)
    assert {e.status for e in report.entries} == {"kink"}, str(report)


def test_a_kink_merely_near_the_point_passes():
    # Entries 3e-7 from relu's kink: the ±1e-6 probe crosses it, the ±1e-8 probe does not.
    x = np.array([3e-7, -3e-7, 2e-7, -2e-7, 1.0])
    report = cr.check_grads(cnp.relu, (x,), order=2)
    assert {e.status for e in report.entries} == {"pass"}, str(report)
    assert any("passed with step" in e.detail for e in report.entries), str(report)


def test_gradients_zero_up_to_round_off_compare_equal():
    # std of two rows is |a − b|/2: its Hessian is exactly zero, the engine's is ~1e-16 and the
    # finite difference of the gradient is round-off (~1e-10): within the round-off floor.
    report = cr.check_grads(lambda x: cnp.std(x, axis=0), (rng.standard_normal((2, 3)),))
    assert report.passed and all(e.status == "pass" for e in report.entries), str(report)


def test_threshold_is_configurable():
    x = (rng.standard_normal(3),)
    report = cr.check_grads(cnp.sin, x, rtol=1e-30, delta=0.0, raise_on_failure=False)
    assert not report.passed  # nothing beats finite differences to 1e-30
    assert "threshold 1e-30" in str(report)
