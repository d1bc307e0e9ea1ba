"""The local cluster's Dask settings (cluster.WORKER_CONFIG) as the worker processes see them: set in
the driver around the cluster's start, they must reach each worker process, and take effect there."""

import os

import pytest


def test_workers_run_without_the_statistical_profiler(client):
    import dask

    settings = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert len(settings) == 2 and set(settings.values()) == {False}, settings
    # the setting's effect: no periodic callback samples the task thread's stack
    running = client.run(lambda dask_worker: sorted(dask_worker.periodic_callbacks))
    assert all("profile" not in names and "profile-cycle" not in names for names in running.values()), running


def test_workers_tick_and_monitor_at_chainrules_intervals(client):
    # the callbacks' periods in ms, as each worker's event loop runs them (Dask's defaults: 20 and 500)
    periods = client.run(lambda dask_worker: (dask_worker.periodic_callbacks["tick"].callback_time,
                                              dask_worker.periodic_callbacks["monitor"].callback_time,
                                              dask_worker.monitor.monitor_disk_io))
    assert len(periods) == 2 and set(periods.values()) == {(200, 2000, False)}, periods


def test_the_scheduler_ticks_at_chainrules_interval_too(client):
    period = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.periodic_callbacks["tick"].callback_time)
    assert period == 200


@pytest.mark.skipif("MALLOC_TRIM_THRESHOLD_" in os.environ, reason="the user's own setting goes to the workers")
def test_workers_keep_the_adaptive_malloc_threshold(client):
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in every worker's environment by default (and in the
    # spawning process's own os.environ, where a later cluster would pick it up again)
    seen = client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
    assert len(seen) == 2 and set(seen.values()) == {None}, seen
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ


def test_the_settings_do_not_outlive_the_cluster():
    import dask

    from chainrule.sweep.cluster import client_for

    with client_for(workers=1) as c:
        assert c.run(lambda: dask.config.get("distributed.worker.profile.enabled")) == {
            next(iter(c.scheduler_info()["workers"])): False}
    assert dask.config.get("distributed.worker.profile.enabled") is True  # Dask's default, back in the driver
    assert dask.config.get("distributed.nanny.pre-spawn-environ").get("MALLOC_TRIM_THRESHOLD_") is not None
