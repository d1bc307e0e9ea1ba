"""The trial: one configuration over its seeds, trained on a worker. A pure function.

    run_trial(config, seeds, metric) -> {"results": [one per seed], "wall_time": s, "packed": bool}

Each seed's result: ``seed``, ``status`` (ok / failed / diverged / pruned), ``error`` (one line),
``final`` and ``best`` values of the metric, ``epochs``, the per-epoch ``curves`` ({column:
[values]}) and, with ``weights=True``, the trained model's tensors (``weights``: {name: array},
``model.state_dict()``'s names; None for a seed that did not finish). Nothing is written anywhere:
the driver stores what comes back, so a worker needs no access to the driver's files.

When the network is one a seed ensemble can train (Dense and activations, an elementwise
optimizer, no schedule, no early stopping), the seeds train as ONE ``train.Ensemble`` (a leading
model axis), bit for bit the same as separate runs (tests/sweep checks it against ``runs.build``).
If the data depend on the seed (a seeded validation split, a generator without its own seed),
each seed's run is built (``runs.build``: its own split, standardization statistics and initial
model) and model k trains on its own data (``Ensemble.fit(per_model=True)``), validated on its own
validation split; a Standardize first layer is applied to each model's data with that model's own
mean and scale. Otherwise (or if the seeds' training sets differ in size) they run one after
another in the same task.
"""

from __future__ import annotations

import math
import time
from collections import Counter

import numpy as np

from ..errors import ChainruleError, NonFiniteError
from ..runs import build
from ..runs.budget import limit_bytes
from ..runs.build import _parameters
from ..train import Callback
from ..train.divergence import loss_limit
from ..train.ensemble import Ensemble

# Packing seeds whose data differ holds every seed's run at once, and stacks their inputs again
PER_SEED_COPIES = 2
PACKABLE_OPTIMIZERS = {"sgd", "gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}


_clock = time.monotonic  # (the pruner's clock; tests replace it)


class TrialPruned(Exception):
    """Raised by the pruning callback inside a fit; the seed's status becomes 'pruned'."""


def run_trial(config, seeds, metric, direction="minimize", pruning=None, weights=False):
    """Train ``config`` once per seed (the config's own ``seed`` replaced); see the module docstring.

    direction: minimize or maximize (which value of the metric is the best).
    pruning: None, or {"pruner": "median" | "hyperband", "direction": ..., "history": [[metric per
        epoch] of the finished configurations]}: Optuna's pruner decides, each epoch, from the
        history and this configuration's mean curve so far. "history" may also be a function of no
        arguments returning that list: it is then asked again at most once a second during training
        (new curves join the pruner's study), so the trial hears of configurations finished after it
        was sent.
    weights: also return each seed's trained model ({tensor name: array}, or None), and the
        network as ``model``: {"architecture": its config, "dtype"} (the same for every seed).
    """
    result, first = _run_trial(config, seeds, metric, direction, pruning, weights)
    if weights:
        result["model"] = None if first is None else {"architecture": first.model.config(),
                                                      "dtype": str(first.model.dtype)}
    return result


def _run_trial(config, seeds, metric, direction, pruning, weights):
    start = time.perf_counter()
    config = {**config, "output": {**config.get("output", {}), "record": False, "plots": False}}
    with np.errstate(all="ignore"):
        try:  # one run first: a config only the data can refute fails every seed the same way
            first = build({**config, "seed": int(seeds[0])})
        except Exception as e:
            return _done([_failed(s, e, weights) for s in seeds], start, False), None
        pruner = _Pruner(pruning, metric) if pruning else None
        built = {int(seeds[0]): first}
        if packable(first.config, len(seeds)):
            if not data_depends_on_seed(first.config):
                return _done(_train_ensemble([first], seeds, metric, direction, pruner, weights), start, True), first
            # every seed's run is held at once: within the run's memory limit, else one by one
            if _data_bytes(first) * len(seeds) * PER_SEED_COPIES <= limit_bytes(first.config):
                for s in seeds[1:]:
                    try:
                        built[int(s)] = build({**config, "seed": int(s)})
                    except Exception as e:
                        built[int(s)] = e
                each = [built[int(s)] for s in seeds]
                if all(not isinstance(r, Exception) and _sizes(r) == _sizes(first) for r in each):  # one n for all
                    return _done(_train_ensemble(each, seeds, metric, direction, pruner, weights), start,
                                 True), first
        results = [_train_one(first, seeds[0], metric, direction, pruner, weights)]
        for s in seeds[1:]:
            run = built.get(int(s))
            if run is None:
                try:
                    run = build({**config, "seed": int(s)})
                except Exception as e:
                    run = e
            if isinstance(run, Exception):
                results.append(_failed(s, run, weights))
                continue
            results.append(_train_one(run, s, metric, direction, pruner and _Pruner(pruning, metric), weights))
        return _done(results, start, False), first


def _data_bytes(run):
    """The bytes of one run's data (all of it, its split, a standardized copy of the split)."""
    arrays = (run.X, run.X_train, run.y_train, run.X_val, run.y_val)
    return sum(np.asarray(a).nbytes for a in arrays if a is not None) + np.asarray(run.X_train).nbytes


def _sizes(run):
    return len(run.X_train), None if run.X_val is None else len(run.X_val)


def _done(results, start, packed):
    return {"results": results, "wall_time": time.perf_counter() - start, "packed": packed}


def packable(cfg, n_seeds):
    """Whether ``n_seeds`` runs of the completed config ``cfg`` that differ in their seed can train as
    one seed ensemble with the same results: the network and optimizer must be ones the ensemble
    trains exactly as the Trainer does (data that depend on the seed are trained per model)."""
    m, t, o = cfg["model"], cfg["training"], cfg["optimizer"]
    return (n_seeds > 1 and not (m["batchnorm"] or m["dropout"])
            and not (cfg["schedule"] or t["early_stopping"] or t["gradient_checkpointing"])
            and t["on_divergence"] == "stop"  # (a rollback changes one model's course: the Trainer's business)
            and not t["check_gradients"]
            and o["name"] in PACKABLE_OPTIMIZERS and o.get("clip_norm") is None)


def data_depends_on_seed(cfg):
    """Whether the run's training or validation data change with its ``seed`` (``runs.load_data``
    and ``build``: the split is seeded, and so is a dataset generator not given its own seed)."""
    d = cfg["data"]
    if d["val_fraction"] > 0:
        return True
    if d["name"] == "csv" or "seed" in d["options"]:
        return False
    return "seed" in _parameters(d["name"])


def _train_one(run, seed, metric, direction, pruner, weights=False):
    callbacks = [pruner.for_single()] if pruner else []
    for cb in callbacks:
        run.trainer.callbacks.append(cb)
    status, error = "ok", None
    try:
        run.fit()
    except NonFiniteError as e:
        status, error = "diverged", _line(e)
    except TrialPruned:
        status = "pruned"
    except Exception as e:
        status, error = "failed", _line(e)
    # (wall-clock "time" is left out: the curves are the numbers a rerun reproduces)
    curves = {k: [float(v) for v in vals] for k, vals in run.trainer.history.items() if k != "time"}
    result = _result(seed, status, error, curves, metric, direction)
    if weights:
        result["weights"] = _state(run.model) if result["status"] == "ok" else None
    return result


def _train_ensemble(built, seeds, metric, direction, pruner, weights=False):
    """``built``: the first seed's run (data shared by the seeds) or every seed's run (per-model data)."""
    first = built[0]
    cfg = first.config
    per_model = len(built) > 1
    skip = 1 if cfg["data"]["standardize"] else 0  # the Standardize layer: applied to the data here
    layers = first.model.layers[skip:]

    def factory():
        import copy

        from ..nn import Sequential

        return Sequential(*[copy.deepcopy(layer) for layer in layers])

    dtype = np.dtype(cfg["dtype"])

    def inputs(run, X):  # the Standardize layer's own formula, with the run's own statistics: (x − mean)/scale
        if X is None:
            return None
        X = np.asarray(X, dtype)
        return (X - run.model.buffers["0.mean"]) / run.model.buffers["0.scale"] if skip else X

    if per_model:
        X_tr, y_tr = [inputs(r, r.X_train) for r in built], [r.y_train for r in built]
        val = None if first.X_val is None else ([inputs(r, r.X_val) for r in built], [r.y_val for r in built])
    else:
        X_tr, y_tr = inputs(first, first.X_train), first.y_train
        val = None if first.X_val is None else (inputs(first, first.X_val), first.y_val)
    options = {k: v for k, v in cfg["optimizer"].items() if k not in ("name", "learning_rate")}
    recorder = _EnsembleCurves(float(first.trainer.optimizer.learning_rate_now))
    tripwire = _Tripwire(len(seeds))
    callbacks = [recorder, tripwire] + ([pruner.for_ensemble(tripwire)] if pruner else [])
    status, error = "ok", None
    try:
        ensemble = Ensemble(factory, seeds, loss=first.trainer.loss_name, optimizer=cfg["optimizer"]["name"],
                            learning_rate=cfg["optimizer"]["learning_rate"], optimizer_options=options,
                            batch_size=min(cfg["training"]["batch_size"], len(first.X_train)), dtype=dtype,
                            metrics=list(first.trainer.metric_fns), verbose=0, callbacks=callbacks,
                            metric_samples=first.trainer.metric_samples)
        if per_model:  # each model starts where its own run starts (in place: the optimizer holds these arrays)
            for name, stacked in ensemble.params.items():
                for k, run in enumerate(built):
                    stacked[k] = run.model.params[_shifted(name, skip)]
        ensemble.fit(X_tr, y_tr, epochs=cfg["training"]["epochs"], validation_data=val, per_model=per_model)
    except TrialPruned:
        status = "pruned"
    except Exception as e:
        status, error = "failed", _line(e)
    results = []
    for k, seed in enumerate(seeds):
        if tripwire.tripped[k] and status in ("ok", "pruned"):
            # The Trainer would have stopped this seed at that step: its own run says how and when,
            # with the Trainer's error and curves (the ensemble trained it on, independently of the others).
            run = built[k] if per_model else build({**cfg, "seed": int(seed)})
            results.append(_train_one(run, seed, metric, direction, None, weights))
            continue
        curves = {name: [float(row[k]) for row in rows] for name, rows in recorder.curves.items()}
        result = _result(seed, status, error, curves, metric, direction)  # (divergence: the tripwire's)
        if weights:
            trained = {_shifted(n, skip): v for n, v in ensemble.model_params(k).items()} \
                if result["status"] == "ok" else None
            result["weights"] = None if trained is None else _state(built[k if per_model else 0].model, trained)
        results.append(result)
    return results


def _shifted(name, skip):
    """The ensemble's parameter name (layers after the Standardize layer) as the run's model names it."""
    index, rest = name.split(".", 1)
    return f"{int(index) + skip}.{rest}"


def _state(model, params=None):
    """``model.state_dict()`` as fresh arrays, with ``params`` ({name: array}) in place of its parameters."""
    params = params or {}
    return {k: np.array(params.get(k, v), copy=True) for k, v in model.state_dict().items()}


class _Tripwire(Callback):
    """The Trainer's divergence rule, model by model: a step whose loss is non-finite, or above
    ``loss_limit`` of the fit's first step's loss, stops a Trainer's run (NonFiniteError /
    LossExplodedError), and so does a parameter made non-finite, found at an epoch's end
    (``check_finite``). The ensemble goes on; ``tripped[k]`` says model k would have stopped."""

    def __init__(self, k):
        self.limits, self.tripped = None, np.zeros(k, bool)

    def on_gradients(self, trainer, losses, grads):
        losses = np.asarray(losses, np.float64).reshape(-1)
        with np.errstate(invalid="ignore"):
            if self.limits is None:  # the fit's first step: its losses set the bounds
                self.limits = loss_limit(losses)
                self.tripped |= ~np.isfinite(losses)
            else:
                self.tripped |= ~np.isfinite(losses) | (losses > self.limits)
        self._all_tripped(trainer)

    def on_epoch_end(self, trainer, epoch, logs):
        # an update that overflowed a parameter while the loss was still finite (the fit's last
        # step has no next loss to show it)
        for stacked in trainer.params.values():
            self.tripped |= ~np.isfinite(stacked).reshape(len(stacked), -1).all(axis=1)
        self._all_tripped(trainer)

    def _all_tripped(self, trainer):
        if self.tripped.all():  # every seed is rerun alone: training on is wasted
            trainer.stop_training = True


class _EnsembleCurves(Callback):
    """Per-epoch columns of every model, named as the Trainer's history names them (loss, metrics,
    val_* on the validation data, lr: the learning rate, constant in a packed run)."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self.curves = {}

    def on_epoch_end(self, trainer, epoch, logs):
        row = {**logs, "lr": np.full(trainer.K, self.learning_rate)}
        for k, v in row.items():
            self.curves.setdefault(k, []).append(np.asarray(v, np.float64).reshape(-1))


class _Pruner:
    """Optuna's pruner, run on the worker against the finished configurations' curves.

    ``pruning["history"]``: the list of curves, or a function returning it; a function is asked
    again at most once per ``REFRESH_SECONDS`` of wall time, at the end of an epoch, and the curves
    it has not given before (counted as a multiset: two equal curves are two configurations) join
    the study as finished trials; a call that raises adds nothing."""

    REFRESH_SECONDS = 1.0

    def __init__(self, pruning, metric):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.metric = metric
        # No decision in the first fifth of training: early epochs rank configurations poorly
        # (a fast starter is not the best finisher), and the median of two curves is no median.
        epochs = pruning.get("epochs", 10)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=max(1, epochs // 5)) \
            if pruning["pruner"] == "median" else \
            optuna.pruners.HyperbandPruner(min_resource=max(1, epochs // 10), max_resource=epochs)
        self.study = optuna.create_study(direction=pruning["direction"], pruner=pruner)
        history = pruning["history"]
        self.source = history if callable(history) else None
        self.seen = Counter()  # the curves already in the study
        self.asked_at = _clock()
        self._add(self._ask() if self.source else history)
        self.trial = self.study.ask()

    def _ask(self):
        # Pruning only saves time: a history that cannot be read now (the driver busy or gone) leaves
        # the study as it is rather than failing a trial that trains fine.
        try:
            return list(self.source())
        except Exception:
            return []

    def _add(self, curves):
        import optuna

        fresh, values = Counter(), {}
        for curve in curves or ():
            curve = [float(v) for v in curve]
            key = tuple(v.hex() for v in curve)  # (exact, and a NaN equals a NaN here)
            fresh[key] += 1
            values[key] = curve
        for key, count in (fresh - self.seen).items():
            curve = values[key]
            finite = [v for v in curve if math.isfinite(v)]
            for _ in range(count):
                if finite:
                    self.study.add_trial(optuna.trial.create_trial(
                        value=finite[-1], intermediate_values={i: v for i, v in enumerate(curve) if math.isfinite(v)}))
        self.seen |= fresh

    def refresh(self):
        """Ask the history function again if REFRESH_SECONDS have passed since it was last asked."""
        if self.source is not None and _clock() - self.asked_at >= self.REFRESH_SECONDS:
            self.asked_at = _clock()
            self._add(self._ask())

    def check(self, epoch, value):
        self.refresh()
        if math.isfinite(value):
            self.trial.report(value, epoch - 1)
            if self.trial.should_prune():
                raise TrialPruned(f"pruned at epoch {epoch}")

    def for_single(self):
        pruner = self

        class _Check(Callback):
            def on_epoch_end(self, trainer, epoch, logs):
                if pruner.metric in logs:
                    pruner.check(epoch, float(logs[pruner.metric]))
        return _Check()

    def for_ensemble(self, tripwire):
        pruner = self

        class _Check(Callback):
            def on_epoch_end(self, trainer, epoch, logs):  # after _EnsembleCurves: the mean over the seeds
                curves = trainer.callbacks[0].curves       # that have not diverged (those are rerun alone)
                live = ~tripwire.tripped
                if pruner.metric in curves and live.any():
                    pruner.check(epoch, float(np.mean(curves[pruner.metric][-1][live])))
        return _Check()


def _result(seed, status, error, curves, metric, direction):
    values = [v for v in curves.get(metric, []) if math.isfinite(v)]
    if status == "ok" and metric not in curves:
        status, error = "failed", f"the run has no metric {metric!r}; its history has {', '.join(curves)}"
    return {"seed": int(seed), "status": status, "error": error,
            "final": values[-1] if values else None,
            "best": (min(values) if direction == "minimize" else max(values)) if values else None,
            "epochs": len(curves.get("loss", [])), "curves": curves}


def _failed(seed, e, weights=False):
    result = {"seed": int(seed), "status": "failed", "error": _line(e), "final": None, "best": None, "epochs": 0,
              "curves": {}}
    if weights:
        result["weights"] = None
    return result


def _line(e):
    text = " ".join(str(e).split()) or type(e).__name__
    if not isinstance(e, ChainruleError):
        text = f"{type(e).__name__}: {text}"
    return text[:500]
