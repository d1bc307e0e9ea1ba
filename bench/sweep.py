"""Sweeps on Dask (issue 14): parallel throughput, seeds packed as ensembles, per-trial overhead, BLAS threads.

    python bench/sweep.py [--quick] [--json OUT.json]

Every trial is ``chainrule.sweep.run_trial`` (the function a sweep's workers run); the local
cluster is ``chainrule.sweep.cluster.client_for`` (worker processes on 127.0.0.1, one thread each).
Cluster start-up is outside every timing (it is paid once per sweep, ~1-2 s).

1. throughput: the same trials one after another in this process, against a whole sweep
   (``chainrule.sweep.run``: driver, Dask, SQLite store) on 2 workers; tiny (moons, 2-16-2, 80
   epochs, seeds one by one since the split follows the seed) and digits-sized (64-64-10, 10 epochs);
2. packing: 20 configurations × 20 seeds of a tiny network (moons, fixed split): 20 tasks of one
   20-seed ensemble each, against 400 tasks of one seed each, on the same 2-worker cluster;
3. overhead: an empty Dask task's round trip, and a sweep of trivial trials (1 epoch on 20
   points) end to end minus the same trials run in this process, per configuration;
4. BLAS threads per worker: 1 (chainrule's default) against one per core (the BLAS's own default),
   2 workers running digits-sized trials with wide layers (64-256-256-10).

``common`` removes OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE from this process (and so from its
workers) if they are set, and prints it.
"""

from __future__ import annotations

import common

# isort: split

import statistics
import time

from chainrule.sweep import run, run_trial
from chainrule.sweep.cluster import client_for


def tiny_spec(n_configs, seeds, epochs=80):
    return {"base": {"data": {"name": "moons", "val_fraction": 0.25, "options": {"seed": 0, "n": 400}},
                     "model": {"hidden": [16]}, "training": {"epochs": epochs, "batch_size": 32},
                     "output": {"record": False}},
            "seeds": seeds, "metric": "val_loss",
            "space": {"optimizer.learning_rate": {"low": 1e-3, "high": 0.1, "log": True, "num": n_configs}}}


def digits_spec(n_configs, seeds, hidden=(64,), epochs=10):
    return {"base": {"data": {"name": "digits", "val_fraction": 0.2}, "model": {"hidden": list(hidden)},
                     "training": {"epochs": epochs, "batch_size": 64}, "output": {"record": False}},
            "seeds": seeds, "metric": "val_loss",
            "space": {"optimizer.learning_rate": {"low": 1e-4, "high": 1e-2, "log": True, "num": n_configs}}}


def sequential(spec):
    """The sweep's trials one after another in this process, with one BLAS thread as each worker has
    (common's 2 threads would be the oversubscription measured in part 4, not the sweep's gain)."""
    from threadpoolctl import threadpool_limits

    from chainrule.sweep import parse_spec

    s = parse_spec(spec)
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        for value in s.space["optimizer.learning_rate"].grid():
            run_trial(s.config_for({"optimizer.learning_rate": value}), s.seeds, s.metric, s.direction)
        return time.perf_counter() - start


def swept(spec, client, tmp):
    start = time.perf_counter()
    results = run(spec, out=tmp / f"s{time.monotonic_ns()}", client=client, verbose=False)
    seconds = time.perf_counter() - start
    assert all(r["status"] == "ok" for r in results.rows), "a benchmark trial failed"
    return seconds


def packing(client, n_configs, n_seeds):
    base = {"data": {"name": "moons", "val_fraction": 0.0, "options": {"seed": 0, "n": 200}},
            "model": {"hidden": [8]}, "training": {"epochs": 20, "batch_size": 32}, "output": {"record": False}}
    configs = [{**base, "optimizer": {"name": "adam", "learning_rate": 0.001 * (1 + i)}} for i in range(n_configs)]
    seeds = list(range(n_seeds))
    start = time.perf_counter()
    packed = client.gather([client.submit(run_trial, c, seeds, "loss", pure=False) for c in configs])
    t_packed = time.perf_counter() - start
    assert all(p["packed"] for p in packed)
    start = time.perf_counter()
    single = client.gather([client.submit(run_trial, c, [s], "loss", pure=False) for c in configs for s in seeds])
    t_single = time.perf_counter() - start
    same = all(p["results"][s]["curves"]["loss"] == single[i * n_seeds + s]["results"][0]["curves"]["loss"]
               for i, p in enumerate(packed) for s in seeds)
    return t_packed, t_single, same


def empty_task(client, n):
    futures = [client.submit(int, i, pure=False) for i in range(n)]  # warm-up: workers import nothing else
    client.gather(futures)
    start = time.perf_counter()
    for i in range(n):
        client.submit(int, i, pure=False).result()
    return (time.perf_counter() - start) / n


def warm(client, *configs):
    """Imports and compiled steps in every worker and in this process, before any timing (each
    process compiles a network's training step once per input signature)."""
    configs = configs or (tiny_spec(1, 1)["base"], digits_spec(1, 1)["base"])
    for cfg in configs:
        client.run(run_trial, cfg, [0], "val_loss")
        run_trial(cfg, [0], "val_loss")


def alternating(fns, rounds):
    """{name: median seconds}: each callable once per round, in turn (A B A B ...), so that the
    machine's slow drift (other work on a shared VM) hits both sides of a ratio alike."""
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(fn())
    return {name: statistics.median(t) for name, t in times.items()}, times


def run_part(quick=False):
    import tempfile
    from pathlib import Path

    n_tiny, n_digits, rounds = (8, 4, 1) if quick else (16, 8, 3)
    out = {"rounds": rounds}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with client_for(workers=2) as client:
            warm(client)
            for name, spec in (("tiny (moons 2-16-2, 80 epochs, 2 seeds)", tiny_spec(n_tiny, 2)),
                               ("digits (64-64-10, 10 epochs, 1 seed)", digits_spec(n_digits, 1))):
                median, times = alternating({"sequential": lambda spec=spec: sequential(spec),
                                             "sweep": lambda spec=spec: swept(spec, client, tmp)}, rounds)
                out[name] = {"configs": spec["space"]["optimizer.learning_rate"]["num"],
                             "sequential_s": median["sequential"], "two_workers_s": median["sweep"],
                             "speedup": median["sequential"] / median["sweep"], "all_s": times}
            n_configs, n_seeds = (10, 10) if quick else (20, 20)
            t_packed, t_single, same = packing(client, n_configs, n_seeds)
            out["packing"] = {"configs": n_configs, "seeds": n_seeds, "packed_s": t_packed, "one_per_seed_s": t_single,
                              "speedup": t_single / t_packed, "identical_curves": same}
            n_empty = 100 if quick else 300
            out["empty_task_ms"] = 1000 * empty_task(client, n_empty)
            trivial = {"base": {"data": {"name": "moons", "val_fraction": 0.0, "options": {"seed": 0, "n": 20}},
                                "model": {"hidden": [2]}, "training": {"epochs": 1, "batch_size": 20},
                                "output": {"record": False}},
                       "seeds": 1, "metric": "loss",
                       "space": {"optimizer.learning_rate": {"low": 1e-3, "high": 0.1, "log": True, "num": 100}}}
            median, _ = alternating({"sweep": lambda: swept(trivial, client, tmp),
                                     "in_process": lambda: sequential(trivial)}, rounds)
            out["trivial_sweep"] = {"configs": 100, "sweep_s": median["sweep"], "in_process_s": median["in_process"],
                                    "overhead_ms_per_config": 1000 * (median["sweep"] - median["in_process"] / 2) / 100}
        spec = digits_spec(4 if quick else 8, 1, hidden=(256, 256), epochs=5)
        # both clusters up at once (idle workers cost nothing), used in turn
        with client_for(workers=2, blas_threads=1) as one, client_for(workers=2, blas_threads=None) as per_core:
            for client in (one, per_core):
                warm(client, spec["base"])
            median, times = alternating({"1 (default)": lambda: swept(spec, one, tmp),
                                         "one per core": lambda: swept(spec, per_core, tmp)}, rounds)
        out["blas"] = median
        out["blas_all_s"] = times
    return out


def report(out):
    rows = [[name, r["configs"], f"{r['sequential_s']:.2f}", f"{r['two_workers_s']:.2f}", f"{r['speedup']:.2f}×"]
            for name, r in out.items() if isinstance(r, dict) and "speedup" in r and "sequential_s" in r]
    common.table(["trials", "configs", "one process, s", "sweep on 2 workers, s", "throughput ratio"], rows,
                 f"Sweep throughput: 2 workers vs one after another (medians of {out['rounds']} alternating rounds)")
    p = out["packing"]
    common.table(["how", "tasks", "seconds", "ratio"], [
        [f"one {p['seeds']}-seed ensemble per configuration", p["configs"], f"{p['packed_s']:.2f}",
         f"{p['speedup']:.1f}× faster"],
        ["one task per (configuration, seed)", p["configs"] * p["seeds"], f"{p['one_per_seed_s']:.2f}", "1×"]],
        f"Seeds packed ({p['configs']} × {p['seeds']}; identical curves: {p['identical_curves']})")
    t = out["trivial_sweep"]
    common.table(["overhead", "ms"], [["empty Dask task, round trip (one at a time)", f"{out['empty_task_ms']:.2f}"],
                                      ["a sweep's cost per configuration beyond its training (100 trivial trials)",
                                       f"{t['overhead_ms_per_config']:.1f}"]], "Per-trial overhead")
    b = out["blas"]
    common.table(["BLAS threads per worker", "seconds (median)", "all rounds"],
                 [[k, f"{v:.2f}", " ".join(f"{t:.2f}" for t in out["blas_all_s"][k])] for k, v in b.items()],
                 f"BLAS threads (2 workers, digits 64-256-256-10, 8 configurations × 5 epochs, {out['rounds']} rounds)")


if __name__ == "__main__":
    report(common.main_for_part("sweep", "Sweeps on Dask", run_part))
