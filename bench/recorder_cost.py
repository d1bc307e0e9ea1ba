"""What the training recorder costs: a run's training time with ``[output] record`` off and on.

    OPENBLAS_NUM_THREADS=1 python bench/recorder_cost.py [--repeats 5]

Two cases, each trained from the same configuration through ``chainrule.runs.build`` (the CLI's
path, without a run folder): the demo (``chainrule demo``'s config: spiral, [64, 64] ReLU, Adam,
300 epochs) and sklearn's digits ([64] hidden, Adam, 30 epochs; needs scikit-learn). Off and on
alternate with the recorder as it was attached before this change ("before": ~300 records per
run, each with a probe on 256 rows), ``--repeats`` times each, in one process; the table gives
the median and the minimum of each and the recorder's cost, (on − off) / off, from the medians and from the minima (the
minimum is the least disturbed by other work on a shared machine), and the recorder's own time
(its ``on_gradients`` calls, timed inside the run) as a share of the run's training time.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread: small matrices, no pool noise

# isort: split

import argparse
import copy
import platform
import statistics
import time

import numpy as np

from chainrule import runs
from chainrule.cli.commands import DEMO_CONFIG
from chainrule.diagnostics import TrainingRecorder

DIGITS = {"seed": 0, "data": {"name": "digits"}, "model": {"hidden": [64]}, "optimizer": {"name": "adam"},
          "training": {"epochs": 30}}
CASES = {"demo (spiral, [64, 64], 300 epochs)": DEMO_CONFIG, "digits ([64], 30 epochs)": DIGITS}


def train_seconds(cfg, record, old=False):
    """Seconds of ``run.fit()``, the recorder's own seconds, and (records, probes).

    old: the recorder as the CLI attached it before (a record every total/300 steps, each with a
    probe on 256 rows), for comparison."""
    cfg = copy.deepcopy(cfg)
    cfg.setdefault("output", {})["record"] = record
    cfg["training"]["gradient_check"] = False
    run = runs.build(cfg, verbose=0)
    if old:
        t = run.config["training"]
        total = t["epochs"] * -(-len(run.X_train) // min(t["batch_size"], len(run.X_train)))
        before = TrainingRecorder(every=max(1, total // 300), probe=(run.X_train[:256], run.y_train[:256]))
        run.trainer.callbacks[run.trainer.callbacks.index(run.recorder)] = before
        run.recorder = before
    inside = [0.0]
    if record:  # the recorder's own time, summed over its calls
        hook = run.recorder.on_gradients

        def timed(*args):
            t = time.perf_counter()
            hook(*args)
            inside[0] += time.perf_counter() - t

        run.recorder.on_gradients = timed
    t0 = time.perf_counter()
    run.fit()
    seconds = time.perf_counter() - t0
    counts = (len(run.recorder.steps), len(run.recorder.probe_steps)) if record else (0, 0)
    return seconds, inside[0], counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"repeats {args.repeats}")
    print("| case | off: median (min) s | on: median (min) s | records (probes) | cost, medians | cost, minima "
          "| recorder's own time, median |")
    print("|---|---|---|---|---|---|---|")
    for label, cfg in CASES.items():
        try:
            times, owns, records = {"off": [], "on": [], "old": []}, {"on": [], "old": []}, {}
            for _ in range(args.repeats):
                for mode in ("off", "on", "old"):
                    seconds, own, counts = train_seconds(cfg, mode != "off", old=mode == "old")
                    times[mode].append(seconds)
                    if mode != "off":
                        records[mode] = counts
                        owns[mode].append(own / seconds)
        except ImportError as e:  # digits needs scikit-learn
            print(f"| {label} | skipped: {e} | | | | | |")
            continue
        off = times["off"]
        for mode, name in (("on", "now"), ("old", "before")):
            on = times[mode]
            med = (statistics.median(on) - statistics.median(off)) / statistics.median(off)
            low = (min(on) - min(off)) / min(off)
            print(f"| {label}, {name} | {statistics.median(off):.3f} ({min(off):.3f}) | {statistics.median(on):.3f} "
                  f"({min(on):.3f}) | {records[mode][0]} ({records[mode][1]}) | {med:+.1%} | {low:+.1%} | "
                  f"{statistics.median(owns[mode]):.1%} of training |")


if __name__ == "__main__":
    main()
