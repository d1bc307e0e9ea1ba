"""A training run that leaves a run folder: data → model → training → gradient check → files.

``train(cfg, run_dir)`` builds the run (``build.py``), trains it, checks the trained model's
gradients, and writes config.json, manifest.json, metrics.csv, model/, preprocessing.json,
gradcheck.txt and the figures (the folder's layout is in ``folder.py``). With ``resume=True``
it continues an interrupted run from its newest intact checkpoint, bit-identically.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..diagnostics.overflow import held_back
from ..errors import ChainruleError, CheckpointMismatchError, ConfigError
from ..gradcheck import check_grads
from ..nn.standardize import leading_standardize
from ..saving import atomic_write_json, save_model
from ..saving.checksums import sha256_of
from ..saving.weights import read_header
from ..train.checkpoint import TENSORS, latest_checkpoint, list_checkpoints, restore
from .build import build
from .folder import (
    RUN_FILES,
    check_new,
    check_resumable,
    check_same_config,
    config_hash,
    data_hash,
    remove_partial_files,
    run_dir_for,
    versions,
)
from .interrupt import RunInterrupted, SaveOnInterrupt
from .lock import RunLock
from .paths import check_run_folder
from .schema import complete


def train(cfg, run_dir=None, verbose=1, resume=False, epochs=None):
    """Run the whole pipeline; return (trainer, run_dir, summary dict).

    cfg: a configuration dict (missing keys take their defaults). run_dir: the run folder
    (default: from [output]). resume: ``run_dir`` is an existing run; continue it from its
    newest intact checkpoint, with the config it started with (ConfigError naming the keys
    that changed). epochs (with resume): train the run to this many epochs instead, recorded
    in its config.json; not fewer than it has trained. The folder is locked for the whole run
    (``lock.py``: RunLockedError if another process is training in it).
    """
    t_start = time.perf_counter()
    from ..saving.weights import _safetensors_numpy

    _safetensors_numpy()  # a run ends by saving its weights: fail now, not after training
    cfg = complete(cfg)
    run_dir = check_run_folder(Path(run_dir) if resume else run_dir_for(cfg, run_dir), resume)  # before any work
    if resume:
        if not run_dir.is_dir():
            raise ConfigError(f"cannot resume {run_dir}: no such run folder")
        with RunLock(run_dir):  # before anything in the folder is read
            check_same_config(run_dir, cfg, epochs)
            if epochs is not None:
                cfg = complete({**cfg, "training": {**cfg["training"], "epochs": epochs}})
            return _train(cfg, build(cfg, run_dir=run_dir, verbose=verbose), run_dir, True, epochs, t_start)
    run = build(cfg, run_dir=run_dir, verbose=verbose)  # (a wrong config or data makes no folder)
    run_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(run_dir):
        return _train(cfg, run, run_dir, False, None, t_start)


def _train(cfg, run, run_dir, resume, new_epochs, t_start):
    trainer = run.trainer
    identity = {"seed": cfg["seed"], "versions": versions(), "config_hash": config_hash(cfg), "config": cfg,
                "data_hash": data_hash(run.X, run.y)}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if resume:
        started = check_resumable(run_dir, identity) or started
        remove_partial_files(run_dir)
    else:
        check_new(run_dir)
        atomic_write_json(run_dir / "config.json", cfg)
        atomic_write_json(run_dir / "manifest.json", {"status": "running", "command": " ".join(sys.argv),
                                                      "started": started, **identity})
    epochs = cfg["training"]["epochs"]
    if resume:
        if list_checkpoints(run_dir / "checkpoints"):
            try:
                path, arrays, state = latest_checkpoint(run_dir / "checkpoints", trainer)
            except CheckpointMismatchError:
                _refuse_before_standardize(run_dir, trainer)
                raise
            restore(trainer, arrays, state)
            if new_epochs is not None and new_epochs < trainer.epoch:
                raise ConfigError(f"cannot train {run_dir} to {new_epochs} epochs (--epochs): it has already "
                                  f"trained {trainer.epoch}; give at least {trainer.epoch}")
            print(f"resuming from {path.name}: epoch {trainer.epoch} of {epochs} "
                  f"(batch {trainer.batch_index}), step {trainer.step}")
            if trainer.stop_reason:  # it had already stopped early; only its ending is left
                print(f"the run had stopped: {trainer.stop_reason}")
                epochs = trainer.epoch
        else:
            print(f"no checkpoint in {run_dir / 'checkpoints'} yet: training {run_dir.name} from the beginning")
        if new_epochs is not None:  # the run is now one of new_epochs epochs: its config and manifest say so
            atomic_write_json(run_dir / "config.json", cfg)
            atomic_write_json(run_dir / "manifest.json", {"status": "running", "command": " ".join(sys.argv),
                                                          "started": started, **identity})
    try:
        return _finish(cfg, run, run_dir, started, identity, epochs, t_start)
    except RunInterrupted:
        raise  # (the manifest says "interrupted")
    except BaseException as e:  # never a manifest left "running" by a run that has ended
        error = (str(e).splitlines() or [""])[0] or type(e).__name__
        try:
            atomic_write_json(run_dir / "manifest.json", {
                "status": "failed", "command": " ".join(sys.argv), "started": started, **identity,
                "failed": datetime.now(UTC).isoformat(timespec="seconds"), "error": error})
        except OSError:
            pass  # (a folder that cannot be written: the error raised says why the run ended)
        raise


def _finish(cfg, run, run_dir, started, identity, epochs, t_start):
    """Train, check, and write the run's results (the manifest "finished" last)."""
    trainer = run.trainer
    t_train = time.perf_counter()
    guard = next(cb for cb in trainer.callbacks if isinstance(cb, SaveOnInterrupt))
    try:
        with guard.armed(), held_back():  # NumPy's overflow lines: the divergence check says it in one
            run.fit(epochs=max(0, epochs - trainer.epoch))
    except RunInterrupted as e:
        atomic_write_json(run_dir / "manifest.json", {
            "status": "interrupted", "command": " ".join(sys.argv), "started": started, **identity,
            "interrupted": datetime.now(UTC).isoformat(timespec="seconds"), "epoch": e.epoch, "step": e.step})
        print(f"{e}; continue with: chainrule train --resume {run_dir}", file=sys.stderr)
        raise
    train_seconds = time.perf_counter() - t_train

    final = {k: v[-1] for k, v in trainer.history.items() if k != "time"}
    report = None
    if cfg["training"]["gradient_check"]:
        report = gradient_check_model(trainer, run.X_train, run.y_train, cfg["seed"])
        (run_dir / "gradcheck.txt").write_text(str(report) + "\n")
        if report.zero_leaves():  # 0 = 0 checks nothing: say so, whatever the summary prints
            print(f"gradient check: {report.verdict}")
    save_model(run.model, run_dir / "model")
    atomic_write_json(run_dir / "preprocessing.json", run.preprocessing())
    plots = []
    if cfg["output"]["plots"]:
        try:
            plots = write_plots(run_dir, trainer, run.recorder, run.X_train, run.y_train, run.task,
                                standardized=cfg["data"]["standardize"] and not leading_standardize(run.model),
                                features=run.meta.get("features"), classes=run.meta.get("classes"))
        except Exception as e:  # the figures are not the run: it stands without them
            error = (str(e).splitlines() or [""])[0] or type(e).__name__
            print(f"note: figures skipped: {error}", file=sys.stderr)
    summary = {"final": final, "epochs_run": trainer.epoch, "steps": trainer.step,
               "train_seconds": round(train_seconds, 3), "total_seconds": round(time.perf_counter() - t_start, 3),
               "gradient_check": None if report is None else {
                   # (a layer whose gradient is exactly 0 was not checked: not passed)
                   "passed": report.passed and not report.zero_leaves(), "verdict": report.verdict,
                   "zero_gradients": report.zero_leaves(), "max_rel_error": report.max_error,
                   "per_layer": report.by_leaf()},
               "stop_reason": trainer.stop_reason, "plots": [p.name for p in plots]}
    atomic_write_json(run_dir / "manifest.json", {
        "status": "finished", "command": " ".join(sys.argv), "started": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"), **identity,
        "data": {k: v for k, v in run.meta.items() if k in ("task", "source", "options")},
        "n_train": len(run.X_train), "n_val": 0 if run.X_val is None else len(run.X_val),
        "n_params": run.model.n_params(), **summary,
        "sha256": {name: sha256_of(run_dir / name) for name in RUN_FILES},  # verified by load_run
    })
    return trainer, run_dir, summary


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


def _refuse_before_standardize(run_dir, trainer):
    """A checkpoint written before models held their standardization (no Standardize buffers)
    cannot be continued by a model that has them: say that in one line."""
    first = leading_standardize(trainer.model)
    if first is None:
        return
    names = [f"buffer/0.{b}" for b in first.buffer_names]
    newest = list_checkpoints(run_dir / "checkpoints")[-1]
    try:
        spec, _ = read_header(newest / TENSORS)
    except (ChainruleError, OSError):  # (unreadable: the mismatch error says what it can)
        return
    if not any(n in spec for n in names):
        raise CheckpointMismatchError(
            f"cannot resume {run_dir}: it was made by an earlier chainrule, before models held their "
            "standardization (its checkpoints have no 0.mean, 0.scale), and this version cannot resume it; "
            f"its trained model still loads with chainrule.runs.load_run({str(run_dir)!r}), or train it again")


def write_plots(run_dir, trainer, recorder, X, y, task, standardized=False, features=None, classes=None):
    """The run's figures; [] with one note on stderr when matplotlib is missing (the run stands)."""
    from .. import plots

    note = plots.missing()
    if note:
        print(f"note: {note}", file=sys.stderr)
        return []
    out = [run_dir / "loss.png"]
    plots.loss_curves(trainer.history, out[-1], stopped=trainer.stop_reason)
    names = features if features is not None and len(features) == X.shape[1] else None
    if X.shape[1] == 2 and task == "classification":
        out.append(run_dir / "decision_boundary.png")
        plots.decision_boundary(trainer.predict, X, y, out[-1], title=f"Decision boundary after {trainer.epoch} epochs",
                                feature_names=names, class_names=classes, standardized=standardized)
    elif X.shape[1] == 1 and task == "regression":
        out.append(run_dir / "fit.png")
        plots.regression_fit(trainer.predict, X, y, out[-1], feature_name=names[0] if names else None,
                             standardized=standardized)
    if recorder is None:
        print("note: dynamics figures skipped: [output] record = false", file=sys.stderr)
    elif recorder.steps:
        from ..diagnostics import plots as dplots

        out += [run_dir / "gradient_norms.png", run_dir / "dynamics.png"]
        plots.gradient_norms(recorder.steps, recorder.norms, out[-2])
        dplots.dynamics(recorder, out[-1])
    return out
