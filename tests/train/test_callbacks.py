"""Callbacks over one declared set of hooks: ``CallbackList`` calls each hook only on the callbacks
that override it, in order, at the points of the loop the hooks promise."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.errors import ConfigError
from chainrule.train import Callback, CallbackList, Trainer
from chainrule.train.callbacks import HOOKS
from chainrule.train.ensemble import Ensemble

X, Y = make_moons(n=40, noise=0.2, seed=0)  # batch 16: 3 steps per epoch


class StepCounter(Callback):
    def __init__(self):
        self.steps = []

    def on_step_end(self, trainer):
        self.steps.append(trainer.step)


class Everything(Callback):
    """Overrides every hook and records the sequence of calls."""

    def __init__(self):
        self.calls = []

    def on_fit_begin(self, trainer):
        self.calls.append(("fit_begin", trainer.epoch))

    def on_epoch_begin(self, trainer, epoch):
        self.calls.append(("epoch_begin", epoch))

    def on_gradients(self, trainer, loss, grads):
        assert np.isfinite(loss) and set(grads) == set(trainer.model.params)
        self.calls.append(("gradients", trainer.step))  # before the update: not counted yet

    def on_step_end(self, trainer):
        self.calls.append(("step_end", trainer.step))

    def on_epoch_end(self, trainer, epoch, logs):
        assert trainer.history["loss"][-1] == logs["loss"]  # the history callback ran first
        self.calls.append(("epoch_end", epoch))

    def on_fit_end(self, trainer):
        self.calls.append(("fit_end", trainer.epoch))

    def on_divergence(self, trainer, error):
        self.calls.append(("divergence",))
        return False

    def on_checkpoint(self, trainer, path):
        self.calls.append(("checkpoint",))

    def on_rollback(self, trainer):
        self.calls.append(("rollback",))


def test_a_callback_overriding_one_hook_is_listed_for_that_hook_only():
    counter, spy = StepCounter(), Everything()
    callbacks = CallbackList([counter, spy])
    assert callbacks.hooks["on_step_end"] == (counter.on_step_end, spy.on_step_end)
    for hook in HOOKS:
        listeners = [m.__self__ for m in callbacks.hooks[hook]]
        assert listeners == ([counter, spy] if hook == "on_step_end" else [spy]), hook
    assert all(CallbackList([Callback()]).hooks[h] == () for h in HOOKS)  # nobody listens: nothing per step


def test_hooks_are_called_in_the_promised_order():
    spy, counter = Everything(), StepCounter()
    t = Trainer(nn.MLP([2, 6, 2]), optimizer="sgd", learning_rate=0.1, batch_size=16, verbose=0,
                callbacks=[counter, spy])
    t.fit(X, Y, epochs=2)
    per_epoch = lambda e, s: ([("epoch_begin", e)]  # noqa: E731
                              + [c for k in range(s, s + 3) for c in (("gradients", k), ("step_end", k + 1))]
                              + [("epoch_end", e)])
    assert spy.calls == [("fit_begin", 0), *per_epoch(1, 0), *per_epoch(2, 3), ("fit_end", 2)]
    assert counter.steps == [1, 2, 3, 4, 5, 6]
    # A train_step outside fit still reaches the user's step hooks
    t.train_step(X[:16], Y[:16])
    assert spy.calls[-1] == ("gradients", 6)


def test_stop_training_from_a_callback_ends_the_fit_after_that_epoch():
    class StopAtTwo(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            if epoch == 2:
                trainer.stop_training = True

    t = Trainer(nn.MLP([2, 6, 2]), optimizer="sgd", batch_size=16, verbose=0, callbacks=[StopAtTwo()])
    t.fit(X, Y, epochs=5)
    assert t.epoch == 2 and len(t.history["loss"]) == 2


def test_renamed_hooks_and_non_callbacks_are_refused():
    class Old(Callback):
        def on_train_begin(self, trainer):
            pass

    with pytest.raises(ConfigError, match="defines on_train_begin, which is now called on_fit_begin"):
        Trainer(nn.MLP([2, 4, 2]), verbose=0, callbacks=[Old()])
    with pytest.raises(ConfigError, match="callbacks must be chainrule.train.Callback objects, found int"):
        Trainer(nn.MLP([2, 4, 2]), verbose=0, callbacks=[3])


def test_a_duck_typed_callback_is_dispatched_for_the_hooks_it_has():
    class Duck:
        def __init__(self):
            self.epochs = []

        def on_epoch_end(self, trainer, epoch, logs):
            self.epochs.append(epoch)

    duck = Duck()
    Trainer(nn.MLP([2, 4, 2]), batch_size=16, verbose=0, callbacks=[duck]).fit(X, Y, epochs=2)
    assert duck.epochs == [1, 2]


def test_the_ensemble_dispatches_the_same_hooks():
    class EnsembleSpy(Callback):
        def __init__(self):
            self.calls = []

        def on_fit_begin(self, ens):
            self.calls.append(("fit_begin", ens.epoch))

        def on_epoch_begin(self, ens, epoch):
            self.calls.append(("epoch_begin", epoch))

        def on_gradients(self, ens, model_losses, grads):
            self.calls.append(("gradients", np.shape(model_losses)))  # one loss per model

        def on_step_end(self, ens):
            self.calls.append(("step_end", ens.step))

        def on_epoch_end(self, ens, epoch, logs):
            self.calls.append(("epoch_end", epoch, logs["loss"].shape, len(ens.history["loss"])))

        def on_fit_end(self, ens):
            self.calls.append(("fit_end", ens.epoch))

    spy = EnsembleSpy()
    ens = Ensemble(lambda: nn.MLP([2, 6, 2]), [0, 1], learning_rate=0.1, batch_size=16, verbose=0, callbacks=[spy])
    ens.fit(X, Y, epochs=1)
    assert spy.calls == [("fit_begin", 0), ("epoch_begin", 1), ("gradients", (2,)), ("step_end", 1),
                         ("gradients", (2,)), ("step_end", 2), ("gradients", (2,)), ("step_end", 3),
                         ("epoch_end", 1, (2,), 1), ("fit_end", 1)]
