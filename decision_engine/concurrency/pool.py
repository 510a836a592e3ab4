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

Modules
-------

This module is the pool itself: admission, running a task, statistics,
shutdown. The lanes and their reservation are in :mod:`.lanes`, the
helpers over many tasks in :mod:`.batches` (a part of
:class:`WorkerPool`), the errors in :mod:`.errors`; their public names are
importable from here too.
"""

from __future__ import annotations

from concurrent import futures as cf
import dataclasses
import itertools
import logging
import threading
import time
from typing import Any, Callable

import futurist

from decision_engine.concurrency import batches
from decision_engine.concurrency import errors
from decision_engine.concurrency import lanes

LOG = logging.getLogger(__name__)

# NOTE: the pool's public names, importable from here as callers always
# did; each lives in the module of its job.
DEFAULT_LANE = lanes.DEFAULT_LANE
PERIODIC_LANE = lanes.PERIODIC_LANE
LANE_WAIT = lanes.LANE_WAIT
reserved_workers = lanes.reserved_workers
NoFreeWorker = errors.NoFreeWorker
PoolTimeout = errors.PoolTimeout
PoolShutDown = errors.PoolShutDown


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


class WorkerPool(batches.BatchHelpers):
    """A bounded pool of workers; see the module docstring for the contract.

    :param size: number of workers (``[conductor] workers_pool_size``).
    :param backend: ``'threading'`` for native threads or ``'eventlet'`` for
        green threads; it must match how the process was started.
    :param reserved: workers that periodic work may not take.
    :param default_fan_out: default ``max_workers`` of :meth:`fan_out`.
    """

    def __init__(self, size: int, backend: str = 'threading',
                 reserved: int = 0, default_fan_out: int = 8) -> None:
        if size < 1:
            raise ValueError('pool size must be at least 1, not %r' % size)
        if not 0 <= reserved < size:
            raise ValueError('reserved workers must be between 0 and %d, '
                             'not %r' % (size - 1, reserved))
        self.size = size
        self.backend = backend
        self.reserved = reserved
        self.default_fan_out = default_fan_out
        executor_class: type[futurist.ThreadPoolExecutor] | type[
            futurist.GreenThreadPoolExecutor]
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
        self._local = lanes.WorkerLocal()
        self._outstanding = 0
        self._running: dict[int, Any] = {}
        self._ids = itertools.count()
        self._shutdown = False
        self._submitted = self._rejected = self._caller_ran = 0
        self._executed = self._failed = self._cancelled = 0

    # -- admission ---------------------------------------------------------

    def submit(self, fn: Callable[..., Any], *args: Any,
               **kwargs: Any) -> cf.Future:
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

    def run_in_caller(self, fn: Callable[..., Any], *args: Any,
                      **kwargs: Any) -> cf.Future:
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

    def periodic_executor(self) -> lanes.LaneExecutor:
        """An executor view whose submissions use the periodic lane.

        Give it to ``futurist.periodics.PeriodicWorker`` through
        ``ExistingExecutor``: periodic tasks, and everything they submit, may
        use all but ``reserved`` workers.
        """
        return lanes.LaneExecutor(self, PERIODIC_LANE)

    def _submit_or_run(self, fn, item):
        """Submit ``fn(item)``, or run it here when the pool is full
        (:meth:`fan_out`'s way to progress, not counted as refused)."""
        try:
            return self._submit(None, fn, (item,), {})
        except NoFreeWorker:
            with self._lock:
                self._rejected -= 1
            return self.run_in_caller(fn, item)

    # -- introspection and life cycle --------------------------------------

    def statistics(self) -> PoolStatistics:
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

    def running_tasks(self) -> list[tuple[str, float]]:
        """``[(name, seconds running)]`` of the tasks on a worker now."""
        now = time.monotonic()
        with self._lock:
            running = list(self._running.values())
        return [(_name_of(fn, args), now - started)
                for fn, args, started in running]

    def shutdown(self, timeout: float | None = None
                 ) -> list[tuple[str, float]]:
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
