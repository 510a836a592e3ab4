"""What the worker pool raises: no free worker, a deadline passed, shut
down."""

import dataclasses

import futurist


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
