"""The engine's one bounded worker pool and the helpers built on it.

Every piece of parallel work in a decision-engine process runs on one
:class:`WorkerPool`, created by the conductor manager from
``[conductor] workers_pool_size``: the periodic tasks, their per-node
fan-out, and the parallel model builds that audits trigger. There is no
module-level accessor: the manager hands the pool to every part it builds.

Contract
--------

* **Bounded, never queued.** A submission is accepted only while fewer tasks
  are outstanding (accepted and not yet finished) than the pool has workers,
  so every accepted task has a worker of its own at once. When the pool is
  full, :meth:`WorkerPool.submit` raises :class:`NoFreeWorker` with the
  pool's numbers; nothing waits in an unbounded queue and nothing is dropped
  silently. A slot frees *before* the finished task's future completes, so a
  caller woken by that future can submit again at once: the pool recovers as
  soon as a worker frees.

* **Lanes.** Periodic work is admitted only while the pool has more than
  ``reserved`` free workers (see :meth:`WorkerPool.periodic_executor`), so a
  large sweep never takes the last workers from audits or API work. A task
  inherits the lane of the task that submitted it. The periodic scheduler
  (never a worker) waits up to ``LANE_WAIT`` for a free worker first.

* **No deadlock on nested waits.** A task running on the pool may submit more
  work and wait for it. If the pool (or its lane) is full at that moment, the
  submission runs *in the submitting worker itself* ("caller runs") and the
  returned future is already done. Because of that, a pool worker never waits
  for a worker to free, and every future it waits on is either done or
  running on a worker of its own; by induction on the nesting depth every
  wait ends, whatever the pool size (including the minimum, 3).

* **Exceptions keep their traceback.** A task's exception is stored on its
  future and re-raised to whoever waits on it with its original traceback.

Helpers
-------

=========================  ==============================================
:meth:`~WorkerPool.submit`   one task, a :class:`concurrent.futures.Future`
:meth:`~WorkerPool.wait_all`  every future, one overall deadline, results in
                              the order given
:meth:`~WorkerPool.for_each_completed`  a callback per future as it
                              completes; the callback may add more futures
                              (chained work without a barrier)
:meth:`~WorkerPool.fan_out`   one call per item of an iterable with at most
                              ``max_workers`` running at once
:meth:`~WorkerPool.run_in_caller`  run here, for a caller refused a worker
:meth:`~WorkerPool.statistics`  size, busy, queued, rejected, executed, ...
=========================  ==============================================
"""

from concurrent import futures as cf
import dataclasses
import itertools
import logging
import math
import threading
import time

import futurist

from decision_engine.concurrency import completions as completions_mod

LOG = logging.getLogger(__name__)

DEFAULT_LANE = 'default'
PERIODIC_LANE = 'periodic'


@dataclasses.dataclass(frozen=True)
class PoolStatistics:
    """A snapshot of the pool's numbers (``/v1/status``, ``/metrics``)."""

    size: int
    reserved: int
    backend: str
    #: tasks on a worker now.
    busy: int
    #: tasks accepted and waiting for their worker to pick them up.
    queued: int
    free: int
    submitted: int
    #: submissions refused with :class:`NoFreeWorker`.
    rejected: int
    #: submissions run in the submitting worker because the pool was full.
    caller_ran: int
    executed: int
    failed: int
    cancelled: int


#: how long the periodic scheduler waits for a free worker before a refusal.
LANE_WAIT = 0.9


class NoFreeWorker(futurist.RejectedSubmission):
    """The pool (or the caller's lane of it) has no free worker.

    It subclasses :class:`futurist.RejectedSubmission`, which futurist's
    ``PeriodicWorker`` understands: it retries the periodic a moment later.
    """

    def __init__(self, stats, lane, limit):
        self.stats = stats
        self.lane = lane
        self.limit = limit
        super().__init__(
            'No free worker in the decision-engine pool for %(lane)s work: '
            '%(outstanding)d workers taken, %(lane)s work may use at most '
            '%(limit)d (pool size %(size)d, busy %(busy)d, queued %(queued)d, '
            'reserved %(reserved)d, rejected so far %(rejected)d)'
            % dict(dataclasses.asdict(stats), lane=lane, limit=limit,
                   outstanding=stats.busy + stats.queued))


class PoolTimeout(TimeoutError):
    """Waiting on pool work exceeded its overall deadline."""

    def __init__(self, timeout, done, pending):
        self.done = done
        self.pending = pending
        super().__init__(
            'Pool work did not finish within %.1f s: %d done, %d still '
            'pending (tasks not started yet were cancelled)'
            % (timeout, done, pending))


class PoolShutDown(RuntimeError):
    """The pool no longer accepts work because the engine is stopping."""


class WorkerPool:
    """A bounded pool of workers; see the module docstring for the contract.

    :param size: number of workers (``[conductor] workers_pool_size``).
    :param backend: ``'threading'`` for native threads or ``'eventlet'`` for
        green threads; it must match how the process was started.
    :param reserved: workers that periodic work may not take.
    :param default_fan_out: default ``max_workers`` of :meth:`fan_out`.
    """

    def __init__(self, size, backend='threading', reserved=0,
                 default_fan_out=8):
        if size < 1:
            raise ValueError('pool size must be at least 1, not %r' % size)
        if not 0 <= reserved < size:
            raise ValueError('reserved workers must be between 0 and %d, '
                             'not %r' % (size - 1, reserved))
        self.size = size
        self.backend = backend
        self.reserved = reserved
        self.default_fan_out = default_fan_out
        if backend == 'eventlet':
            executor_class = futurist.GreenThreadPoolExecutor
        elif backend == 'threading':
            executor_class = futurist.ThreadPoolExecutor
        else:
            raise ValueError('unknown concurrency backend %r' % backend)
        # NOTE: futurist's public submit() and its check_and_reject hook,
        # as Ironic's conductor uses them. Admission (lanes, caller runs)
        # is decided by this class before submit(); the hook is the
        # executor's own guard of the "never queued" contract: it refuses
        # a submission that would wait behind ``size`` others. (The
        # private _submit() would skip futurist's per-task statistics,
        # about a fifth of a tiny task's cost in benchmarks/pool.py: not
        # worth a private seam.)
        self._executor = executor_class(
            size, check_and_reject=self._refuse_a_backlog)
        self._periodic_limit = size - reserved
        self._lock = threading.Lock()
        # Notified when the last task ends once shutdown has begun.
        self._idle = threading.Condition(self._lock)
        #: notified whenever a worker's slot is given back.
        self._freed = threading.Condition(self._lock)
        self._local = _WorkerLocal()
        self._outstanding = 0
        self._running = {}
        self._ids = itertools.count()
        self._shutdown = False
        self._submitted = self._rejected = self._caller_ran = 0
        self._executed = self._failed = self._cancelled = 0

    # -- admission ---------------------------------------------------------

    def submit(self, fn, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` on a free worker.

        :returns: a :class:`concurrent.futures.Future`.
        :raises NoFreeWorker: when no worker is free and the caller is not a
            pool worker (a pool worker runs the task itself instead).
        :raises PoolShutDown: once :meth:`shutdown` has been called.
        """
        return self._submit(None, fn, args, kwargs)

    def _submit(self, lane, fn, args, kwargs, wait=0):
        caller_lane = self._local.lane
        lane = lane or caller_lane or DEFAULT_LANE
        limit = self._periodic_limit if lane == PERIODIC_LANE else self.size
        with self._lock:
            if wait and caller_lane is None:
                self._freed.wait_for(
                    lambda: self._outstanding < limit or self._shutdown,
                    wait)
            # NOTE: while draining, running tasks may still submit the
            # work they need to finish; only new work from outside stops.
            if self._shutdown and caller_lane is None:
                raise PoolShutDown('the worker pool is shut down; no new '
                                   'work is accepted while the engine stops')
            if self._outstanding < limit:
                # NOTE: handed to the executor under the lock, as futurist's
                # own submit() does, so two submitters never both spawn the
                # pool's last thread.
                future = self._executor.submit(
                    self._run, lane, fn, args, kwargs)
                self._outstanding += 1
                self._submitted += 1
            elif caller_lane is not None:
                self._caller_ran += 1
                future = None
            else:
                self._rejected += 1
                raise NoFreeWorker(self._stats_locked(), lane, limit)
        if future is None:
            # Caller runs: see "No deadlock on nested waits" above.
            return self._run_inline(fn, args, kwargs)
        # NOTE: a future cancelled before a worker took it never runs _run,
        # which is where the slot is normally given back.
        future.add_done_callback(self._release_if_cancelled)
        return future

    def _refuse_a_backlog(self, executor, backlog):
        """futurist's ``check_and_reject``: called by its ``submit()``,
        here always under ``self._lock``."""
        if backlog >= self.size:
            self._rejected += 1
            raise NoFreeWorker(self._stats_locked(), 'any', self.size)

    def _release_if_cancelled(self, future):
        if future.cancelled():
            with self._lock:
                self._outstanding -= 1
                self._cancelled += 1
                self._freed.notify_all()
                if self._shutdown and not self._outstanding:
                    self._idle.notify_all()

    def _run(self, lane, fn, args, kwargs):
        task_id = next(self._ids)
        # NOTE: no lock here: a dict assignment is atomic, and the number of
        # busy workers is derived from this dict (hot path: one lock a task).
        self._running[task_id] = (fn, args, time.monotonic())
        local = self._local
        local.lane = lane
        failed = True
        try:
            result = fn(*args, **kwargs)
            failed = False
            return result
        finally:
            local.lane = None
            # NOTE: the slot is released here, in the worker, before the
            # executor sets the future's result: a waiter woken by the
            # future always finds the slot free again.
            with self._lock:
                del self._running[task_id]
                self._outstanding -= 1
                self._executed += 1
                self._freed.notify_all()
                self._failed += failed
                if self._shutdown and not self._outstanding:
                    self._idle.notify_all()

    def run_in_caller(self, fn, *args, **kwargs):
        """Run ``fn`` in the calling thread; return its (done) future.

        For a caller that got :class:`NoFreeWorker` and must make progress
        rather than wait for a worker (counted as ``caller_ran``).
        """
        return self._run_inline(fn, args, kwargs, count=True)

    def _run_inline(self, fn, args, kwargs, count=False):
        future = futurist.Future()
        failed = False
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            failed = True
            future.set_exception(exc)
        with self._lock:
            self._caller_ran += count
            self._executed += 1
            self._failed += failed
        return future

    def periodic_executor(self):
        """An executor view whose submissions use the periodic lane.

        Give it to ``futurist.periodics.PeriodicWorker`` through
        ``ExistingExecutor``: periodic tasks, and everything they submit, may
        use all but ``reserved`` workers.
        """
        return _LaneExecutor(self, PERIODIC_LANE)

    # -- helpers -----------------------------------------------------------

    def wait_all(self, futures, timeout=None):
        """Wait for every future, within one overall deadline.

        :returns: the results, in the order of ``futures``.
        :raises: a task's exception, with its original traceback: the one
            that ended the wait early (the tasks not started yet are then
            cancelled), else the first in the order of ``futures``.
        :raises PoolTimeout: when the deadline passes first.
        """
        futures = list(futures)
        done, pending = cf.wait(futures, timeout=timeout,
                                return_when=cf.FIRST_EXCEPTION)
        if pending:
            # A task failed early, or the deadline passed.
            completions_mod.cancel_all(pending)
            for fut in done:
                if not fut.cancelled() and fut.exception() is not None:
                    raise fut.exception()
            raise PoolTimeout(timeout, len(done), len(pending))
        # All ended: result() re-raises the first failure, in given order.
        return [fut.result() for fut in futures]

    def for_each_completed(self, futures, callback, timeout=None):
        """Call ``callback(future)`` as each future completes.

        The callback runs in the calling thread, one future at a time, in
        completion order. It may return an iterable of new futures (usually
        just submitted to this pool), which join the set being waited on: a
        step can chain the next step for each result as soon as that result
        exists, with no barrier between the steps. If the callback raises,
        the futures that have not started are cancelled and the exception
        propagates. A task's exception is not raised here: the callback sees
        it on its future (``future.result()`` re-raises it).

        :returns: the number of futures handled.
        :raises PoolTimeout: when the deadline passes before all are done.
        """
        deadline = completions_mod.Deadline(timeout)
        completions = completions_mod.Completions()
        pending = set()
        for fut in futures:
            pending.add(fut)
            completions.watch(fut)
        handled = 0
        while pending:
            fut = completions.next(deadline)
            if fut is None:
                completions_mod.cancel_all(pending)
                raise PoolTimeout(timeout, handled, len(pending))
            pending.discard(fut)
            try:
                more = callback(fut)
            except BaseException:
                completions_mod.cancel_all(pending)
                raise
            handled += 1
            for new in more or ():
                pending.add(new)
                completions.watch(new)
        return handled

    def fan_out(self, fn, items, max_workers=None, timeout=None,
                return_exceptions=False):
        """Call ``fn(item)`` for every item, ``max_workers`` at a time.

        Items are submitted lazily: the next one when an earlier one ends, so
        an iterable of any length uses a bounded number of workers and of
        futures. When the pool is full, the calling thread runs the item
        itself (whether or not it is a pool worker), so a fan-out always
        progresses.

        :param max_workers: concurrency bound; ``default_fan_out`` if None.
        :param return_exceptions: put a failed item's exception in its place
            in the result list instead of stopping at the first failure.
        :returns: ``fn``'s results, in the order of ``items``.
        :raises: the first exception (unless ``return_exceptions``), after
            submitting nothing more and waiting for the running items.
        :raises PoolTimeout: when the deadline passes first; items not yet
            submitted are skipped.
        """
        limit = max(1, max_workers or self.default_fan_out)
        deadline = completions_mod.Deadline(timeout)
        completions = completions_mod.Completions()
        results = {}
        running = {}
        source = enumerate(items)
        failure = None
        exhausted = False
        while True:
            while not exhausted and failure is None and len(running) < limit:
                try:
                    index, item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                fut = self._submit_or_run(fn, item)
                running[fut] = index
                completions.watch(fut)
            if not running:
                break
            fut = completions.next(deadline)
            if fut is None:
                completions_mod.cancel_all(running)
                raise PoolTimeout(timeout, len(results), len(running))
            index = running.pop(fut)
            exc = fut.exception()
            if exc is None:
                results[index] = fut.result()
            elif return_exceptions:
                results[index] = exc
            elif failure is None:
                failure = exc
        if failure is not None:
            raise failure
        return [results[i] for i in sorted(results)]

    def _submit_or_run(self, fn, item):
        try:
            return self._submit(None, fn, (item,), {})
        except NoFreeWorker:
            with self._lock:
                self._rejected -= 1
            return self.run_in_caller(fn, item)

    # -- introspection and life cycle --------------------------------------

    def statistics(self):
        """A snapshot of the pool's numbers (:class:`PoolStatistics`)."""
        with self._lock:
            return self._stats_locked()

    def _stats_locked(self):
        busy = len(self._running)
        return PoolStatistics(
            size=self.size, reserved=self.reserved, backend=self.backend,
            busy=busy, queued=max(0, self._outstanding - busy),
            free=self.size - self._outstanding, submitted=self._submitted,
            rejected=self._rejected, caller_ran=self._caller_ran,
            executed=self._executed, failed=self._failed,
            cancelled=self._cancelled)

    def running_tasks(self):
        """``[(name, seconds running)]`` of the tasks on a worker now."""
        now = time.monotonic()
        with self._lock:
            running = list(self._running.values())
        return [(_name_of(fn, args), now - started)
                for fn, args, started in running]

    def shutdown(self, timeout=None):
        """Refuse new work and wait up to ``timeout`` for running tasks.

        :returns: the tasks still running when the wait ended, as
            :meth:`running_tasks` gives them (empty when all finished).
        """
        with self._idle:
            self._shutdown = True
            self._idle.wait_for(lambda: not self._outstanding, timeout)
        # NOTE: no need to join the idle threads (each takes up to a second
        # to notice): every task we accepted has finished or is reported.
        self._executor.shutdown(wait=False)
        return self.running_tasks()


class _WorkerLocal(threading.local):
    """Per-thread: the lane of the pool task this thread runs, if any."""

    lane = None


class _LaneExecutor:
    """The part of an executor's interface PeriodicWorker uses.

    NOTE: futurist retries a refused *immediate* run at once, in a loop,
    logging an error each time (thousands of lines a second on a full
    pool); so a full lane waits up to ``LANE_WAIT`` for a free worker
    before refusing, about as long as futurist waits to retry a refused
    scheduled run.
    """

    def __init__(self, pool, lane):
        self._pool = pool
        self._lane = lane

    def submit(self, fn, *args, **kwargs):
        return self._pool._submit(self._lane, fn, args, kwargs,
                                  wait=LANE_WAIT)

    def shutdown(self, wait=True):
        # The pool outlives the periodic worker; the manager shuts it down.
        pass


def _name_of(fn, args=()):
    # NOTE: futurist's PeriodicWorker submits its own runner with the
    # periodic's Work as argument; the Work's name is the one that helps an
    # operator reading "abandoned tasks" at shutdown.
    work = args[0] if args else None
    if getattr(work, 'callback', None) is not None and \
            isinstance(getattr(work, 'name', None), str):
        return work.name
    target = getattr(fn, 'func', fn)  # functools.partial
    name = getattr(target, '__qualname__', None) or \
        getattr(target, '__name__', None)
    return name or repr(fn)


def reserved_workers(size, percentage):
    """Workers kept from periodic work for ``percentage`` of ``size``."""
    if percentage <= 0:
        return 0
    return min(size - 1, max(1, math.ceil(size * percentage / 100.0)))
