"""A configuration turned into the parts of a run: data, model, loss, optimizer, schedule,
callbacks and the Trainer, in memory (``build``). Writing the run folder is ``pipeline.py``'s job.

    run = build({"data": {"name": "moons"}, "model": {"hidden": [8]}, "training": {"epochs": 5}})
    run.fit()
    run.trainer.history["loss"][-1]
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import data, nn, optim
from ..data.validation import check_trainable
from ..diagnostics import TrainingRecorder
from ..errors import ConfigError, DataError
from ..train import EarlyStopping, MetricLogger, Trainer
from ..train.checkpoint import Checkpoint
from .budget import check_loaded
from .checks import layers_mismatch, with_horizon
from .interrupt import SaveOnInterrupt
from .schema import complete

# Networks bigger than this (2 GB of float64 parameters) are refused: a width typed with extra
# zeros should be an error, not an attempt to allocate terabytes.
MAX_PARAMETERS = 1 << 28


def load_data(cfg):
    """(X, y, meta) from the [data] section; meta has the task, feature names and class names."""
    d = cfg["data"]
    if d["name"] == "csv":
        limits = cfg["limits"]
        X, y, meta = data.load_csv(d["path"], label=d["label"], features=d["features"],
                                   max_bytes=limits["csv_mb"] << 20, max_line=limits["csv_line_mb"] << 20)
        task = meta.get("task") if isinstance(meta, dict) else None
        task = task or ("classification" if np.issubdtype(np.asarray(y).dtype, np.integer) else "regression")
        return X, y, {"task": task, "source": str(d["path"]), **(meta if isinstance(meta, dict) else {})}
    options = dict(d["options"])
    if "seed" not in options and "seed" in _parameters(d["name"]):
        options["seed"] = cfg["seed"]
    X, y = data.load_dataset(d["name"], **options)
    features = [f"x{j}" for j in range(np.shape(X)[1])]  # the column names `predict` expects
    return X, y, {"task": data.dataset_task(d["name"]), "source": d["name"], "options": options, "features": features}


def _parameters(name):
    from ..data.registry import _spec

    return inspect.signature(_spec(name)[1].loader).parameters


def build_model(cfg, d_in, d_out, scaler=None):
    """The [model] section as an (uninitialized) ``nn.MLP`` with ``d_in`` inputs and ``d_out`` outputs.

    scaler: a fitted ``data.Standardizer``: the network then starts with ``nn.Standardize`` holding
    its statistics (flat: ``0.mean``, ``0.scale``, ``1.weight``, ...), so it takes raw inputs.
    """
    m = cfg["model"]
    init = None if m["init"] == "auto" else m["init"]  # checked with the whole config by schema.complete
    sizes = [int(d_in), *[int(h) for h in m["hidden"]], int(d_out)]
    if m.get("layers") and [m["layers"][0], m["layers"][-1]] != [sizes[0], sizes[-1]]:
        raise ConfigError(layers_mismatch(m["layers"], sizes[0], sizes[-1]))
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMETERS:
        raise ConfigError(f"model.hidden = {m['hidden']} with {sizes[0]} inputs and {sizes[-1]} outputs would have "
                          f"{n_params} parameters; the command line allows at most {MAX_PARAMETERS}")
    mlp = nn.MLP(sizes, activation=m["activation"], output_activation=m["output_activation"], init=init,
                 batchnorm=m["batchnorm"], dropout=m["dropout"])
    if scaler is None:
        return mlp
    return nn.Sequential(nn.Standardize(scaler.mean_, scaler.scale_), *mlp.layers)


def build_optimizer(cfg, params, total_steps=None):
    """The [optimizer] section (with the [schedule], if any, as its learning rate) over ``params``.
    ``total_steps``: the run's optimizer steps, from which a schedule's horizon left out is derived."""
    o = dict(cfg["optimizer"])
    name = o.pop("name")
    lr = o.pop("learning_rate", None)
    s = dict(cfg["schedule"])
    if s and total_steps is not None:
        s = with_horizon(s, total_steps)
    if s:
        s_name = s.pop("name", None)
        if s_name is None:
            raise ConfigError("[schedule] needs a name (constant, step, exponential, cosine, warmup, plateau)")
        try:
            lr = optim.get_schedule(s_name, learning_rate=lr if lr is not None else 0.01, **s)
        except TypeError as e:  # an option the schedule does not take
            raise ConfigError(f"[schedule] {e}") from None
    if lr is not None:
        o["learning_rate"] = lr
    try:
        return optim.get(name, params, **o)
    except TypeError as e:
        raise ConfigError(f"[optimizer] {e}") from None


def loss_name(cfg, task):
    """The [loss] section's name, with 'auto' resolved for the task."""
    name = cfg["loss"]["name"]
    if name == "auto":
        return "cross_entropy" if task == "classification" else "mse"
    nn.losses.get(name)
    return name


def output_width(task, y):
    """Classes for classification; target columns for regression."""
    if task == "classification":
        return n_classes_of(y)
    return 1 if np.ndim(y) == 1 else np.shape(y)[1]


def n_classes_of(y):
    if len(y) == 0:
        raise DataError("the dataset is empty: no samples to train on")
    return int(np.max(y)) + 1


@dataclass
class Run:
    """A run built from a configuration, ready to ``fit``: the completed config, the data
    (split, raw), the model (initialized; with ``[data] standardize`` its first layer is an
    ``nn.Standardize`` fitted on the training part) and the Trainer with its callbacks."""

    config: dict
    task: str
    meta: dict
    X: np.ndarray  # all the data, as loaded (before the split)
    y: np.ndarray
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    scaler: data.Standardizer  # fitted on X_train when [data] standardize (its numbers are the model's first layer)
    n_classes: int | None
    model: object
    trainer: Trainer
    recorder: TrainingRecorder | None  # None: [output] record = false

    @property
    def validation(self):
        return (self.X_val, self.y_val) if self.X_val is not None else None

    def fit(self, epochs=None):
        """Train for ``epochs`` (default: what the config says, less the epochs already run)."""
        if epochs is None:
            epochs = max(0, self.config["training"]["epochs"] - self.trainer.epoch)
        self.trainer.fit(self.X_train, self.y_train, epochs=epochs, validation_data=self.validation)
        return self

    def preprocessing(self):
        """What ``predict`` needs to read new inputs and name its outputs (preprocessing.json).

        The standardization is the model's first layer ("in_model": true); mean and scale are
        repeated here for a reader, never applied a second time."""
        standardize = bool(self.config["data"]["standardize"])
        return {"standardize": standardize, "in_model": standardize,
                "mean": self.scaler.mean_.tolist() if standardize else None,
                "scale": self.scaler.scale_.tolist() if standardize else None,
                "task": self.task, "n_classes": self.n_classes, "features": self.meta.get("features"),
                "classes": self.meta.get("classes"), "label": self.config["data"]["label"]}


def build(cfg, run_dir=None, verbose=0):
    """Build a run from a configuration dict (missing keys take their defaults).

    run_dir: where the metrics log and checkpoints go; None keeps the run in memory (no files).
    """
    cfg = complete(cfg)
    run_dir = None if run_dir is None else Path(run_dir)
    seed, dtype = cfg["seed"], np.dtype(cfg["dtype"])
    X, y, meta = load_data(cfg)
    task = meta["task"]
    n_classes = n_classes_of(y) if task == "classification" else None
    check_loaded(cfg, X, output_width(task, y))  # the memory budget with the data's real shape
    y_for_split = y if task == "classification" else np.asarray(y, np.float64)
    if cfg["data"]["val_fraction"] > 0:
        X_tr, X_val, y_tr, y_val = data.train_val_split(X, y_for_split, val_fraction=cfg["data"]["val_fraction"],
                                                        seed=seed)
    else:
        X_tr, y_tr, X_val, y_val = X, y_for_split, None, None
    scaler = data.Standardizer()
    if cfg["data"]["standardize"]:  # statistics of the training part, applied by the model itself
        scaler.fit(X_tr)
    check_trainable(X, y, dtype, task, scaler if cfg["data"]["standardize"] else None, meta.get("features"),
                    cfg["data"]["label"], meta.get("rows"), meta.get("source"))  # the data, before training
    model = build_model(cfg, X.shape[1], output_width(task, y), scaler if cfg["data"]["standardize"] else None)
    model.init(seed=seed, dtype=dtype)

    t = cfg["training"]
    steps_per_epoch = -(-len(X_tr) // min(t["batch_size"], len(X_tr)))
    # The training-dynamics recorder ([output] record): per-layer gradient norms and update ratios
    # ~100 times per run, activation statistics on a fixed probe batch every 8th of those; it warns
    # (one line on the CLI) when gradients vanish or explode or the network dies.
    recorder = TrainingRecorder.for_run(t["epochs"] * steps_per_epoch, probe=(X_tr, y_tr)) \
        if cfg["output"]["record"] else None
    callbacks = [recorder] if recorder is not None else []
    if run_dir is not None:
        callbacks.insert(0, MetricLogger(run_dir / "metrics.csv"))
    if t["early_stopping"] > 0:
        monitor = "val_loss" if X_val is not None else "loss"
        callbacks.append(EarlyStopping(monitor, patience=t["early_stopping"]))
    if run_dir is not None:  # Ctrl-C: a checkpoint at the end of the step, then stop
        callbacks.append(SaveOnInterrupt(run_dir / "checkpoints", keep=t["checkpoint_keep"]))
    if run_dir is not None and (t["checkpoint_every"] > 0 or t["checkpoint_every_steps"] > 0):
        callbacks.append(Checkpoint(run_dir / "checkpoints", every_epochs=t["checkpoint_every"],
                                    every_steps=t["checkpoint_every_steps"], keep=t["checkpoint_keep"]))
    optimizer = build_optimizer(cfg, model.params, total_steps=t["epochs"] * steps_per_epoch)
    trainer = Trainer(model, loss=loss_name(cfg, task), optimizer=optimizer,
                      batch_size=t["batch_size"], seed=seed, callbacks=callbacks,
                      gradient_checkpointing=t["gradient_checkpointing"], verbose=verbose,
                      on_divergence=t["on_divergence"], rollback_factor=t["rollback_factor"],
                      max_rollbacks=t["max_rollbacks"], check_gradients=t["check_gradients"])
    return Run(cfg, task, meta, X, y, X_tr, y_tr, X_val, y_val, scaler, n_classes, model, trainer, recorder)
