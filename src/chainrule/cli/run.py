"""A training run from a configuration: data → model → training → gradient check → run folder.

The run folder holds everything needed to understand and repeat the run::

    runs/<name>/
      config.json        the complete configuration (defaults filled in)
      manifest.json      versions, seed, config hash, data hash (written when the run starts,
                         completed with timings and final metrics when it ends)
      checkpoints/       ckpt-<step>/ folders, if checkpointing is on (``train --resume``)
      metrics.csv        one row per epoch
      model/             model.safetensors + model.json (loads into torch.nn.Sequential)
      preprocessing.json standardization and class names, used by `chainrule predict`
      gradcheck.txt      per-layer gradient check of the trained model
      loss.png, decision_boundary.png (2-D) or fit.png (1-D), gradient_norms.png
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .. import __version__, data, nn, optim
from ..diagnostics import TrainingRecorder
from ..errors import CheckpointError, ConfigError
from ..gradcheck import check_grads
from ..saving import atomic_write_json, save_model
from ..saving.model_io import read_json_file
from ..train import EarlyStopping, MetricLogger, Trainer
from ..train.checkpoint import Checkpoint, latest_checkpoint, list_checkpoints, restore

# The CLI refuses networks bigger than this (2 GB of float64 parameters): a width typed with
# extra zeros should be an error, not an attempt to allocate terabytes.
MAX_PARAMETERS = 1 << 28


def load_data(cfg):
    """(X, y, meta) from the [data] section; meta has the task, feature names and class names."""
    d = cfg["data"]
    if d["name"] == "csv":
        X, y, meta = data.load_csv(d["path"], label=d["label"], features=d["features"])
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
    import inspect

    from ..data.registry import _spec

    return inspect.signature(_spec(name)[1].loader).parameters


def build_model(cfg, d_in, d_out):
    m = cfg["model"]
    init = None if m["init"] == "auto" else m["init"]
    sizes = [int(d_in), *[int(h) for h in m["hidden"]], int(d_out)]
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMETERS:
        raise ConfigError(f"model.hidden = {m['hidden']} with {sizes[0]} inputs and {sizes[-1]} outputs would have "
                          f"{n_params} parameters; the command line allows at most {MAX_PARAMETERS}")
    return nn.MLP(sizes, activation=m["activation"], output_activation=m["output_activation"], init=init,
                  batchnorm=m["batchnorm"], dropout=m["dropout"])


def build_optimizer(cfg, params):
    o = dict(cfg["optimizer"])
    name = o.pop("name")
    lr = o.pop("learning_rate", None)
    s = dict(cfg["schedule"])
    if s:
        s_name = s.pop("name", None)
        if s_name is None:
            raise ConfigError("[schedule] needs a name (constant, step, exponential, cosine, warmup, plateau)")
        lr = optim.get_schedule(s_name, learning_rate=lr if lr is not None else 0.01, **s)
    if lr is not None:
        o["learning_rate"] = lr
    try:
        return optim.get(name, params, **o)
    except TypeError as e:
        raise ConfigError(f"[optimizer] {e}") from None


def loss_name(cfg, task):
    name = cfg["loss"]["name"]
    if name == "auto":
        return "cross_entropy" if task == "classification" else "mse"
    nn.losses.get(name)
    return name


def data_hash(X, y):
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def config_hash(cfg):
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()


def versions():
    out = {"chainrule": __version__, "python": sys.version.split()[0], "numpy": np.__version__,
           "platform": platform.platform()}
    for name in ("safetensors", "matplotlib", "tqdm", "sklearn"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            pass
    return out


def run_dir_for(cfg, override=None):
    if override:
        return Path(override)
    out = cfg["output"]
    name = out["name"] or f"{Path(str(cfg['data']['name'])).stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    path = Path(out["dir"]) / name
    k = 1
    while path.exists():
        k += 1
        path = Path(out["dir"]) / f"{name}-{k}"
    return path


def train_from_config(cfg, run_dir=None, verbose=1, resume=False):
    """Run the whole pipeline; return (trainer, run_dir, summary dict).

    resume: ``run_dir`` is an existing run; continue it from its newest intact checkpoint.
    """
    t_start = time.perf_counter()
    from ..saving.weights import _safetensors_numpy

    _safetensors_numpy()  # a run ends by saving its weights: fail now, not after training
    seed, dtype = cfg["seed"], np.dtype(cfg["dtype"])
    X, y, meta = load_data(cfg)
    task = meta["task"]
    n_classes = int(np.max(y)) + 1 if task == "classification" else None
    y_for_split = y if task == "classification" else np.asarray(y, np.float64)
    if cfg["data"]["val_fraction"] > 0:
        X_tr, X_val, y_tr, y_val = data.train_val_split(X, y_for_split, val_fraction=cfg["data"]["val_fraction"],
                                                        seed=seed)
    else:
        X_tr, y_tr, X_val, y_val = X, y_for_split, None, None
    scaler = data.Standardizer()
    if cfg["data"]["standardize"]:
        X_tr = scaler.fit_transform(X_tr)
        X_val = scaler.transform(X_val) if X_val is not None else None
    d_out = n_classes if task == "classification" else (1 if np.ndim(y) == 1 else np.shape(y)[1])
    model = build_model(cfg, X.shape[1], d_out)
    model.init(seed=seed, dtype=dtype)
    run_dir = Path(run_dir) if resume else run_dir_for(cfg, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    identity = {"seed": seed, "versions": versions(), "config_hash": config_hash(cfg), "data_hash": data_hash(X, y)}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if resume:
        if _finished(run_dir) and not list_checkpoints(run_dir / "checkpoints"):
            # (with checkpoints, resuming a finished run is harmless: it restores the last one
            # and rewrites the same results)
            raise ConfigError(f"{run_dir} is a finished run without checkpoints: nothing to resume "
                              "(train a new run with another --out)")
        started = _check_same_data(run_dir, identity) or started
        _remove_partial_files(run_dir)
    else:
        if (run_dir / "manifest.json").exists() or (run_dir / "model").exists():
            raise ConfigError(f"{run_dir} already holds a run: choose another --out (or 'chainrule train --resume "
                              f"{run_dir}' to continue an unfinished one)")
        if list_checkpoints(run_dir / "checkpoints"):
            raise ConfigError(f"{run_dir} already holds a run with checkpoints: continue it with "
                              f"'chainrule train --resume {run_dir}', or choose another --out")
        atomic_write_json(run_dir / "config.json", cfg)
        atomic_write_json(run_dir / "manifest.json", {"status": "running", "command": " ".join(sys.argv),
                                                      "started": started, **identity})

    t = cfg["training"]
    epochs, batch = t["epochs"], t["batch_size"]
    steps_per_epoch = -(-len(X_tr) // min(batch, len(X_tr)))
    # The training-dynamics recorder: per-layer gradient norms, error signals, update ratios and
    # activation statistics on a fixed probe batch, ~300 records per run; it warns (one line on
    # the CLI) when gradients vanish or explode.
    recorder = TrainingRecorder(every=max(1, epochs * steps_per_epoch // 300), probe=(X_tr[:256], y_tr[:256]))
    callbacks = [MetricLogger(run_dir / "metrics.csv"), recorder]
    if t["early_stopping"] > 0:
        monitor = "val_loss" if X_val is not None else "loss"
        callbacks.append(EarlyStopping(monitor, patience=t["early_stopping"]))
    if t["checkpoint_every"] > 0 or t["checkpoint_every_steps"] > 0:
        callbacks.append(Checkpoint(run_dir / "checkpoints", every_epochs=t["checkpoint_every"],
                                    every_steps=t["checkpoint_every_steps"], keep=t["checkpoint_keep"]))
    trainer = Trainer(model, loss=loss_name(cfg, task), optimizer=build_optimizer(cfg, model.params),
                      batch_size=batch, seed=seed, callbacks=callbacks,
                      gradient_checkpointing=t["gradient_checkpointing"], verbose=verbose,
                      on_divergence=t["on_divergence"], rollback_factor=t["rollback_factor"],
                      max_rollbacks=t["max_rollbacks"], check_gradients=t["check_gradients"])
    validation = (X_val, y_val) if X_val is not None else None
    if resume:
        if list_checkpoints(run_dir / "checkpoints"):
            path, arrays, state = latest_checkpoint(run_dir / "checkpoints", trainer)
            restore(trainer, arrays, state)
            print(f"resuming from {path.name}: epoch {trainer.epoch} of {epochs} "
                  f"(batch {trainer.batch_index}), step {trainer.step}")
            if trainer.stop_reason:  # it had already stopped early; only its ending is left
                print(f"the run had stopped: {trainer.stop_reason}")
                epochs = trainer.epoch
        else:
            print(f"no checkpoint in {run_dir / 'checkpoints'} yet: training {run_dir.name} from the beginning")
    t_train = time.perf_counter()
    trainer.fit(X_tr, y_tr, epochs=max(0, epochs - trainer.epoch), validation_data=validation)
    train_seconds = time.perf_counter() - t_train

    final = {k: v[-1] for k, v in trainer.history.items() if k != "time"}
    report = None
    if cfg["training"]["gradient_check"]:
        report = gradient_check_model(trainer, X_tr, y_tr, seed)
        (run_dir / "gradcheck.txt").write_text(str(report) + "\n")
    save_model(model, run_dir / "model")
    atomic_write_json(run_dir / "preprocessing.json", {
        "standardize": bool(cfg["data"]["standardize"]),
        "mean": scaler.mean_.tolist() if cfg["data"]["standardize"] else None,
        "scale": scaler.scale_.tolist() if cfg["data"]["standardize"] else None,
        "task": task, "n_classes": n_classes, "features": meta.get("features"),
        "classes": meta.get("classes"), "label": cfg["data"]["label"],
    })
    plots = []
    if cfg["output"]["plots"]:
        plots = write_plots(run_dir, trainer, recorder, X_tr, y_tr, task)
    summary = {"final": final, "epochs_run": trainer.epoch, "steps": trainer.step,
               "train_seconds": round(train_seconds, 3), "total_seconds": round(time.perf_counter() - t_start, 3),
               "gradient_check": None if report is None else {
                   "passed": report.passed, "max_rel_error": report.max_error, "per_layer": report.by_leaf()},
               "stop_reason": trainer.stop_reason, "plots": [p.name for p in plots]}
    atomic_write_json(run_dir / "manifest.json", {
        "status": "finished", "command": " ".join(sys.argv), "started": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"), **identity,
        "data": {k: v for k, v in meta.items() if k in ("task", "source", "options")},
        "n_train": len(X_tr), "n_val": 0 if X_val is None else len(X_val), "n_params": model.n_params(),
        **summary,
    })
    return trainer, run_dir, summary


def _remove_partial_files(run_dir):
    """Temporary files of atomic writes cut short by a crash (``.<name>.<random>.tmp``)."""
    for folder in (run_dir, run_dir / "model"):
        if folder.is_dir():
            for p in folder.glob(".*.tmp"):
                if p.is_file():
                    p.unlink(missing_ok=True)


def _check_same_data(run_dir, identity):
    """On resume, the data must be what the run started with (a CSV edited since would silently
    change the data order and the result). Returns the run's start time, if recorded."""
    path = run_dir / "manifest.json"
    if not path.is_file():
        return None  # a run killed before its manifest was written has no checkpoint either
    manifest = read_json_file(path, "run manifest")
    if not isinstance(manifest, dict):
        raise ConfigError(f"{path} is not a run manifest (a JSON object)")
    recorded = manifest.get("data_hash")
    if recorded is not None and recorded != identity["data_hash"]:
        raise CheckpointError(f"cannot resume {run_dir}: its data changed since the run started (data hash "
                              f"{str(recorded)[:12]}…, now {identity['data_hash'][:12]}…)")
    return manifest.get("started") if isinstance(manifest.get("started"), str) else None


def _finished(run_dir):
    try:
        return json.loads((Path(run_dir) / "manifest.json").read_text()).get("status") == "finished"
    except (OSError, ValueError, AttributeError):
        return False


def gradient_check_model(trainer, X, y, seed, batch=16):
    """Per-layer gradient check of the trained model's loss on a small batch, in float64, both modes."""
    model = trainer.model
    rows = np.random.default_rng(seed).choice(len(X), size=min(batch, len(X)), replace=False)
    xb = np.asarray(X[rows], np.float64)
    yb = y[rows] if np.issubdtype(np.asarray(y).dtype, np.integer) else np.asarray(y[rows], np.float64)
    params64 = {k: v.astype(np.float64) for k, v in model.params.items()}
    buffers64 = {k: (v.astype(np.float64) if np.issubdtype(v.dtype, np.floating) else v.copy())
                 for k, v in model.buffers.items()}

    def loss(params):
        return trainer.loss_fn(model.apply(params, xb, buffers=buffers64), yb)

    return check_grads(loss, (params64,), order=2, seed=seed, raise_on_failure=False)


def write_plots(run_dir, trainer, recorder, X, y, task):
    from .. import plots

    out = [plots.loss_curves(trainer.history, run_dir / "loss.png")]
    if X.shape[1] == 2 and task == "classification":
        out.append(plots.decision_boundary(trainer.predict, X, y, run_dir / "decision_boundary.png",
                                           title=f"Decision boundary after {trainer.epoch} epochs"))
    elif X.shape[1] == 1 and task == "regression":
        out.append(plots.regression_fit(trainer.predict, X, y, run_dir / "fit.png"))
    if recorder.steps:
        from ..diagnostics import plots as dplots

        out.append(plots.gradient_norms(recorder.steps, recorder.norms, run_dir / "gradient_norms.png"))
        out.append(dplots.dynamics(recorder, run_dir / "dynamics.png"))
    return out
