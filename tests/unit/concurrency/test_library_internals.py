"""The private parts of futurist the concurrency layer relies on.

Each is used on purpose, with a NOTE where it is used (the list is in
doc/source/contributor/architecture.rst). If futurist changes one, these
tests fail with a message saying what to revisit, instead of the engine
silently getting slower or nameless.
"""

import threading

import futurist
from futurist import periodics as futurist_periodics

from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from tests import BACKEND

GUARD = 30


def _executor_class():
    return (futurist.GreenThreadPoolExecutor if BACKEND == 'eventlet'
            else futurist.ThreadPoolExecutor)


def test_executor_submit_without_statistics_is_there():
    # WorkerPool hands tasks to futurist's _submit(), which skips the
    # per-task statistics its public submit() keeps.
    executor = _executor_class()(1)
    try:
        assert callable(getattr(executor, '_submit', None)), (
            'futurist executors lost _submit(): WorkerPool binds it at '
            'construction; move it to submit() and re-measure '
            'benchmarks/pool.py')
        assert executor._submit(lambda x: x * 2, 21).result(GUARD) == 42
        assert executor.statistics.executed == 0, (
            'futurist _submit() now keeps statistics: the pool pays twice')
        assert executor.submit(lambda: 1).result(GUARD) == 1
    finally:
        executor.shutdown()


def test_the_pool_uses_that_seam():
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    try:
        assert pool._executor_submit == pool._executor._submit
        assert pool.submit(lambda: 'done').result(GUARD) == 'done'
        assert pool._executor.statistics.executed == 0
    finally:
        pool.shutdown(timeout=GUARD)


def test_periodic_work_items_carry_their_name():
    # WorkerPool.running_tasks() names a periodic run by the Work that
    # futurist's PeriodicWorker submits (its name and callback fields).
    assert {'name', 'callback'} <= set(futurist_periodics.Work._fields), (
        'futurist.periodics.Work changed shape: fix pool._name_of')
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    started, release = threading.Event(), threading.Event()

    @futurist_periodics.periodic(3600, run_immediately=True)
    def blocking():
        started.set()
        release.wait(GUARD)

    worker = futurist_periodics.PeriodicWorker(
        [(blocking, None, None)],
        executor_factory=futurist_periodics.ExistingExecutor(
            pool.periodic_executor()))
    thread = threading.Thread(target=worker.start, daemon=True)
    thread.start()
    try:
        assert started.wait(GUARD)
        [(name, _)] = pool.running_tasks()
        assert name.endswith('blocking'), name
    finally:
        release.set()
        worker.stop()
        worker.wait()
        thread.join(GUARD)
        pool.shutdown(timeout=GUARD)


def test_futurist_decorated_methods_are_collected_with_their_spacing():
    # collect() reads the attributes futurist's decorator sets, so that a
    # method decorated with futurist's own periodic is run like ours.
    class Owner:
        @futurist_periodics.periodic(42, run_immediately=True)
        def tick(self):
            pass

    func = Owner.tick
    for attr in ('_periodic_spacing', '_periodic_run_immediately',
                 '_is_periodic'):
        assert hasattr(func, attr), (
            'futurist.periodics.periodic no longer sets %s: fix '
            'periodics.collect' % attr)
    [task] = periodics.collect(Owner(), prefix='owner')
    assert task.spacing == 42 and task.spec.run_immediately
