"""Seeds side by side: the session's network trained from K seeds (seed, seed + 1, …) on the same
data, for small multiples of their boundaries and the band of their losses.

A network of Dense layers and activations trains as one seed ensemble
(``chainrule.train.Ensemble``: K models in one vectorized step), a whole epoch at a time, keeping
up with the session's step count; any other network (batch norm, dropout, residual) as K
separate trainings stepped in a loop. Model k = 0 is the session's own seed.
"""

from __future__ import annotations

import copy

import numpy as np

from ..errors import ConfigError
from ..train.ensemble import Ensemble
from .backprop import plain_layers
from .network import build_network
from .run_config import optimizer_section
from .training import Training
from .views import probabilities

MAX_CATCH_UP = 2000  # steps (or epochs' worth) per call, so a late start never blocks the socket


class Seeds:
    def __init__(self, settings, training):
        self.K, self.task, self.loss = int(settings["seeds"]), training.data.task, settings["loss"]
        self.ensemble, self.loop = None, []
        seeds = [int(settings["seed"]) + k for k in range(self.K)]
        data = training.data
        if plain_layers(training.model) is not None and not settings["dropout"]:
            options = optimizer_section(settings)
            name, lr = options.pop("name"), options.pop("learning_rate")
            try:
                self.ensemble = Ensemble(lambda: build_network(settings, data.d_in, data.d_out()).model, seeds,
                                         loss=settings["loss"], optimizer=name, learning_rate=lr,
                                         optimizer_options=options, batch_size=min(int(settings["batch_size"]),
                                                                                  len(training.X_train)),
                                         verbose=0)
            except ConfigError:
                self.ensemble = None
        if self.ensemble is None:
            for s in seeds:
                self.loop.append(Training({**copy.deepcopy(settings), "seed": s}, data))
        self.X, self.y = training.X_train, training.y_train
        self.X_test, self.y_test = training.X_test, training.y_test

    @property
    def step(self):
        return self.ensemble.step if self.ensemble is not None else self.loop[0].step_count

    def catch_up(self, step):
        """Train towards the session's ``step`` (whole epochs for the ensemble), a bounded amount."""
        if self.ensemble is not None:
            per_epoch = -(-len(self.X) // self.ensemble.batch_size)
            epochs = min((step - self.ensemble.step) // per_epoch, max(1, MAX_CATCH_UP // per_epoch))
            if epochs > 0:
                with np.errstate(all="ignore"):
                    self.ensemble.fit(self.X, self.y, epochs=epochs)
            return
        for t in self.loop:
            n = min(step - t.step_count, MAX_CATCH_UP // self.K)
            if n > 0:
                t.steps(n)

    def outputs(self, X):
        """(K, n, d_out) of every seed's network."""
        if self.ensemble is not None:
            return self.ensemble.predict(X)
        return np.stack([t.model.apply(t.model.params, X) for t in self.loop])

    def losses(self):
        """(K, 2): each seed's train and test loss."""
        if self.ensemble is not None:
            loss_fn = self.ensemble.loss_fn
            parts = [(self.outputs(X), y) for X, y in ((self.X, self.y), (self.X_test, self.y_test))]
            return np.array([[float(loss_fn(out[k], y)) if len(y) else np.nan for out, y in parts]
                             for k in range(self.K)])
        return np.array([t.losses() for t in self.loop])

    def surfaces(self, inputs, size):
        """(K, G, G): P(class 1) for two classes, the most probable class for more, the value for regression."""
        with np.errstate(all="ignore"):
            out = self.outputs(inputs)
        maps = []
        for k in range(self.K):
            p = probabilities(out[k], self.task, self.loss)
            value = p[:, 0] if self.task == "regression" else p[:, 1] if p.shape[1] == 2 else np.argmax(p, axis=1)
            maps.append(value.reshape(size, size))
        return np.stack(maps)
