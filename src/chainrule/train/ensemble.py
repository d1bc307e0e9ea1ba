"""Seed ensembles: K networks of one architecture trained in one vectorized call.

Researchers of training dynamics run the same network over many seeds. Here the K models'
parameters are stacked along a leading *model axis* (W: (K, d_out, d_in)), every layer is
one batched ``dense`` primitive, and the loss is the sum of the K models' own mean losses,
so model k receives exactly the gradient of its own loss. Each model keeps its own seed for
initialization and for its data order, so the result is the same as training the K models one
by one with :class:`~chainrule.train.Trainer` (the tests check it bit for bit).

Only what keeps the models independent is allowed: Dense and activation layers (no
BatchNorm or Dropout), elementwise optimizers, no clipping by the global norm (which would
couple the models). A per-model learning rate is allowed for plain SGD.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from ..data.batching import Batcher
from ..data.validation import check_Xy
from ..errors import ConfigError
from ..nn import losses
from ..nn.layers import Activation, Dense
from ..nn.model import Context
from . import metrics as metrics_lib
from .progress import Progress
from .step_gradient import StepGradient
from .trainer import CLASSIFICATION_LOSSES


class Ensemble:
    """Train ``len(seeds)`` copies of ``model_factory()`` that differ only in their seed.

    model_factory: a function returning a fresh ``nn.Sequential`` (e.g. ``lambda: nn.MLP(...)``)
        built from Dense and activation layers only.
    seeds: one seed per model (initialization and data order, as ``Trainer(seed=...)``).
    learning_rate: a float, or one per model (plain SGD only).
    History: ``history[metric]`` is an array (epochs, K).
    """

    def __init__(self, model_factory, seeds, loss="cross_entropy", optimizer="sgd", learning_rate=0.01,
                 optimizer_options=None, batch_size=32, dtype=np.float64, metrics=None, verbose=1):
        self.seeds = [int(s) for s in seeds]
        if not self.seeds:
            raise ConfigError("Ensemble needs at least one seed")
        self.K = len(self.seeds)
        models = [model_factory() for _ in self.seeds]
        self.template = models[0]
        for layer in self.template.layers:
            if not isinstance(layer, Dense | Activation):
                raise ConfigError(f"Ensemble supports Dense and activation layers only, found {type(layer).__name__}")
        for model, seed in zip(models, self.seeds):
            model.init(seed=seed, dtype=dtype)
        self.params = {k: np.stack([m.params[k] for m in models]) for k in self.template.params}
        self.dtype = np.dtype(dtype)
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
        self.loss_fn = losses.get(loss)
        self.task = "classification" if self.loss_name in CLASSIFICATION_LOSSES else "regression"
        options = dict(optimizer_options or {})
        if options.get("clip_norm") is not None:
            raise ConfigError("Ensemble: clip_norm would couple the models (a global norm); use clip_value")
        lr = np.asarray(learning_rate, dtype=np.float64)
        self._lr_scale = None
        if lr.ndim == 1:
            if len(lr) != self.K:
                raise ConfigError(f"Ensemble: {len(lr)} learning rates for {self.K} models")
            if optimizer != "sgd" or options.get("momentum"):
                raise ConfigError("Ensemble: per-model learning rates need optimizer='sgd' without momentum")
            # w ← w − 1·(η_k g): bitwise the same as w ← w − η_k g, model by model.
            self._lr_scale = {k: lr.astype(self.dtype).reshape((self.K,) + (1,) * (v.ndim - 1))
                              for k, v in self.params.items()}
            learning_rate = 1.0
        self.optimizer = optim.get(optimizer, self.params, learning_rate=float(learning_rate), **options)
        self.batch_size = int(batch_size)
        names = list(metrics) if metrics is not None else (["accuracy"] if self.task == "classification" else ["r2"])
        self.metric_fns = {n: metrics_lib.get(n) for n in names}
        self.verbose = verbose
        self.epoch = 0
        self.history = {}
        self._gradient = StepGradient(self.template, self._objective, isinstance(loss, str), has_aux=True)

    def _forward(self, params, x):
        return self.template.call(params, x, Context(training=False))

    def _objective(self, params, xb, yb):
        out = self._forward(params, xb)  # (K, B, d_out)
        K, B = out.shape[0], out.shape[1]
        flat_out = out.reshape(K * B, out.shape[2])
        flat_y = yb.reshape((K * B,) + yb.shape[2:])
        per = self.loss_fn(flat_out, flat_y, reduction="none").reshape(K, -1)
        model_losses = per.mean(axis=1)  # each model's own mean loss
        return model_losses.sum(), model_losses

    def _prepare(self, X, y):
        n_classes = self.template.d_out if self.loss_name in ("cross_entropy", "softmax_cross_entropy") else None
        X, y = check_Xy(X, y, self.task, n_classes=n_classes, n_features=self.template.d_in)
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if self.task == "classification":
            y = np.asarray(y, np.int64)
        else:
            y = np.asarray(y, self.dtype)
            y = y.reshape(-1, 1) if y.ndim == 1 else y
        return X, y

    def fit(self, X, y, epochs=10):
        """Train every model for ``epochs`` epochs; return the history {metric: (epochs, K)}."""
        X, y = self._prepare(X, y)
        batchers = [Batcher(len(X), self.batch_size, seed=s) for s in self.seeds]
        progress = Progress(int(epochs), self.verbose, desc=f"ensemble of {self.K}")
        try:
            for _ in range(int(epochs)):
                grad_fn = self._gradient.current()  # (the template as it is now)
                totals = np.zeros(self.K)
                count = 0
                # Row k is model k's sample order for this epoch (the same as its own Batcher's);
                # batch i is the block of columns [iB, (i+1)B): each model's own mini-batch.
                order = np.stack([b.order(self.epoch) for b in batchers])
                B = batchers[0].batch_size
                for start in range(0, batchers[0].n_batches * B, B):
                    idx = order[:, start : start + B]
                    # np.take(X, idx, axis=0) = X[idx] for the (K, B) index, 7× faster
                    (_, model_losses), grads = grad_fn(self.params, np.take(X, idx, axis=0),
                                                             np.take(y, idx, axis=0))
                    if self._lr_scale is not None:
                        grads = {k: g * self._lr_scale[k] for k, g in grads.items()}
                    self.optimizer._step(grads)  # the engine's gradients of self.params: nothing to re-check
                    totals += np.asarray(model_losses, np.float64) * idx.shape[1]
                    count += idx.shape[1]
                self.epoch += 1
                logs = {"loss": totals / count, **self.evaluate(X, y, with_loss=False)}
                for k, v in logs.items():
                    self.history.setdefault(k, []).append(v)
                progress.update(self.epoch, {k: float(np.mean(v)) for k, v in logs.items()})
        finally:
            progress.close()
        return {k: np.array(v) for k, v in self.history.items()}

    def predict(self, X):
        """Every model's output: (K, n, d_out)."""
        return np.asarray(self._forward(self.params, np.asarray(X, self.dtype)))

    def evaluate(self, X, y, with_loss=True):
        logs = {}
        if not with_loss and not self.metric_fns:
            return logs
        out = self.predict(X)
        if with_loss:
            logs["loss"] = np.array([float(self.loss_fn(o, y)) for o in out])
        for name, fn in self.metric_fns.items():
            if fn is metrics_lib.accuracy and out.shape[2] > 1 and np.ndim(y) == 1:
                # every model at once: the same fraction accuracy() computes model by model
                logs[name] = np.mean(np.argmax(out, axis=2) == np.asarray(y)[None, :], axis=1)
            else:
                logs[name] = np.array([fn(o, y) for o in out])
        return logs

    def model_params(self, k):
        """Model k's parameters as an ordinary {name: array} dict."""
        return {name: v[k].copy() for name, v in self.params.items()}
