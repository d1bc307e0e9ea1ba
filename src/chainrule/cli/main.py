"""The ``chainrule`` command (also ``python -m chainrule``): train, evaluate, predict, export, demo.

Every error a user can cause (a ``ChainruleError``, or an ``OSError``: a missing file, a full
disk) prints one line ``chainrule: error: ...`` and exits with status 2. Anything else is a bug
in chainrule: one line ``chainrule: internal error: <type>: <message> (run with --debug for the
traceback)`` and status 1. ``--debug`` shows the traceback instead. Warnings (a
skipped corrupted checkpoint, a clamped batch size) print as one line ``chainrule: warning: ...``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .._version import __version__
from ..errors import ChainruleError

# Only errors the user can cause and fix: chainrule's own, and the operating system's (a missing
# file, a full disk, no permission). Anything else is a bug in chainrule.
USER_ERRORS = (ChainruleError, OSError)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (``chainrule: error: ...``, status 2) and
    ``--debug`` accepted after the command as well as before it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # SUPPRESS: a subcommand without --debug leaves the value parsed before it alone
        self.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                          help="show tracebacks for errors")

    def error(self, message):
        command = self.prog.split(" ", 1)[1] + " " if " " in self.prog else ""
        self.exit(2, f"chainrule: error: {_escaped(message)} (see 'chainrule {command}--help')\n")


def _parser():
    p = _Parser(
        prog="chainrule",
        description="Build, train, verify and understand feedforward neural networks.",
    )
    p.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="train a network on the spiral data, check its gradients, write a run folder")
    d.add_argument("--out", default=None, help="run folder (default: runs/demo-<timestamp>)")
    d.add_argument("--epochs", type=int, default=300)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--quiet", action="store_true", help="no progress bar")

    from ..runs.schema import describe

    n = sub.add_parser("init", help="write a commented starter config (every key, its default and meaning)")
    n.add_argument("--dataset", default=None, metavar="NAME", help="a built-in dataset, or 'csv' for a CSV template")
    n.add_argument("-o", "--output", default="config.toml", help="the file to write (default: config.toml)")
    n.add_argument("--force", action="store_true", help="overwrite an existing file")

    t = sub.add_parser("train", help="train from a TOML config file ('chainrule train --help' lists its keys)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="The config file (TOML; every key optional, the defaults shown):\n\n" + describe()
                       + "\n\nUnknown keys are errors that name the closest valid key.")
    t.add_argument("config", nargs="?", help="the TOML config file")
    t.add_argument("--resume", metavar="RUN_DIR", default=None,
                   help="continue an interrupted run from its newest intact checkpoint")
    t.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="with --resume: train the run to N epochs in all (extend it, or end it sooner)")
    t.add_argument("--out", default=None, help="run folder (default: <output.dir>/<name>-<timestamp>)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="loss and metrics of a trained run on data")
    e.add_argument("run", help="a run folder written by train or demo")
    e.add_argument("--csv", default=None,
                   help="evaluate on this CSV instead of the run's validation data: its header names the run's "
                        "feature columns (for a built-in dataset x0, x1, ..., as predict reads them; columns are "
                        "found by name, not position) and a label column whose values are the run's classes")
    e.add_argument("--label", default=None, metavar="COLUMN",
                   help="the CSV's label column (default: the run's own label column; needed for a run trained "
                        "on a built-in dataset)")

    r = sub.add_parser("predict", help="predictions of a trained run for a CSV of inputs")
    r.add_argument("run", help="a run folder written by train or demo")
    r.add_argument("input", help="CSV with a header row holding the run's feature columns")
    r.add_argument("-o", "--output", default="-", help="output CSV (default: standard output)")
    i = sub.add_parser("inspect", help="trainability check at initialization: signal propagation, dead units, "
                                       "bad init/activation pairings")
    i.add_argument("config", help="the TOML config file")
    i.add_argument("--out", default=None, help="output folder (default: runs/inspect-<timestamp>)")

    o = sub.add_parser("export", help="hand a trained run to PyTorch (a standalone script) or ONNX")
    o.add_argument("run", help="a run folder written by train or demo")
    o.add_argument("--format", required=True, choices=("torch", "onnx"),
                   help="torch: a Python file that builds the torch.nn.Sequential and loads the run's weights; "
                        "onnx: an ONNX model")
    o.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="the file to write (default: model.py or model.onnx)")
    o.add_argument("--force", action="store_true", help="overwrite an existing file")

    x = sub.add_parser("experiment", help="reproduce the lecture notes' claims: NAME or 'all' (see 'experiment list')")
    x.add_argument("name", help="an experiment name, 'all', or 'list'")
    x.add_argument("--quick", action="store_true", help="a reduced version (all of them in a few minutes)")
    x.add_argument("--out", default=None, help="output folder (default: runs/experiment-<name>-<timestamp>)")
    x.add_argument("--seed", type=int, default=0)
    x.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run the sweeping experiments' tasks on N local Dask workers (default: in this process)")
    x.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="... or on an existing Dask scheduler, tcp://HOST:PORT (needs the 'sweep' extra)")
    w = sub.add_parser("sweep", help="a hyperparameter sweep on Dask (SWEEP.toml), or 'sweep show DIR'",
                       description="Run SWEEP.toml's configurations × seeds on an embedded local Dask cluster (or "
                                   "--scheduler), results in DIR/results.sqlite; 'sweep show DIR' ranks them.")
    w.add_argument("spec", nargs="?", help="the SWEEP.toml file, or 'show'")
    w.add_argument("show_dir", nargs="?", metavar="DIR", help="with 'show': the sweep folder")
    w.add_argument("--out", default=None, help="the sweep folder (default: sweeps/<name>-<timestamp>)")
    w.add_argument("--resume", metavar="DIR", default=None, help="finish a stopped sweep (its stored trials skipped)")
    w.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker processes (default: cores; 0: in this process, without Dask)")
    w.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="an existing Dask scheduler, tcp://HOST:PORT (default: $DASK_SCHEDULER_ADDRESS, else local)")
    w.add_argument("--export", choices=("csv", "parquet"), default=None, help="also write the trials table")
    w.add_argument("--plots", action="store_true", help="write the sweep's figures (matplotlib)")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    g = sub.add_parser("playground", help="the playground in your browser: train a network live on chainrule, "
                                          "see backprop, export (needs the 'playground' extra)")
    g.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    g.add_argument("--host", default="127.0.0.1", help="the interface (default 127.0.0.1; others print a warning)")
    g.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.subcommands = sub.choices  # name -> its parser, for errors named by their command
    return p


def main(argv=None):
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # named by the command they were given to, whose --help lists what it takes
        parser.subcommands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    args.debug = getattr(args, "debug", False)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = _show_warning
            return _dispatch(args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (| head)
        sys.stderr.close()
        return 0
    except USER_ERRORS as e:
        if args.debug:
            raise
        print(f"chainrule: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # an internal error: still one line unless --debug
        if args.debug:
            raise
        print(f"chainrule: internal error: {type(e).__name__}: {_one_line(e)} (run with --debug for the "
              "traceback)", file=sys.stderr)
        return 1


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"chainrule: warning: {_one_line(message)}", file=sys.stderr if file is None else file)


MAX_LINE = 2000  # characters of one error line


def _one_line(e):
    """The message of ``e`` on one line. A user error's is never cut at a newline a path or a
    value brought in (control characters are escaped; an OSError's file names are shown escaped
    and shortened); an internal error's keeps its first line (NumPy's messages wrap)."""
    if isinstance(e, OSError) and e.filename is not None:
        from ..data.files import shown

        names = shown(e.filename) + ("" if e.filename2 is None else f" -> {shown(e.filename2)}")
        text = f"{e.strerror or type(e).__name__}: {names}"
    elif isinstance(e, KeyError) and len(e.args) == 1:
        text = str(e.args[0])
    else:
        text = str(e).strip() or type(e).__name__
    if not isinstance(e, USER_ERRORS):
        text = " ".join(text.split("\n")[0].split())
    text = _escaped(text)
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 3] + "..."


def _escaped(text):
    """``text`` with every control character (newline, NUL, ...) written as its escape."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _dispatch(args):
    from . import commands

    if args.command == "demo":
        return commands.demo(out=args.out, epochs=args.epochs, seed=args.seed, verbose=not args.quiet)
    if args.command == "init":
        return commands.init(Path(args.output), dataset=args.dataset, force=args.force)
    if args.command == "train":
        config = Path(args.config) if args.config else None
        return commands.train(config, out=args.out, verbose=not args.quiet, resume=args.resume, epochs=args.epochs)
    if args.command == "evaluate":  # (a non-finite output is named in one line by load_run's check)
        return commands.evaluate(Path(args.run), csv=args.csv, label=args.label)
    if args.command == "predict":
        return commands.predict(Path(args.run), Path(args.input), args.output)
    if args.command == "export":
        return commands.export(Path(args.run), args.format, output=args.output, force=args.force)
    if args.command == "inspect":
        return commands.inspect(Path(args.config), out=args.out)
    if args.command == "experiment":
        return commands.experiment(args.name, out=args.out, quick=args.quick, seed=args.seed,
                                   workers=args.workers, scheduler=args.scheduler)
    if args.command == "sweep":
        return commands.sweep(args)
    if args.command == "playground":
        return commands.playground(host=args.host, port=args.port, open_browser=not args.no_browser)
    raise AssertionError(args.command)  # argparse rejects unknown commands before this


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
