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
import statistics
from pathlib import Path

from ..nn.model import layer_from_config
from ..saving import save_model
from . import report

FOLDER = "models"


class Keeper:
    """Which configurations' models the folder should hold, and writing them. The best so far is
    kept in memory (from the stored rows at the start, then from each trial), so a finished
    configuration costs no pass over the store; with ``best`` its models are written once, by
    ``flush`` when the sweep ends, not each time the best changes (a sweep stopped before has them
    trained again by its ``--resume``: ``missing``)."""

    def __init__(self, folder, spec, rows):
        self.root, self.spec = Path(folder) / FOLDER, spec
        ranking = report.ranked(rows, spec.direction)
        self.best = (ranking[0]["config_hash"], ranking[0]["mean"]) if ranking and ranking[0]["mean"] is not None \
            else (None, None)
        self.unwritten = None  # (config hash, trial): the best so far, with ``best``, until ``flush``

    def add(self, config_hash, trial):
        """Take ``trial``'s models as ``spec.weights`` asks: ``all`` writes them now, ``best`` keeps
        them if the configuration is the best so far. Returns the folders written."""
        if self.spec.weights == "none" or not trial.get("model"):
            return []
        if self.spec.weights == "best":
            mean = _mean_final(trial)
            if mean is not None and self._better(mean):
                self.best, self.unwritten = (config_hash, mean), (config_hash, trial)
            return []
        return self.put(config_hash, trial)

    def flush(self):
        """Write the best configuration's models held in memory, if any; returns the folders."""
        if self.unwritten is None:
            return []
        (config_hash, trial), self.unwritten = self.unwritten, None
        return self.put(config_hash, trial)

    def put(self, config_hash, trial):
        """Write ``trial``'s models (with ``best``: and remove every other configuration's)."""
        written = write(self.root, config_hash, trial)
        if self.spec.weights == "best" and written:
            for other in self.root.iterdir():
                if other.name != config_hash:
                    shutil.rmtree(other, ignore_errors=True)
        return written

    def missing(self, rows):
        """The stored configurations whose models the folder should hold and does not (a sweep
        stopped between storing a configuration and writing its models): {config hash: params}."""
        if self.spec.weights == "none":
            return {}
        held = set(dirs(self.root.parent))
        ranking = [c for c in report.ranked(rows, self.spec.direction) if c["mean"] is not None]
        wanted = ranking[:1] if self.spec.weights == "best" else ranking
        return {c["config_hash"]: c["params"] for c in wanted if c["config_hash"] not in held}

    def _better(self, mean):
        best = self.best[1]
        return best is None or (mean < best if self.spec.direction == "minimize" else mean > best)


def _mean_final(trial):
    values = [r["final"] for r in trial["results"] if r["status"] == "ok" and r["final"] is not None]
    return statistics.fmean(values) if values else None


def dirs(folder):
    """{config hash: {seed: model folder}} of the models kept."""
    root = Path(folder) / FOLDER
    out = {}
    if not root.is_dir():
        return out
    for config in sorted(root.iterdir()):
        if config.name.startswith("."):  # (a folder being written)
            continue
        seeds = {int(d.name.split("-", 1)[1]): d for d in config.iterdir() if d.name.startswith("seed-")}
        out[config.name] = dict(sorted(seeds.items()))
    return out


def write(root, config_hash, trial):
    """``trial``'s ok seeds' models into ``root/config_hash`` (replacing it), written whole."""
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
