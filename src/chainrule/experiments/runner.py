"""Run experiments by name and write their folders and reports."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from ..errors import ConfigError, did_you_mean
from .base import REGISTRY, Context
from .report import write_reports


def names():
    _load_all()
    return list(REGISTRY)


def _load_all():
    from . import catalog  # noqa: F401  (registers every experiment)


def run(name_or_all, out=None, quick=False, seed=0, log=print):
    """Run one experiment (or ``"all"``); return (out_dir, list of result dicts)."""
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
    results = []
    for name in selected:
        spec = REGISTRY[name]
        sub = out / name if len(selected) > 1 else out
        sub.mkdir(parents=True, exist_ok=True)
        ctx = Context(sub, quick=quick, seed=seed)
        t0 = time.perf_counter()
        log(f"[{name}] {spec.title} ...")
        spec.run(ctx)
        res = ctx.results(spec)
        res["seconds"] = round(time.perf_counter() - t0, 2)
        res["dir"] = name if len(selected) > 1 else "."
        if len(selected) > 1:
            write_reports([{**res, "dir": "."}], sub, title=f"{name}: {spec.title}")
        results.append(res)
        ok = sum(c["verdict"] == "reproduced" for c in res["claims"])
        log(f"[{name}] {ok}/{len(res['claims'])} claims reproduced in {res['seconds']:.1f} s")
    write_reports(results, out, title="chainrule: claims of the seeds, reproduced")
    return out, results
