"""Where tasks run: in this process, one after another, or on a Dask cluster. One interface for both.

    executor = InProcess()                  # no Dask needed
    executor = OnDask(client)               # a distributed.Client (cluster.client_for)
    handle = executor.submit(fn, *args)
    for handle, value, error in executor.completed():   # as tasks finish; submit more meanwhile
        ...

``completed()`` also yields the tasks submitted while it runs, so a driver can keep a fixed number
in flight and propose the next configuration from the results so far. A task that raises gives
``error`` (the exception) and ``value`` None; the loop goes on. ``map_ordered`` is the plain case:
every task, results in submission order, the first error raised.

The sweep driver (``driver``) and the experiments that sweep (``chainrule experiment xor
--workers 2``) run their tasks through these. On Dask a worker that dies mid-task has its task
rerun elsewhere by the scheduler; a task whose workers died too often comes back as an error.
"""

from __future__ import annotations

import collections
import contextlib
import time

from ..errors import ConfigError


class InProcess:
    """Tasks run here, in submission order, when ``completed()`` reaches them."""

    workers = 1

    def __init__(self):
        self._queue = collections.deque()

    def submit(self, fn, *args, **kwargs):
        handle = object()
        self._queue.append((handle, fn, args, kwargs))
        return handle

    def completed(self):
        while self._queue:
            handle, fn, args, kwargs = self._queue.popleft()
            try:
                value = fn(*args, **kwargs)
            except Exception as e:  # (KeyboardInterrupt passes: Ctrl-C stops the caller)
                yield handle, None, e
            else:
                yield handle, value, None

    def cancel(self):
        self._queue.clear()

    def shared(self, value):
        """(read, publish): a value tasks read (``read()``) and the driver replaces (``publish(v)``)."""
        box = _Box(value)
        return box, box.set


class OnDask:
    """Tasks run on the workers of ``client``; results are fetched as tasks finish."""

    def __init__(self, client):
        from distributed import as_completed

        self.client = client
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))
        # with_results: each result arrives with its completion, not by one more round trip after it
        self._queue = as_completed(loop=client.loop, with_results=True, raise_errors=False)
        self._pending = set()

    def submit(self, fn, *args, **kwargs):
        name = getattr(fn, "__name__", "task")
        future = self.client.submit(fn, *args, key=f"chainrule-{name}-{time.monotonic_ns()}", pure=False, **kwargs)
        self._pending.add(future)
        self._queue.add(future)
        return future

    def completed(self):
        for future, result in self._queue:
            self._pending.discard(future)
            if future.status == "finished":
                yield future, result, None
            else:  # an error raised by the task, or the task lost (its workers killed too often, ...)
                # (Dask gives an erred task's result as sys.exc_info()'s (type, exception, traceback))
                error = result[1] if isinstance(result, tuple) and len(result) == 3 else result
                if not isinstance(error, BaseException):
                    error = RuntimeError(f"the task ended as {future.status!r}")
                yield future, None, error

    def cancel(self):
        for future in self._pending:
            future.cancel()
        self._pending.clear()

    def shared(self, value):
        """(read, publish) through a ``distributed.Variable``: a task on any worker reads the value the
        driver published last (``read()``, one round trip to the scheduler)."""
        from distributed import Variable

        variable = Variable(f"chainrule-shared-{time.monotonic_ns()}", client=self.client)
        variable.set(value)
        return _Shared(variable.name), variable.set


class _Box:
    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value

    def set(self, value):
        self.value = value


class _Shared:
    """Read on a worker: the named Variable's value (the worker's own client reaches the scheduler)."""

    def __init__(self, name):
        self.name = name

    def __call__(self):
        from distributed import Variable, get_client

        return _lists(Variable(self.name, client=get_client()).get(timeout=5))


def _lists(value):
    """The value as published: the scheduler's messages turn lists into tuples on the way."""
    return [_lists(v) for v in value] if isinstance(value, list | tuple) else value


@contextlib.contextmanager
def executor_for(workers=None, scheduler=None, blas_threads=1, client=None):
    """An executor: InProcess for ``workers=0`` (no Dask needed), else OnDask on ``client``, or on
    a cluster opened here and closed on exit (``cluster.client_for``: ``scheduler`` or
    $DASK_SCHEDULER_ADDRESS, else a local cluster of ``workers`` processes, default the cores)."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ConfigError(f"workers must be 0 (in this process) or a positive integer, found {workers!r}")
    if workers == 0:
        if scheduler or client is not None:
            raise ConfigError(f"workers=0 runs the tasks in this process; it cannot go with a Dask "
                              f"{'scheduler ' + scheduler if scheduler else 'client'}")
        yield InProcess()
    elif client is not None:
        yield OnDask(client)
    else:
        from .cluster import client_for

        with client_for(scheduler, workers, blas_threads) as opened:
            yield OnDask(opened)


def map_ordered(executor, fn, tasks, in_flight=None, progress=None):
    """[fn(*task) for task in tasks] through ``executor``, at most ``in_flight`` (default 2 per worker)
    running at once. The first task that raises stops the map: the rest are cancelled and the error
    raised. ``progress``: called with no argument after each finished task."""
    tasks = [tuple(t) for t in tasks]
    limit = in_flight or 2 * executor.workers
    results, index = [None] * len(tasks), {}
    sent = 0

    def top_up():
        nonlocal sent
        while sent < len(tasks) and len(index) < limit:
            index[executor.submit(fn, *tasks[sent])] = sent
            sent += 1

    top_up()
    try:
        for handle, value, error in executor.completed():
            k = index.pop(handle)
            if error is not None:
                raise error
            results[k] = value
            if progress is not None:
                progress()
            top_up()
    except BaseException:
        executor.cancel()
        raise
    return results
