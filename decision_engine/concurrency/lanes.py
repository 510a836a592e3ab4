"""The pool's lanes: periodic work may not take the reserved workers.

A task runs in a lane: ``periodic`` for what futurist's
``PeriodicWorker`` submits (through :class:`LaneExecutor`) and what those
tasks submit in turn, ``default`` for everything else. Periodic work is
admitted only while more than ``reserved`` workers are free
(:func:`reserved_workers`); the admission itself is the pool's
(:meth:`decision_engine.concurrency.pool.WorkerPool.submit`).
"""

import math
import threading

DEFAULT_LANE = 'default'
PERIODIC_LANE = 'periodic'

#: how long the periodic scheduler waits for a free worker before a refusal.
LANE_WAIT = 0.9


class WorkerLocal(threading.local):
    """Per-thread: the lane of the pool task this thread runs, if any."""

    lane = None


class LaneExecutor:
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


def reserved_workers(size, percentage):
    """Workers kept from periodic work for ``percentage`` of ``size``."""
    if percentage <= 0:
        return 0
    return min(size - 1, max(1, math.ceil(size * percentage / 100.0)))
