"""The --scheduler path on a separately started `dask scheduler` and two `dask worker` processes on
127.0.0.1, and a worker SIGKILLed mid-sweep: Dask reruns its task, every result is stored once."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chainrule.sweep import run

from .conftest import tiny

SRC = str(Path(__file__).resolve().parents[2] / "src")
DASK = [sys.executable, "-m", "distributed.cli.dask_{}"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def scheduler():
    """tcp://127.0.0.1:PORT of a scheduler with two single-threaded worker processes (each under a
    nanny, which restarts a killed worker)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": SRC}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [subprocess.Popen([*DASK[:-1], DASK[-1].format("scheduler"), "--host", "127.0.0.1", "--port",
                               str(port), "--no-dashboard"], **quiet)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([*DASK[:-1], DASK[-1].format("worker"), address, "--nthreads", "1",
                                           "--host", "127.0.0.1", "--no-dashboard"], **quiet))
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def spec(epochs):
    base = tiny(epochs=epochs, val_fraction=0.25)
    base["data"]["options"]["n"] = 200
    return {"base": base, "seeds": 2, "metric": "val_loss",
            "space": {"optimizer.learning_rate": {"low": 0.001, "high": 0.1, "log": True, "num": 5},
                      "model.hidden": [[6], [10]]}}


def test_sweep_through_an_existing_scheduler(scheduler, tmp_path):
    results = run(spec(epochs=3), out=tmp_path / "s", scheduler=scheduler, verbose=False)
    keys = [r["key"] for r in results.rows]
    assert len(keys) == 20 and len(set(keys)) == 20 and {r["status"] for r in results.rows} == {"ok"}


def test_a_worker_killed_mid_sweep_loses_nothing(scheduler, tmp_path):
    from distributed import Client

    out = tmp_path / "s"
    killed = []

    def kill_a_busy_worker():
        with Client(scheduler, timeout="10s") as c:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = [w for w, tasks in c.processing().items() if tasks]
                if busy and _stored(out) >= 2:
                    pids = c.run(os.getpid, workers=busy[:1])
                    pid = next(iter(pids.values()))
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    results = run(spec(epochs=100), out=out, scheduler=scheduler, verbose=False)
    killer.join()
    assert killed, "no worker was killed: the sweep ended before the killer saw a busy worker"
    keys = [r["key"] for r in results.rows]
    assert len(keys) == 20 and len(set(keys)) == 20  # every (configuration, seed) exactly once
    assert {r["status"] for r in results.rows} == {"ok"}  # the lost task ran again elsewhere


def _stored(folder):
    try:
        with sqlite3.connect(folder / "results.sqlite", timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_workers_without_chainrule_are_named_at_once(tmp_path):
    """A scheduler whose worker runs where chainrule is not importable: one ConfigError before any trial."""
    from chainrule.errors import ConfigError
    from chainrule.sweep.cluster import client_for

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    (blocker / "chainrule.py").write_text("raise ImportError('chainrule is not installed here')\n")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    # the worker's PYTHONPATH puts a chainrule that cannot be imported first
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    procs = [subprocess.Popen([*DASK[:-1], DASK[-1].format("scheduler"), "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env={**os.environ, "PYTHONPATH": SRC}, **quiet)]
    try:
        procs.append(subprocess.Popen([*DASK[:-1], DASK[-1].format("worker"), address, "--nthreads", "1", "--host",
                                       "127.0.0.1", "--no-dashboard"], env=env, **quiet))
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(1, timeout=60)
        with pytest.raises(ConfigError, match="cannot import chainrule"):
            with client_for(scheduler=address):
                pass
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
