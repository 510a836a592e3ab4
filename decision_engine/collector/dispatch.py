"""Per-key ordered handling on a bounded lane of the shared pool.

The listener hands each event here with its key (an instance, a host, an
aggregate). Events of one key are handled one at a time, in the order they
were put; events of different keys run in parallel on at most ``workers``
tasks of the shared :class:`~decision_engine.concurrency.pool.WorkerPool`
(the notification lane: no second pool). A drain task handles events of
any ready key until none is left, so a burst costs a few submissions, not
one per event.

When the pool has no free worker and no drain of ours runs, the putting
thread (the listener's) drains itself: back-pressure on the bus instead
of a queue nobody empties. Beyond ``max_pending`` waiting events an event
is refused (:meth:`KeyedDispatcher.put` returns False) and the caller
records a gap.
"""

import collections
import logging
import threading

from decision_engine.concurrency import pool as pool_mod

LOG = logging.getLogger(__name__)


class KeyedDispatcher:

    def __init__(self, pool, handle, workers=4, max_pending=100000):
        self.pool = pool
        self._handle = handle
        self.workers = workers
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queues = {}       # key -> deque; present while pending/busy
        self._ready = collections.deque()   # keys with work, not busy
        self._active = 0
        self._pending = 0

    @property
    def pending(self):
        return self._pending

    def put(self, key, item):
        """Queue ``item`` after the other items of ``key``.

        :returns: False when ``max_pending`` items already wait (the item
            is dropped).
        """
        with self._lock:
            if self._pending >= self.max_pending:
                return False
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = collections.deque()
                self._ready.append(key)
            queue.append(item)
            self._pending += 1
            start = self._active < self.workers and bool(self._ready)
            if start:
                self._active += 1
        if start:
            self._start()
        return True

    def _start(self):
        try:
            self.pool.submit(self._drain)
            return
        except pool_mod.NoFreeWorker:
            pass
        except pool_mod.PoolShutDown:
            with self._lock:
                self._active -= 1
                self._idle.notify_all()
            return
        with self._lock:
            alone = self._active == 1
            if not alone:
                # Another drain of ours runs and will take this key too.
                self._active -= 1
                return
        self._drain()

    def _drain(self):
        while True:
            with self._lock:
                if not self._ready:
                    self._active -= 1
                    self._idle.notify_all()
                    return
                key = self._ready.popleft()
                queue = self._queues[key]
                item = queue.popleft()
            try:
                self._handle(item)
            except Exception:
                # NOTE: handle() counts and logs what it expects; this is
                # the last guard so that a drain never dies mid-way.
                LOG.exception('Unexpected error applying a notification')
            with self._lock:
                self._pending -= 1
                if queue:
                    self._ready.append(key)
                else:
                    del self._queues[key]
                if not self._pending:
                    self._idle.notify_all()

    def wait_idle(self, timeout=None):
        """Wait until every item put so far was handled; True if so."""
        with self._lock:
            return self._idle.wait_for(
                lambda: not self._pending and not self._active, timeout)
