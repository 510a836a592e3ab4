"""The private parts of futurist, eventlet, oslo.messaging and urllib3 the
engine relies on.

Each is used on purpose, with a NOTE where it is used (the list is in
doc/source/contributor/architecture.rst). If a library changes one,
these tests fail with a message saying what to revisit, instead of the engine
silently getting slower or nameless.
"""

import inspect
import threading

from futurist import periodics as futurist_periodics
import pytest

from decision_engine.collector import notifications
from decision_engine.common import http_pool
from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from decision_engine import reports
from tests import BACKEND

GUARD = 30


def test_the_pool_submits_through_the_public_hook():
    # WorkerPool hands tasks to futurist's public submit(), with its
    # check_and_reject hook refusing a backlog (no private _submit()).
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    try:
        assert pool.submit(lambda: 'done').result(GUARD) == 'done'
        assert pool._executor.statistics.executed == 1
    finally:
        pool.shutdown(timeout=GUARD)


def test_the_executor_refuses_a_backlog_past_the_pool_size():
    # Past the pool's own admission (which never lets it happen), the
    # executor's check_and_reject refuses work that would wait.
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    release = threading.Event()
    running = threading.Semaphore(0)

    def hold():
        running.release()
        release.wait(GUARD)
    try:
        for _ in range(3):
            pool.submit(hold)
        for _ in range(3):
            assert running.acquire(timeout=GUARD)
        with pool._lock:
            for _ in range(3):
                pool._executor.submit(release.wait, GUARD)
            with pytest.raises(pool_mod.NoFreeWorker):
                pool._executor.submit(release.wait, GUARD)
    finally:
        release.set()
        pool.shutdown(timeout=GUARD)


def test_executor_threads_are_where_the_report_reads_them():
    # reports.pool_threads() lists the pool's threads from futurist's
    # private ``_workers`` (native threads) or the GreenPool's
    # ``coroutines_running`` (eventlet): WorkerPool does not expose them.
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    release = threading.Event()
    try:
        pool.submit(release.wait, GUARD)
        if BACKEND == 'eventlet':
            running = getattr(getattr(pool._executor, '_pool', None),
                              'coroutines_running', None)
            assert running is not None and len(running) == 1, (
                'futurist GreenThreadPoolExecutor._pool or eventlet '
                'GreenPool.coroutines_running moved: fix '
                'reports.pool_threads')
        else:
            workers = getattr(pool._executor, '_workers', None)
            assert workers is not None and len(workers) == 1, (
                'futurist ThreadPoolExecutor._workers moved: fix '
                'reports.pool_threads')
            assert all(hasattr(w, 'idle') and w.name and w.ident
                       for w in workers)
        assert len(reports.pool_threads(pool)) == 1
    finally:
        release.set()
        pool.shutdown(timeout=GUARD)


def test_rabbit_driver_logs_where_the_listener_watches():
    # The notification listener learns of a lost and regained broker
    # connection from the log records of oslo.messaging's private
    # RabbitMQ driver module (no public event): its logger name and the
    # messages _ConnectionWatch matches must stay.
    from oslo_messaging._drivers import impl_rabbit
    assert impl_rabbit.LOG.name == notifications.RABBIT_LOGGER, (
        'oslo.messaging renamed its RabbitMQ driver logger: fix '
        'notifications.RABBIT_LOGGER')
    source = inspect.getsource(impl_rabbit)
    assert 'Reconnected to AMQP server' in source, (
        'oslo.messaging no longer logs "Reconnected to AMQP server": fix '
        'notifications._ConnectionWatch')
    assert 'is unreachable' in source


def test_urllib3_logs_a_full_pool_where_the_http_pool_filters_it():
    # The HTTP pool drops, for its own requests only, urllib3's warning
    # about a connection closed because its pool keeps enough (the
    # per-host bound working as documented): its logger and the start of
    # its message must stay.
    from urllib3 import connectionpool
    assert connectionpool.log.name == 'urllib3.connectionpool', (
        'urllib3 renamed its connection pool logger: fix the logger '
        'http_pool filters')
    assert http_pool._FULL_POOL_MESSAGE in inspect.getsource(
        connectionpool), ('urllib3 words its "Connection pool is full" '
                          'warning differently: fix '
                          'http_pool._FULL_POOL_MESSAGE')


def test_urllib3_makes_pools_and_connections_from_the_hooked_classes():
    # The HTTP pool learns of each connect, request, answer and close
    # through its subclasses of urllib3's connection classes, installed
    # with PoolManager's pool_classes_by_scheme and the pools'
    # ConnectionCls; urllib3 must keep creating them from those.
    from urllib3 import connectionpool
    from urllib3 import poolmanager
    assert 'self.pool_classes_by_scheme[' in inspect.getsource(
        poolmanager.PoolManager), (
        'urllib3 no longer picks pool classes from pool_classes_by_scheme: '
        'fix http_pool.HttpPool')
    assert 'self.ConnectionCls(' in inspect.getsource(
        connectionpool.HTTPConnectionPool), (
        'urllib3 no longer makes connections from ConnectionCls: fix '
        'http_pool.HttpPool')


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
