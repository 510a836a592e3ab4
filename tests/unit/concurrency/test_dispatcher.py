"""The shared dispatcher's contract (decision_engine/concurrency/
dispatcher.py): pump and timers feed a backlog, the full pool's refusals
stay first, a task of ours that ends or the retry delay offers them
again, stop keeps the work.

No sleep synchronizes anything here: every wait is on an Event or a
Condition, bounded by GUARD only so a broken dispatcher fails the test
instead of hanging the run.
"""

import logging
import threading

import pytest

from decision_engine.concurrency import dispatcher as dispatcher_mod
from decision_engine.concurrency import pool as pool_mod
from tests import BACKEND

# Guards against a hang; never a pass/fail threshold.
GUARD = 30
#: a retry delay no test waits for: a task that runs anyway was offered
#: again by something else (the end of a task of ours, wake()).
NEVER = 3600


@pytest.fixture
def pool():
    p = pool_mod.WorkerPool(3, backend=BACKEND)
    yield p
    p.shutdown(timeout=GUARD)


class SeenPool:
    """The real pool as the dispatcher sees it: every offer recorded in
    order (with the offering thread), every refusal counted; ``full``
    refuses everything as a full pool would."""

    def __init__(self, pool):
        self.pool = pool
        self.size = pool.size
        self.full = False
        self.accepted = []
        self.refusals = 0
        self.submitters = set()
        self.cond = threading.Condition()

    def submit(self, fn):
        with self.cond:
            self.submitters.add(threading.current_thread().name)
            try:
                if self.full:
                    raise pool_mod.NoFreeWorker(self.pool.statistics(),
                                                pool_mod.DEFAULT_LANE,
                                                self.pool.size)
                future = self.pool.submit(fn)
            except pool_mod.NoFreeWorker:
                self.refusals += 1
                self.cond.notify_all()
                raise
            self.accepted.append(fn)
            self.cond.notify_all()
            return future

    def wait_for(self, predicate):
        with self.cond:
            assert self.cond.wait_for(predicate, GUARD)


class Tasks:
    """Named tasks that record their start and may block on a gate."""

    def __init__(self):
        self.started = []
        self.threads = {}
        self.cond = threading.Condition()
        self.gates = {}

    def make(self, name, gated=False):
        if gated:
            self.gates[name] = threading.Event()

        def task():
            with self.cond:
                self.started.append(name)
                self.threads[name] = threading.current_thread().name
                self.cond.notify_all()
            if gated:
                assert self.gates[name].wait(GUARD)
        task.__name__ = name
        return task

    def wait_started(self, *names):
        with self.cond:
            assert self.cond.wait_for(
                lambda: set(names) <= set(self.started), GUARD), \
                (names, self.started)


class Pump:
    """A pump the test feeds: each call hands out what was given since
    the last one, and counts the calls."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = []
        self.calls = 0

    def give(self, *fns):
        with self.cond:
            self.items.extend(fns)

    def __call__(self):
        with self.cond:
            items, self.items = self.items, []
            self.calls += 1
            self.cond.notify_all()
            return items

    def wait_calls(self, count):
        with self.cond:
            assert self.cond.wait_for(lambda: self.calls >= count, GUARD)


@pytest.fixture
def make():
    started = []

    def make(pool, pump, **kwargs):
        d = dispatcher_mod.Dispatcher(pool, pump, name='test-dispatcher',
                                      **kwargs)
        started.append(d)
        d.start()
        return d
    yield make
    for d in started:
        d.stop(GUARD)


def test_pump_work_runs_on_the_pool_offered_by_the_thread(pool, make):
    seen, tasks, pump = SeenPool(pool), Tasks(), Pump()
    pump.give(tasks.make('a'), tasks.make('b'), tasks.make('c'))
    make(seen, pump)
    tasks.wait_started('a', 'b', 'c')
    assert [fn.__name__ for fn in seen.accepted] == ['a', 'b', 'c']
    # offered by the dispatcher's own thread, run by pool workers
    assert seen.submitters == {'test-dispatcher'}
    assert 'test-dispatcher' not in tasks.threads.values()


def test_wake_calls_the_pump_again(pool, make):
    tasks, pump = Tasks(), Pump()
    d = make(pool, pump)
    pump.wait_calls(1)
    pump.give(tasks.make('later'))
    d.wake()
    tasks.wait_started('later')


def test_a_refused_task_stays_first_and_runs_when_a_task_of_ours_ends(
        pool, make):
    seen, tasks, pump = SeenPool(pool), Tasks(), Pump()
    pump.give(*[tasks.make(name, gated=True) for name in ('g1', 'g2', 'g3')],
              tasks.make('next'), tasks.make('last'))
    d = make(seen, pump, retry_delay=NEVER)
    tasks.wait_started('g1', 'g2', 'g3')
    seen.wait_for(lambda: seen.refusals >= 1)
    assert d.pending() == 2     # 'next' (first, or being offered), 'last'
    assert 'next' not in tasks.started
    # One of our tasks ends: its worker is offered to the backlog's first,
    # then the next end (of 'next') to 'last'; no retry delay involved.
    tasks.gates['g1'].set()
    tasks.wait_started('next', 'last')
    assert tasks.started.index('next') < tasks.started.index('last')
    tasks.gates['g2'].set()
    tasks.gates['g3'].set()
    d.stop(GUARD)
    assert d.pending() == 0
    assert d.refused >= 1


def test_a_worker_freed_by_someone_else_is_taken_after_the_retry_delay(
        pool, make):
    seen, tasks, pump = SeenPool(pool), Tasks(), Pump()
    release = threading.Event()
    others = [pool.submit(release.wait, GUARD) for _ in range(pool.size)]
    pump.give(tasks.make('mine'))
    d = make(seen, pump, retry_delay=0.01)
    seen.wait_for(lambda: seen.refusals >= 1)
    # Their end does not wake the dispatcher: only its retry does.
    release.set()
    tasks.wait_started('mine')
    pool.wait_all(others, timeout=GUARD)
    d.stop(GUARD)
    assert d.refused >= 1


def test_call_later_runs_when_due_in_order_and_later_ones_wait(pool, make):
    seen, tasks, pump = SeenPool(pool), Tasks(), Pump()
    d = make(seen, pump)
    d.call_later(NEVER, tasks.make('never'))
    d.call_later(0, tasks.make('first'))
    d.call_later(0, tasks.make('second'))
    d.call_later(0.01, tasks.make('soon'))
    tasks.wait_started('first', 'second', 'soon')
    names = [fn.__name__ for fn in seen.accepted]
    assert names.index('first') < names.index('second')
    d.stop(GUARD)
    assert 'never' not in tasks.started
    assert d.pending() == 1


def test_a_failing_pump_is_logged_and_dispatching_goes_on(
        pool, make, caplog):
    tasks = Tasks()
    failed = threading.Event()
    calls = []

    def pump():
        calls.append(1)
        if len(calls) == 1:
            failed.set()
            raise RuntimeError('broken pump')
        return [tasks.make('after')] if len(calls) == 2 else []

    with caplog.at_level(logging.ERROR, logger=dispatcher_mod.__name__):
        d = make(pool, pump)
        assert failed.wait(GUARD)
        d.wake()
        tasks.wait_started('after')
    assert any('broken pump' in (r.exc_text or '') and
               'test-dispatcher' in r.getMessage()
               for r in caplog.records)


def test_idle_wake_calls_the_pump_without_an_event(pool, make):
    pump = Pump()
    make(pool, pump, idle_wake=0.01)
    pump.wait_calls(3)


def test_stop_keeps_the_backlog_and_timers_for_the_next_start(pool, make):
    seen, tasks, pump = SeenPool(pool), Tasks(), Pump()
    seen.full = True
    pump.give(tasks.make('kept'))
    d = make(seen, pump, retry_delay=NEVER)
    d.call_later(NEVER, tasks.make('timer'))
    seen.wait_for(lambda: seen.refusals >= 1)
    d.stop(GUARD)
    assert d.pending() == 2
    seen.full = False
    d.start()
    tasks.wait_started('kept')
    d.stop(GUARD)
    assert d.pending() == 1     # the timer, not due


def test_a_pool_shut_down_ends_the_dispatching_and_keeps_the_work(make):
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    pool.shutdown(timeout=GUARD)
    pump = Pump()
    pump.give(lambda: None)
    d = make(pool, pump)
    # The thread ends by itself: stop() has nothing left to wait for.
    d._thread.join(GUARD)
    assert not d._thread.is_alive()
    assert d.pending() == 1
    assert d.refused == 0
