"""Run experiments by name and write their folders and reports."""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

from ..errors import ConfigError, OptionalDependencyError, did_you_mean
from .base import REGISTRY, Context
from .report import write_reports


def names():
    _load_all()
    return list(REGISTRY)


def _load_all():
    from . import catalog  # noqa: F401  (registers every experiment)


def _made(path):
    """The folders ``path.mkdir(parents=True)`` would create, outermost first."""
    made = []
    for p in [path, *path.parents]:
        if p.exists():
            break
        made.append(p)
    return made[::-1]


def run(name_or_all, out=None, quick=False, seed=0, log=print, executor=None):
    """Run one experiment (or ``"all"``); return (out_dir, list of result dicts).

    executor: where the experiments that sweep (xor's seeds, the width and depth sweeps) run their
    tasks (``chainrule.sweep.executor``; None: in this process). The results do not depend on it.

    Without matplotlib the claims are checked all the same and the figures skipped (one note).
    An experiment that fails leaves no folder of its own behind (nor an empty output folder).
    """
    _load_all()
    selected = list(REGISTRY) if name_or_all == "all" else [name_or_all]
    for name in selected:
        if name not in REGISTRY:
            hint = did_you_mean(name, REGISTRY)
            raise ConfigError(f"unknown experiment {name!r}{hint}; valid: all, {', '.join(REGISTRY)}")
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"experiment-{name_or_all}{'-quick' if quick else ''}-{stamp}"
    out = Path(out)
    from ..plots import missing

    no_figures = missing()
    if no_figures:
        log(f"note: {no_figures}; the claims are checked all the same")
    created = _made(out)
    results = []
    t_all = time.perf_counter()
    try:
        for k, name in enumerate(selected, 1):
            spec = REGISTRY[name]
            sub = out / name if len(selected) > 1 else out
            fresh = not sub.exists()
            sub.mkdir(parents=True, exist_ok=True)
            ctx = Context(sub, quick=quick, seed=seed, name=name, log=log, executor=executor)
            t0 = time.perf_counter()
            counter = f"({k}/{len(selected)}) " if len(selected) > 1 else ""
            log(f"{counter}[{name}] {spec.title} ...")
            try:
                spec.run(ctx)
            except OptionalDependencyError as e:
                if not (no_figures and "matplotlib" in str(e)):
                    raise
                # (the figures come after the checks; whatever was measured stands)
            except BaseException:
                if fresh and len(selected) > 1:
                    shutil.rmtree(sub, ignore_errors=True)
                raise
            res = ctx.results(spec)
            res["seconds"] = round(time.perf_counter() - t0, 2)
            res["dir"] = name if len(selected) > 1 else "."
            if len(selected) > 1:
                write_reports([{**res, "dir": "."}], sub, title=f"{name}: {spec.title}")
            results.append(res)
            ok = sum(c["verdict"] == "reproduced" for c in res["claims"])
            elapsed = time.perf_counter() - t_all
            eta = f"; all so far {elapsed:.0f} s" if len(selected) > 1 else ""
            log(f"{counter}[{name}] {ok}/{len(res['claims'])} claims reproduced in {res['seconds']:.1f} s{eta}")
        write_reports(results, out, title="chainrule: claims of the lecture notes, reproduced")
    except BaseException:
        for folder in reversed(created):  # innermost first: only the ones this run made, if empty
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if created and created[0].is_dir() and not results:
            shutil.rmtree(created[0], ignore_errors=True)
        raise
    return out, results
