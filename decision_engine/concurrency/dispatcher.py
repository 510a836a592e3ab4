"""One scheduling thread that hands callables to the shared pool when they
are due: the one dispatching mechanism of the applier and the audit
runner.

Contract
--------

* **A thread of its own, never a pool worker.** A pool worker that
  submits to a full pool runs the task itself ("caller runs", see
  :mod:`.pool`): a dispatcher on a worker would turn a chain of 500
  applier steps into a recursion on one worker, or run the next audit
  nested inside the one that just ended. The thread only waits and
  submits; it runs none of the work.

* **Work comes from the owner's pump and from timers.** At every wake-up
  the thread calls ``pump()`` (in the thread, under no lock of the
  dispatcher) and appends the callables it returns to a FIFO backlog;
  the owner decides there what its own limits admit.
  :meth:`Dispatcher.call_later` puts a callable in a timer heap; it joins
  the backlog once due. So no worker ever sleeps between two steps of
  some work: a wait is an entry in the heap.

* **The backlog goes to the pool in order, bounded by its free
  workers.** Each callable is submitted with no arguments. The first one
  the full pool refuses (:class:`~.errors.NoFreeWorker`, or any
  ``futurist.RejectedSubmission``) stays first in the backlog with
  everything after it, and counts in :attr:`Dispatcher.refused`. Nothing
  is dropped and the pool never holds more of the dispatcher's tasks than
  it has free workers, so an owner never deadlocks the pool, whatever its
  size.

* **Wake-ups.** The thread wakes when :meth:`~Dispatcher.wake` is
  called, when a task it submitted ends (a done callback of its future,
  which runs once the task's worker is free again), when the first timer
  is due, ``retry_delay`` after the pool refused (the worker that frees
  may be someone else's, whose end does not wake it), and every
  ``idle_wake`` seconds if that is set.

* **Failures.** An exception from ``pump()`` is logged and the turn goes
  on with the backlog. A pool that refuses for another reason
  (``PoolShutDown`` while the engine stops) ends the dispatching: the
  callable stays in the backlog and the thread ends.

* **Stop.** :meth:`~Dispatcher.stop` ends the thread after its current
  turn and joins it. Tasks already submitted run to their end; the
  backlog and the timers are kept, and a later :meth:`~Dispatcher.start`
  offers them again.
"""

import collections
import heapq
import itertools
import logging
import threading
import time

import futurist

LOG = logging.getLogger(__name__)

# NOTE: one full-pool retry delay for every dispatcher (the applier's was
# 0.02 s, the audit runner's 0.2 s). It only matters when the pool is full
# of work that is not this dispatcher's (periodics, their fan-out, the
# other dispatcher): the end of a task it submitted wakes it at once. A
# retry costs a call of the owner's pump and a refused submission (one
# lock, a counter and a NoFreeWorker with the pool's numbers; no log), so
# 50 tries a second while the pool stays full are cheap; and a worker freed
# by someone else is taken within 20 ms, not 200 ms: an applier step, of
# which a plan has hundreds, would otherwise wait up to 0.2 s each time the
# periodics fill the pool. (An owner whose pump does costly work, like the
# audit runner's tries of a store that refused, spaces that work itself.)
RETRY_FULL_POOL = 0.02


class Dispatcher:
    """Offer the callables of ``pump()`` and of :meth:`call_later` to
    ``pool``; see the module docstring.

    :param pool: the engine's :class:`~.pool.WorkerPool`.
    :param pump: called in this thread at every wake-up, under no lock of
        the dispatcher; returns the callables (no arguments) to submit
        now, in order.
    :param name: the thread's name (thread dumps, logs).
    :param retry_delay: seconds before a callable the full pool refused
        is offered again, when no task of ours ends earlier.
    :param idle_wake: if set, the longest the thread waits between two
        calls of ``pump()`` (for limits that change without an event).
    """

    def __init__(self, pool, pump, name='dispatcher',
                 retry_delay=RETRY_FULL_POOL, idle_wake=None):
        self.pool = pool
        self.name = name
        self.retry_delay = retry_delay
        self.idle_wake = idle_wake
        self._pump = pump
        self._cond = threading.Condition()
        self._timers = []
        self._seq = itertools.count()
        self._backlog = collections.deque()
        #: the callable being offered to the pool now (out of the backlog
        #: while it is).
        self._offering = None
        self._thread = None
        self._stopping = False
        self._woken = False
        #: how many times the pool refused one of our callables.
        self.refused = 0

    # -- life cycle ---------------------------------------------------------

    def start(self):
        with self._cond:
            self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=self.name,
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout=None):
        """End the thread (after its current turn) and join it."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- work ---------------------------------------------------------------

    def wake(self):
        """Call ``pump()`` and offer the backlog again, now."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def call_later(self, delay, fn):
        """Submit ``fn`` to the pool ``delay`` seconds from now (or as soon
        after as the pool has a free worker)."""
        with self._cond:
            heapq.heappush(self._timers, (time.monotonic() + max(0, delay),
                                          next(self._seq), fn))
            self._cond.notify_all()

    def pending(self):
        """Callables the pool has not taken yet: in the timer heap, the
        backlog, or being offered."""
        with self._cond:
            return len(self._timers) + len(self._backlog) + (
                self._offering is not None)

    # -- the thread ---------------------------------------------------------

    def _loop(self):
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = time.monotonic()
                while self._timers and self._timers[0][0] <= now:
                    self._backlog.append(heapq.heappop(self._timers)[2])
                self._woken = False
            try:
                fresh = list(self._pump())
            except Exception:
                LOG.exception('%s: could not collect the work to dispatch',
                              self.name)
                fresh = []
            with self._cond:
                self._backlog.extend(fresh)
            full = self._submit_backlog()
            with self._cond:
                if self._stopping or self._woken:
                    continue
                waits = [self.idle_wake]
                if self._timers:
                    waits.append(max(0.0, self._timers[0][0]
                                     - time.monotonic()))
                if full:
                    waits.append(self.retry_delay)
                waits = [w for w in waits if w is not None]
                self._cond.wait(min(waits) if waits else None)

    def _submit_backlog(self):
        """:returns: whether the pool refused a callable (it stays
        first)."""
        while True:
            with self._cond:
                if not self._backlog or self._stopping:
                    return False
                fn = self._offering = self._backlog.popleft()
            try:
                future = self.pool.submit(fn)
            except futurist.RejectedSubmission:
                with self._cond:
                    self.refused += 1
                    self._backlog.appendleft(fn)
                    self._offering = None
                return True
            except Exception as exc:
                # NOTE: PoolShutDown while the engine stops.
                LOG.info('%s: the pool refused work (%s); dispatching '
                         'stops', self.name, exc)
                with self._cond:
                    self._backlog.appendleft(fn)
                    self._offering = None
                    self._stopping = True
                return False
            with self._cond:
                self._offering = None
            future.add_done_callback(self._task_ended)

    def _task_ended(self, future):
        # NOTE: a done callback runs once the pool gave the task's worker
        # back (see pool.py), so the backlog is offered to a free worker.
        self.wake()
