"""The experiment framework: each experiment reproduces claims of the lecture notes and judges them.

An experiment is a function ``run(ctx)`` registered with ``@experiment(name, title)``. It
computes, draws figures (``ctx.figure``) and states claims through the ``ctx.check_*``
methods, each of which compares a *measured* number with an *expected* one under a stated
tolerance and records a verdict: "reproduced" or "not reproduced". A claim whose check cannot
fail is a defect: every check takes the measured value and a bound.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .sources import cite, titles

REGISTRY = {}


@dataclass
class Claim:
    claim: str
    seed_file: str
    expected: str
    measured: object
    tolerance: str
    verdict: str
    source: str = ""  # the note's title (seed_file: its number in the project)

    @property
    def reproduced(self):
        return self.verdict == "reproduced"


@dataclass
class ExperimentSpec:
    name: str
    title: str
    seeds: tuple
    run: object
    doc: str = ""


def experiment(name, title, seeds):
    """Register ``run(ctx)`` as experiment ``name`` (``seeds``: the seed files it draws on)."""

    def register(fn):
        REGISTRY[name] = ExperimentSpec(name, cite(title), tuple(seeds), fn, cite((fn.__doc__ or "").strip()))
        return fn

    return register


def _fmt(x):
    if isinstance(x, float):
        if x == 0 or (1e-3 <= abs(x) < 1e5):
            return f"{x:.4g}"
        return f"{x:.3e}"
    if isinstance(x, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


@dataclass
class Context:
    """What an experiment gets: where to write, how big to run, and how to state claims."""

    out: Path
    quick: bool = False
    seed: int = 0
    name: str = ""
    log: object = None  # a print-like function for progress lines (None: quiet)
    executor: object = None  # where ``map`` runs tasks (chainrule.sweep.executor; None: in this process)
    claims: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    tables: list = field(default_factory=list)

    def stages(self, items, what="stage"):
        """Iterate over ``items`` (the experiment's costly loop), showing progress with an ETA:
        a tqdm bar when tqdm is installed, else one line per item (``log``)."""
        from ..train.progress import StageProgress

        items = list(items)
        progress = StageProgress(len(items), f"[{self.name}] {what}" if self.name else what, log=self.log)
        try:
            for item in items:
                yield item
                progress.step()
        finally:
            progress.close()

    def map(self, fn, tasks, what="task"):
        """[fn(*task) for task in tasks], run through the sweep runner's executor: in this process by
        default, on Dask workers with ``chainrule experiment NAME --workers N`` (or ``--scheduler``).
        ``fn`` must be a module-level function (it travels to the workers by reference) and each
        task's result must not depend on where it ran; progress as ``stages``."""
        from ..sweep.executor import InProcess, map_ordered
        from ..train.progress import StageProgress

        tasks = list(tasks)
        progress = StageProgress(len(tasks), f"[{self.name}] {what}" if self.name else what, log=self.log)
        try:
            return map_ordered(self.executor or InProcess(), fn, tasks, progress=progress.step)
        finally:
            progress.close()

    @property
    def workers(self):
        """How many tasks can run at once (1 in this process)."""
        return getattr(self.executor, "workers", 1)

    def figure(self, name):
        """A path for a PNG figure of this experiment (recorded for the report)."""
        path = self.out / f"{name}.png"
        self.figures.append(path.name)
        return path

    def note(self, text):
        self.notes.append(cite(text))

    def table(self, title, header, rows):
        """A table for the report (rows of numbers or strings)."""
        self.tables.append({"title": cite(title), "header": [cite(h) for h in header],
                            "rows": [[cite(_fmt(v)) for v in r] for r in rows]})

    def _add(self, claim, seed, expected, measured, tolerance, ok):
        verdict = "reproduced" if ok else "not reproduced"
        c = Claim(cite(claim), seed, cite(expected), measured if not isinstance(measured, float) else float(measured),
                  tolerance, verdict, titles(seed))
        self.claims.append(c)
        return ok

    def check_close(self, claim, seed, expected, measured, rtol=0.0, atol=0.0):
        """|measured − expected| ≤ atol + rtol·|expected|."""
        ok = math.isfinite(measured) and abs(measured - expected) <= atol + rtol * abs(expected)
        tol = " + ".join(t for t in ((f"{atol:g}" if atol else ""), (f"{rtol:g}·|expected|" if rtol else "")) if t)
        return self._add(claim, seed, _fmt(expected), measured, f"|Δ| ≤ {tol or '0'}", ok)

    def check_below(self, claim, seed, bound, measured, expected=None):
        """measured < bound."""
        ok = math.isfinite(measured) and measured < bound
        return self._add(claim, seed, expected or f"< {_fmt(bound)}", measured, f"< {_fmt(bound)}", ok)

    def check_above(self, claim, seed, bound, measured, expected=None):
        """measured > bound."""
        ok = math.isfinite(measured) and measured > bound
        return self._add(claim, seed, expected or f"> {_fmt(bound)}", measured, f"> {_fmt(bound)}", ok)

    def check_between(self, claim, seed, low, high, measured, expected=None):
        """low ≤ measured ≤ high."""
        ok = math.isfinite(measured) and low <= measured <= high
        return self._add(claim, seed, expected or f"in [{_fmt(low)}, {_fmt(high)}]", measured,
                         f"in [{_fmt(low)}, {_fmt(high)}]", ok)

    def check_equal(self, claim, seed, expected, measured):
        """measured == expected exactly (counts, exact constructions)."""
        return self._add(claim, seed, _fmt(expected), measured, "exact", measured == expected)

    def results(self, spec):
        return {
            "name": spec.name,
            "title": spec.title,
            "seeds": list(spec.seeds),
            "sources": [titles([n]) for n in spec.seeds],
            "quick": self.quick,
            "claims": [asdict(c) for c in self.claims],
            "figures": self.figures,
            "tables": self.tables,
            "notes": self.notes,
            "all_reproduced": all(c.reproduced for c in self.claims) and bool(self.claims),
        }
