"""Seed ensembles: K networks of one architecture trained in one vectorized call.

Researchers of training dynamics run the same network over many seeds. Here the K models'
parameters are stacked along a leading *model axis* (W: (K, d_out, d_in)), every layer is
one batched ``dense`` primitive, and the loss is the sum of the K models' own mean losses,
so model k receives exactly the gradient of its own loss. Each model keeps its own seed for
initialization and for its data order, so the result is the same as training the K models one
by one with :class:`~chainrule.train.Trainer` (the tests check it bit for bit). The models share
one data set, or (``fit(..., per_model=True)``) each trains and is validated on its own: X
(K, n, d_in) or K arrays (n, d_in), the same n for all, each in its own seed's batch order.

Only what keeps the models independent is allowed: Dense and activation layers (no
BatchNorm or Dropout), elementwise optimizers, no clipping by the global norm (which would
couple the models). A per-model learning rate is allowed for plain SGD.

What it shares with the Trainer: the data preparation the loss declares and the evaluation
(``chainrule.train.evaluation``), the training state (``TrainState``: epoch, step, history) and
the callbacks (``CallbackList``: the history and the progress bar are callbacks here too, and user
callbacks receive the ensemble, whose logs hold one value per model). Its epoch loop is its own:
one step moves K models with one batched gradient, which the Trainer's single-model step cannot
express without giving up the vectorization that is the ensemble's reason to exist.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import optim
from ..constraints import NON_NEGATIVE_INT, POSITIVE_INT, POSITIVE_REAL, ListOf, validate
from ..data.batching import Batcher
from ..errors import ArgumentTypeError, ConfigError, DataError
from ..nn import losses
from ..nn.layers import Activation, Dense, Layer
from ..nn.model import Context
from . import evaluation
from .callbacks import CallbackList, History, check_callback
from .progress import ProgressBar
from .state import TrainState
from .step_gradient import StepGradient

# What the Ensemble's arguments may be (``chainrule.constraints``); dtype is checked by model.init.
_CONSTRAINTS = {
    "model_factory": ["callable"], "seeds": [ListOf(NON_NEGATIVE_INT, types=(list, tuple, range, np.ndarray))],
    "loss": [str, "callable"], "optimizer": [str], "learning_rate": [POSITIVE_REAL, ListOf(POSITIVE_REAL, 1),
                                                                      np.ndarray],
    "optimizer_options": [None, Mapping], "batch_size": [POSITIVE_INT], "metrics": [None, list, tuple],
    "verbose": ["boolean", NON_NEGATIVE_INT], "callbacks": [None, list, tuple], "metric_samples": [POSITIVE_INT],
}


class Ensemble:
    """Train ``len(seeds)`` copies of ``model_factory()`` that differ only in their seed.

    model_factory: a function returning a fresh ``nn.Sequential`` (e.g. ``lambda: nn.MLP(...)``)
        built from Dense and activation layers only.
    seeds: one seed per model (initialization and data order, as ``Trainer(seed=...)``).
    learning_rate: a float, or one per model (plain SGD only).
    callbacks: ``chainrule.train.Callback`` objects; their hooks receive the ensemble and logs
        of arrays (K,) (``on_gradients`` receives the K losses).
    metric_samples: the training metrics of each epoch are scored on at most this many rows of
        the training data (the first ones), as the Trainer scores them.
    History: ``history[metric]`` is an array (epochs, K).
    """

    def __init__(self, model_factory, seeds, loss="cross_entropy", optimizer="sgd", learning_rate=0.01,
                 optimizer_options=None, batch_size=32, dtype=np.float64, metrics=None, verbose=1, callbacks=(),
                 metric_samples=10_000):
        validate("Ensemble", _CONSTRAINTS, {"model_factory": model_factory, "seeds": seeds, "loss": loss,
                                            "optimizer": optimizer, "learning_rate": learning_rate,
                                            "optimizer_options": optimizer_options, "batch_size": batch_size,
                                            "metrics": metrics, "verbose": verbose, "callbacks": callbacks,
                                            "metric_samples": metric_samples})
        self.metric_samples = int(metric_samples)
        if isinstance(model_factory, Layer):  # (a network is callable too: on data, not as a factory)
            raise ArgumentTypeError(f"Ensemble(model_factory=...): expected a function returning a fresh network, "
                                    f"such as lambda: nn.MLP([...]), got a {type(model_factory).__name__}")
        callbacks = () if callbacks is None else callbacks
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
        self.needs = losses.needs(self.loss_fn)
        self.task = "classification" if self.needs.classifier else "regression"
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
        names = list(metrics) if metrics is not None else evaluation.default_metrics(self.loss_fn)
        self.metric_fns = evaluation.metric_functions(names)
        self.verbose = verbose
        for cb in callbacks:
            check_callback(cb, "Ensemble")
        self.callbacks = list(callbacks)
        self.state = TrainState()
        self._gradient = StepGradient(self.template, self._objective, self.needs.stageable, has_aux=True)

    @property
    def epoch(self):
        return self.state.epoch

    @property
    def step(self):
        return self.state.step

    @property
    def history(self):
        return self.state.history

    @property
    def stop_training(self):
        return self.state.stop_training

    @stop_training.setter
    def stop_training(self, value):
        self.state.stop_training = value

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

    def _prepare(self, X, y, name="training"):
        return evaluation.prepare(X, y, self.template, self.loss_fn, dtype=self.dtype, name=name)

    def prepare(self, X, y, per_model=False, name="training"):
        """(X, y) checked and converted as the loss declares (``evaluation.prepare``).

        per_model=False: one data set for every model, X (n, d_in) -> X (n, d_in), y (n, ...).
        per_model=True: model k's own data: X a sequence of K arrays (n, d_in) or one array
        (K, n, d_in), y a sequence of K target arrays or one array (K, n, ...); each model's part
        is checked on its own, and all must have the same n -> X (K, n, d_in), y (K, n, ...)."""
        if not per_model:
            if np.ndim(X) == 3:
                raise DataError(f"{name} data: X has shape {np.shape(X)}, 3-D; one data set for all models is "
                                f"(n, d_in); for one per model (K={self.K}, n, d_in) pass per_model=True")
            return self._prepare(X, y, name=name)
        parts = []
        for what, value in (("X", X), ("y", y)):
            if isinstance(value, np.ndarray) or not isinstance(value, list | tuple):
                value = np.asarray(value)
                if value.ndim < (3 if what == "X" else 2):
                    expected = f"({self.K}, n, d_in)" if what == "X" else f"({self.K}, n, ...)"
                    raise DataError(f"{name} data with per_model=True: {what} must be {expected} (a leading model "
                                    f"axis) or a list of {self.K} arrays, found shape {value.shape}")
            if len(value) != self.K:
                raise DataError(f"{name} data with per_model=True: {what} holds data for {len(value)} models, "
                                f"the ensemble has {self.K}")
            parts.append(value)
        prepared = [self._prepare(Xk, yk, name=f"model {k}'s {name}")
                    for k, (Xk, yk) in enumerate(zip(*parts))]
        shapes = [Xk.shape for Xk, _ in prepared]
        if len({s[0] for s in shapes}) > 1:
            raise DataError(f"{name} data with per_model=True: every model needs the same number of rows, found "
                            f"X shapes {', '.join(str(s) for s in shapes)}")
        return np.stack([Xk for Xk, _ in prepared]), np.stack([yk for _, yk in prepared])

    def fit(self, X, y, epochs=10, validation_data=None, per_model=False):
        """Train every model for ``epochs`` epochs; return the history {metric: (epochs, K)}.

        per_model: False, every model trains on (X, y); True, model k trains on its own
            (X[k], y[k]) (see ``prepare``) in the order its own Trainer would use on that data.
        validation_data: (X_val, y_val), shared or (with per_model=True) one per model as X;
            adds val_loss and val_<metric> (K,) to each epoch's logs, as the Trainer does."""
        X, y = self.prepare(X, y, per_model=per_model)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise DataError(f"validation_data must be a pair (X_val, y_val), found "
                                f"{type(validation_data).__name__}")
            val = self.prepare(*validation_data, per_model=per_model, name="validation")
        n = X.shape[1] if per_model else len(X)
        batchers = [Batcher(n, self.batch_size, seed=s) for s in self.seeds]
        # Per-model data as one (K·n, ...) block: model k's row i is row k·n + i.
        flat_X = X.reshape((-1,) + X.shape[2:]) if per_model else X
        flat_y = y.reshape((-1,) + y.shape[2:]) if per_model else y
        offsets = (np.arange(self.K) * n)[:, None] if per_model else 0
        state = self.state
        state.stop_training = False
        progress = ProgressBar(int(epochs), self.verbose, desc=f"ensemble of {self.K}",
                               summarize=lambda logs: {k: float(np.mean(v)) for k, v in logs.items()})
        callbacks = CallbackList([History(), *self.callbacks, progress])
        on_gradients, on_step_end = callbacks.hooks["on_gradients"], callbacks.hooks["on_step_end"]
        end = state.epoch + int(epochs)
        try:
            callbacks.on_fit_begin(self)
            while state.epoch < end and not state.stop_training:
                callbacks.on_epoch_begin(self, state.epoch + 1)
                grad_fn = self._gradient.current()  # (the template as it is now)
                totals = np.zeros(self.K)
                count = 0
                # Row k is model k's sample order for this epoch (the same as its own Batcher's);
                # batch i is the block of columns [iB, (i+1)B): each model's own mini-batch.
                order = np.stack([b.order(self.epoch) for b in batchers]) + offsets
                B = batchers[0].batch_size
                for start in range(0, batchers[0].n_batches * B, B):
                    idx = order[:, start : start + B]
                    # np.take(X, idx, axis=0) = X[idx] for the (K, B) index, 7× faster
                    (_, model_losses), grads = grad_fn(self.params, np.take(flat_X, idx, axis=0),
                                                             np.take(flat_y, idx, axis=0))
                    for hook in on_gradients:
                        hook(self, model_losses, grads)
                    if self._lr_scale is not None:
                        grads = {k: g * self._lr_scale[k] for k, g in grads.items()}
                    self.optimizer._step(grads)  # the engine's gradients of self.params: nothing to re-check
                    totals += np.asarray(model_losses, np.float64) * idx.shape[1]
                    count += idx.shape[1]
                    state.step += 1
                    for hook in on_step_end:
                        hook(self)
                state.start_epoch()
                m = self.metric_samples  # (the Trainer's rule: the first rows of the training data)
                X_m, y_m = (X[:, :m], y[:, :m]) if per_model else (X[:m], y[:m])
                logs = {"loss": totals / count,
                        **self.evaluate(X_m, y_m, with_loss=False, prepared=True, per_model=per_model)}
                if val is not None:
                    logs.update({f"val_{k}": v for k, v in
                                 self.evaluate(*val, prepared=True, per_model=per_model).items()})
                callbacks.on_epoch_end(self, state.epoch, logs)  # History first: it records the logs
            callbacks.on_fit_end(self)
        finally:
            progress.close()
        return {k: np.array(v) for k, v in self.history.items()}

    def predict(self, X, per_model=False):
        """Every model's output: (K, n, d_out); X (n, d_in), or (K, n, d_in) with per_model=True."""
        X = np.asarray(X, self.dtype)
        if X.ndim != (3 if per_model else 2) or (per_model and len(X) != self.K):
            expected = f"({self.K}, n, d_in)" if per_model else "(n, d_in)"
            raise DataError(f"Ensemble.predict(per_model={per_model}): expected X of shape {expected}, "
                            f"found {X.shape}")
        # in blocks of rows as the Trainer predicts (evaluation.predict): the same products, the same bits
        step, axis = evaluation.PREDICT_BATCH, X.ndim - 2
        outs = [np.asarray(self._forward(self.params, X[..., i : i + step, :])) for i in range(0, X.shape[axis], step)]
        return np.concatenate(outs, axis=1) if outs else np.zeros((self.K, 0, self.template.d_out), self.dtype)

    def evaluate(self, X, y, with_loss=True, prepared=False, per_model=False):
        """{'loss': (K,), metric: (K,)} of every model on (X, y), in eval mode; with per_model=True
        model k is scored on its own (X[k], y[k]) (see ``prepare``)."""
        if not with_loss and not self.metric_fns:
            return {}
        if not prepared:
            X, y = self.prepare(X, y, per_model=per_model, name="evaluation")
        outs = self.predict(X, per_model=per_model)
        loss_fn = self.loss_fn if with_loss else None
        if not per_model:
            return evaluation.model_scores(outs, y, loss_fn, self.metric_fns)
        scores = [evaluation.scores(o, yk, loss_fn, self.metric_fns) for o, yk in zip(outs, y)]
        return {name: np.array([s[name] for s in scores]) for name in scores[0]}

    def model_params(self, k):
        """Model k's parameters as an ordinary {name: array} dict."""
        return {name: v[k].copy() for name, v in self.params.items()}
