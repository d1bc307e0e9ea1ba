"""``chainrule sweep``: what the CLI's sweep subcommand does, given its parsed arguments."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from . import report
from .driver import open_results, run


def main(args):
    """Run (or resume) a sweep, or show one; print the ranking and where the results are. Returns 0."""
    if args.spec == "show":
        if not args.show_dir:
            raise ConfigError("sweep show needs the sweep folder: chainrule sweep show DIR")
        results = open_results(Path(args.show_dir))
        print(f"{len(results.rows)} trials in {results.folder} ({results.spec.metric}, "
              f"{results.spec.direction}; mean ± sd over seeds):")
        print(results.table())
        _finish(results, args)
        return 0
    if args.show_dir:
        raise ConfigError(f"sweep: one SWEEP.toml expected, found also {args.show_dir!r}")
    if args.spec is None and args.resume is None:
        raise ConfigError("sweep needs a SWEEP.toml, or --resume DIR (or 'show DIR')")
    results = run(args.spec, out=args.out, resume=args.resume, workers=args.workers, scheduler=args.scheduler,
                  verbose=not args.quiet)
    print(results.table(limit=10))
    if results.best is not None:
        print(f"best config: {results.folder / 'best.toml'} (chainrule train it to reproduce)")
    print(f"results: {results.folder / 'results.sqlite'}")
    for config_hash, seeds in results.models().items():
        print(f"models: {results.folder / 'models' / config_hash} ({len(seeds)} seeds; "
              f"chainrule.saving.load_model loads each)")
    _finish(results, args)
    return 0


def _errors(results, limit=5):
    """The distinct one-line errors of failed / diverged trials, with how many rows had each."""
    counts = {}
    for r in results.rows:
        if r["error"]:
            counts[(r["status"], r["error"])] = counts.get((r["status"], r["error"]), 0) + 1
    for (status, error), n in sorted(counts.items(), key=lambda kv: -kv[1])[:limit]:
        print(f"{status} ({n} trials): {error}")


def _finish(results, args):
    _errors(results)
    if args.export:
        path = report.export(results.rows, list(results.spec.space), results.folder / f"trials.{args.export}",
                             args.export)
        print(f"table: {path}")
    if getattr(args, "plots", False):
        from .plots import write_all

        for path in write_all(results):
            print(f"figure: {path}")
