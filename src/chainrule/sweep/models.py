"""The trained models a sweep keeps: ``models/<config hash>/seed-<s>/`` in the sweep folder.

A trial asked for weights sends back each seed's trained state (``run_trial(..., weights=True)``)
and the network's architecture; the driver writes them with ``chainrule.saving.save_model``, so
``chainrule.saving.load_model(folder / "models" / hash / "seed-0")`` gives the trained network. SWEEP.toml's
``weights`` says which: ``best`` (default) keeps the seeds of the best configuration so far and
removes the one it displaced; ``all`` keeps every ok seed; ``none`` asks workers for no weights.
A model folder is written under a temporary name and renamed, so a crash never leaves half of one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..nn.model import layer_from_config
from ..saving import save_model
from . import report

FOLDER = "models"


def keep(folder, spec, config_hash, trial, rows):
    """Write ``trial``'s models as ``spec.weights`` asks; ``rows()``: the store's rows, this trial's
    included (to know whether it is now the best). Returns the folders written."""
    if spec.weights == "none" or not trial.get("model"):
        return []
    root = Path(folder) / FOLDER
    if spec.weights == "best":
        ranking = report.ranked(rows(), spec.direction)
        if not ranking or ranking[0]["config_hash"] != config_hash or ranking[0]["mean"] is None:
            return []
    written = _write(root, config_hash, trial)
    if spec.weights == "best" and written:
        for other in root.iterdir():
            if other.name != config_hash:
                shutil.rmtree(other, ignore_errors=True)
    return written


def dirs(folder, config_hash=None):
    """{config hash: {seed: model folder}} of the models kept (one configuration's if given)."""
    root = Path(folder) / FOLDER
    out = {}
    if not root.is_dir():
        return out
    for config in sorted(root.iterdir()):
        if config.name.startswith(".") or (config_hash and config.name != config_hash):
            continue
        seeds = {int(d.name.split("-", 1)[1]): d for d in config.iterdir() if d.name.startswith("seed-")}
        out[config.name] = dict(sorted(seeds.items()))
    return out


def _write(root, config_hash, trial):
    architecture, dtype = trial["model"]["architecture"], trial["model"]["dtype"]
    temporary = root / f".{config_hash}.partial"
    shutil.rmtree(temporary, ignore_errors=True)
    written = []
    try:
        for r in trial["results"]:
            if r["status"] != "ok" or r.get("weights") is None:
                continue
            model = layer_from_config(architecture)
            model.init(seed=0, dtype=dtype)  # (shapes and dtypes; the values are the trained ones, set next)
            model.params = {k: r["weights"][k] for k in model.param_names}
            model.buffers = {k: r["weights"][k] for k in model.buffer_names}
            save_model(model, temporary / f"seed-{r['seed']}")
            written.append(f"seed-{r['seed']}")
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    if not written:
        shutil.rmtree(temporary, ignore_errors=True)
        return []
    final = root / config_hash
    shutil.rmtree(final, ignore_errors=True)  # (a rerun of a configuration replaces its models)
    temporary.rename(final)
    return [final / name for name in written]
