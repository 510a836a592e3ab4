"""Periodic tasks: declaration, collection, isolation on the shared pool."""

import logging
import threading

from futurist import periodics as futurist_periodics
import pytest

from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from tests import BACKEND

GUARD = 30


class Counter:
    def __init__(self, target):
        self.count = 0
        self.reached = threading.Event()
        self._target = target
        self._lock = threading.Lock()

    def hit(self):
        with self._lock:
            self.count += 1
            if self.count >= self._target:
                self.reached.set()


def _run_worker(pool, tasks):
    worker = futurist_periodics.PeriodicWorker(
        [(t.callable, None, None) for t in tasks],
        executor_factory=futurist_periodics.ExistingExecutor(
            pool.periodic_executor()))
    thread = threading.Thread(target=worker.start, daemon=True)
    thread.start()
    return worker, thread


def test_blocked_periodic_does_not_block_the_others():
    blocker_started = threading.Event()
    release = threading.Event()
    counters = [Counter(5) for _ in range(3)]

    class Tasks:
        @periodics.periodic(spacing=0.01, run_immediately=True)
        def blocked(self):
            blocker_started.set()
            release.wait(GUARD)

    pool = pool_mod.WorkerPool(5, backend=BACKEND)
    tasks = periodics.collect(Tasks())
    tasks += [periodics.PeriodicTask('fast%d' % i, c.hit,
                                     periodics.PeriodicSpec(0.01, True))
              for i, c in enumerate(counters)]
    worker, thread = _run_worker(pool, tasks)
    try:
        assert blocker_started.wait(GUARD)
        for counter in counters:
            assert counter.reached.wait(GUARD)
        # All the others ran five times while the blocked one still holds
        # its worker, and it never started a second, overlapping run.
        assert not release.is_set()
        assert tasks[0].statistics().running
        assert tasks[0].runs == 0
    finally:
        release.set()
        worker.stop()
        worker.wait(GUARD)
        pool.shutdown(GUARD)


def test_callable_spacing_is_resolved_at_collection_not_import():
    settings = {'interval': None}

    class Driver:
        @periodics.periodic(spacing=lambda: settings['interval'])
        def poll(self):
            pass

    # Declaring the class did not resolve anything (interval is None).
    settings['interval'] = 42
    [task] = periodics.collect(Driver(), prefix='drv')
    assert task.name == 'drv.poll'
    assert task.spacing == 42
    assert task.callable._periodic_spacing == 42

    settings['interval'] = 7
    assert task.refresh() is True
    assert task.rescheduled()._periodic_spacing == 7
    assert task.refresh() is False


def test_bad_spacing_names_the_task():
    class Driver:
        @periodics.periodic(spacing=lambda: 0)
        def poll(self):
            pass

    with pytest.raises(ValueError, match='Driver.poll: spacing must be'):
        periodics.collect(Driver())


def test_collect_finds_plain_futurist_periodics_and_skips_disabled():
    class Mixed:
        @futurist_periodics.periodic(5)
        def futurist_style(self):
            return 'f'

        @periodics.periodic(spacing=3, enabled=lambda: False)
        def disabled(self):
            pass

        def not_periodic(self):
            pass

    tasks = periodics.collect(Mixed())
    assert [t.name for t in tasks] == ['Mixed.futurist_style']
    assert tasks[0].spacing == 5
    assert tasks[0].callable() == 'f'


def test_deprecated_decorator_runs_and_warns_once(caplog, monkeypatch):
    monkeypatch.setattr(periodics, '_deprecation_logged', False)
    caplog.set_level(logging.WARNING, logger=periodics.__name__)

    class OldDriver:
        ran = []

        @periodics.driver_periodic_task(spacing=10, parallel=False)
        def old_one(self):
            self.ran.append(1)

        @periodics.driver_periodic_task(spacing=20)
        def old_two(self):
            pass

    tasks = {t.name: t for t in periodics.collect(OldDriver())}
    assert tasks['OldDriver.old_one'].spacing == 10
    assert tasks['OldDriver.old_two'].spacing == 20
    tasks['OldDriver.old_one'].callable()
    assert OldDriver.ran == [1]
    warnings = [r for r in caplog.records if 'deprecated' in r.getMessage()]
    assert len(warnings) == 1


def test_task_statistics_count_failures():
    def fails():
        raise RuntimeError('bmc down')

    task = periodics.PeriodicTask('t', fails, periodics.PeriodicSpec(1))
    with pytest.raises(RuntimeError):
        task.callable()
    stats = task.statistics()
    assert stats.runs == 1 and stats.failures == 1
    assert stats.last_error == 'RuntimeError: bmc down'


def test_task_never_overlaps_itself():
    inside = threading.Event()
    release = threading.Event()

    def slow():
        inside.set()
        release.wait(GUARD)

    task = periodics.PeriodicTask('slow', slow, periodics.PeriodicSpec(1))
    first = threading.Thread(target=task.callable)
    first.start()
    assert inside.wait(GUARD)
    task.callable()  # a second run while the first is going: skipped
    release.set()
    first.join(GUARD)
    assert task.statistics().skipped == 1
    assert task.statistics().runs == 1


def test_fan_out_nodes_uses_tighter_bound_and_keeps_failures():
    pool = pool_mod.WorkerPool(6, backend=BACKEND)
    lock = threading.Lock()
    state = {'now': 0, 'peak': 0}

    def poll(node):
        with lock:
            state['now'] += 1
            state['peak'] = max(state['peak'], state['now'])
        with lock:
            state['now'] -= 1
        if node == 'bad':
            raise OSError('timeout')
        return node

    results = periodics.fan_out_nodes(pool, poll, ['a', 'bad', 'c', 'd'],
                                      max_workers=4, limit=2)
    assert results[0] == 'a' and isinstance(results[1], OSError)
    assert state['peak'] <= 2
    pool.shutdown(GUARD)
