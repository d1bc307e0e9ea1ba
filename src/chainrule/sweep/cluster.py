"""Where trials run: an embedded Dask ``LocalCluster`` on loopback, or an existing cluster by address.

The local cluster has one worker process per core (``workers``), one thread each, and one BLAS
thread per worker by default: several processes each running several BLAS threads on a few cores
slow small networks several-fold (BENCHMARKS.md, "Sweeps on Dask"). An existing cluster is reached by
``scheduler`` (``tcp://HOST:PORT``) or ``DASK_SCHEDULER_ADDRESS``; an address that does not answer
within ``CONNECT_TIMEOUT`` seconds is a ConfigError naming it, at once.

The local cluster runs with ``WORKER_CONFIG``: two of Dask's defaults undone, each of which made a
digits-sized trial slower on a worker than in the driver's own process (BENCHMARKS.md, "Sweeps on Dask"):

- ``MALLOC_TRIM_THRESHOLD_=65536``, which Dask's nanny puts in every worker's environment so that
  freed memory goes back to the system at once. Setting it also turns off glibc's adaptive mmap
  threshold, so every array over 128 KiB (a full-batch forward pass on digits) is mapped and unmapped
  each time, its pages faulted in again: a 30-epoch digits trial took ~25 % more CPU time on a worker
  than in-process, and as much in a process started with the variable. A user's own
  ``MALLOC_TRIM_THRESHOLD_`` in the environment still reaches the workers.
- the worker's statistical profiler (``distributed.worker.profile``), which stops the task thread's
  Python every 10 ms to record its stack for the dashboard's profile page; a sweep never shows it.

and two of its clocks slowed, because on a machine with as many cores as workers every millisecond the
cluster spends on itself is taken from a trial: every server (scheduler, nannies, client, workers)
measures its event loop's tick every 20 ms, and samples its process's CPU, memory, network and disk
every 0.5 s for the dashboard. A 2-worker cluster standing idle used ~0.11 CPU-seconds per second
with Dask's defaults (0.04 in the driver's process, 0.03 in each worker); with these settings (a
200 ms tick: Dask's own tests use 500 ms, and a loop blocked for ``distributed.admin.tick.limit`` is
still reported; a 2 s system monitor without disk counters), ~0.03. The workers' memory monitor
(spilling, pausing, the nanny's kill at 95 %) keeps its 100 ms.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

from ..errors import ConfigError, OptionalDependencyError

CONNECT_TIMEOUT = 5  # seconds; a reachable scheduler answers in milliseconds
BLAS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Dask settings for the local cluster (see above): the scheduler and nannies read them as they are made,
# in this process, and each nanny hands its configuration to the worker process it spawns, so setting
# them around the cluster's start reaches the workers.
WORKER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # None: not set at all
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "200ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
}


def require(*modules, why="Dask workers"):
    """Import ``modules`` (default: distributed), or say in one line which extra installs them."""
    for name in modules or ("distributed",):
        try:
            __import__(name)
        except ImportError:
            raise OptionalDependencyError(f"{why}: {name} is not installed; pip install \"chainrule[sweep]\" "
                                          f"(Dask distributed and Optuna)") from None


@contextlib.contextmanager
def client_for(scheduler=None, workers=None, blas_threads=1):
    """A ``distributed.Client``: on ``scheduler`` (or $DASK_SCHEDULER_ADDRESS) if given, else on a new
    local cluster of ``workers`` processes (default: the cores) that is shut down on exit."""
    require()
    import dask
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        try:
            client = Client(address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise ConfigError(f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT} s "
                              f"({type(e).__name__}); is `dask scheduler` running there? (or leave out --scheduler "
                              f"and DASK_SCHEDULER_ADDRESS for a local cluster)") from None
        try:
            _check_workers(client, address)
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"--workers must be a positive integer, found {workers!r}")
    # A BLAS reads its thread count once, when it loads, so these must be in the environment the
    # worker process starts with (a Nanny's env= is applied after it started: too late). Dask's
    # nanny takes them from this process's environment first, then from its pre-spawn-environ config
    # (whose default is 1); None asks for the BLAS's own default, one thread per core, which has to
    # be said explicitly to undo Dask's.
    threads = (os.cpu_count() or 1) if blas_threads is None else blas_threads
    # Everything on loopback; the scheduler's HTTP endpoint on a free port (its default 8787 would
    # clash, with a warning, as soon as two sweeps run on one machine).
    with _workers_ignore_ctrl_c(), _environment({v: str(threads) for v in BLAS_VARIABLES}), \
            dask.config.set(WORKER_CONFIG):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0", silence_logs=50)
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@contextlib.contextmanager
def _environment(variables):
    """``variables`` set in os.environ for the duration, the previous values restored after."""
    previous = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Ctrl-C in a terminal reaches the whole process group: the worker processes too, which would
    each die printing a traceback. Started while SIGINT is ignored, they inherit that (Python only
    installs its KeyboardInterrupt handler over the default disposition), and the driver, which
    alone handles Ctrl-C, stops them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _check_workers(client, address):
    """An existing cluster must have a worker, and its workers must run chainrule (the trials are
    chainrule functions): said at once, not as a sweep that waits forever or fails every trial."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError):
        raise ConfigError(f"the Dask scheduler at {address} has no workers (waited {CONNECT_TIMEOUT} s); start "
                          f"some with `dask worker {address}`") from None
    # (a worker without chainrule cannot even unpickle this function: on_error returns that error)
    answers = client.run(_chainrule_version, on_error="return")
    missing = [w for w, v in answers.items() if not isinstance(v, str)]
    if missing:
        raise ConfigError(f"{len(missing)} Dask worker(s) at {address} cannot import chainrule (e.g. {missing[0]}); "
                          f"install it in the workers' environment")


def _chainrule_version():
    from chainrule import __version__

    return __version__
