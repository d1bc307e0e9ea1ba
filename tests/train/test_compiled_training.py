"""The Trainer's compiled steps (chainrule.jit): used when safe, and the same numbers as eager steps."""

import numpy as np
import pytest

from chainrule import nn, optim
from chainrule.data import make_moons
from chainrule.train import Trainer


def moons(dtype=np.float64):
    X, y = make_moons(n=96, noise=0.2, seed=0)
    return X.astype(dtype), np.asarray(y)


def train(model_fn, compiled, loss="cross_entropy", y_fn=None, dtype=np.float64, **options):
    X, y = moons(dtype)
    if y_fn is not None:
        y = y_fn(y)
    trainer = Trainer(model_fn(), loss=loss, optimizer=options.pop("optimizer", "sgd"), learning_rate=0.05,
                      batch_size=16, seed=3, dtype=dtype, verbose=0, compiled=compiled, **options)
    trainer.fit(X, y, epochs=3)
    return trainer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_compiled_training_equals_eager_bit_for_bit(dtype, optimizer):
    make = lambda: nn.MLP([2, 16, 16, 2], activation="relu")  # noqa: E731
    fast = train(make, True, dtype=dtype, optimizer=optimizer)
    slow = train(make, False, dtype=dtype, optimizer=optimizer)
    assert fast.compiled and not slow.compiled
    for k in slow.model.params:
        np.testing.assert_array_equal(fast.model.params[k], slow.model.params[k])
    np.testing.assert_array_equal(fast.history["loss"], slow.history["loss"])


def test_gradient_checkpointing_compiles_and_agrees():
    make = lambda: nn.MLP([2] + [8] * 9 + [2], activation="tanh")  # noqa: E731  (3 segments of 3 layers)
    fast = train(make, True, gradient_checkpointing=True)
    slow = train(make, False, gradient_checkpointing=True)
    plain = train(make, False)
    assert fast.compiled
    for k in slow.model.params:
        np.testing.assert_array_equal(fast.model.params[k], slow.model.params[k])
        np.testing.assert_array_equal(fast.model.params[k], plain.model.params[k])
    program = fast._grad_fn.program(fast.model.params, *[a[:16] for a in moons()], fast.model.buffers)
    assert "checkpoint_layers" in program.source  # the forward keeps segment outputs only; backward recomputes


def test_regression_and_binary_losses_compile_and_agree():
    make = lambda d: (lambda: nn.MLP([2, 8, d], activation="tanh"))  # noqa: E731
    for loss, d, y_fn in [("mse", 1, lambda y: y.astype(float)[:, None]),
                          ("binary_cross_entropy", 1, lambda y: y.astype(float))]:
        fast = train(make(d), True, loss=loss, y_fn=y_fn, metrics=[])
        slow = train(make(d), False, loss=loss, y_fn=y_fn, metrics=[])
        assert fast.compiled, loss
        for k in slow.model.params:
            np.testing.assert_array_equal(fast.model.params[k], slow.model.params[k])


def test_losses_that_check_values_fall_back_to_eager_with_the_same_result():
    # hinge checks that y is in {-1, +1} on its values: not stageable, so the first step falls back
    pm1 = lambda y: 2.0 * y - 1.0  # noqa: E731
    make = lambda: nn.MLP([2, 8, 1], activation="relu")  # noqa: E731
    fast = train(make, True, loss="hinge", y_fn=pm1, metrics=[])
    slow = train(make, False, loss="hinge", y_fn=pm1, metrics=[])
    assert not fast.compiled
    for k in slow.model.params:
        np.testing.assert_array_equal(fast.model.params[k], slow.model.params[k])


@pytest.mark.parametrize("model_fn, options", [
    (lambda: nn.Sequential(nn.Dense(2, 8), nn.Activation("relu"), nn.Dropout(0.3), nn.Dense(8, 2)), {}),
])
def test_random_models_are_not_compiled(model_fn, options):  # (BatchNorm now compiles: tests/nn)
    trainer = Trainer(model_fn(), loss="cross_entropy", optimizer="sgd", verbose=0, **options)
    assert not trainer.compiled


def test_custom_loss_functions_are_not_compiled():
    import chainrule.numpy as cnp

    trainer = Trainer(nn.MLP([2, 4, 1]), loss=lambda out, y: cnp.mean((out[:, 0] - y) ** 2), optimizer="sgd", verbose=0)
    assert not trainer.compiled


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_sgd_fast_loop_equals_the_general_update(dtype):
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((5, 3)).astype(dtype), "b": rng.standard_normal(5).astype(dtype)}
    grads = {k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
    fast_params = {k: v.copy() for k, v in params.items()}
    fast = optim.SGD(fast_params, learning_rate=0.037)
    general = optim.SGD(params, learning_rate=0.037)
    for _ in range(3):
        fast.step(grads)
        optim.Optimizer._step(general, grads)  # the per-parameter _update path
    for k in params:
        assert fast_params[k].dtype == dtype
        np.testing.assert_array_equal(fast_params[k], params[k])
    assert fast.step_count == general.step_count == 3


def test_a_subclass_of_a_pure_layer_is_not_trusted():
    class NoisyInput(nn.Sequential):
        def call(self, params, a, ctx):
            return super().call(params, a + 0.01 * ctx.rng.standard_normal(a.shape), ctx)

    trainer = Trainer(NoisyInput(nn.Dense(2, 4), nn.Activation("relu"), nn.Dense(4, 2)), loss="cross_entropy",
                      optimizer="sgd", verbose=0)
    assert not trainer.compiled


def test_changing_a_layer_after_the_trainer_was_made_is_noticed():
    def run(compiled):
        model = nn.Sequential(nn.Dense(2, 16), nn.Activation("relu"), nn.Dropout(0.0), nn.Dense(16, 2))
        X, y = moons()
        trainer = Trainer(model, loss="cross_entropy", optimizer="sgd", batch_size=16, seed=1, verbose=0,
                          compiled=compiled)
        trainer.fit(X, y, epochs=1)
        model.layers[2].p = 0.5  # dropout switched on mid-training: no longer pure
        trainer.fit(X, y, epochs=2)
        return trainer

    fast, slow = run(True), run(False)
    assert not fast.compiled
    for k in slow.model.params:
        np.testing.assert_array_equal(fast.model.params[k], slow.model.params[k])


def test_an_optimizer_with_its_own_step_method_is_called():
    calls = []

    class CountingSGD(optim.SGD):
        def step(self, grads):
            calls.append(1)
            super().step(grads)

    model = nn.MLP([2, 4, 2])
    model.init(seed=0)
    X, y = moons()
    trainer = Trainer(model, loss="cross_entropy", optimizer=CountingSGD(model.params, learning_rate=0.1),
                      batch_size=32, verbose=0)
    trainer.fit(X, y, epochs=1)
    assert len(calls) == trainer.step == 3


def test_a_swapped_layer_with_the_same_configuration_is_noticed():
    class Shifted(nn.Dense):
        def call(self, params, a, ctx, activation="identity", alpha=0.01):
            return super().call(params, a + 1.0, ctx, activation, alpha)

    def run(compiled):
        model = nn.Sequential(nn.Dense(2, 8), nn.Activation("relu"), nn.Dense(8, 2))
        X, y = moons()
        trainer = Trainer(model, loss="cross_entropy", optimizer="sgd", batch_size=16, seed=1, verbose=0,
                          compiled=compiled)
        trainer.fit(X, y, epochs=1)
        model.layers[2] = Shifted(8, 2)  # the same config(); another computation
        trainer.fit(X, y, epochs=2)
        return trainer

    fast, slow = run(True), run(False)
    np.testing.assert_array_equal(fast.history["loss"], slow.history["loss"])


def test_a_replaced_optimizer_is_the_one_that_steps():
    model = nn.MLP([2, 4, 2])
    X, y = moons()
    trainer = Trainer(model, loss="cross_entropy", optimizer="adam", batch_size=32, verbose=0)
    trainer.fit(X, y, epochs=1)
    # A rate too small to move any weight (|w| ≫ 1e-284 here, so w − 1e-300·g rounds to w); a rate
    # of 0 is refused by the optimizer's constraints.
    trainer.optimizer = optim.SGD(model.params, learning_rate=1e-300)
    before = {k: v.copy() for k, v in model.params.items()}
    steps = trainer.step
    trainer.fit(X, y, epochs=2)
    assert trainer.optimizer.step_count == trainer.step - steps > 0
    for k in before:
        np.testing.assert_array_equal(model.params[k], before[k])


def test_a_model_that_is_not_a_chainrule_network_still_trains_eagerly():
    inner = nn.MLP([2, 4, 2])

    class Wrapper:  # duck-typed: params, init, apply, d_in, d_out, and no config()
        d_in, d_out = 2, 2

        def __init__(self):
            self.params, self.buffers = None, {}

        def init(self, seed=0, dtype=np.float64):
            self.params = inner.init(seed=seed, dtype=dtype)
            return self.params

        @property
        def dtype(self):
            return inner.dtype

        def apply(self, params, x, **kw):
            return inner.apply(params, x, **kw)

    X, y = moons()
    trainer = Trainer(Wrapper(), loss="cross_entropy", optimizer="sgd", batch_size=32, verbose=0)
    trainer.fit(X, y, epochs=1)
    assert not trainer.compiled and np.isfinite(trainer.history["loss"][-1])
