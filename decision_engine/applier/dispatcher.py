"""The applier's one scheduling thread: tasks handed to the shared pool
when they are due.

No worker of the pool ever waits for another here: a step of an action is
a short pool task, a wait (the next poll of a migration, a ``sleep``
action) is an entry in this thread's timer heap, and a step the full pool
refuses (``NoFreeWorker``) stays in
the backlog and is offered again when a step ends or a moment later. So a
plan never deadlocks the pool, whatever its size, and the pool never holds
more of the applier's tasks than it has free workers.

The thread is not a pool worker on purpose: a pool worker that submits to
a full pool runs the task itself ("caller runs"), which would turn a chain
of 500 actions into a recursion on one worker.
"""

import collections
import heapq
import itertools
import logging
import threading
import time

import futurist

LOG = logging.getLogger(__name__)

# Seconds before a step the full pool refused is offered again, when no
# step of ours ends earlier (another part of the engine freed the worker).
RETRY_FULL_POOL = 0.02


class Dispatcher:
    """``pump()`` is called in this thread at every wake-up, under no
    lock, and returns the callables to submit now."""

    def __init__(self, pool, pump, name='applier-dispatcher'):
        self.pool = pool
        self._pump = pump
        self._name = name
        self._cond = threading.Condition()
        self._timers = []
        self._seq = itertools.count()
        self._backlog = collections.deque()
        self._thread = None
        self._stopping = False
        self._woken = False
        self.refused = 0

    def start(self):
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=self._name,
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout=None):
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self):
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def call_later(self, delay, fn):
        """Submit ``fn`` to the pool ``delay`` seconds from now."""
        with self._cond:
            heapq.heappush(self._timers, (time.monotonic() + max(0, delay),
                                          next(self._seq), fn))
            self._cond.notify_all()

    def pending_timers(self):
        with self._cond:
            return len(self._timers) + len(self._backlog)

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
                fresh = self._pump()
            except Exception:
                LOG.exception('The applier failed to schedule actions')
                fresh = []
            with self._cond:
                self._backlog.extend(fresh)
            full = self._submit_backlog()
            with self._cond:
                if self._stopping:
                    return
                if self._woken:
                    continue
                wait = None
                if self._timers:
                    wait = max(0.0, self._timers[0][0] - time.monotonic())
                if full:
                    wait = RETRY_FULL_POOL if wait is None \
                        else min(wait, RETRY_FULL_POOL)
                self._cond.wait(wait)

    def _submit_backlog(self):
        """:returns: whether the pool refused a task (it stays first)."""
        while True:
            with self._cond:
                if not self._backlog or self._stopping:
                    return False
                fn = self._backlog.popleft()
            try:
                self.pool.submit(fn)
            except futurist.RejectedSubmission:
                self.refused += 1
                with self._cond:
                    self._backlog.appendleft(fn)
                return True
            except Exception as exc:
                # NOTE: PoolShutDown while the engine stops.
                LOG.info('The pool refused the applier\'s work (%s); it '
                         'stops dispatching (running actions resume at '
                         'the next start)', exc)
                with self._cond:
                    self._stopping = True
                return False
