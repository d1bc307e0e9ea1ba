"""Two chainrule installs side by side: whole-process timings of a fixed training workload.

    python bench/ab_steps.py PYTHON_A PYTHON_B [--kinds tiny,small,eager,bn,ensemble] [-n 9]

Each PYTHON is an interpreter whose environment has a chainrule installed (e.g. the venvs of two
checkouts). The runs alternate A B A B …, after one warm-up each, so a drift in the machine's speed
falls on both; the table gives the median wall time of each and the median of the pairwise ratios
A/B. ``python bench/ab_steps.py --run KIND`` is the workload itself (one BLAS thread):

  tiny      30,000 compiled Trainer steps, MLP 2-8-8-2 (ReLU), batch 32, float32, SGD
  small     15,000 compiled steps, 64-128-10, batch 64
  medium    200 compiled steps, 784-512-512-10, batch 256
  eager     15,000 eager steps (compiled=False) of the tiny network
  bn        10,000 steps of 2-16-16-2 with BatchNorm (compiled where the install can)
  ensemble  8 × Ensemble.fit of K = 64 tiny networks, 25 epochs of 8 batches
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

KINDS = ("tiny", "small", "medium", "eager", "bn", "ensemble")


def workload(kind):
    import numpy as np
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from chainrule import nn
    from chainrule.train import Trainer

    rng = np.random.default_rng(0)
    if kind == "ensemble":
        from chainrule.train.ensemble import Ensemble

        X, y = rng.standard_normal((256, 2)).astype(np.float32), rng.integers(0, 2, 256)
        ens = Ensemble(lambda: nn.MLP([2, 8, 8, 2]), seeds=range(64), optimizer="sgd", learning_rate=0.1,
                       batch_size=32, dtype=np.float32, metrics=[], verbose=0)
        for _ in range(8):
            ens.fit(X, y, epochs=25)
        return
    sizes, batch, steps = {"tiny": ([2, 8, 8, 2], 32, 30000), "small": ([64, 128, 10], 64, 15000),
                           "medium": ([784, 512, 512, 10], 256, 200),
                           "eager": ([2, 8, 8, 2], 32, 15000), "bn": ([2, 16, 16, 2], 32, 10000)}[kind]
    X, y = rng.standard_normal((batch, sizes[0])).astype(np.float32), rng.integers(0, sizes[-1], batch)
    model = nn.MLP(sizes, activation="relu", batchnorm=kind == "bn")
    model.init(seed=0, dtype=np.float32)
    trainer = Trainer(model, loss="cross_entropy", optimizer="sgd", learning_rate=0.01, verbose=0,
                      compiled=kind != "eager")
    for _ in range(steps):
        trainer.train_step(X, y)


def timed(python, kind):
    start = time.perf_counter()
    subprocess.run([python, __file__, "--run", kind], check=True)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("python_a", nargs="?")
    p.add_argument("python_b", nargs="?")
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("-n", type=int, default=9, help="counted pairs per kind")
    p.add_argument("--run", choices=KINDS, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run:
        return workload(args.run)
    if not (args.python_a and args.python_b):
        p.error("give two interpreters, PYTHON_A and PYTHON_B")
    print("| workload | A median s | B median s | A/B (median of pairs) | A/B min–max |")
    print("|---|---|---|---|---|")
    for kind in args.kinds.split(","):
        timed(args.python_a, kind), timed(args.python_b, kind)  # warm-up
        a, b = [], []
        for _ in range(args.n):
            a.append(timed(args.python_a, kind))
            b.append(timed(args.python_b, kind))
        ratios = [x / y for x, y in zip(a, b)]
        print(f"| {kind} | {statistics.median(a):.3f} | {statistics.median(b):.3f} | "
              f"{statistics.median(ratios):.3f} | {min(ratios):.3f}–{max(ratios):.3f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
