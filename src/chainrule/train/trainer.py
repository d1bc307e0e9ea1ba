"""The training loop: mini-batch gradient descent with backpropagation (seeds 001, 003).

One step: take a mini-batch, run the network forward, compute the loss, backpropagate
(``value_and_grad``: reverse mode), update the parameters in place. One epoch: one pass over
the shuffled data in blocks of ``batch_size`` (M = N is batch gradient descent, M = 1 is SGD).
Everything random — initialization, shuffling, dropout — derives from ``seed``, so a run is
bitwise reproducible, and a run restored from a checkpoint (``chainrule.train.checkpoint``)
continues from the exact step, even in the middle of an epoch.

Divergence: a NaN or infinite loss, or a finite one over 1000 × the fit's first loss (and over
1000: ``divergence.loss_limit``), stops training before the update (NonFiniteError naming
the step, the layer with the first non-finite gradient and the last finite loss). A finite
loss whose gradient is not finite makes the update non-finite; that is caught at the next
step's loss, at the epoch's end and before any checkpoint is written, at no per-step cost
(``check_gradients=True`` checks every step's gradients instead). With
``on_divergence='rollback'`` a ``DivergenceGuard`` callback takes training back to the last good
state (``chainrule.train.divergence``) and continues with the learning rate × ``rollback_factor``.

What a resume needs is ``Trainer.state_dict()``: the ``TrainState`` (``chainrule.train.state``),
the parameters, buffers, optimizer and callback state. Callbacks (``chainrule.train.callbacks``)
see the loop through one declared set of hooks; the history and the progress bar are callbacks.
"""

from __future__ import annotations

import copy
import math
import numbers
import time
from collections.abc import Mapping

import numpy as np

from .. import optim
from ..constraints import NON_NEGATIVE_INT, POSITIVE_INT, Interval, Options, is_count, validate
from ..data.batching import Batcher
from ..errors import ChainruleError, CheckpointError, CheckpointMismatchError, ConfigError, DataError, NonFiniteError
from ..nn import losses
from ..optim.schedules import Schedule
from . import evaluation
from .callbacks import CallbackList, History, callback_states, check_callback, load_callback_states
from .divergence import EXPLODED, DivergenceGuard, DivergenceWarning, LossExplodedError, ScaledSchedule, loss_limit
from .progress import ProgressBar
from .state import TrainState
from .step_gradient import StepGradient

DIVERGENCE_MODES = ("stop", "rollback")
__all__ = ["DivergenceWarning", "NonFiniteError", "ScaledSchedule", "Trainer", "fit"]


def _loss_and_grads(result):
    (loss, _), grads = result  # (L-BFGS's line search: its evaluations do not move the running statistics)
    return loss, grads



# What the Trainer's arguments may be (``chainrule.constraints``); the model, optimizer, loss,
# learning rate and dtype are checked by what builds them, batch_size as data (DataError).
_CONSTRAINTS = {
    "loss": [str, "callable"], "optimizer_options": [None, Mapping], "seed": [NON_NEGATIVE_INT],
    "metrics": [None, list, tuple], "callbacks": [None, list, tuple], "gradient_checkpointing": ["boolean"],
    "verbose": ["boolean", NON_NEGATIVE_INT], "metric_samples": [POSITIVE_INT],
    "on_divergence": [Options(str, DIVERGENCE_MODES)],
    "rollback_factor": [Interval(numbers.Real, 0, 1, closed="neither")], "max_rollbacks": [NON_NEGATIVE_INT],
    "check_gradients": ["boolean"], "compiled": ["boolean"],
}
_FIT_CONSTRAINTS = {"epochs": [NON_NEGATIVE_INT], "shuffle": ["boolean"]}


def _state_attribute(name, doc):
    def read(self):
        return getattr(self.state, name)

    def write(self, value):
        setattr(self.state, name, value)

    return property(read, write, doc=doc)


class Trainer:
    """Trains ``model`` (a ``chainrule.nn.Sequential``) with a loss and an optimizer.

    model: the network; initialized from ``seed`` (in ``dtype``) if it has no parameters yet.
    loss: a name from ``chainrule.nn.losses`` or a function ``(output, y) -> scalar``; what it
        declares (``losses.needs``: task, targets, classes, stageable) decides the data checks,
        the default metric and whether steps can be compiled.
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
        segment). Used when it is safe: a loss that declares itself stageable and a model
        without randomness or state in training (no Dropout with p > 0, no BatchNorm); hinge and
        logistic, which check their targets' values at every step, run eagerly.

    State: ``state`` (a ``TrainState``: epoch, step, batch index, the partial epoch's running
    sums, history, learning-rate scale, rollbacks, the dropout generator), also readable as
    ``epoch``, ``step``, ``history``… ``state_dict()`` is it with the parameters, buffers,
    optimizer and callback state: what checkpoints save and ``load_state_dict`` restores.
    """

    epoch = _state_attribute("epoch", "epochs completed")
    step = _state_attribute("step", "optimizer steps taken")
    batch_index = _state_attribute("batch_index", "the next batch of the current epoch")
    epoch_loss_sum = _state_attribute("loss_sum", "Σ loss·|batch| so far this epoch")
    epoch_samples = _state_attribute("samples", "Σ |batch| so far this epoch")
    history = _state_attribute("history", "{metric: [value per epoch]}")
    lr_scale = _state_attribute("lr_scale", "the learning rate × this (lowered by rollbacks)")
    rollbacks = _state_attribute("rollbacks", "rollbacks so far")
    last_finite_loss = _state_attribute("last_finite_loss", "the last step's loss, if finite")
    stop_reason = _state_attribute("stop_reason", "why training stopped early, if it did")
    stop_training = _state_attribute("stop_training", "set by a callback to stop after this epoch")
    dropout_rng = _state_attribute("dropout_rng", "the generator of dropout masks")

    def __init__(self, model, loss="cross_entropy", optimizer="adam", learning_rate=None,
                 optimizer_options=None, batch_size=32, seed=0, dtype=None, metrics=None, callbacks=(),
                 gradient_checkpointing=False, verbose=1, metric_samples=10_000, on_divergence="stop",
                 rollback_factor=0.5, max_rollbacks=3, check_gradients=False, compiled=True):
        if not all(hasattr(model, a) for a in ("params", "init", "apply", "d_in", "d_out")):
            raise ConfigError(f"Trainer: model must be a chainrule network (nn.Sequential or nn.MLP), "
                              f"found {type(model).__name__}")
        arguments = locals()
        validate("Trainer", _CONSTRAINTS, {k: arguments[k] for k in _CONSTRAINTS})
        if not is_count(batch_size, 1):
            raise DataError(f"batch_size must be a positive integer, found {batch_size!r}")
        callbacks = () if callbacks is None else callbacks
        for cb in callbacks:
            check_callback(cb)
        self.model = model
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
        self.loss_fn = losses.get(loss)
        self.needs = losses.needs(self.loss_fn)
        self.seed = int(seed)
        if model.params is None:
            model.init(seed=self.seed, dtype=dtype or np.float64)
        elif dtype is not None and np.dtype(dtype) != model.dtype:
            raise ConfigError(f"Trainer: dtype={np.dtype(dtype).name} but the model's parameters are already "
                              f"{model.dtype}; leave dtype out or initialize the model in {np.dtype(dtype).name}")
        self.dtype = model.dtype
        self.optimizer = self._make_optimizer(optimizer, learning_rate, optimizer_options or {})
        self.batch_size = int(batch_size)
        self.task = "classification" if self.needs.classifier else "regression"
        self.metric_names = list(metrics) if metrics is not None else evaluation.default_metrics(self.loss_fn)
        self.metric_fns = evaluation.metric_functions(self.metric_names)
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
        self.state = TrainState(dropout_rng=np.random.default_rng([self.seed, 1]))
        self.batcher = None
        self.callback_list = CallbackList(self.callbacks)  # (a fit adds the history, guard and progress bar)
        self._on_gradients = self.callback_list.hooks["on_gradients"]
        self._gradient = StepGradient(model, self._objective, compiled and self.needs.stageable, has_aux=True)
        self._needs_closure = isinstance(self.optimizer, optim.LBFGS)
        # Gradients made by the engine from model.params match the optimizer's parameters by
        # construction: a chainrule optimizer skips re-checking them each step (unless a subclass
        # has its own step method, which then runs as it would).
        self._update_for = None  # the optimizer _apply_update was chosen for (it may be replaced later)
        self._first_loss, self._loss_limit = None, math.inf  # a fit's first loss and the divergence bound

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

    def prepare(self, X, y, name="training"):
        """(X, y) checked against the model and converted as the loss declares (``losses.needs``),
        as ``fit`` and ``evaluate`` do: X (n, d_in) -> contiguous, in the trainer's dtype; y -> int64
        labels, 0/1 or ±1 floats, or float targets (n, d_out). ``name`` opens the error messages
        ("training data: ..."). Prepared arrays can go straight to ``train_step``."""
        return evaluation.prepare(X, y, self.model, self.loss_fn, dtype=self.dtype, name=name)

    def set_optimizer(self, optimizer, learning_rate=None, **options):
        """Train on with another optimizer: a name from ``chainrule.optim`` (built on
        ``model.params`` with ``learning_rate`` and ``options``, its state fresh) or an optimizer
        already built on ``model.params`` (its state as it is). Its learning rate becomes the base
        that rollbacks lower: the training state's ``lr_scale`` applies to it, as after a restore.
        Returns the optimizer now in use."""
        if not isinstance(optimizer, str) and (learning_rate is not None or options):
            raise ConfigError(f"Trainer.set_optimizer: learning_rate and options go with an optimizer's name, "
                              f"found them with a built {type(optimizer).__name__}")
        fresh = self._make_optimizer(optimizer, learning_rate, options)
        # (the optimizer in use carries the scaled rate already: its base stays the one it had)
        base = self._base_learning_rate if fresh is self.optimizer else getattr(fresh, "learning_rate", None)
        if self.on_divergence == "rollback" and base is None:
            raise ConfigError(f"Trainer.set_optimizer: on_divergence='rollback' lowers the learning rate, but "
                              f"{type(fresh).__name__} has no learning_rate attribute")
        self.optimizer, self._base_learning_rate = fresh, base
        self._needs_closure = isinstance(fresh, optim.LBFGS)
        if self.lr_scale != 1.0:
            self.apply_lr_scale()
        return fresh

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
        if loss > self._loss_limit:
            self._raise_exploded(loss)
        if self.check_gradients:
            self._check_gradients(loss, grads)
        for hook in self._on_gradients:
            hook(self, loss, grads)
        if self._needs_closure:  # L-BFGS re-evaluates the loss during its line search
            self.optimizer.step(grads, lambda: _loss_and_grads(self._grad_fn(self.model.params, xb, yb,
                                                                             self.model.buffers)), loss=loss)
        else:
            if self.optimizer is not self._update_for:
                self._choose_update()
            self._apply_update(grads)
        if buffers:  # the batch's running statistics count once the step is taken; as arrays (a
            # compiled program's integer count can come back as a NumPy scalar)
            self.model.buffers.update({k: v if type(v) is np.ndarray else np.asarray(v) for k, v in buffers.items()})
        state = self.state
        state.step += 1
        state.last_finite_loss = loss
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

    def _raise_exploded(self, loss):
        if self._first_loss is None:  # this is the fit's first step: its loss is the reference
            self._first_loss, self._loss_limit = loss, loss_limit(loss)
            return
        raise LossExplodedError(
            f"training diverged: the loss is {loss:.3g} at {self._where()}, over {EXPLODED:g} × the fit's first "
            f"loss {self._first_loss:.3g}; likely cause: the learning rate is too high; try a learning rate 10× "
            "smaller, gradient clipping (clip_norm) or on_divergence='rollback'")

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

    # -- state -----------------------------------------------------------------------------------
    def state_dict(self):
        """(arrays, state): everything a resume needs, split for safetensors and JSON.

        arrays: ``param/…``, ``buffer/…``, ``optimizer/…`` and ``callback<i>/…`` (the trainer's own
        arrays, not copies; ``snapshot()`` copies); state: the ``TrainState`` fields
        (``TrainState.to_dict``), the optimizer's scalars and each callback's state (or None)."""
        arrays = {f"param/{k}": v for k, v in self.model.params.items()}
        arrays.update({f"buffer/{k}": v for k, v in self.model.buffers.items()})
        scalars = {}
        for k, v in self.optimizer.state_dict().items():
            if isinstance(v, np.ndarray):
                arrays[f"optimizer/{k}"] = v
            else:
                scalars[k] = v
        cb_arrays, cb_states = callback_states(self.callbacks)
        arrays.update(cb_arrays)
        return arrays, {**self.state.to_dict(), "optimizer": scalars, "callbacks": cb_states}

    def snapshot(self):
        """An in-memory copy of ``state_dict()`` that ``load_state_dict`` puts back."""
        arrays, state = self.state_dict()
        history = state.pop("history")  # floats: a list copy is a copy (to_dict made one)
        state = copy.deepcopy(state)
        state["history"] = history
        return {k: np.array(v, copy=True) for k, v in arrays.items()}, state

    def load_state_dict(self, arrays, state):
        """Put back a ``state_dict()`` (from a checkpoint or ``snapshot()``) of the same architecture
        and optimizer. All or nothing: if any part does not fit, the trainer is left exactly as it
        was and a CheckpointMismatchError says what did not fit."""
        self.check_fits({k: (np.shape(v), np.asarray(v).dtype) for k, v in arrays.items()}, "checkpoint")
        before = self.snapshot()
        try:
            self._load(arrays, state)
        except (ChainruleError, ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError) as e:
            self._load(*before)
            text = str(e).splitlines()[0][:300] if str(e).strip() else type(e).__name__
            raise CheckpointMismatchError(f"checkpoint does not fit this trainer: {text}") from None

    def _load(self, arrays, state):
        scale = self.lr_scale
        self.state.load_dict(state)  # validates first: nothing changes on a malformed state
        for k, v in self.model.params.items():
            v[...] = arrays[f"param/{k}"]
        for k, v in list(self.model.buffers.items()):  # fresh arrays: buffers are values, not shared state
            self.model.buffers[k] = np.array(arrays[f"buffer/{k}"], dtype=np.asarray(v).dtype).reshape(np.shape(v))
        if self.lr_scale != scale or scale != 1.0:  # untouched otherwise: a rate the user set stays
            self.apply_lr_scale()
        opt_state = dict(state["optimizer"])
        opt_state.update({k[len("optimizer/"):]: v for k, v in arrays.items() if k.startswith("optimizer/")})
        self.optimizer.load_state_dict(opt_state)
        load_callback_states(self.callbacks, state["callbacks"], arrays)

    def tensor_spec(self):
        """{name: (shape, dtype)} of the model's and optimizer's arrays in ``state_dict()``."""
        spec = {f"param/{k}": (v.shape, v.dtype) for k, v in self.model.params.items()}
        spec.update({f"buffer/{k}": (v.shape, v.dtype) for k, v in self.model.buffers.items()})
        spec.update({f"optimizer/{k}": (v.shape, v.dtype) for k, v in self.optimizer.state_dict().items()
                     if isinstance(v, np.ndarray)})
        return spec

    def check_fits(self, spec, where="checkpoint"):
        """CheckpointMismatchError unless ``spec``'s model and optimizer tensors are exactly this trainer's."""
        expected = self.tensor_spec()
        got = {k for k in spec if not k.startswith("callback")}
        if set(expected) != got:
            diff = sorted(set(expected) ^ got)
            raise CheckpointMismatchError(f"{where} does not fit the model and optimizer: they differ in "
                                          f"{str(diff[:5])[:200]}")
        for k, (shape, dtype) in expected.items():
            f_shape, f_dtype = spec[k]
            if tuple(f_shape) != tuple(shape) or np.dtype(f_dtype) != np.dtype(dtype):
                raise CheckpointMismatchError(
                    f"{where} does not fit: '{k}' has shape {tuple(f_shape)} and dtype {f_dtype}, "
                    f"the run expects {tuple(shape)} and {np.dtype(dtype)}")

    # -- the loop ------------------------------------------------------------------------------
    def fit(self, X, y, epochs=10, validation_data=None, shuffle=True):
        """Train for ``epochs`` more epochs; return the history {metric: [value per epoch]}.

        After a restore in the middle of an epoch, that epoch is finished first and counts as
        one of the ``epochs``.
        """
        validate("Trainer.fit", _FIT_CONSTRAINTS, {"epochs": epochs, "shuffle": shuffle})
        X, y = self.prepare(X, y)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise DataError(f"validation_data must be a pair (X_val, y_val), found {type(validation_data).__name__}"
                                + (f" of length {len(validation_data)}" if hasattr(validation_data, "__len__") else ""))
            val = self.prepare(*validation_data, name="validation")
        batcher = Batcher(len(X), self.batch_size, shuffle=bool(shuffle), seed=self.seed)
        self._check_position(batcher)
        self.batcher = batcher
        state = self.state
        state.data = {k: v for k, v in batcher.state_dict().items() if k not in ("epoch", "batch_index")}
        end = state.epoch + int(epochs)
        guard = [DivergenceGuard(self.rollback_factor, self.max_rollbacks)] if self.on_divergence == "rollback" else []
        progress = ProgressBar(int(epochs), self.verbose)
        callbacks = self.callback_list = CallbackList([History(), *self.callbacks, *guard, progress])
        self._on_gradients = callbacks.hooks["on_gradients"]
        state.stop_training = False
        self._first_loss, self._loss_limit = None, -math.inf  # (the first step sets them: _raise_exploded)
        try:
            callbacks.on_fit_begin(self)
            while state.epoch < end and not state.stop_training:
                try:
                    self._epoch(X, y, val, batcher, callbacks)
                except NonFiniteError as e:
                    if not callbacks.on_divergence(self, e):
                        raise
            callbacks.on_fit_end(self)
        finally:
            progress.close()
            self.callback_list = CallbackList(self.callbacks)
            self._on_gradients = self.callback_list.hooks["on_gradients"]
        return self.history

    def _check_position(self, batcher):
        """A restored mid-epoch position is only meaningful for the same data order."""
        data = self.state.data
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

    def _epoch(self, X, y, val, batcher, callbacks):
        """Run the rest of the current epoch and its end-of-epoch bookkeeping."""
        t0 = time.perf_counter()
        state = self.state
        callbacks.on_epoch_begin(self, state.epoch + 1)
        total, count = state.loss_sum, state.samples
        hooks = callbacks.hooks["on_step_end"]
        for idx in batcher.batches(state.epoch, state.batch_index):
            n = len(idx)
            total += self.train_step(np.take(X, idx, axis=0), np.take(y, idx, axis=0)) * n  # = X[idx], faster
            count += n
            state.batch_index += 1
            state.loss_sum, state.samples = total, count
            for hook in hooks:
                hook(self)
        self.check_finite()  # an update of the epoch's last step that went non-finite
        logs = {"loss": total / max(count, 1)}
        logs.update(self.evaluate(X, y, prefix="", limit=self.metric_samples, with_loss=False, prepared=True))
        if val is not None:
            logs.update(self.evaluate(*val, prefix="val_", prepared=True))
        logs["lr"] = float(self.optimizer.learning_rate_now)
        logs["time"] = time.perf_counter() - t0
        state.start_epoch()
        schedule = getattr(self.optimizer, "learning_rate", None)
        if hasattr(schedule, "observe"):  # ReduceOnPlateau watches the epoch's loss
            schedule.observe(logs.get("val_loss", logs["loss"]))
        callbacks.on_epoch_end(self, state.epoch, logs)  # History first: it records the logs
        return logs

    def predict(self, X, batch_size=evaluation.PREDICT_BATCH):
        """The network's output in eval mode (logits for classification losses): (n, d_out)."""
        validate("Trainer.predict", {"batch_size": [POSITIVE_INT]}, {"batch_size": batch_size})
        return evaluation.predict(self.model, evaluation.check_features(self.model, X, self.dtype),
                                  batch_size=batch_size)

    def evaluate(self, X, y, prefix="", limit=None, with_loss=True, prepared=False):
        """{prefix + 'loss': ..., prefix + metric: ...} on (X, y) in eval mode
        (``chainrule.train.evaluation.evaluate`` with this trainer's loss and metrics)."""
        if not prepared:
            X, y = self.prepare(X, y, name="evaluation")
        if limit is not None and len(X) > limit:
            X, y = X[:limit], y[:limit]
        out = evaluation.predict(self.model, X)
        return evaluation.scores(out, y, self.loss_fn if with_loss else None, self.metric_fns, prefix)


def fit(model, X, y, epochs=10, validation_data=None, **options):
    """Train ``model`` in place on (X, y); ``options`` are those of :class:`Trainer`.

    Returns the history {metric: [value per epoch]}, as ``Trainer.fit`` does (``history =
    cr.fit(model, X, y)`` reads like ``history = trainer.fit(X, y)``). To continue training, save
    checkpoints or keep the optimizer's state, make the ``Trainer`` yourself.
    """
    return Trainer(model, **options).fit(X, y, epochs=epochs, validation_data=validation_data)
