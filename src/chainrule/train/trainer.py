"""The training loop: mini-batch gradient descent with backpropagation (seeds 001, 003).

One step: take a mini-batch, run the network forward, compute the loss, backpropagate
(``value_and_grad``: reverse mode), update the parameters in place. One epoch: one pass over
the shuffled data in blocks of ``batch_size`` (M = N is batch gradient descent, M = 1 is SGD).
Everything random — initialization, shuffling, dropout — derives from ``seed``, so a run is
bitwise reproducible.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .. import optim
from ..data.batching import Batcher
from ..engine.transforms import value_and_grad
from ..errors import ChainruleError, DataError
from ..nn import losses
from . import metrics as metrics_lib
from .progress import Progress

CLASSIFICATION_LOSSES = ("cross_entropy", "softmax_cross_entropy", "binary_cross_entropy", "bce",
                         "logistic", "hinge")


class NonFiniteError(ChainruleError, FloatingPointError):
    """The loss or a gradient became NaN or infinite during training."""


class Trainer:
    """Trains ``model`` (a ``chainrule.nn.Sequential``) with a loss and an optimizer.

    model: the network; initialized from ``seed`` if it has no parameters yet.
    loss: a name from ``chainrule.nn.losses`` or a function ``(output, y) -> scalar``.
    optimizer: a name from ``chainrule.optim`` (with ``learning_rate`` and
        ``optimizer_options``) or an optimizer already built on ``model.params``.
    batch_size: M; clamped to N with a warning if larger.
    metrics: names from ``chainrule.train.metrics`` (default: accuracy for classification
        losses, r2 for regression), computed at the end of each epoch on the training set
        (at most ``metric_samples`` rows of it) and on the validation set, in eval mode.
    gradient_checkpointing: recompute activations in the backward pass (√L segments).
    """

    def __init__(self, model, loss="cross_entropy", optimizer="adam", learning_rate=None,
                 optimizer_options=None, batch_size=32, seed=0, dtype=None, metrics=None, callbacks=(),
                 gradient_checkpointing=False, verbose=1, metric_samples=10_000):
        self.model = model
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
        self.loss_fn = losses.get(loss)
        self.seed = int(seed)
        if model.params is None:
            model.init(seed=self.seed, dtype=dtype or np.float64)
        self.dtype = model.dtype
        self.optimizer = self._make_optimizer(optimizer, learning_rate, optimizer_options or {})
        if not isinstance(batch_size, int | np.integer) or isinstance(batch_size, bool) or batch_size <= 0:
            raise DataError(f"batch_size must be a positive integer, found {batch_size!r}")
        self.batch_size = int(batch_size)
        classification = self.loss_name in CLASSIFICATION_LOSSES
        self.task = "classification" if classification else "regression"
        self.metric_names = list(metrics) if metrics is not None else (["accuracy"] if classification else ["r2"])
        self.metric_fns = {name if isinstance(name, str) else name.__name__: metrics_lib.get(name)
                           for name in self.metric_names}
        self.callbacks = list(callbacks)
        self.remat = bool(gradient_checkpointing)
        self.verbose = verbose
        self.metric_samples = metric_samples
        self.dropout_rng = np.random.default_rng([self.seed, 1])
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self.history = {}
        self.stop_training = False
        self.stop_reason = None
        self.last_finite_loss = None
        self.step_hooks = [cb for cb in self.callbacks if hasattr(cb, "on_step")]
        self._grad_fn = value_and_grad(self._objective)
        self._needs_closure = isinstance(self.optimizer, optim.LBFGS)

    # -- setup ---------------------------------------------------------------------------------
    def _make_optimizer(self, optimizer, learning_rate, options):
        if not isinstance(optimizer, str):
            return optimizer
        kwargs = dict(options)
        if learning_rate is not None:
            kwargs["learning_rate"] = learning_rate
        return optim.get(optimizer, self.model.params, **kwargs)

    def _prepare(self, X, y, name="training"):
        from ..data.validation import check_Xy

        n_out = self.model.d_out
        n_classes = None
        if self.task == "classification" and self.loss_name in ("cross_entropy", "softmax_cross_entropy"):
            n_classes = n_out
        task = self.task
        if self.loss_name in ("logistic", "hinge"):
            task = "regression"  # targets are ±1, checked by the loss itself
        X, y = check_Xy(X, y, task, n_classes=n_classes, n_features=self.model.d_in)
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if task == "classification":
            y = np.asarray(y, dtype=np.int64)
            if self.loss_name in ("binary_cross_entropy", "bce"):
                y = y.astype(self.dtype)
        else:
            y = np.asarray(y, dtype=self.dtype)
            if y.ndim == 1 and n_out is not None and self.loss_name not in ("logistic", "hinge"):
                y = y.reshape(-1, 1)
        return X, y

    # -- the step ------------------------------------------------------------------------------
    def _objective(self, params, xb, yb):
        out = self.model.apply(params, xb, training=True, rng=self.dropout_rng, remat=self.remat)
        return self.loss_fn(out, yb)

    def train_step(self, xb, yb):
        """One step of gradient descent on the mini-batch (xb, yb); returns the loss (a float)."""
        loss, grads = self._grad_fn(self.model.params, xb, yb)
        loss = float(loss)
        if not math.isfinite(loss):
            self._raise_non_finite(loss, grads)
        for hook in self.step_hooks:
            hook.on_step(self, loss, grads)
        if self._needs_closure:  # L-BFGS re-evaluates the loss during its line search
            self.optimizer.step(grads, lambda: self._grad_fn(self.model.params, xb, yb), loss=loss)
        else:
            self.optimizer.step(grads)
        self.step += 1
        self.last_finite_loss = loss
        return loss

    def _raise_non_finite(self, loss, grads):
        bad = [k for k, g in grads.items() if not np.all(np.isfinite(g))]
        bad_params = [k for k, p in self.model.params.items() if not np.all(np.isfinite(p))]
        where = (f"first non-finite gradient in '{bad[0]}'" if bad else
                 f"non-finite parameter '{bad_params[0]}'" if bad_params else "gradients finite")
        raise NonFiniteError(
            f"loss became {loss} at epoch {self.epoch + 1}, step {self.step + 1} ({where}); "
            f"last finite loss {self.last_finite_loss}; try a smaller learning rate, gradient "
            "clipping (clip_norm) or a different initialization"
        )

    # -- the loop ------------------------------------------------------------------------------
    def fit(self, X, y, epochs=10, validation_data=None, shuffle=True):
        """Train for ``epochs`` more epochs; return the history {metric: [value per epoch]}."""
        if not isinstance(epochs, int | np.integer) or epochs < 0:
            raise DataError(f"epochs must be a non-negative integer, found {epochs!r}")
        X, y = self._prepare(X, y)
        val = self._prepare(*validation_data, name="validation") if validation_data is not None else None
        batcher = Batcher(len(X), self.batch_size, shuffle=shuffle, seed=self.seed)
        end = self.epoch + int(epochs)
        progress = Progress(int(epochs), self.verbose)
        self.stop_training = False
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            while self.epoch < end and not self.stop_training:
                t0 = time.perf_counter()
                total, count = 0.0, 0
                for idx in batcher.batches(self.epoch):
                    total += self.train_step(X[idx], y[idx]) * len(idx)
                    count += len(idx)
                logs = {"loss": total / max(count, 1)}
                logs.update(self.evaluate(X, y, prefix="", limit=self.metric_samples, with_loss=False))
                if val is not None:
                    logs.update(self.evaluate(*val, prefix="val_", prepared=True))
                logs["lr"] = float(self.optimizer.learning_rate_now)
                logs["time"] = time.perf_counter() - t0
                self.epoch += 1
                schedule = getattr(self.optimizer, "learning_rate", None)
                if hasattr(schedule, "observe"):  # ReduceOnPlateau watches the epoch's loss
                    schedule.observe(logs.get("val_loss", logs["loss"]))
                for k, v in logs.items():
                    self.history.setdefault(k, []).append(v)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, self.epoch, logs)
                progress.update(self.epoch, logs)
        finally:
            progress.close()
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def predict(self, X, batch_size=4096):
        """The network's output in eval mode (logits for classification losses)."""
        X = np.asarray(X, dtype=self.dtype)
        outs = [self.model.apply(self.model.params, X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
        return np.concatenate(outs) if outs else np.zeros((0, self.model.d_out), self.dtype)

    def evaluate(self, X, y, prefix="", limit=None, with_loss=True, prepared=False):
        """{prefix + 'loss': ..., prefix + metric: ...} on (X, y) in eval mode."""
        if not prepared:
            X, y = self._prepare(X, y)
        if limit is not None and len(X) > limit:
            X, y = X[:limit], y[:limit]
        out = self.predict(X)
        logs = {}
        if with_loss:
            logs[prefix + "loss"] = float(self.loss_fn(out, y))
        for name, fn in self.metric_fns.items():
            logs[prefix + name] = fn(out, y)
        return logs


def fit(model, X, y, epochs=10, validation_data=None, **options):
    """Train ``model`` on (X, y); ``options`` are those of :class:`Trainer`. Returns the Trainer."""
    trainer = Trainer(model, **options)
    trainer.fit(X, y, epochs=epochs, validation_data=validation_data)
    return trainer
