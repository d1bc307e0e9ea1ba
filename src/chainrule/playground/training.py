"""A session's training: the network, its Trainer and the data order, stepped a few at a time.

The step is the Trainer's own ``train_step`` (compiled by ``train/step_gradient.py`` when the
network allows), and batches follow the Trainer's ``Batcher`` with the run's seed, epoch by epoch,
so n whole epochs here are ``Trainer.fit(epochs=n)`` (and ``chainrule train`` on the exported
config). Where the data order stands is the trainer's own state (epoch, batch index), which
``snapshot`` copies with the weights and the optimizer's state.
"""

from __future__ import annotations

import copy

import numpy as np

from ..data.batching import Batcher
from ..errors import ChainruleError
from ..runs.build import build_optimizer
from ..runs.schema import complete
from ..train import Callback, Trainer
from .network import build_network
from .run_config import optimizer_section, run_config


class LastGradients(Callback):
    """Keeps the last step's loss and gradients (the engine's own arrays, no copy)."""

    def __init__(self):
        self.loss, self.grads = None, None

    def on_gradients(self, trainer, loss, grads):
        self.loss, self.grads = loss, grads


class Training:
    def __init__(self, settings, data):
        self.data = data
        self.network = build_network(settings, data.d_in, data.d_out())
        self.model = self.network.model
        self.last = LastGradients()
        self.trainer = Trainer(self.model, loss=settings["loss"], optimizer=self._optimizer(settings),
                               batch_size=int(settings["batch_size"]), seed=int(settings["seed"]),
                               callbacks=[self.last], verbose=0)
        self.X_train, self.y_train = self.prepare(data.train_inputs(), data.train_targets)
        self.X_test, self.y_test = self.prepare(data.test_inputs(), data.test_targets)
        self.settings = copy.deepcopy(settings)
        self.last_batch = None  # (inputs, targets as the data hold them) of the last step
        self.edits, self._losses = 0, None
        self._batcher()

    def prepare(self, X, y):
        """(X, y) as the trainer trains on them (``Trainer.prepare``; one-hot targets for squared error)."""
        if len(X) == 0:
            return X, y
        if self.data.task == "classification" and self.trainer.loss_name == "mse":  # squared error on one-hot
            y = np.eye(self.data.n_classes)[y]
        return self.trainer.prepare(X, y)

    def _optimizer(self, settings):
        return build_optimizer(complete({"optimizer": optimizer_section(settings)}), self.model.params)

    def _batcher(self):
        size = min(int(self.trainer.batch_size), len(self.X_train))
        self.batcher = Batcher(len(self.X_train), size, shuffle=True, seed=self.trainer.seed)
        self._order_epoch, self._order = None, None

    @property
    def step_count(self):
        return self.trainer.step

    @property
    def epoch(self):
        return self.trainer.epoch

    def steps(self, n):
        """Train ``n`` steps, batch after batch of the Trainer's data order; the last loss."""
        state, loss = self.trainer.state, None
        n_batches, size = self.batcher.n_batches, self.batcher.batch_size
        for _ in range(int(n)):
            if self._order_epoch != state.epoch:
                self._order, self._order_epoch = self.batcher.order(state.epoch), state.epoch
            idx = self._order[state.batch_index * size:(state.batch_index + 1) * size]
            loss = self.trainer.train_step(np.take(self.X_train, idx, axis=0), np.take(self.y_train, idx, axis=0))
            state.loss_sum += loss * len(idx)
            state.samples += len(idx)
            state.batch_index += 1
            if state.batch_index >= n_batches:
                state.start_epoch()
        if loss is not None:
            self.last_batch = (self.X_train[idx], self.data.train_targets[idx])
        return loss

    def loss_on(self, X, y):
        if len(X) == 0:
            return float("nan")
        with np.errstate(all="ignore"):
            return float(self.trainer.loss_fn(self.model.apply(self.model.params, X), y))

    def losses(self):
        """(train loss, test loss) of the network as it is now (kept until a step, edit or restore)."""
        key = (self.step_count, self.edits)
        if self._losses is None or self._losses[0] != key:
            self._losses = key, (self.loss_on(self.X_train, self.y_train), self.loss_on(self.X_test, self.y_test))
        return self._losses[1]

    def edited(self):
        """The weights were changed by hand (set_weight): what was computed from them is stale."""
        self.edits += 1

    def apply_live(self, settings):
        """Optimizer, regularization and batch size changed on the running network."""
        old = self.settings
        if settings["optimizer"] != old["optimizer"] or settings["regularization"] != old["regularization"] \
                or settings["regularization_rate"] != old["regularization_rate"]:
            fresh = self._optimizer(settings)
            if settings["optimizer"]["name"] == old["optimizer"]["name"]:  # the same kind: keep its state
                try:  # (a refused state leaves the fresh optimizer as it was: it starts fresh)
                    fresh.load_state_dict(self.trainer.optimizer.state_dict())
                except (ChainruleError, KeyError, ValueError):
                    pass
            self.trainer.set_optimizer(fresh)
        if settings["batch_size"] != old["batch_size"]:
            self.trainer.batch_size = int(settings["batch_size"])
            self.trainer.state.batch_index = 0  # the new batches start with the current epoch's order
            self._batcher()
        self.settings = copy.deepcopy(settings)

    def snapshot(self):
        return self.trainer.snapshot()

    def restore(self, snap):
        self.trainer.load_state_dict(*snap)
        self._order_epoch, self._losses = None, None

    def config(self):
        """The run config of these settings, trained for the epochs run so far."""
        return run_config(self.settings, epochs=max(1, self.epoch))
