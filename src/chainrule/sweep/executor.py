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
import uuid

from ..errors import ClusterLostError, ConfigError


class InProcess:
    """Tasks run here, in submission order, when ``completed()`` reaches them."""

    workers = 1

    def __init__(self):
        self._queue = collections.deque()

    def submit(self, fn, *args):
        handle = object()
        self._queue.append((handle, fn, args))
        return handle

    def completed(self):
        while self._queue:
            handle, fn, args = self._queue.popleft()
            try:
                value = fn(*args)
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

    close = cancel  # (nothing else to release)


class OnDask:
    """Tasks run on the workers of ``client``; results are fetched as tasks finish."""

    def __init__(self, client):
        self.client = client
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))
        self._pending, self._variables = set(), []
        self._queue = self._new_queue()

    def _new_queue(self):
        from distributed import as_completed

        # with_results: each result arrives with its completion, not by one more round trip after it
        return as_completed(loop=self.client.loop, with_results=True, raise_errors=False)

    def submit(self, fn, *args):
        # a unique key (pure=False): Dask would run tasks with one key once and share the result
        name = getattr(fn, "__name__", "task")
        future = self.client.submit(fn, *args, key=f"chainrule-{name}-{uuid.uuid4().hex}", pure=False)
        self._pending.add(future)
        self._queue.add(future)
        return future

    def completed(self):
        for future, result in self._queue:
            self._pending.discard(future)
            if future.status == "finished":
                yield future, result, None
            elif future.status == "cancelled":  # not cancelled by us (cancel() empties the queue): the
                # scheduler went away or dropped the task. Not the task's failure: said, not stored.
                raise ClusterLostError(f"the Dask cluster dropped a task ({_reason(result)}); is the scheduler "
                                       f"at {self.client.scheduler.address} still running?")
            else:  # an error raised by the task, or the task lost (its workers killed too often, ...)
                # (Dask gives an erred task's result as sys.exc_info()'s (type, exception, traceback))
                error = result[1] if isinstance(result, tuple) and len(result) == 3 else result
                if not isinstance(error, BaseException):
                    error = RuntimeError(f"the task ended as {future.status!r}")
                yield future, None, error

    def cancel(self):
        """Cancel the tasks in flight; the executor can be used again. (A client already closed,
        its scheduler gone, has nothing left to cancel.)"""
        pending, self._pending = self._pending, set()
        for future in pending:
            with contextlib.suppress(Exception):
                future.cancel()
        self._queue = self._new_queue()

    def shared(self, value):
        """(read, publish) through a ``distributed.Variable``: a task on any worker reads the value the
        driver published last (``read()``, one round trip to the scheduler). Deleted by ``close``."""
        from distributed import Variable

        variable = Variable(f"chainrule-shared-{uuid.uuid4().hex}", client=self.client)
        variable.set(value)
        self._variables.append(variable)
        return _Shared(variable.name), variable.set

    def close(self):
        """Cancel what is still in flight and delete the shared values from the scheduler."""
        self.cancel()
        for variable in self._variables:
            with contextlib.suppress(Exception):  # (a scheduler already gone has nothing to delete)
                variable.delete()
        self._variables.clear()


class _Box:
    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value

    def set(self, value):
        self.value = value


class _Shared:
    """Read on a worker: the named Variable's value (the worker's own client reaches the scheduler).
    A read that fails (the driver gone, the Variable deleted) raises; after 3 in a row every later
    read by this task raises at once: a missing Variable would otherwise make each wait its timeout."""

    TIMEOUT = 1.0  # seconds; a Variable that exists answers in milliseconds
    GIVE_UP = 3  # reads failed in a row (one slow read on a busy worker is not a gone value)

    def __init__(self, name):
        self.name, self.failed = name, 0

    def __call__(self):
        from distributed import Variable, get_client

        if self.failed >= self.GIVE_UP:
            raise LookupError(f"shared value {self.name} is gone")
        try:
            value = _lists(Variable(self.name, client=get_client()).get(timeout=self.TIMEOUT))
        except Exception:
            self.failed += 1
            raise
        self.failed = 0
        return value


def _reason(result):
    error = result[1] if isinstance(result, tuple) and len(result) == 3 else result
    return " ".join(f"{type(error).__name__}: {error}".split())[:200] if isinstance(error, BaseException) \
        else "task cancelled"


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
        executor = OnDask(client)
        try:
            yield executor
        finally:
            executor.close()
    else:
        from .cluster import client_for

        with client_for(scheduler, workers, blas_threads) as opened:
            executor = OnDask(opened)
            try:
                yield executor
            finally:
                executor.close()


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
            if handle not in index:  # (a task of an earlier, cancelled use of the executor)
                continue
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
