"""A SIGHUP that changes a periodic's spacing replaces the periodic
worker; the manager keeps a replaced worker only until it has stopped, so
many reloads leave no pile of them."""

from unittest import mock

from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from decision_engine.conductor import manager as manager_mod
from tests.fixtures import fakes

GUARD = 30


class _Owner:
    spacing = 3600


def _manager(pool):
    manager = manager_mod.ConductorManager(fakes.make_conf())
    manager.pool = pool
    manager.tracker = mock.Mock()
    owner = _Owner()
    spec = periodics.PeriodicSpec(lambda owner: owner.spacing)
    manager.periodic_tasks = [
        periodics.PeriodicTask('test.task', lambda: None, spec, owner)]
    manager._start_periodic_worker(
        [task.callable for task in manager.periodic_tasks])
    manager._started.set()
    return manager, owner


def test_retired_workers_stay_flat_over_many_reloads():
    pool = pool_mod.WorkerPool(3)
    manager, owner = _manager(pool)
    try:
        for n in range(50):
            owner.spacing = 3600 + n + 1
            manager.reset()
            assert len(manager._retired_workers) == 1
            # NOTE: the one retired now ends its loop soon after stop();
            # waited for here so that the next reload finds it ended.
            assert manager._retired_workers[0].wait(GUARD)
        owner.spacing = 1
        manager.reset()
        assert len(manager._retired_workers) == 1
    finally:
        manager._worker.stop()
        assert manager._worker.wait(GUARD)
        pool.shutdown(timeout=GUARD)


def test_reload_without_a_spacing_change_retires_nothing():
    pool = pool_mod.WorkerPool(3)
    manager, _ = _manager(pool)
    worker = manager._worker
    try:
        for _ in range(10):
            manager.reset()
        assert manager._retired_workers == []
        assert manager._worker is worker
    finally:
        worker.stop()
        assert worker.wait(GUARD)
        pool.shutdown(timeout=GUARD)


def test_retired_worker_still_running_is_kept_for_stop():
    manager = manager_mod.ConductorManager(fakes.make_conf())
    manager.pool = mock.Mock()
    manager.tracker = mock.Mock()
    task = mock.Mock()
    task.refresh.return_value = True
    manager.periodic_tasks = [task]
    running = mock.Mock(**{'wait.return_value': False})
    ended = mock.Mock(**{'wait.return_value': True})
    manager._retired_workers = [running, ended]
    manager._worker = first = mock.Mock()
    manager._started.set()
    with mock.patch.object(manager, '_start_periodic_worker'):
        manager.reset()
    first.stop.assert_called_once_with()
    assert manager._retired_workers == [running, first]
    running.wait.assert_called_once_with(0)
