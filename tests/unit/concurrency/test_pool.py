"""The worker pool's contract: bounds, helpers, errors, nested waits."""

import logging
import threading
import traceback

from futurist import periodics as futurist_periodics
import pytest

from decision_engine.concurrency import pool as pool_mod
from tests import BACKEND

# Guards against a hang turning into a stuck test run; never a pass/fail
# threshold: every wait below is expected to end long before it.
GUARD = 30


@pytest.fixture
def pool():
    p = pool_mod.WorkerPool(4, backend=BACKEND, reserved=1,
                            default_fan_out=2)
    yield p
    p.shutdown(timeout=GUARD)


class Gate:
    """Tasks that block until released, and tell when they have started."""

    def __init__(self):
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.started = 0

    def task(self, value=None):
        with self._cond:
            self.started += 1
            self._cond.notify_all()
        assert self.release.wait(GUARD)
        return value

    def wait_started(self, count):
        with self._cond:
            assert self._cond.wait_for(lambda: self.started >= count, GUARD)


def _boom(message):
    raise ValueError(message)


def test_submit_returns_result(pool):
    assert pool.submit(lambda a, b: a + b, 2, b=3).result(GUARD) == 5


def test_exception_keeps_original_traceback(pool):
    fut = pool.submit(_boom, 'bad node')
    with pytest.raises(ValueError, match='bad node') as info:
        pool.wait_all([fut], timeout=GUARD)
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert '_boom' in frames


def test_wait_all_keeps_submission_order(pool):
    gates = [threading.Event() for _ in range(3)]
    futs = [pool.submit(lambda i=i: (gates[i].wait(GUARD), i)[1])
            for i in range(3)]
    for gate in reversed(gates):  # complete in reverse order
        gate.set()
    assert pool.wait_all(futs, timeout=GUARD) == [0, 1, 2]


def test_wait_all_deadline(pool):
    gate = Gate()
    futs = [pool.submit(gate.task) for _ in range(2)]
    with pytest.raises(pool_mod.PoolTimeout, match='2 still pending'):
        pool.wait_all(futs, timeout=0.05)
    gate.release.set()
    assert pool.wait_all(futs, timeout=GUARD) == [None, None]


def test_full_pool_rejects_with_numbers_then_recovers(pool):
    gate, last_gate = Gate(), Gate()
    futs = [pool.submit(gate.task, i) for i in range(3)]
    last = pool.submit(last_gate.task, 'last')
    gate.wait_started(3)
    last_gate.wait_started(1)
    with pytest.raises(pool_mod.NoFreeWorker) as info:
        pool.submit(lambda: None)
    message = str(info.value)
    assert '4 workers taken, default work may use at most 4' in message
    assert 'pool size 4' in message
    assert info.value.stats.busy == 4
    assert pool.statistics().rejected == 1

    # Free exactly one worker: the next submission is accepted at once.
    last_gate.release.set()
    assert last.result(GUARD) == 'last'
    assert pool.submit(lambda: 'again').result(GUARD) == 'again'
    gate.release.set()
    pool.wait_all(futs, timeout=GUARD)
    assert pool.statistics().free == 4


def test_slot_is_free_when_future_completes():
    p = pool_mod.WorkerPool(3, backend=BACKEND)
    gate = Gate()
    blockers = [p.submit(gate.task) for _ in range(2)]
    gate.wait_started(2)
    last = p.submit(lambda: 'done')
    assert last.result(GUARD) == 'done'
    # The future is done, so its slot must already be back: no race window.
    assert p.submit(lambda: 'next').result(GUARD) == 'next'
    gate.release.set()
    p.wait_all(blockers, timeout=GUARD)
    p.shutdown(GUARD)


def test_periodic_lane_leaves_reserved_workers(pool):
    gate = Gate()
    periodic = pool.periodic_executor()
    futs = [periodic.submit(gate.task) for _ in range(3)]
    gate.wait_started(3)
    with pytest.raises(pool_mod.NoFreeWorker, match='periodic work'):
        periodic.submit(lambda: None)
    # Default-lane work (an audit, the API) still gets the reserved worker.
    assert pool.submit(lambda: 'audit').result(GUARD) == 'audit'
    gate.release.set()
    pool.wait_all(futs, timeout=GUARD)


def test_a_full_pool_says_what_the_lane_may_use(pool):
    # Default-lane work holds all 4 workers, more than the periodic lane's
    # 3: the refusal counts what is taken and what the lane may use apart.
    gate = Gate()
    futs = [pool.submit(gate.task) for _ in range(4)]
    gate.wait_started(4)
    with pytest.raises(pool_mod.NoFreeWorker,
                       match='4 workers taken, periodic work may use at '
                             'most 3 '):
        pool.periodic_executor().submit(lambda: None)
    gate.release.set()
    pool.wait_all(futs, timeout=GUARD)


class _Refusals(logging.Handler):
    """Counts futurist's "Failed to submit immediate callback" errors."""

    def __init__(self):
        super().__init__()
        self.count = 0
        self.first = threading.Event()

    def emit(self, record):
        if 'Failed to submit immediate callback' in record.getMessage():
            self.count += 1
            self.first.set()


def test_an_immediate_periodic_on_a_full_pool_waits_not_spins(pool):
    gate = Gate()
    futs = [pool.submit(gate.task) for _ in range(4)]
    gate.wait_started(4)
    ran = threading.Event()

    @futurist_periodics.periodic(3600, run_immediately=True)
    def task():
        ran.set()

    worker = futurist_periodics.PeriodicWorker(
        [(task, (), {})], executor_factory=futurist_periodics.ExistingExecutor(
            pool.periodic_executor()))
    refusals = _Refusals()
    logger = logging.getLogger('futurist.periodics')
    logger.addHandler(refusals)
    thread = threading.Thread(target=worker.start, daemon=True)
    thread.start()
    try:
        assert refusals.first.wait(GUARD)
        gate.release.set()
        assert ran.wait(GUARD)
    finally:
        worker.stop()
        thread.join(GUARD)
        logger.removeHandler(refusals)
    pool.wait_all(futs, timeout=GUARD)
    # futurist retries a refused immediate run at once: without the lane's
    # wait for a free worker it logged (and spun) until the release.
    assert refusals.count <= 2


def test_lane_is_inherited_by_nested_work(pool):
    lanes = []

    def child():
        lanes.append(pool._local.lane)

    def parent():
        pool.wait_all([pool.submit(child)], timeout=GUARD)

    pool.periodic_executor().submit(parent).result(GUARD)
    assert lanes == [pool_mod.PERIODIC_LANE]


def test_for_each_completed_chains_without_barrier(pool):
    """Each step-1 result is chained into its step 2 as it completes."""
    order = []
    slow_gate = threading.Event()

    def step1(name):
        if name == 'slow':
            assert slow_gate.wait(GUARD)
        return name

    def step2(name):
        order.append('step2:' + name)
        if name == 'fast':
            # step 2 of the fast item ran while step 1 of the slow one
            # had not finished: no barrier between the steps.
            slow_gate.set()
        return name.upper()

    results = []

    def on_done(fut):
        value = fut.result()
        if value.isupper():
            results.append(value)
            return None
        return [pool.submit(step2, value)]

    handled = pool.for_each_completed(
        [pool.submit(step1, 'slow'), pool.submit(step1, 'fast')], on_done,
        timeout=GUARD)
    assert handled == 4
    assert order == ['step2:fast', 'step2:slow']
    assert sorted(results) == ['FAST', 'SLOW']


def test_for_each_completed_callback_error_propagates(pool):
    futs = [pool.submit(lambda: 1)]
    with pytest.raises(KeyError):
        pool.for_each_completed(futs, lambda f: {}['missing'], timeout=GUARD)


def test_for_each_completed_deadline(pool):
    gate = Gate()
    with pytest.raises(pool_mod.PoolTimeout):
        pool.for_each_completed([pool.submit(gate.task)], lambda f: None,
                                timeout=0.05)
    gate.release.set()


def test_fan_out_bounds_concurrency_and_keeps_order(pool):
    lock = threading.Lock()
    state = {'now': 0, 'peak': 0}

    def work(i):
        with lock:
            state['now'] += 1
            state['peak'] = max(state['peak'], state['now'])
        try:
            return i * i
        finally:
            with lock:
                state['now'] -= 1

    assert pool.fan_out(work, range(50), max_workers=2,
                        timeout=GUARD) == [i * i for i in range(50)]
    assert 1 <= state['peak'] <= 2


def test_fan_out_stops_submitting_after_failure(pool):
    seen = []

    def work(i):
        seen.append(i)
        if i == 0:
            raise RuntimeError('node 0 failed')
        return i

    with pytest.raises(RuntimeError, match='node 0 failed'):
        pool.fan_out(work, iter(range(100)), max_workers=1, timeout=GUARD)
    assert seen == [0]


def test_fan_out_return_exceptions(pool):
    results = pool.fan_out(
        lambda i: _boom('n%d' % i) if i % 2 else i, range(4),
        max_workers=2, return_exceptions=True, timeout=GUARD)
    assert results[0] == 0 and results[2] == 2
    assert isinstance(results[1], ValueError) and str(results[3]) == 'n3'


def test_fan_out_deadline_skips_unsubmitted_items(pool):
    gate = Gate()
    calls = []

    def work(i):
        calls.append(i)
        return gate.task(i)

    with pytest.raises(pool_mod.PoolTimeout):
        pool.fan_out(work, range(10), max_workers=2, timeout=0.05)
    gate.release.set()
    # NOTE: the items submitted before the deadline finish (one or two:
    # how many got in within 0.05 s depends on the machine's load); no
    # item after them is ever started, though the pool is free again.
    pool.shutdown(timeout=GUARD)
    assert 1 <= len(calls) <= 2
    assert sorted(calls) == list(range(len(calls)))


def test_fan_out_from_outside_progresses_when_pool_is_full(pool):
    gate = Gate()
    blockers = [pool.submit(gate.task) for _ in range(4)]
    gate.wait_started(4)
    assert pool.fan_out(lambda i: i + 1, range(3), timeout=GUARD) == [1, 2, 3]
    assert pool.statistics().caller_ran == 3
    gate.release.set()
    pool.wait_all(blockers, timeout=GUARD)


@pytest.mark.parametrize('size', [3, 4])
def test_nested_waits_complete_at_small_sizes(size):
    """Every worker waits on work it submitted to the same, full pool."""
    p = pool_mod.WorkerPool(size, backend=BACKEND)
    all_parents_running = threading.Barrier(size, timeout=GUARD)

    def leaf(i):
        return i

    def child(i):
        return sum(p.wait_all([p.submit(leaf, i), p.submit(leaf, i)],
                              timeout=GUARD))

    def parent(n):
        all_parents_running.wait()  # the pool is full from here on
        return sum(p.fan_out(child, range(n), max_workers=3, timeout=GUARD))

    futs = [p.submit(parent, 5) for _ in range(size)]
    assert p.wait_all(futs, timeout=GUARD) == [20] * size
    assert p.statistics().caller_ran > 0
    p.shutdown(GUARD)


def test_statistics_count_work(pool):
    pool.wait_all([pool.submit(lambda: 1)], timeout=GUARD)
    with pytest.raises(ValueError):
        pool.submit(_boom, 'x').result(GUARD)
    stats = pool.statistics()
    assert stats.executed == 2 and stats.failed == 1
    assert stats.size == 4 and stats.reserved == 1
    assert stats.busy == 0 and stats.queued == 0


def test_shutdown_refuses_new_work_and_reports_abandoned():
    p = pool_mod.WorkerPool(3, backend=BACKEND)
    gate = Gate()
    p.submit(gate.task)
    gate.wait_started(1)
    abandoned = p.shutdown(timeout=0.01)
    assert [name for name, _ in abandoned] == ['Gate.task']
    with pytest.raises(pool_mod.PoolShutDown):
        p.submit(lambda: None)
    gate.release.set()


def test_shutdown_waits_for_running_tasks():
    p = pool_mod.WorkerPool(3, backend=BACKEND)
    gate = Gate()
    fut = p.submit(gate.task, 'finished')
    gate.wait_started(1)
    threading.Timer(0.05, gate.release.set).start()
    assert p.shutdown(timeout=GUARD) == []
    assert fut.result(0) == 'finished'


def test_reserved_workers():
    assert pool_mod.reserved_workers(100, 5) == 5
    assert pool_mod.reserved_workers(3, 5) == 1
    assert pool_mod.reserved_workers(3, 0) == 0
    assert pool_mod.reserved_workers(3, 50) == 2


def test_cancelled_task_gives_its_slot_back():
    p = pool_mod.WorkerPool(3, backend=BACKEND)
    # Seam: the pool's own executor, its three threads taken by work
    # submitted around the pool, so the pool's next task is accepted (the
    # pool has free slots) but waits in the executor's queue.
    gate = Gate()
    outside = [p._executor.submit(gate.task) for _ in range(3)]
    gate.wait_started(3)
    queued = p.submit(lambda: 'never')
    assert p.statistics().queued == 1
    assert queued.cancel()
    stats = p.statistics()
    assert stats.cancelled == 1 and stats.free == 3
    gate.release.set()
    for fut in outside:
        fut.result(GUARD)
    assert p.shutdown(timeout=GUARD) == []
