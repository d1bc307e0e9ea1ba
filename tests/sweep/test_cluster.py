"""The local cluster's worker processes: one BLAS thread each by default, the BLAS's own count on request."""

import os

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads(client):
    """{worker: [threads of each BLAS it loaded]}, as threadpoolctl sees them inside the worker."""
    return {w: [i["num_threads"] for i in infos if i["user_api"] == "blas"]
            for w, infos in client.run(threadpoolctl.threadpool_info).items()}


def test_workers_run_one_blas_thread_by_default(client):
    seen = blas_threads(client)
    assert len(seen) == 2 and all(threads and set(threads) == {1} for threads in seen.values()), seen


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the BLAS default is one thread too")
def test_blas_threads_none_gives_one_per_core():
    from chainrule.sweep.cluster import client_for

    before = os.environ.get("OPENBLAS_NUM_THREADS")
    with client_for(workers=1, blas_threads=None) as own:
        seen = blas_threads(own)
    assert all(set(threads) == {os.cpu_count()} for threads in seen.values()), seen
    assert os.environ.get("OPENBLAS_NUM_THREADS") == before  # this process's environment is left as it was
