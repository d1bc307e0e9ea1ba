"""The driver: proposes configurations, sends them to Dask workers, stores what comes back.

The driver owns the search (a grid in order, or Optuna's ask-and-tell with the study in the
sweep folder, so a resumed TPE search continues where it stopped) and the results store (it
alone writes results.sqlite). It keeps at most ``2 × workers`` configurations in flight. A worker
that dies mid-trial is Dask's business: the scheduler reruns its task elsewhere, and the store
skips any key it already holds, so every (configuration, seed) is stored exactly once. Ctrl-C
cancels the tasks in flight; the store holds whole configurations only, and ``resume`` goes on.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..runs.lock import RunLock
from ..saving.atomic import atomic_write_json
from . import models, report
from .cluster import require
from .executor import executor_for
from .spec import Spec, config_key, load_spec, parse_spec
from .store import Store
from .trial import run_trial

SPEC_FILE = "sweep.json"
STUDY_FILE = "study.journal"


@dataclass
class Results:
    """A finished (or stopped) sweep: ``rows`` (one dict per configuration and seed), ``ranking``
    (one per configuration, best first), ``best`` (its config, or None) and the ``folder``."""

    folder: Path
    spec: Spec
    rows: list
    ranking: list
    best: dict | None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def table(self, limit=None):
        return report.table(self.ranking, list(self.spec.space), self.spec.metric, limit)

    def models(self):
        """{config hash: {seed: folder}} of the trained models kept (SWEEP.toml's ``weights``);
        ``chainrule.saving.load_model(folder)`` loads one."""
        return models.dirs(self.folder)

    def curves(self, name):
        """{trial key: [``name`` per epoch]} from the store's curves table."""
        store = Store(self.folder, self.spec.space)
        try:
            return store.curves(name)
        finally:
            store.close()

    def study(self):
        """The Optuna study of a random / tpe sweep (None for a grid)."""
        if self.spec.strategy == "grid" or not (self.folder / STUDY_FILE).exists():
            return None
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        # read only: a sweep may still be running on this folder
        return optuna.load_study(study_name="sweep",
                                 storage=JournalStorage(JournalFileBackend(str(self.folder / STUDY_FILE))))


def run(spec, out=None, resume=None, workers=None, scheduler=None, blas_threads=1, verbose=True, client=None):
    """Run a sweep; return its Results.

    spec: a SWEEP.toml path, a dict of its tables, or a Spec (None with ``resume``: the folder's own).
    out: the sweep folder (default sweeps/<name>-<timestamp>); resume: a sweep folder to finish.
    workers / scheduler / blas_threads: where trials run (``cluster.client_for``); ``workers=0``:
    in this process, one after another, without Dask. client: an open ``distributed.Client`` to
    use instead.
    """
    folder, spec, create = _folder_and_spec(spec, out, resume)
    if spec.strategy != "grid" or spec.pruner != "none":
        require("optuna", why=f"strategy = \"{spec.strategy}\", pruner = \"{spec.pruner}\" use Optuna")
    # the cluster first: an unreachable scheduler leaves no half-made sweep folder behind
    with contextlib.ExitStack() as stack:
        # one driver per sweep folder: a second --resume is refused (before starting a cluster)
        locked = folder.is_dir() and stack.enter_context(RunLock(folder))
        executor = stack.enter_context(executor_for(workers, scheduler, blas_threads, client))
        create()
        if not locked:
            stack.enter_context(RunLock(folder))
        store = Store(folder, spec.space)
        try:
            _drive(spec, folder, store, executor, verbose)
            rows = store.rows()
        finally:
            store.close()
    ranking = report.ranked(rows, spec.direction)
    best = report.best_config(spec, ranking)
    report.write_best(folder, spec, ranking)
    return Results(folder, spec, rows, ranking, best)


def open_results(folder):
    """A sweep folder's stored results (``chainrule sweep show``)."""
    folder = Path(folder)
    spec = _stored_spec(folder)
    store = Store(folder, spec.space)
    try:
        rows = store.rows()
    finally:
        store.close()
    ranking = report.ranked(rows, spec.direction)
    return Results(folder, spec, rows, ranking, report.best_config(spec, ranking))


def _folder_and_spec(spec, out, resume):
    if resume is not None:
        folder = Path(resume)
        stored = _stored_spec(folder)
        if spec is not None and _as_spec(spec).raw != stored.raw:
            raise ConfigError(f"--resume {folder}: the sweep file differs from the one the sweep started with "
                              f"({folder / SPEC_FILE}); resume without it, or start a new sweep")
        return folder, stored, lambda: None
    if spec is None:
        raise ConfigError("a sweep needs a SWEEP.toml (or --resume DIR)")
    spec_obj = _as_spec(spec)
    name = Path(spec).stem if isinstance(spec, str | Path) else "sweep"
    folder = Path(out) if out else Path("sweeps") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"sweep folder {folder} exists and is not empty; give another --out, or --resume {folder}")

    def create():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / SPEC_FILE, spec_obj.raw)

    return folder, spec_obj, create


def _as_spec(spec):
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        return parse_spec(spec)
    return load_spec(spec)


def _stored_spec(folder):
    path = folder / SPEC_FILE
    if not path.is_file():
        raise ConfigError(f"{folder} is not a sweep folder (no {SPEC_FILE})")
    try:
        raw = json.loads(path.read_text("utf-8"))
    except ValueError as e:
        raise ConfigError(f"{path} is not valid JSON: {e}") from None
    return parse_spec(raw, root=folder, source=str(path))


def _drive(spec, folder, store, executor, verbose):
    done = store.done_keys()
    seeds = spec.seeds
    proposals = _proposals(spec, folder, done)
    in_flight_max = 2 * executor.workers
    total = spec.n_configs * len(seeds)
    progress = _Progress(total, len(done), verbose, spec)
    pending = {}  # task handle -> (config hash, params, optuna trial or None)
    keeper = models.Keeper(folder, spec, store.rows())
    # the finished configurations' mean curves, append-only: a running task's pruner reads them anew
    finished = list(store.mean_curves(spec.metric).values())
    history, publish = executor.shared(list(finished)) if spec.pruner != "none" else (None, None)

    def submit():
        while len(pending) < in_flight_max:
            item = next(proposals, None)
            if item is None:
                return
            params, trial = item
            config = spec.config_for(params)
            pruning = None if spec.pruner == "none" else {
                "pruner": spec.pruner, "direction": spec.direction, "epochs": config["training"]["epochs"],
                "history": history}
            handle = executor.submit(run_trial, config, seeds, spec.metric, spec.direction, pruning,
                                     spec.weights != "none")
            pending[handle] = (config_key(params), params, trial)

    try:
        submit()
        for handle, result, error in executor.completed():
            if handle not in pending:
                continue
            h, params, trial = pending.pop(handle)
            if error is not None:  # the task itself failed (a worker killed too often, ...): every seed failed
                line = " ".join(f"{type(error).__name__}: {error}".split())[:500]
                result = {"wall_time": 0.0, "packed": False, "results": [
                    {"seed": s, "status": "failed", "error": line, "final": None, "best": None, "epochs": 0,
                     "curves": {}} for s in seeds]}
            written = store.add(h, params, result)
            keeper.add(h, result)
            curve = _mean_curve(result, spec.metric) if publish is not None else None
            if curve:
                finished.append(curve)
                publish(list(finished))
            if trial is not None:
                _tell(proposals.study, trial, result, spec)
            progress.update(written)
            submit()
        progress.close()
        keeper.flush()
        _restore_models(spec, store, executor, keeper)
    except BaseException as e:
        executor.cancel()  # (the tasks in flight stop: on an error as on Ctrl-C)
        progress.close()
        if isinstance(e, KeyboardInterrupt):
            print(f"chainrule: sweep stopped: {len(store.done_keys())} of {total} trials stored in {folder}; "
                  f"continue with: chainrule sweep --resume {folder}", file=sys.stderr)
        raise
    finally:
        executor.close()


def _restore_models(spec, store, executor, keeper):
    """Models the folder should hold but does not — a sweep stopped after storing a configuration
    and before writing its models — trained again (a trial is a pure function of its config and
    seeds: the same weights) and written; the store is not touched."""
    rows = store.rows()
    for config_hash, params in keeper.missing(rows).items():
        ok = {r["seed"] for r in rows if r["config_hash"] == config_hash and r["status"] == "ok"}
        executor.submit(run_trial, spec.config_for(params), spec.seeds, spec.metric, spec.direction, None, True)
        for _, result, error in executor.completed():
            if error is not None:
                raise error
            # (trained again without the pruner: only the seeds the table holds as ok are models)
            result = {**result, "results": [r for r in result["results"] if r["seed"] in ok]}
            keeper.put(config_hash, result)


def _mean_curve(result, metric):
    """The metric per epoch, mean over the trial's ok seeds (as ``Store.mean_curves``)."""
    curves = [r["curves"].get(metric, []) for r in result["results"] if r["status"] == "ok"]
    by_epoch = {}
    for curve in curves:
        for epoch, v in enumerate(curve):
            if v is not None and math.isfinite(v):
                by_epoch.setdefault(epoch, []).append(v)
    return [sum(v) / len(v) for _, v in sorted(by_epoch.items())]


class _Proposals:
    """The configurations still to run: a grid in order, or Optuna asked one at a time."""

    def __init__(self, spec, folder, done):
        self.spec, self.done, self.study = spec, done, None
        stored = {k.rsplit(":", 1)[0] for k in done}
        if spec.strategy == "grid":
            keys = list(spec.space)
            grid = itertools.product(*(spec.space[k].grid() for k in keys))
            self._grid = (p for p in (dict(zip(keys, values)) for values in grid) if not self._finished(p))
        else:
            self.study = _study(spec, folder)
            self._left = spec.trials - len(stored)

    def _finished(self, params):
        h = config_key(params)
        return all(f"{h}:{s}" in self.done for s in self.spec.seeds)

    def __iter__(self):
        return self

    def __next__(self):
        if self.study is None:
            return next(self._grid), None
        if self._left <= 0:
            raise StopIteration
        self._left -= 1
        trial = self.study.ask()
        return {k: d.suggest(trial) for k, d in self.spec.space.items()}, trial


def _proposals(spec, folder, done):
    return _Proposals(spec, folder, done)


def _study(spec, folder):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(folder / STUDY_FILE)))
    study = optuna.create_study(study_name="sweep", storage=storage, direction=spec.direction, load_if_exists=True)
    # A resumed study gets its sampler seeded past the trials it holds: the same seed again would
    # propose the same first configurations again (a sampler's random stream starts at its seed).
    seed = spec.sampler_seed + len(study.trials)
    study.sampler = optuna.samplers.RandomSampler(seed=seed) if spec.strategy == "random" \
        else optuna.samplers.TPESampler(seed=seed)
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)  # asked by a sweep that was stopped
    return study


def _tell(study, trial, result, spec):
    import optuna

    ok = [r for r in result["results"] if r["status"] == "ok" and r["final"] is not None]
    curves = [r["curves"].get(spec.metric, []) for r in result["results"] if r["status"] in ("ok", "pruned")]
    for epoch in range(min((len(c) for c in curves), default=0)):
        values = [c[epoch] for c in curves if math.isfinite(c[epoch])]
        if values:
            trial.report(statistics.fmean(values), epoch)
    if ok:
        study.tell(trial, statistics.fmean(r["final"] for r in ok))
    elif any(r["status"] == "pruned" for r in result["results"]):
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    else:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)


class _Progress:
    """trials done/total, failed, best so far, ETA (tqdm when installed, else nothing)."""

    def __init__(self, total, already, verbose, spec):
        self.spec, self.best, self.bar = spec, None, None
        self.counts = {}  # status -> rows (not ok ones shown: failed, diverged, pruned)
        if verbose:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, initial=already, desc="sweep", unit="trial", file=sys.stderr,
                                dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, written):
        for r in written:
            self.counts[r["status"]] = self.counts.get(r["status"], 0) + 1
            if r["status"] != "ok":
                continue
            if r["final"] is not None and (self.best is None or (r["final"] < self.best) ==
                                             (self.spec.direction == "minimize")):
                self.best = r["final"]
        if self.bar is not None:
            best = "-" if self.best is None else f"{self.best:.4g}"
            others = " ".join(f"{k}={n}" for k, n in sorted(self.counts.items()) if k != "ok")
            self.bar.set_postfix_str(f"{others} best {self.spec.metric}={best}".strip(), refresh=False)
            self.bar.update(len(written))

    def close(self):
        if self.bar is not None:
            self.bar.close()
