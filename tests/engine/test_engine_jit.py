"""chainrule.jit: a staged program gives the same bits as the function it compiles, on every call.

The independent truth here is the eager engine itself (verified against finite differences and
PyTorch elsewhere): the compiled code calls the same primitive implementations in the same
order, so values and gradients must agree *exactly* (array_equal, no tolerance). Each check
runs the compiled function on fresh inputs after the tracing call, so anything baked into the
program by mistake (a mask, labels, a batch) shows up as a difference.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.engine.tree import flatten
from chainrule.errors import ShapeError, StagingError


def same(a, b):
    la, da = flatten(a)
    lb, db = flatten(b)
    assert da == db
    for x, y in zip(la, lb):
        assert type(x) is type(y) or (isinstance(x, np.generic | np.ndarray) and isinstance(y, np.generic | np.ndarray))
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)


def check_calls(fn, calls):
    """jit(fn) on each argument tuple of ``calls`` equals fn on it, bit for bit."""
    compiled = cr.jit(fn)
    for args in calls:
        same(compiled(*args), fn(*args))
    return compiled


def built(model, seed=0, dtype=np.float64):
    model.init(seed=seed, dtype=dtype)
    return model


def mlp_objective(model, loss="cross_entropy"):
    loss_fn = nn.losses.get(loss)

    def objective(params, x, y):
        return loss_fn(model.apply(params, x, training=True), y)

    return objective


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_value_and_grad_equals_eager_on_new_batches(activation, dtype):
    model = built(nn.MLP([3, 7, 5, 4], activation=activation), seed=1, dtype=dtype)
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((16, 3)).astype(dtype), rng.integers(0, 4, 16)) for _ in range(4)]
    fn = cr.value_and_grad(mlp_objective(model))
    compiled = check_calls(fn, [(model.params, x, y) for x, y in batches])
    assert len(compiled.programs) == 1  # one signature: traced once, replayed three times


@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "binary_cross_entropy"])
def test_regression_and_binary_losses_equal_eager(loss):
    d_out = 1 if loss == "binary_cross_entropy" else 2
    model = built(nn.MLP([2, 6, d_out], activation="tanh"), seed=3)
    rng = np.random.default_rng(1)
    calls = []
    for _ in range(3):
        x = rng.standard_normal((10, 2))
        y = rng.integers(0, 2, 10).astype(float) if d_out == 1 else rng.standard_normal((10, 2))
        calls.append((model.params, x, y))
    check_calls(cr.value_and_grad(mlp_objective(model, loss)), calls)


def test_residual_network_and_weight_sharing_equal_eager():
    model = built(nn.Sequential(nn.Dense(4, 6), nn.Activation("relu"),
                                nn.Residual(nn.Dense(6, 6), nn.Activation("tanh")), nn.Dense(6, 3)), seed=2)
    rng = np.random.default_rng(2)
    calls = [(model.params, rng.standard_normal((8, 4)), rng.integers(0, 3, 8)) for _ in range(3)]
    check_calls(cr.value_and_grad(mlp_objective(model)), calls)

    def shared(w, x):  # one weight used three times: the sweep adds its contributions
        h = cnp.tanh(x @ w)
        return cnp.sum((h @ w.T) * (x @ w))

    w = rng.standard_normal((4, 4))
    check_calls(cr.grad(shared), [(w, rng.standard_normal((5, 4))) for _ in range(3)])


def test_masks_labels_and_indices_are_recomputed_each_call():
    def f(z, y):  # a traced index array, a comparison mask, a maximum and broadcasting
        picked = z[np.arange(len(z)), y]
        return cnp.sum(cnp.where(z > 0, z, 0.1 * z)) - cnp.sum(picked) + cnp.sum(cnp.maximum(z, 0.5))

    rng = np.random.default_rng(3)
    calls = [(rng.standard_normal((6, 3)), rng.integers(0, 3, 6)) for _ in range(4)]
    check_calls(cr.value_and_grad(f), calls)


def test_concatenate_stack_and_reductions_with_several_traced_inputs():
    def f(a, b):
        c = cnp.concatenate([a, b], axis=0)
        s = cnp.stack([a, b])
        return cnp.sum(cnp.logsumexp(c, axis=1)) + cnp.max(s) + cnp.mean(cnp.softmax(c, axis=0) ** 2)

    rng = np.random.default_rng(4)
    calls = [(rng.standard_normal((2, 3)), rng.standard_normal((2, 3))) for _ in range(3)]
    check_calls(cr.grad(f, argnums=(0, 1)), calls)


def test_forward_mode_and_second_order_compile_too():
    f = lambda x: cnp.sum(cnp.sin(x) * cnp.tanh(x) ** 2)  # noqa: E731
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal(5) for _ in range(3)]
    vs = [rng.standard_normal(5) for _ in range(3)]
    check_calls(lambda x, v: cr.jvp(f, (x,), (v,)), list(zip(xs, vs)))
    check_calls(lambda x, v: cr.hvp(f, x, v), list(zip(xs, vs)))
    check_calls(cr.hessian(f), [(x,) for x in xs])


def test_a_new_shape_or_static_value_compiles_a_new_program():
    def f(x, scale):
        return cnp.sum(x * scale)

    g = cr.jit(cr.grad(f))
    g(np.ones(3), 2.0)
    g(np.ones(3), 2.0)
    g(np.ones(4), 2.0)
    np.testing.assert_array_equal(g(np.ones(3), 3.0), np.full(3, 3.0))
    g(np.ones(3, np.float32), 2.0)
    assert len(g.programs) == 4


def test_first_call_result_is_the_real_result():
    f = cr.jit(lambda x: cnp.exp(x) + 1.0)
    x = np.array([0.0, 1.0])
    np.testing.assert_array_equal(f(x), np.exp(x) + 1.0)


def test_returned_arrays_are_the_callers_own():
    def f(x):
        return {"a": x * 2.0, "again": None, "zero": np.zeros(2), "twice": [x * 3.0] * 2,
                "view": cnp.broadcast_to(x, (2, 2))}

    g = cr.jit(f)
    x = np.array([1.0, 2.0])
    for _ in range(3):  # the tracing call, then replays
        out = g(x)
        np.testing.assert_array_equal(out["zero"], np.zeros(2))
        out["zero"] += 5.0  # a constant output must not carry this into the next call
    assert out["twice"][0] is not out["twice"][1]
    assert out["view"].flags.writeable
    assert out["again"] is None

    w = cr.jit(cr.grad(lambda a, b: cnp.sum(a + b), argnums=(0, 1)))  # one cotangent, two inputs
    ga, gb = w(x, x)
    ga2, gb2 = w(x, x)
    assert ga2 is not gb2 and not np.shares_memory(ga2, gb2)


def test_control_flow_on_a_traced_value_is_a_clear_error():
    def branchy(x):
        if cnp.sum(x) > 0:
            return x
        return -x

    with pytest.raises(StagingError, match="control flow"):
        cr.jit(branchy)(np.ones(2))
    with pytest.raises(StagingError, match="float"):
        cr.jit(lambda x: float(cnp.sum(x)))(np.ones(2))
    with pytest.raises(StagingError, match="NumPy array"):
        cr.jit(lambda x: np.asarray(x) + 1)(np.ones(2))


def test_shape_dependent_python_is_fine():
    def f(x):
        out = x
        for _ in range(x.shape[0]):  # shapes are static: a loop over them unrolls
            out = cnp.tanh(out)
        return cnp.sum(out)

    check_calls(cr.grad(f), [(np.linspace(-1, 1, 3),), (np.linspace(0, 2, 3),), (np.ones(5),)])


def test_inside_another_transform_jit_runs_traced():
    f = lambda x: cnp.sum(cnp.tanh(x) ** 3)  # noqa: E731
    x = np.array([0.3, -1.2, 2.0])
    same(cr.grad(cr.jit(f))(x), cr.grad(f)(x))
    same(cr.jvp(cr.jit(f), (x,), (np.ones(3),)), cr.jvp(f, (x,), (np.ones(3),)))


def test_closing_over_a_value_of_an_outer_transform_is_a_clear_error():
    x = np.ones(3)

    def outer(w):
        inner = cr.jit(lambda v: cnp.sum(v * w))  # w is traced by grad: not an argument of inner
        return inner(x)

    with pytest.raises(StagingError, match="argument"):
        cr.grad(outer)(np.ones(3))


def test_data_checks_still_run_on_replay():
    model = built(nn.MLP([2, 4, 3]), seed=0)
    g = cr.jit(cr.value_and_grad(mlp_objective(model)))
    x = np.zeros((4, 2))
    g(model.params, x, np.array([0, 1, 2, 0]))
    for bad in (np.array([0, 1, 3, 0]), np.array([0, -1, 2, 0])):
        with pytest.raises(ShapeError, match="labels must lie in"):
            g(model.params, x, bad)
    grad_only = cr.jit(cr.grad(mlp_objective(model)))  # the loss value is dead code here
    grad_only(model.params, x, np.array([0, 1, 2, 0]))
    with pytest.raises(ShapeError, match="labels must lie in"):
        grad_only(model.params, x, np.array([0, -1, 2, 0]))


def test_program_source_reads_as_backprop():
    model = built(nn.MLP([2, 3, 2], activation="relu"), seed=0)
    g = cr.jit(cr.value_and_grad(mlp_objective(model)))
    prog = g.program(model.params, np.zeros((4, 2)), np.zeros(4, int))
    src = prog.source
    assert "argument 0: 0.weight (3, 2) float64" in src
    assert "mean_softmax_cross_entropy(" in src and "sce_residual(" in src  # the loss and ŷ − y
    assert src.count("np.maximum(") == 1 and src.count("np.greater(") == 1  # relu, and its mask in BP2
    # 2 forward products; backward: δ₂W₂ for the layer below, then BP4 (δᵀa) and BP3 (1ᵀδ) per layer
    assert src.count(".dot(") == 2 + 1 + 2 * 2
    assert "program" in repr(prog)
    grad_only = cr.jit(cr.grad(mlp_objective(model))).program(model.params, np.zeros((4, 2)), np.zeros(4, int))
    assert "mean_softmax_cross_entropy(" not in grad_only.source  # the unused loss value is dropped
    assert len(grad_only) == len(prog) - 1


def test_a_runtime_error_points_into_the_generated_source():
    import traceback

    model = built(nn.MLP([2, 3, 2]), seed=0)
    g = cr.jit(cr.value_and_grad(mlp_objective(model)))
    x = np.zeros((4, 2))
    g(model.params, x, np.array([0, 1, 1, 0]))
    try:
        g(model.params, x, np.array([0, 1, 2, 0]))
    except ShapeError:
        text = traceback.format_exc()
    assert "chainrule.jit" in text and "mean_softmax_cross_entropy(" in text


def test_in_place_changes_of_an_input_between_calls_are_seen():
    # the backward pass's softmax cache must match values, not object identity
    y = np.array([0, 2, 1, 0])
    f = cr.grad(lambda z: nn.losses.cross_entropy(z, y))
    g = cr.jit(f)
    z = np.random.default_rng(0).standard_normal((4, 3))
    for _ in range(3):
        same(g(z), f(z))
        z -= 0.5 * f(z)  # the caller updates its array in place


def test_namedtuples_and_unhashable_arguments_are_clear_errors():
    from collections import namedtuple

    Pair = namedtuple("Pair", "a b")
    with pytest.raises(StagingError, match="returned a Pair"):
        cr.jit(lambda x: Pair(x, x))(np.ones(2))
    with pytest.raises(StagingError, match="holding arrays cannot be an argument"):
        cr.jit(lambda p: p.a + p.b)(Pair(np.ones(2), np.ones(2)))
    with pytest.raises(StagingError, match="neither an array nor a hashable"):
        cr.jit(lambda x, s: x)(np.ones(2), _Unhashable())
    f = cr.jit(lambda x, cfg: x * np.copysign(1.0, cfg.a))  # static fields keyed by type and bits too
    assert f(np.ones(1), Pair(0.0, 1))[0] == 1.0 and f(np.ones(1), Pair(-0.0, 1))[0] == -1.0


class _Unhashable:
    __hash__ = None


def test_boolean_mask_indexing_is_a_clear_error():
    f = cr.jit(lambda x, m: cnp.mean(x[m]))
    with pytest.raises(StagingError, match="boolean mask"):
        f(np.arange(4.0), np.array([True, False, True, False]))


def test_static_arguments_are_keyed_by_type_and_bits():
    f = cr.jit(lambda x, s: x * s)
    x = np.array([1.0, 2.0])
    assert np.signbit(f(x, -0.0)).all() and not np.signbit(f(x, 0.0)).any()
    g = cr.jit(lambda x, scale=1: x * scale)
    xi = np.arange(3)
    assert g(xi, scale=1).dtype == np.int64 and g(xi, scale=1.0).dtype == np.float64
    h = cr.jit(lambda x, w=None: x * w)  # an array passed by keyword is an input like any other
    np.testing.assert_array_equal(h(x, w=np.array([3.0, 4.0])), [3.0, 8.0])
    np.testing.assert_array_equal(h(x, w=np.array([5.0, 6.0])), [5.0, 12.0])
    n = cr.jit(lambda x, s: x + s)
    for _ in range(3):
        n(x, float("nan"))
    assert len(n.programs) == 1


def test_outputs_never_alias_the_callers_arrays():
    fwd = cr.jit(lambda x, v: cr.jvp(lambda x: cnp.reshape(x, (3,)), (x,), (v,))[1])
    v = np.arange(3.0)
    for _ in range(2):
        t = fwd(np.ones(3), v)
        assert not np.shares_memory(t, v)
    ident = cr.jit(lambda x: x)
    assert not np.shares_memory(ident(v), v) and not np.shares_memory(ident(v), v)


def test_unsupported_operations_are_staging_errors_and_jit_or_eager_falls_back():
    from chainrule.jit import jit_or_eager

    def assign(x):
        x[0] = 1.0
        return x

    with pytest.raises(StagingError, match="assignment"):
        cr.jit(assign)(np.zeros(2))
    with pytest.raises(StagingError, match="int()"):
        cr.jit(lambda x: x * int(x[0]))(np.ones(2))
    with pytest.raises(StagingError, match="cannot be compiled"):
        cr.jit(lambda x: np.sort(x))(np.ones(2))
    spacing = jit_or_eager(lambda x: np.spacing(x))  # an unknown ufunc: eager works, so it falls back
    np.testing.assert_array_equal(spacing(np.ones(3)), np.spacing(np.ones(3)))
    assert not spacing.is_compiled()
    with pytest.raises(TypeError, match="bounds"):
        cr.jit(lambda x, lo: cnp.clip(x, lo, None))(np.ones(3), np.zeros(3))


@pytest.mark.parametrize("name", ["3x", "lambda", "v0", "c1", "np", "program", "double"])
def test_primitive_names_that_are_not_identifiers_compile(name):
    from chainrule.extend import defvjp, primitive

    prim = primitive(name, lambda x: 2.0 * x)
    defvjp(prim, lambda g, ans, x: 2.0 * g)
    f = cr.jit(cr.value_and_grad(lambda x: cnp.sum(prim(x) * x)))
    x = np.array([1.0, 2.0])
    for _ in range(2):
        value, g = f(x)
        assert value == 10.0
        np.testing.assert_array_equal(g, 4.0 * x)


def test_keyword_and_positional_calls_do_not_share_a_program():
    def f(a, b=None):
        if isinstance(a, tuple):
            return a[0] + b["b"] * 100.0
        return a + b

    jf, x, y = cr.jit(f), np.ones(3), np.full(3, 2.0)
    np.testing.assert_array_equal(jf(x, b=y), f(x, b=y))
    np.testing.assert_array_equal(jf((x,), {"b": y}), f((x,), {"b": y}))


def test_a_float_target_is_cast_to_the_predictions_dtype_as_eagerly():
    z = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    for y in (np.random.default_rng(1).standard_normal((4, 2)), np.ones((4, 2), np.int64)):
        fn = cr.value_and_grad(lambda z, y: nn.losses.mse(z, y))
        same(cr.jit(fn)(z, y), fn(z, y))


def test_no_aliasing_when_a_later_call_has_another_memory_layout():
    f = cr.jit(lambda x: cnp.reshape(x, (-1,)))
    f(np.asfortranarray(np.ones((2, 3))))  # traced on Fortran order: reshape copies here
    x = np.ones((2, 3))
    out = f(x)  # C order: reshape would be a view
    assert not np.shares_memory(out, x)
