"""Layers own their parameters: one layer object in two models, a model nested in another, and the
names (relative paths, torch's) that containers give their children's parameters."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics import dense_layers


def loss_of(model, x, y):
    return lambda p: nn.losses.cross_entropy(model.apply(p, x), y)


def test_a_nested_model_still_works_alone_and_the_outer_one_is_the_composition():
    # Issue 10's first snippet: nesting `inner` used to rename its layers ('2.0.weight'), so
    # inner.apply(p, x) raised KeyError.
    inner = nn.MLP([2, 4, 2])
    p = inner.init(seed=0)
    x = np.random.default_rng(0).standard_normal((3, 2))
    alone = inner.apply(p, x)
    outer = nn.Sequential(nn.Dense(2, 2), nn.ReLU(), inner)
    np.testing.assert_array_equal(inner.apply(p, x), alone)  # bitwise: the same computation
    q = outer.init(seed=1)
    assert list(q) == ["0.weight", "0.bias", "2.0.weight", "2.0.bias", "2.2.weight", "2.2.bias"]
    h = np.maximum(x @ q["0.weight"].T + q["0.bias"], 0)
    inner_part = {k[2:]: v for k, v in q.items() if k.startswith("2.")}
    np.testing.assert_array_equal(outer.apply(q, x), inner.apply(inner_part, h))


def test_nesting_gives_the_gradients_of_the_unnested_network():
    inner = nn.MLP([2, 4, 2], activation="tanh")
    inner.init(seed=0)
    outer = nn.Sequential(nn.Dense(2, 2), nn.ReLU(), inner)
    flat = nn.Sequential(nn.Dense(2, 2), nn.ReLU(), nn.Dense(2, 4), nn.Tanh(), nn.Dense(4, 2))
    q = outer.init(seed=1)
    renamed = {"2.0.": "2.", "2.2.": "4."}
    flat_params = {next((n + k[4:] for o, n in renamed.items() if k.startswith(o)), k): v for k, v in q.items()}
    assert list(flat_params) == list(flat.init(seed=1))
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((5, 2)), rng.integers(0, 2, 5)
    value, g = cr.value_and_grad(loss_of(outer, x, y))(q)
    flat_value, flat_g = cr.value_and_grad(loss_of(flat, x, y))(flat_params)
    assert value == flat_value  # the same primitives on the same numbers: bitwise
    for k in q:
        flat_k = next((n + k[4:] for o, n in renamed.items() if k.startswith(o)), k)
        np.testing.assert_array_equal(g[k], flat_g[flat_k], err_msg=k)
    # and both against central differences in float64 (rtol: check_grads' default, 1e-7)
    cr.check_grads(loss_of(outer, x, y), (q,), order=2)
    cr.check_grads(lambda p: inner.apply(p, x), (inner.params,), order=2)


def test_one_layer_object_in_two_models():
    # Issue 10's second snippet: putting `d` into a second model made the first read '2.weight'.
    d = nn.Dense(3, 3)
    m1 = nn.Sequential(d, nn.Tanh(), nn.Dense(3, 3))
    p1 = m1.init(seed=0)
    x = np.random.default_rng(3).standard_normal((2, 3))
    ref = m1.apply(p1, x)
    m2 = nn.Sequential(nn.Dense(3, 3), nn.Tanh(), d)
    p2 = m2.init(seed=1)
    np.testing.assert_array_equal(m1.apply(p1, x), ref)
    # m2 computes with its own parameters: d's weight is '2.weight' there
    z = np.tanh(x @ p2["0.weight"].T + p2["0.bias"])
    np.testing.assert_allclose(m2.apply(p2, x), z @ p2["2.weight"].T + p2["2.bias"], rtol=1e-14)
    # gradients reach each model's own entry for the shared layer
    y = np.array([0, 2])
    g1 = cr.grad(loss_of(m1, x, y))(p1)
    g2 = cr.grad(loss_of(m2, x, y))(p2)
    assert set(g1) == set(p1) and set(g2) == set(p2)
    assert np.any(g1["0.weight"] != 0) and np.any(g2["2.weight"] != 0)
    cr.check_grads(loss_of(m1, x, y), (p1,), order=1)
    cr.check_grads(loss_of(m2, x, y), (p2,), order=1)


def test_a_layer_receives_only_its_own_parameters_under_local_names():
    seen = []

    class Spy(nn.Dense):
        def call(self, params, a, ctx, activation="identity", alpha=0.01):
            seen.append(sorted(params))
            return super().call(params, a, ctx, activation, alpha)

    model = nn.Sequential(nn.Dense(2, 3), nn.ReLU(), nn.Residual(Spy(3, 3), nn.Tanh()), nn.Dense(3, 1))
    params = model.init(seed=0)
    assert "2.fn.0.weight" in params
    model.apply(params, np.ones((4, 2)))
    assert seen == [["bias", "weight"]]


def test_batchnorm_in_training_returns_its_statistics_and_writes_nothing():
    model = nn.Sequential(nn.Dense(2, 3), nn.Residual(nn.BatchNorm(3), nn.ReLU()))
    model.init(seed=0)
    before = {k: v.copy() for k, v in model.buffers.items()}
    x = np.random.default_rng(4).standard_normal((6, 2)) + 2
    out, state = model.apply(model.params, x, training=True, return_state=True)
    plain = model.apply(model.params, x, training=True)
    np.testing.assert_array_equal(out, plain)
    for k, v in model.buffers.items():  # not written
        np.testing.assert_array_equal(v, before[k])
    assert list(state) == list(model.buffers) == ["1.fn.0.running_mean", "1.fn.0.running_var",
                                                 "1.fn.0.num_batches_tracked"]
    z = x @ model.params["0.weight"].T + model.params["0.bias"]
    np.testing.assert_allclose(state["1.fn.0.running_mean"], 0.9 * 0 + 0.1 * z.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(state["1.fn.0.running_var"], 0.9 * 1 + 0.1 * z.var(axis=0, ddof=1), rtol=1e-15)
    assert isinstance(state["1.fn.0.num_batches_tracked"], np.ndarray)
    assert state["1.fn.0.num_batches_tracked"].dtype == np.int64 and int(state["1.fn.0.num_batches_tracked"]) == 1
    _, same = model.apply(model.params, x, training=False, return_state=True)  # evaluation: unchanged
    for k in same:
        np.testing.assert_array_equal(same[k], before[k])


def test_record_names_and_diagnostics_follow_the_one_fusion_plan():
    from chainrule.nn.fusion import fusion_plan

    model = nn.Sequential(nn.Dense(2, 4), nn.BatchNorm(4), nn.ReLU(), nn.Dense(4, 4), nn.Tanh(),
                          nn.Residual(nn.Dense(4, 4), nn.ELU()), nn.Dense(4, 3))
    params = model.init(seed=0)
    plan = fusion_plan(model.layers)
    assert [(s.start, s.stop, s.activation, s.act_index) for s in plan] == [
        (0, 0, "relu", 2), (1, 1, None, None), (2, 2, None, None), (3, 4, "tanh", 4), (5, 5, None, None),
        (6, 6, "identity", None)]
    names = []
    model.apply(params, np.ones((3, 2)), training=True, record=lambda name, a: names.append(name))
    assert names == ["0", "1", "2", "4", "5.0", "5.1", "5", "6"]
    infos = dense_layers(model)
    assert [(i.name, i.out_step, i.act_step, i.activation, i.fused) for i in infos] == [
        ("0.weight", "0", "2", "relu", False), ("3.weight", "4", "4", "tanh", True),
        ("5.fn.0.weight", "5.0", "5.1", "elu", False), ("6.weight", "6", "6", "identity", False)]
    # initialization reads the same plan: He before ReLU (past BatchNorm), Xavier before tanh
    big = nn.Sequential(nn.Dense(400, 400), nn.BatchNorm(400), nn.ReLU(), nn.Dense(400, 400), nn.Tanh())
    w = big.init(seed=0)
    # Var(W) = 2/fan_in = 0.005 (He) and 2/(fan_in + fan_out) = 0.0025 (Xavier); 160,000 draws give
    # the sample variance to ~0.4% (relative standard error √(2/n)), far inside 5%.
    assert abs(np.var(w["0.weight"]) / 0.005 - 1) < 0.05
    assert abs(np.var(w["3.weight"]) / 0.0025 - 1) < 0.05


def test_stageable_is_declared_and_not_inherited():
    assert nn.Dense(2, 2).stageable and nn.ReLU().stageable and nn.BatchNorm(2).stageable
    assert nn.Dropout(0.0).stageable and not nn.Dropout(0.5).stageable
    assert nn.MLP([2, 3, 1], batchnorm=True).stageable
    assert not nn.Sequential(nn.Dense(2, 2), nn.Dropout(0.1)).stageable

    class MyDense(nn.Dense):
        pass

    class Trusted(nn.Dense):
        stageable = True

    assert not MyDense(2, 2).stageable and Trusted(2, 2).stageable
    assert not nn.Sequential(MyDense(2, 2), nn.ReLU()).stageable


def test_the_version_moves_on_every_change_at_any_depth_and_never_back():
    drop = nn.Dropout(0.0)
    inner = nn.Sequential(nn.Dense(3, 3), drop)
    model = nn.Sequential(nn.Dense(2, 3), nn.ReLU(), inner)
    seen = [model.version]

    def moved():
        seen.append(model.version)
        return seen[-1] > seen[-2]

    drop.p = 0.5
    assert moved()
    model.layers[1].name = "tanh"
    assert moved()
    for _ in range(3):
        drop.p = 0.1  # the removed layer below carries a large version
    inner.layers[1] = nn.Dropout(0.1)  # a fresh layer (version 1) replaces it: the total must not drop
    assert moved()
    model.layers.append(nn.Dense(3, 2))
    assert moved()
    model.layers.pop()
    assert moved()


def test_a_changed_activation_changes_the_forward_pass():
    model = nn.Sequential(nn.Dense(2, 3), nn.ReLU(), nn.Dense(3, 1))
    params = model.init(seed=0)
    x = np.random.default_rng(5).standard_normal((4, 2))
    model.layers[1].name = "tanh"  # fused before and after: the plan is rebuilt
    z = np.tanh(x @ params["0.weight"].T + params["0.bias"])
    np.testing.assert_allclose(model.apply(params, x), z @ params["2.weight"].T + params["2.bias"], rtol=1e-14)
    model.layers[1] = nn.ELU()  # not fusable
    z = x @ params["0.weight"].T + params["0.bias"]
    h = np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    np.testing.assert_allclose(model.apply(params, x), h @ params["2.weight"].T + params["2.bias"], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("remat", [False, True])
def test_compiled_training_with_batchnorm_equals_eager_bit_for_bit(dtype, remat):
    from chainrule.data import make_moons
    from chainrule.train import Trainer

    X, y = make_moons(n=96, noise=0.2, seed=0)

    def run(compiled):
        model = nn.MLP([2, 8, 8, 8, 2], batchnorm=True)  # 8 steps: remat makes 3 segments
        trainer = Trainer(model, loss="cross_entropy", optimizer="adam", learning_rate=0.05, batch_size=16,
                          seed=3, dtype=dtype, verbose=0, compiled=compiled, gradient_checkpointing=remat)
        trainer.fit(X.astype(dtype), y, epochs=3)
        return trainer

    fast, slow = run(True), run(False)
    assert fast.compiled and not slow.compiled
    state_fast, state_slow = fast.model.state_dict(), slow.model.state_dict()
    assert list(state_fast) == list(state_slow)
    for k in state_slow:  # weights AND running statistics
        assert state_fast[k].dtype == state_slow[k].dtype, k
        np.testing.assert_array_equal(state_fast[k], state_slow[k], err_msg=k)
    assert int(state_fast["1.num_batches_tracked"]) == fast.step == 18  # each batch counted once
    assert not np.allclose(state_fast["1.running_mean"], 0)  # they did move
    np.testing.assert_array_equal(fast.history["loss"], slow.history["loss"])


def test_a_change_deep_inside_a_nested_model_is_noticed_by_the_compiled_step():
    from chainrule.data import make_moons
    from chainrule.train import Trainer

    X, y = make_moons(n=64, noise=0.2, seed=0)
    drop = nn.Dropout(0.0)
    model = nn.Sequential(nn.Dense(2, 8), nn.ReLU(), nn.Sequential(nn.Dense(8, 8), nn.Tanh(), drop), nn.Dense(8, 2))
    trainer = Trainer(model, loss="cross_entropy", optimizer="sgd", batch_size=16, seed=1, verbose=0)
    trainer.fit(X, y, epochs=1)
    assert trainer.compiled
    drop.p = 0.5  # two levels down: the compiled step (which has no dropout in it) must not be reused
    trainer.fit(X, y, epochs=2)
    assert not trainer.compiled


def test_version_is_new_after_any_change_even_with_a_layer_used_twice():
    """A layer used twice, one use swapped, then Settings assigned: the sum of versions could
    come back to the traced value; stamps of one clock cannot (and the compiled step notices)."""
    from chainrule.nn import losses
    from chainrule.train import Trainer

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
    act = nn.ELU(alpha=1.0)
    for _ in range(3):
        act.alpha = 1.0
    model = nn.Sequential(nn.Dense(2, 8), act, nn.Dense(8, 8), act, nn.Dense(8, 2))
    trainer = Trainer(model, batch_size=16, verbose=0, compiled=True)
    trainer.train_step(X[:16], y[:16])
    seen = {model.version}
    model.layers[3] = nn.Tanh()
    assert model.version not in seen
    seen.add(model.version)
    act.alpha = 0.5
    act.alpha = 0.5
    assert model.version not in seen
    expected = float(losses.cross_entropy(model.apply(model.params, X[16:]), y[16:]))
    assert trainer.train_step(X[16:], y[16:]) == pytest.approx(expected, rel=1e-12)


def test_deepcopy_owns_its_layers():
    import copy

    X = np.random.default_rng(1).standard_normal((8, 2))
    model = nn.Sequential(nn.Dense(2, 4), nn.BatchNorm(4), nn.ELU(), nn.Dense(4, 2))
    model.init(0)
    twin = copy.deepcopy(model)
    before = twin(X)
    model.layers[2].alpha = 5.0  # the original's layer: the copy must not follow
    np.testing.assert_array_equal(twin(X), before)
    twin.layers[2] = nn.Tanh()  # a swap in the copy rebuilds the copy's plan
    assert not np.allclose(twin(X), before)
    np.testing.assert_array_equal(twin(X), np.tanh(np.asarray(twin.layers[1].call(
        {"weight": twin.params["1.weight"], "bias": twin.params["1.bias"]},
        twin.layers[0].call({"weight": twin.params["0.weight"], "bias": twin.params["0.bias"]}, X, None),
        nn.model.Context(buffers={k[2:]: v for k, v in twin.buffers.items() if k.startswith("1.")}))))
        @ twin.params["3.weight"].T + twin.params["3.bias"])
