"""What the training recorder costs: a run's training time with ``[output] record`` off and on.

    OPENBLAS_NUM_THREADS=1 python bench/recorder_cost.py [--repeats 5]

Two cases, each trained from the same configuration through ``chainrule.runs.build`` (the CLI's
path, without a run folder): the demo (``chainrule demo``'s config: spiral, [64, 64] ReLU, Adam,
300 epochs) and sklearn's digits ([64] hidden, Adam, 30 epochs; needs scikit-learn). Off and on
alternate, ``--repeats`` times each, in one process; the table gives the median and the minimum
of each and the recorder's cost, (on − off) / off, from the medians and from the minima (the
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

DIGITS = {"seed": 0, "data": {"name": "digits"}, "model": {"hidden": [64]}, "optimizer": {"name": "adam"},
          "training": {"epochs": 30}}
CASES = {"demo (spiral, [64, 64], 300 epochs)": DEMO_CONFIG, "digits ([64], 30 epochs)": DIGITS}


def train_seconds(cfg, record):
    cfg = copy.deepcopy(cfg)
    cfg.setdefault("output", {})["record"] = record
    cfg["training"]["gradient_check"] = False
    run = runs.build(cfg, verbose=0)
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
            times, owns = {False: [], True: []}, []
            for _ in range(args.repeats):
                for record in (False, True):
                    seconds, own, counts = train_seconds(cfg, record)
                    times[record].append(seconds)
                    if record:
                        records = counts
                        owns.append(own / seconds)
        except ImportError as e:  # digits needs scikit-learn
            print(f"| {label} | skipped: {e} | | | | | |")
            continue
        off, on = times[False], times[True]
        med = (statistics.median(on) - statistics.median(off)) / statistics.median(off)
        low = (min(on) - min(off)) / min(off)
        print(f"| {label} | {statistics.median(off):.3f} ({min(off):.3f}) | {statistics.median(on):.3f} "
              f"({min(on):.3f}) | {records[0]} ({records[1]}) | {med:+.1%} | {low:+.1%} | "
              f"{statistics.median(owns):.1%} of training |")


if __name__ == "__main__":
    main()
