"""Sweeps on Dask (issue 14): parallel throughput, seeds packed as ensembles, per-trial overhead, BLAS threads.

    python bench/sweep.py [--quick] [--wait-idle SECONDS] [--json OUT.json]

Every trial is ``chainrule.sweep.run_trial`` (the function a sweep's workers run); the local
cluster is ``chainrule.sweep.cluster.client_for`` (worker processes on 127.0.0.1, one thread each).
Cluster and pool start-up are outside every timing (paid once per sweep, ~1-2 s).

1. throughput: the same trials four ways, in alternating rounds (A B C D A B C D ...): one after
   another in this process; a plain 2-process pool (``concurrent.futures.ProcessPoolExecutor``, one
   BLAS thread each: the machine's own ceiling for 2 workers, with no Dask and no chainrule sweep);
   a whole sweep (``chainrule.sweep.run``: driver, Dask, SQLite store) on 2 workers; and the same
   sweep on a cluster with Dask's default worker settings (``cluster.WORKER_CONFIG`` left out: what
   chainrule ran before). Workloads: tiny (moons, 2-16-2, 80 epochs, 2 seeds one by one since the
   split follows the seed), digits-sized (64-64-10, 30 epochs) and the same digits trials cut to 10
   epochs (so short that a sweep's fixed costs show). Each row also gives the trials' own time
   (``run_trial``'s wall_time, summed) on the workers against in this process, and the CPUs other
   processes used while the row ran (the machine's busy time minus this process and its children's);
2. packing: 20 configurations × 20 seeds of a tiny network (moons, fixed split): 20 tasks of one
   20-seed ensemble each, against 400 tasks of one seed each, on one 2-worker cluster;
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

import contextlib
import os
import statistics
import time
from unittest import mock

from chainrule.sweep import cluster, run, run_trial
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


def workloads(quick):
    """(name, spec) of the throughput rows."""
    return [("tiny (moons 2-16-2, 80 epochs, 2 seeds)", tiny_spec(8 if quick else 16, 2)),
            ("digits (64-64-10, 30 epochs, 1 seed)", digits_spec(8 if quick else 16, 1, epochs=30)),
            ("digits, short (64-64-10, 10 epochs, 1 seed)", digits_spec(8, 1, epochs=10))]


def trials(spec):
    """The sweep's tasks as run_trial's arguments: (config, seeds, metric, direction) per configuration."""
    from chainrule.sweep import parse_spec

    s = parse_spec(spec)
    return [(s.config_for({"optimizer.learning_rate": value}), s.seeds, s.metric, s.direction)
            for value in s.space["optimizer.learning_rate"].grid()]


def sequential(spec):
    """The sweep's trials one after another in this process, with one BLAS thread as each worker has
    (common's 2 threads would be the oversubscription measured in part 4, not the sweep's gain).
    Returns (seconds, the trials' own seconds)."""
    from threadpoolctl import threadpool_limits

    tasks = trials(spec)
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        own = sum(run_trial(*t)["wall_time"] for t in tasks)
        return time.perf_counter() - start, own


def swept(spec, client, tmp):
    """A whole sweep: (seconds, the trials' own seconds as the workers measured them)."""
    start = time.perf_counter()
    results = run(spec, out=tmp / f"s{time.monotonic_ns()}", client=client, verbose=False)
    seconds = time.perf_counter() - start
    assert all(r["status"] == "ok" for r in results.rows), "a benchmark trial failed"
    return seconds, sum(r["wall_time"] for r in results.rows)  # wall_time: the task's time / its seeds


# -- the plain process pool: the machine's ceiling for 2 workers -------------------------------------
_pool_limits = None


def _pool_start(configs):
    """In each pool process: one BLAS thread (also set in its environment before NumPy loaded), and the
    warm-up the cluster's workers get (imports, compiled steps)."""
    global _pool_limits
    from threadpoolctl import threadpool_limits

    _pool_limits = threadpool_limits(limits=1)
    for cfg in configs:
        run_trial(cfg, [0], "val_loss")


def _pool_trial(args):
    return run_trial(*args)


@contextlib.contextmanager
def process_pool(n, configs):
    """A ``ProcessPoolExecutor`` of ``n`` spawned processes (as Dask's nanny spawns its workers), started
    and warmed before it is returned."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with mock.patch.dict(os.environ, {v: "1" for v in cluster.BLAS_VARIABLES}):
        pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"), initializer=_pool_start,
                                   initargs=(configs,))
        try:
            # processes are spawned as tasks arrive: n tasks at once start all n, with this environment
            pids = set()
            for _ in range(5):  # (one process may take two of the first tasks: ask again)
                pids |= set(pool.map(_pid, range(n)))
                if len(pids) == n:
                    break
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    try:
        assert len(pids) == n, f"the pool started {len(pids)} processes, not {n}"
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def _pid(_):
    time.sleep(0.2)  # long enough that each of the first n tasks lands on its own process
    return os.getpid()


def pooled(spec, pool):
    tasks = trials(spec)
    start = time.perf_counter()
    results = list(pool.map(_pool_trial, tasks))
    seconds = time.perf_counter() - start
    assert all(r["status"] == "ok" for res in results for r in res["results"]), "a benchmark trial failed"
    return seconds, sum(res["wall_time"] for res in results)


@contextlib.contextmanager
def dask_defaults_cluster(workers):
    """``client_for`` with Dask's default worker settings (WORKER_CONFIG left out): the cluster chainrule
    started before. Dask's nanny leaves MALLOC_TRIM_THRESHOLD_ in this process's environment, from which
    any process started later would inherit it: removed again here."""
    had = "MALLOC_TRIM_THRESHOLD_" in os.environ
    with contextlib.ExitStack() as stack:
        with mock.patch.object(cluster, "WORKER_CONFIG", {}):
            client = stack.enter_context(client_for(workers=workers))
        if not had:
            os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        yield client


class OtherCPUs:
    """CPUs used by processes other than this one and its descendants (Dask's workers, the pool's),
    averaged over the wall time since it was made. ``common.OtherLoad`` counts children only once they
    are reaped, so it cannot be read while the workers live; the whole part's figure comes from it."""

    def __init__(self):
        self.t0 = self._read()

    @staticmethod
    def _read():
        import psutil  # distributed depends on it

        c = psutil.cpu_times()
        busy = c.user + c.nice + c.system + c.irq + c.softirq + getattr(c, "steal", 0.0)
        me = psutil.Process()
        own = {}
        for p in (me, *me.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                own[p.pid] = t.user + t.system
        return time.perf_counter(), busy, own

    def cpus(self):
        t1 = self._read()
        wall = t1[0] - self.t0[0]
        own = sum(v - self.t0[2].get(pid, 0.0) for pid, v in t1[2].items())
        return max(0.0, (t1[1] - self.t0[1] - own) / wall) if wall > 0 else None


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
    for cfg in configs:
        client.run(run_trial, cfg, [0], "val_loss")
        run_trial(cfg, [0], "val_loss")


def alternating(fns, rounds):
    """{name: median}: each callable once per round, in turn (A B A B ...), so that the machine's slow
    drift (other work on a shared VM) hits every side of a ratio alike. A callable returns seconds or
    (seconds, extra); the medians are of the seconds, ``all`` keeps every round's (seconds, extra)."""
    runs = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            r = fn()
            runs[name].append(r if isinstance(r, tuple) else (r, None))
    return {name: statistics.median(t for t, _ in r) for name, r in runs.items()}, runs


def throughput(specs, rounds, tmp):
    """Part 1: each workload one process / plain pool / sweep / sweep on Dask's defaults, alternating."""
    out = {}
    warm_configs = [spec["base"] for _, spec in specs]
    with process_pool(2, warm_configs) as pool, client_for(workers=2) as client, \
            dask_defaults_cluster(2) as before:
        for c in (client, before):
            warm(c, *warm_configs)
        for name, spec in specs:
            load = OtherCPUs()
            median, runs = alternating({
                "sequential": lambda spec=spec: sequential(spec),
                "pool": lambda spec=spec: pooled(spec, pool),
                "sweep": lambda spec=spec: swept(spec, client, tmp),
                "sweep_dask_defaults": lambda spec=spec: swept(spec, before, tmp)}, rounds)
            own = {k: statistics.median(e for _, e in r) for k, r in runs.items()}
            seq = median["sequential"]
            out[name] = {"configs": len(trials(spec)), "seeds": spec["seeds"],
                         "sequential_s": seq, "pool_s": median["pool"], "two_workers_s": median["sweep"],
                         "dask_defaults_s": median["sweep_dask_defaults"],
                         "pool_speedup": seq / median["pool"], "speedup": seq / median["sweep"],
                         "dask_defaults_speedup": seq / median["sweep_dask_defaults"],
                         "sweep_vs_pool": median["pool"] / median["sweep"],
                         "fix_speedup": median["sweep_dask_defaults"] / median["sweep"],
                         "trial_time_s": own, "trial_time_vs_in_process": {
                             k: own[k] / own["sequential"] for k in own if k != "sequential"},
                         "other_cpus": load.cpus(), "all_s": runs}
    return out


def run_part(quick=False):
    import tempfile
    from pathlib import Path

    rounds = 1 if quick else 3
    out = {"rounds": rounds, "throughput_rounds": 1 if quick else 5}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        out["throughput"] = throughput(workloads(quick), out["throughput_rounds"], tmp)
        with client_for(workers=2) as client:
            warm(client, tiny_spec(1, 1)["base"])
            load = OtherCPUs()
            n_configs, n_seeds = (10, 10) if quick else (20, 20)
            t_packed, t_single, same = packing(client, n_configs, n_seeds)
            out["packing"] = {"configs": n_configs, "seeds": n_seeds, "packed_s": t_packed, "one_per_seed_s": t_single,
                              "speedup": t_single / t_packed, "identical_curves": same, "other_cpus": load.cpus()}
            load = OtherCPUs()
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
                                    "overhead_ms_per_config": 1000 * (median["sweep"] - median["in_process"] / 2) / 100,
                                    "other_cpus": load.cpus()}
        spec = digits_spec(4 if quick else 8, 1, hidden=(256, 256), epochs=5)
        # both clusters up at once (idle workers cost nothing), used in turn
        with client_for(workers=2, blas_threads=1) as one, client_for(workers=2, blas_threads=None) as per_core:
            for client in (one, per_core):
                warm(client, spec["base"])
            load = OtherCPUs()
            median, runs = alternating({"1 (default)": lambda: swept(spec, one, tmp),
                                        "one per core": lambda: swept(spec, per_core, tmp)}, rounds)
            out["blas_other_cpus"] = load.cpus()  # while the workers live: their CPU is this benchmark's
        out["blas"] = median
        out["blas_all_s"] = {k: [t for t, _ in r] for k, r in runs.items()}
    out["tables"] = report(out)
    return out


def _others(x):
    return "–" if x is None else f"{x:.2f}"


def report(out):
    """Prints the tables; returns them as one Markdown text (bench/run.py writes it to its .md)."""
    tables = []
    rows = [[name, f"{r['configs']} × {r['seeds']}", f"{r['sequential_s']:.2f}", f"{r['pool_s']:.2f}",
             f"{r['two_workers_s']:.2f}", f"{r['dask_defaults_s']:.2f}", f"**{r['pool_speedup']:.2f}×**",
             f"**{r['speedup']:.2f}×**", f"{r['dask_defaults_speedup']:.2f}×", f"{r['sweep_vs_pool']:.2f}",
             " / ".join(f"{r['trial_time_vs_in_process'][k]:.2f}" for k in ("sweep", "sweep_dask_defaults", "pool")),
             _others(r["other_cpus"])]
            for name, r in out["throughput"].items()]
    tables.append(common.table(
        ["trials", "configs × seeds", "one process, s", "2-process pool, s", "sweep on 2 workers, s",
         "sweep, Dask's default worker settings, s", "pool ratio (the machine's ceiling)", "sweep ratio",
         "sweep ratio, Dask's defaults", "sweep / pool throughput", "trial time vs in-process: sweep / Dask's "
         "defaults / pool", "other CPUs"], rows,
        f"Sweep throughput: 2 workers vs one after another in one process (medians of {out['throughput_rounds']} "
        f"alternating rounds; ratio = one process's time / this way's time; target ≥ 1.8×)"))
    p = out["packing"]
    tables.append(common.table(["how", "tasks", "seconds", "ratio"], [
        [f"one {p['seeds']}-seed ensemble per configuration", p["configs"], f"{p['packed_s']:.2f}",
         f"{p['speedup']:.1f}× faster"],
        ["one task per (configuration, seed)", p["configs"] * p["seeds"], f"{p['one_per_seed_s']:.2f}", "1×"]],
        f"Seeds packed ({p['configs']} × {p['seeds']}; identical curves: {p['identical_curves']}; "
        f"other CPUs {_others(p['other_cpus'])}; target ≥ 10×)"))
    t = out["trivial_sweep"]
    tables.append(common.table(
        ["overhead", "ms"], [["empty Dask task, round trip (one at a time)", f"{out['empty_task_ms']:.2f}"],
                             ["a sweep's cost per configuration beyond its training (100 trivial trials)",
                              f"{t['overhead_ms_per_config']:.1f}"]],
        f"Per-trial overhead (other CPUs {_others(t['other_cpus'])})"))
    b = out["blas"]
    tables.append(common.table(
        ["BLAS threads per worker", "seconds (median)", "all rounds"],
        [[k, f"{v:.2f}", " ".join(f"{x:.2f}" for x in out["blas_all_s"][k])] for k, v in b.items()],
        f"BLAS threads (2 workers, digits 64-256-256-10, configurations × 5 epochs, {out['rounds']} rounds; "
        f"other CPUs {_others(out['blas_other_cpus'])})"))
    return "\n".join(tables)


if __name__ == "__main__":
    common.main_for_part("sweep", "Sweeps on Dask", run_part)
