"""The training loop: mini-batch gradient descent with backpropagation (seeds 001, 003).

One step: take a mini-batch, run the network forward, compute the loss, backpropagate
(``value_and_grad``: reverse mode), update the parameters in place. One epoch: one pass over
the shuffled data in blocks of ``batch_size`` (M = N is batch gradient descent, M = 1 is SGD).
Everything random — initialization, shuffling, dropout — derives from ``seed``, so a run is
bitwise reproducible, and a run restored from a checkpoint (``chainrule.train.checkpoint``)
continues from the exact step, even in the middle of an epoch.

Divergence: a NaN or infinite loss stops training before the update (NonFiniteError naming
the step, the layer with the first non-finite gradient and the last finite loss). A finite
loss whose gradient is not finite makes the update non-finite; that is caught at the next
step's loss, at the epoch's end and before any checkpoint is written, at no per-step cost
(``check_gradients=True`` checks every step's gradients instead). With
``on_divergence='rollback'`` training goes back to the newest checkpoint (or an in-memory
snapshot from the last epoch's end) and continues with the learning rate × ``rollback_factor``.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .. import optim
from ..data.batching import Batcher
from ..errors import CheckpointError, ConfigError, DataError, NonFiniteError
from ..nn import losses
from ..optim.schedules import Schedule
from . import metrics as metrics_lib
from .callbacks import overrides
from .progress import Progress
from .step_gradient import StepGradient

CLASSIFICATION_LOSSES = ("cross_entropy", "softmax_cross_entropy", "binary_cross_entropy", "bce",
                         "logistic", "hinge")
DIVERGENCE_MODES = ("stop", "rollback")


class DivergenceWarning(UserWarning):
    """Training diverged and was rolled back to a good state with a lower learning rate."""


class ScaledSchedule(Schedule):
    """``factor`` × another schedule (how a rollback lowers a scheduled learning rate)."""

    name = "scaled"

    def __init__(self, schedule, factor):
        self.schedule, self.factor = schedule, float(factor)
        self.learning_rate = schedule.learning_rate * self.factor

    @property
    def _config(self):
        return {"schedule": self.schedule.config(), "factor": self.factor}

    def __call__(self, step):
        return self.factor * self.schedule(step)

    def observe(self, metric):
        self.schedule.observe(metric)

    def state_dict(self):
        return self.schedule.state_dict()

    def load_state_dict(self, state):
        self.schedule.load_state_dict(state)


def _loss_and_grads(result):
    (loss, _), grads = result  # (L-BFGS's line search: its evaluations do not move the running statistics)
    return loss, grads


def _is_int(x, low=0):
    return isinstance(x, int | np.integer) and not isinstance(x, bool) and x >= low


class Trainer:
    """Trains ``model`` (a ``chainrule.nn.Sequential``) with a loss and an optimizer.

    model: the network; initialized from ``seed`` (in ``dtype``) if it has no parameters yet.
    loss: a name from ``chainrule.nn.losses`` or a function ``(output, y) -> scalar``.
    optimizer: a name from ``chainrule.optim`` (with ``learning_rate`` and
        ``optimizer_options``) or an optimizer already built on ``model.params``.
    batch_size: M; clamped to N with a warning if larger.
    metrics: names from ``chainrule.train.metrics`` (default: accuracy for classification
        losses, r2 for regression), computed at the end of each epoch on the training set
        (at most ``metric_samples`` rows of it) and on the validation set, in eval mode.
    gradient_checkpointing: recompute activations in the backward pass (√L segments).
    on_divergence: 'stop' (raise NonFiniteError) or 'rollback' (restore the last good state
        and continue with the learning rate × ``rollback_factor``, at most ``max_rollbacks`` times).
    check_gradients: check every step's gradients for NaN/inf (costs a few µs per step);
        otherwise a non-finite gradient is caught through the parameters it corrupts.
    compiled: run each step's forward and backward pass as code compiled once per batch shape
        (``chainrule.jit`` of ``value_and_grad``: the same numbers, 2-3× less overhead on small
        networks; with gradient checkpointing the compiled backward pass still recomputes each
        segment). Used when it is safe: a built-in loss and a model without randomness or state
        in training (no Dropout with p > 0, no BatchNorm); hinge and logistic, which check their
        targets' values at every step, run eagerly.

    State (saved by checkpoints): ``epoch`` (epochs completed), ``step`` (optimizer steps),
    ``batch_index`` (next batch of the current epoch), ``epoch_loss_sum`` and ``epoch_samples``
    (the current epoch's running loss total), ``history``, ``lr_scale``, ``rollbacks``.
    """

    def __init__(self, model, loss="cross_entropy", optimizer="adam", learning_rate=None,
                 optimizer_options=None, batch_size=32, seed=0, dtype=None, metrics=None, callbacks=(),
                 gradient_checkpointing=False, verbose=1, metric_samples=10_000, on_divergence="stop",
                 rollback_factor=0.5, max_rollbacks=3, check_gradients=False, compiled=True):
        if not all(hasattr(model, a) for a in ("params", "init", "apply", "d_in", "d_out")):
            raise ConfigError(f"Trainer: model must be a chainrule network (nn.Sequential or nn.MLP), "
                              f"found {type(model).__name__}")
        if not _is_int(seed):
            raise ConfigError(f"Trainer: seed must be a non-negative integer, found {seed!r}")
        if not _is_int(batch_size, 1):
            raise DataError(f"batch_size must be a positive integer, found {batch_size!r}")
        if on_divergence not in DIVERGENCE_MODES:
            raise ConfigError(f"Trainer: on_divergence must be one of {', '.join(map(repr, DIVERGENCE_MODES))}, "
                              f"found {on_divergence!r}")
        if isinstance(rollback_factor, bool) or not isinstance(rollback_factor, int | float) \
                or not 0 < rollback_factor < 1:
            raise ConfigError(f"Trainer: rollback_factor must be a number in (0, 1), found {rollback_factor!r}")
        if not _is_int(max_rollbacks):
            raise ConfigError(f"Trainer: max_rollbacks must be a non-negative integer, found {max_rollbacks!r}")
        if not _is_int(metric_samples, 1):
            raise ConfigError(f"Trainer: metric_samples must be a positive integer, found {metric_samples!r}")
        for cb in callbacks:
            if not all(callable(getattr(cb, m, None)) for m in ("on_train_begin", "on_epoch_end", "on_train_end")):
                raise ConfigError(f"Trainer: callbacks must be chainrule.train.Callback objects, found "
                                  f"{type(cb).__name__}")
        self.model = model
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
        self.loss_fn = losses.get(loss)
        self.seed = int(seed)
        if model.params is None:
            model.init(seed=self.seed, dtype=dtype or np.float64)
        elif dtype is not None and np.dtype(dtype) != model.dtype:
            raise ConfigError(f"Trainer: dtype={np.dtype(dtype).name} but the model's parameters are already "
                              f"{model.dtype}; leave dtype out or initialize the model in {np.dtype(dtype).name}")
        self.dtype = model.dtype
        self.optimizer = self._make_optimizer(optimizer, learning_rate, optimizer_options or {})
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
        self.on_divergence, self.rollback_factor = on_divergence, float(rollback_factor)
        self.max_rollbacks, self.check_gradients = int(max_rollbacks), bool(check_gradients)
        self._base_learning_rate = getattr(self.optimizer, "learning_rate", None)
        if on_divergence == "rollback" and self._base_learning_rate is None:
            raise ConfigError("Trainer: on_divergence='rollback' lowers the learning rate, but this optimizer has "
                              "no learning_rate attribute")
        self.dropout_rng = np.random.default_rng([self.seed, 1])
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self.batch_index = 0  # the next batch of the current epoch
        self.epoch_loss_sum, self.epoch_samples = 0.0, 0  # Σ loss·|batch| and Σ |batch| so far this epoch
        self.lr_scale, self.rollbacks = 1.0, 0
        self.batcher = None
        self.resume_data = None  # the batcher configuration recorded by a restored checkpoint
        self.history = {}
        self.stop_training = False
        self.stop_reason = None
        self.last_finite_loss = None
        self.step_hooks = [cb for cb in self.callbacks if hasattr(cb, "on_step")]
        self._gradient = StepGradient(model, self._objective, compiled and isinstance(loss, str), has_aux=True)
        self._needs_closure = isinstance(self.optimizer, optim.LBFGS)
        # Gradients made by the engine from model.params match the optimizer's parameters by
        # construction: a chainrule optimizer skips re-checking them each step (unless a subclass
        # has its own step method, which then runs as it would).
        self._update_for = None  # the optimizer _apply_update was chosen for (it may be replaced later)

    @property
    def _grad_fn(self):
        """value_and_grad of the objective for the network as it is now (see StepGradient)."""
        return self._gradient.current()

    def _choose_update(self):
        opt = self._update_for = self.optimizer
        plain = (isinstance(opt, optim.Optimizer) and type(opt).step is optim.Optimizer.step
                 and type(opt)._check_grads is optim.Optimizer._check_grads)
        self._apply_update = opt._step if plain else opt.step

    @property
    def compiled(self):
        """Whether training steps run as compiled code (``chainrule.jit``; see the ``compiled`` option).
        Before the first step: whether they will be tried compiled (a loss that cannot be staged
        falls back to eager code at the first step, and this becomes False)."""
        return self._gradient.compiled

    # -- setup ---------------------------------------------------------------------------------
    def _make_optimizer(self, optimizer, learning_rate, options):
        if not isinstance(optimizer, str):
            if not callable(getattr(optimizer, "step", None)) or not callable(getattr(optimizer, "state_dict", None)):
                raise ConfigError(f"Trainer: optimizer must be a name or a chainrule.optim optimizer, found "
                                  f"{type(optimizer).__name__}")
            if getattr(optimizer, "params", self.model.params) is not self.model.params:
                raise ConfigError("Trainer: the optimizer was built on other parameters than model.params")
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
        elif self.loss_name in ("binary_cross_entropy", "bce"):
            n_classes = 2
        task = self.task
        if self.loss_name in ("logistic", "hinge"):
            task = "regression"  # targets are ±1
        try:
            X, y = check_Xy(X, y, task, n_classes=n_classes, n_features=self.model.d_in)
        except DataError as e:
            raise DataError(f"{name} data: {e}") from None
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if task == "classification":
            y = np.asarray(y, dtype=np.int64)
            if self.loss_name in ("binary_cross_entropy", "bce"):
                y = y.astype(self.dtype)
        else:
            y = np.asarray(y, dtype=self.dtype)
            if self.loss_name in ("logistic", "hinge"):
                wrong = ~np.isin(y, (-1, 1))
                if wrong.any():
                    row = int(np.flatnonzero(wrong.any(axis=1))[0])
                    raise DataError(f"{name} data: the {self.loss_name} loss needs targets -1 or +1; found "
                                    f"{y[row][wrong[row]][0]} at row {row}")
            elif self.loss_name in losses.LOSSES and y.shape[1] != n_out:
                raise DataError(f"{name} data: y has {y.shape[1]} target columns but the model has {n_out} outputs")
        return X, y

    # -- the step ------------------------------------------------------------------------------
    def _objective(self, params, xb, yb, buffers):
        """(loss, new buffers): BatchNorm's running statistics come back as values (aux)."""
        out, buffers = self.model.apply(params, xb, training=True, rng=self.dropout_rng, remat=self.remat,
                                        buffers=buffers, return_state=True)
        return self.loss_fn(out, yb), buffers

    def train_step(self, xb, yb):
        """One step of gradient descent on the mini-batch (xb, yb); returns the loss (a float)."""
        (loss, buffers), grads = self._grad_fn(self.model.params, xb, yb, self.model.buffers)
        loss = float(loss)
        if not math.isfinite(loss):
            self._raise_non_finite(loss, grads)
        if self.check_gradients:
            self._check_gradients(loss, grads)
        for hook in self.step_hooks:
            hook.on_step(self, loss, grads)
        if self._needs_closure:  # L-BFGS re-evaluates the loss during its line search
            self.optimizer.step(grads, lambda: _loss_and_grads(self._grad_fn(self.model.params, xb, yb,
                                                                             self.model.buffers)), loss=loss)
        else:
            if self.optimizer is not self._update_for:
                self._choose_update()
            self._apply_update(grads)
        if buffers:  # the batch's running statistics count once the step is taken
            self.model.buffers.update(buffers)
        self.step += 1
        self.last_finite_loss = loss
        return loss

    def _where(self):
        return f"epoch {self.epoch + 1}, step {self.step + 1}"

    def _raise_non_finite(self, loss, grads):
        bad_params = [k for k, p in self.model.params.items() if not np.all(np.isfinite(p))]
        if bad_params:  # the previous update produced them: its gradient or the update overflowed
            raise NonFiniteError(
                f"loss became {loss} at {self._where()}: parameter '{bad_params[0]}' became non-finite in the "
                f"update of step {self.step} (a non-finite gradient or an overflowing update); last finite loss "
                f"{self.last_finite_loss}; try a smaller learning rate or gradient clipping (clip_norm)")
        bad = [k for k, g in grads.items() if not np.all(np.isfinite(g))]
        where = f"first non-finite gradient in '{bad[0]}'" if bad else "gradients finite"
        raise NonFiniteError(
            f"loss became {loss} at {self._where()} ({where}); "
            f"last finite loss {self.last_finite_loss}; try a smaller learning rate, gradient "
            "clipping (clip_norm) or a different initialization"
        )

    def _check_gradients(self, loss, grads):
        for k, g in grads.items():
            if not np.isfinite(g).all():
                raise NonFiniteError(f"the gradient of '{k}' is not finite at {self._where()} although the loss "
                                     f"{loss} is; last finite loss {self.last_finite_loss}; try a smaller learning "
                                     "rate or gradient clipping (clip_norm)")

    def check_finite(self):
        """Raise NonFiniteError naming the first parameter or buffer that is NaN or infinite."""
        for group in (self.model.params, self.model.buffers):
            for k, p in group.items():
                if np.issubdtype(p.dtype, np.inexact) and not np.all(np.isfinite(p)):
                    raise NonFiniteError(
                        f"'{k}' became non-finite by step {self.step} (epoch {self.epoch + 1}), though the loss was "
                        f"finite: a non-finite gradient or an overflowing update; last finite loss "
                        f"{self.last_finite_loss}; try a smaller learning rate or gradient clipping (clip_norm)")

    # -- divergence ----------------------------------------------------------------------------
    def apply_lr_scale(self):
        """Set the optimizer's learning rate to the original one × ``lr_scale``."""
        base = self._base_learning_rate
        if base is None:
            return
        if self.lr_scale == 1.0:
            self.optimizer.learning_rate = base
        elif isinstance(base, Schedule):
            self.optimizer.learning_rate = ScaledSchedule(base, self.lr_scale)
        else:
            self.optimizer.learning_rate = base * self.lr_scale

    def _roll_back(self, error, snapshot):
        from .checkpoint import Checkpoint, latest_checkpoint, restore

        if self.rollbacks >= self.max_rollbacks:
            raise NonFiniteError(f"{error} (after {self.rollbacks} rollbacks with the learning rate × "
                                 f"{self.rollback_factor} each)") from None
        rollbacks, scale, step = self.rollbacks + 1, self.lr_scale * self.rollback_factor, self.step
        source = None
        for cb in self.callbacks:
            if isinstance(cb, Checkpoint):
                try:
                    path, arrays, state = latest_checkpoint(cb.directory, self)
                    source = (f"checkpoint {path.name}", arrays, state)
                except CheckpointError:
                    pass  # nothing written yet: use the snapshot
                break
        if source is None:
            source = ("the state at the end of the last good epoch", *snapshot)
        restore(self, source[1], source[2])
        self.rollbacks, self.lr_scale = rollbacks, scale
        self.apply_lr_scale()
        for cb in self.callbacks:
            if callable(getattr(cb, "on_rollback", None)):
                cb.on_rollback(self)
        warnings.warn(f"{error}; rolled back from step {step} to {source[0]} (step {self.step}) and continuing with "
                      f"the learning rate × {scale:g} (rollback {rollbacks} of at most {self.max_rollbacks})",
                      DivergenceWarning, stacklevel=3)

    # -- the loop ------------------------------------------------------------------------------
    def fit(self, X, y, epochs=10, validation_data=None, shuffle=True):
        """Train for ``epochs`` more epochs; return the history {metric: [value per epoch]}.

        After a restore in the middle of an epoch, that epoch is finished first and counts as
        one of the ``epochs``.
        """
        from .checkpoint import capture

        if not _is_int(epochs):
            raise ConfigError(f"epochs must be a non-negative integer, found {epochs!r}")
        X, y = self._prepare(X, y)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise DataError(f"validation_data must be a pair (X_val, y_val), found {type(validation_data).__name__}"
                                + (f" of length {len(validation_data)}" if hasattr(validation_data, "__len__") else ""))
            val = self._prepare(*validation_data, name="validation")
        batcher = Batcher(len(X), self.batch_size, shuffle=bool(shuffle), seed=self.seed)
        self._check_position(batcher)
        self.batcher = batcher
        end = self.epoch + int(epochs)
        progress = Progress(int(epochs), self.verbose)
        self.stop_training = False
        self._step_end = [cb for cb in self.callbacks if overrides(cb, "on_step_end")]
        for cb in self.callbacks:
            cb.on_train_begin(self)
        snapshot = capture(self) if self.on_divergence == "rollback" else None
        try:
            while self.epoch < end and not self.stop_training:
                try:
                    logs = self._epoch(X, y, val, batcher)
                except NonFiniteError as e:
                    if self.on_divergence != "rollback":
                        raise
                    self._roll_back(e, snapshot)
                    continue
                if snapshot is not None:
                    snapshot = capture(self)
                progress.update(self.epoch, logs)
        finally:
            progress.close()
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def _check_position(self, batcher):
        """A restored mid-epoch position is only meaningful for the same data order."""
        data = self.resume_data
        if data is None or self.batch_index == 0:
            return
        mine = {k: v for k, v in batcher.state_dict().items() if k not in ("epoch", "batch_index")}
        differ = [k for k in mine if data.get(k) != mine[k]]
        if differ:
            k = differ[0]
            raise CheckpointError(f"the checkpoint stopped in the middle of an epoch of different data: its {k} was "
                                  f"{data.get(k)!r}, this run's is {mine[k]!r}; resume with the same data and "
                                  "batch size")
        if self.batch_index > batcher.n_batches:
            raise CheckpointError(f"the checkpoint's batch index {self.batch_index} is past the epoch's "
                                  f"{batcher.n_batches} batches")

    def _epoch(self, X, y, val, batcher):
        """Run the rest of the current epoch and its end-of-epoch bookkeeping; return its logs."""
        t0 = time.perf_counter()
        total, count = self.epoch_loss_sum, self.epoch_samples
        hooks = self._step_end
        for idx in batcher.batches(self.epoch, self.batch_index):
            n = len(idx)
            total += self.train_step(np.take(X, idx, axis=0), np.take(y, idx, axis=0)) * n  # = X[idx], faster
            count += n
            self.batch_index += 1
            self.epoch_loss_sum, self.epoch_samples = total, count
            for hook in hooks:
                hook.on_step_end(self)
        self.check_finite()  # an update of the epoch's last step that went non-finite
        logs = {"loss": total / max(count, 1)}
        logs.update(self.evaluate(X, y, prefix="", limit=self.metric_samples, with_loss=False, prepared=True))
        if val is not None:
            logs.update(self.evaluate(*val, prefix="val_", prepared=True))
        logs["lr"] = float(self.optimizer.learning_rate_now)
        logs["time"] = time.perf_counter() - t0
        self.epoch += 1
        self.batch_index, self.epoch_loss_sum, self.epoch_samples = 0, 0.0, 0
        schedule = getattr(self.optimizer, "learning_rate", None)
        if hasattr(schedule, "observe"):  # ReduceOnPlateau watches the epoch's loss
            schedule.observe(logs.get("val_loss", logs["loss"]))
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        for cb in self.callbacks:
            cb.on_epoch_end(self, self.epoch, logs)
        return logs

    def predict(self, X, batch_size=4096):
        """The network's output in eval mode (logits for classification losses): (n, d_out)."""
        from ..data.validation import check_X

        X = check_X(X)
        if X.shape[1] != self.model.d_in:
            raise DataError(f"X has {X.shape[1]} features per sample but the model expects {self.model.d_in}")
        return self._predict(np.asarray(X, dtype=self.dtype), batch_size)

    def _predict(self, X, batch_size=4096):
        outs = [self.model.apply(self.model.params, X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
        return np.concatenate(outs) if outs else np.zeros((0, self.model.d_out), self.dtype)

    def evaluate(self, X, y, prefix="", limit=None, with_loss=True, prepared=False):
        """{prefix + 'loss': ..., prefix + metric: ...} on (X, y) in eval mode."""
        if not prepared:
            X, y = self._prepare(X, y, name="evaluation")
        if limit is not None and len(X) > limit:
            X, y = X[:limit], y[:limit]
        out = self._predict(X)
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
