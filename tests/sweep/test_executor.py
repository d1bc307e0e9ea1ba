"""The sweep runner's executors: in this process and on Dask, one interface, the same results.

The experiments that sweep (xor's seeds, the universal-approximation width sweep, the depth
sweeps) run their tasks through it; on 2 Dask workers they must state the same numbers as in
this process, claim for claim, bit for bit.
"""

import numpy as np
import pytest

from chainrule.errors import ConfigError
from chainrule.experiments import runner
from chainrule.sweep import run
from chainrule.sweep.executor import InProcess, OnDask, executor_for, map_ordered

from .conftest import tiny


def square(x):
    return x * x


def fails_on(x, bad):
    if x == bad:
        raise ValueError(f"task {x} fails")
    return x


def test_in_process_map_keeps_order_and_runs_tasks_submitted_meanwhile():
    ex = InProcess()
    assert map_ordered(ex, square, [(k,) for k in range(7)], in_flight=2) == [k * k for k in range(7)]
    first = ex.submit(square, 3)
    seen = []
    for handle, value, _error in ex.completed():  # a task submitted during the loop is run by it
        seen.append(value)
        if handle is first:
            ex.submit(square, 4)
    assert seen == [9, 16]


def test_the_first_error_stops_the_map_and_is_raised():
    with pytest.raises(ValueError, match="task 2 fails"):
        map_ordered(InProcess(), fails_on, [(k, 2) for k in range(5)])


def test_on_dask_the_same_results_in_order_and_errors_raised(client):
    ex = OnDask(client)
    assert ex.workers == 2
    assert map_ordered(ex, square, [(k,) for k in range(9)]) == [k * k for k in range(9)]
    with pytest.raises(ValueError, match="task 3 fails"):
        map_ordered(OnDask(client), fails_on, [(k, 3) for k in range(6)])


def test_workers_zero_is_in_process_and_refuses_a_scheduler():
    with executor_for(workers=0) as ex:
        assert isinstance(ex, InProcess)
    with pytest.raises(ConfigError, match="cannot go with a Dask scheduler tcp://127.0.0.1:1"), \
            executor_for(workers=0, scheduler="tcp://127.0.0.1:1"):
        pass
    with pytest.raises(ConfigError, match="found -1"), executor_for(workers=-1):
        pass


def test_a_sweep_in_this_process_stores_what_a_sweep_on_dask_stores(client, tmp_path):
    spec = {"base": tiny(epochs=4, val_fraction=0.25), "seeds": 2, "metric": "val_loss",
            "space": {"optimizer.learning_rate": [0.01, 0.1]}}
    here = run(spec, out=tmp_path / "here", workers=0, verbose=False)
    there = run(spec, out=tmp_path / "there", client=client, verbose=False)
    key = lambda r: r["key"]  # noqa: E731
    assert [(r["key"], r["status"], r["final"]) for r in sorted(here.rows, key=key)] == \
        [(r["key"], r["status"], r["final"]) for r in sorted(there.rows, key=key)]
    assert len(here.rows) == 4 and all(r["status"] == "ok" for r in here.rows)


def test_xor_seed_chunks_give_the_losses_of_one_batch():
    from chainrule.experiments import xor

    class Ctx:  # what sweep_seeds uses of a Context: map and workers
        workers = 3

        def map(self, fn, tasks, what):
            return [fn(*t) for t in tasks]

    seeds = list(range(10))
    chunked = xor.sweep_seeds(Ctx(), (4, 2), seeds, epochs=30)
    for h in (4, 2):
        whole = xor.train_many(h, seeds, 30)[0]
        assert np.array_equal(chunked[h, xor.LEARNING_RATE], whole)  # 2 chunks of 5 seeds, then one of 10


def _quiet(*args):
    pass


def _measured(results):
    return [(c["claim"], c["measured"], c["verdict"]) for r in results for c in r["claims"]]


@pytest.mark.parametrize("name", ["xor", "universal_approximation", "vanishing", "depth_rescue"])
def test_experiments_that_sweep_state_the_same_numbers_on_dask(name, client, tmp_path):
    _, here = runner.run(name, out=tmp_path / "here", quick=True, log=_quiet)
    _, there = runner.run(name, out=tmp_path / "there", quick=True, log=_quiet, executor=OnDask(client))
    assert _measured(there) == _measured(here)
    assert all(c["verdict"] == "reproduced" for r in there for c in r["claims"])


def test_chainrule_experiment_on_two_local_workers(tmp_path):
    from .test_cli import chainrule

    here = chainrule("experiment", "vanishing", "--quick", "--out", tmp_path / "here")
    there = chainrule("experiment", "vanishing", "--quick", "--workers", "2", "--out", tmp_path / "there")
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    import json

    claims = [json.loads((tmp_path / d / "results.json").read_text())["experiments"][0]["claims"]
              for d in ("here", "there")]
    assert claims[0] == claims[1]


@pytest.mark.parametrize("args, says", [
    (["--workers", "-1"], "workers must be 0 (in this process) or a positive integer, found -1"),
    (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
])
def test_chainrule_experiment_worker_errors_are_one_line(args, says, tmp_path):
    from .test_cli import chainrule, one_line_error

    result = chainrule("experiment", "vanishing", "--quick", "--out", tmp_path / "x", *args)
    one_line_error(result)
    assert says in result.stderr
    assert not (tmp_path / "x").exists()


def read_shared(reader):
    return reader()


@pytest.mark.parametrize("where", ["in_process", "dask"])
def test_a_shared_value_published_by_the_driver_is_read_by_later_tasks(where, request):
    ex = InProcess() if where == "in_process" else OnDask(request.getfixturevalue("client"))
    read, publish = ex.shared([[1.0, 0.5]])
    assert map_ordered(ex, read_shared, [(read,)]) == [[[1.0, 0.5]]]
    publish([[1.0, 0.5], [0.9, 0.4]])
    assert map_ordered(ex, read_shared, [(read,)]) == [[[1.0, 0.5], [0.9, 0.4]]]


def read_timed(reader, n=4):
    import time

    times = []
    for _ in range(n):
        start = time.perf_counter()
        try:
            reader()
        except Exception:
            pass
        times.append(time.perf_counter() - start)
    return times


def test_on_dask_an_executor_is_usable_after_a_failed_map_and_close_deletes_its_shared_values(client):
    ex = OnDask(client)
    with pytest.raises(ValueError):
        map_ordered(ex, fails_on, [(k, 0) for k in range(6)])
    assert map_ordered(ex, square, [(k,) for k in range(4)]) == [0, 1, 4, 9]  # no stale handle from before
    read, _ = ex.shared([1.0])
    ex.close()
    import time

    def names():
        return client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.extensions["variables"].variables))

    deadline = time.monotonic() + 10  # (Variable.delete is a message to the scheduler, not waited for)
    while read.name in names() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert read.name not in names()
    *tries, last = client.submit(read_timed, read, pure=False).result()
    assert max(tries) < 3 and last < 0.05  # a gone value: three short waits, then no more waiting


def slow(x):
    import time

    time.sleep(5)
    return x


def test_a_task_the_cluster_dropped_is_said_not_stored_as_a_failure(client):
    """A task cancelled by Dask itself (its scheduler lost): one ClusterLostError, not a trial's error."""
    from chainrule.errors import ClusterLostError

    ex = OnDask(client)
    future = ex.submit(slow, 1)
    client.cancel([future])  # (as the scheduler's loss does: not through the executor)
    with pytest.raises(ClusterLostError, match="the Dask cluster dropped a task"):
        list(ex.completed())
    ex.close()


def test_a_sweep_that_fails_cancels_its_tasks(client, tmp_path, monkeypatch):
    from chainrule.sweep import models

    def disk_full(self, config_hash, trial_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(models.Keeper, "add", disk_full)
    spec = {"base": tiny(epochs=4000), "seeds": 1, "metric": "loss",  # ~1-2 s a task
            "space": {"optimizer.learning_rate": [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]}}
    with pytest.raises(OSError, match="No space left"):
        run(spec, out=tmp_path / "s", client=client, verbose=False)
    import time

    def running():  # (a finished task the exception's traceback still holds a future of is not work)
        return client.run_on_scheduler(lambda dask_scheduler: [
            ts.state for ts in dask_scheduler.tasks.values() if ts.state in ("processing", "queued", "waiting")])

    deadline = time.monotonic() + 0.5  # (the queued tasks would run for seconds if not cancelled)
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running() == []
