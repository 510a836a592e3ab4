"""Many pool tasks at once: wait for all of them, handle each as it
completes, or fan one call out over an iterable.

:class:`BatchHelpers` is a part of
:class:`~decision_engine.concurrency.pool.WorkerPool`: it relies on the
pool's ``_submit_or_run`` (submit, or run in the caller when the pool is
full) and ``default_fan_out``.
"""

from __future__ import annotations

from concurrent import futures as cf
from typing import Any, Callable, Iterable

from decision_engine.concurrency import completions as completions_mod
from decision_engine.concurrency.errors import PoolTimeout


class BatchHelpers:
    """``wait_all``, ``for_each_completed`` and ``fan_out`` of the pool."""

    #: ``max_workers`` of :meth:`fan_out` when none is given.
    default_fan_out: int

    def _submit_or_run(self, fn: Callable[[Any], Any],
                       item: Any) -> cf.Future:
        """``fn(item)`` on a worker, or in the caller when none is free
        (the pool defines it)."""
        raise NotImplementedError

    def wait_all(self, futures: Iterable[cf.Future],
                 timeout: float | None = None) -> list[Any]:
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
                error = None if fut.cancelled() else fut.exception()
                if error is not None:
                    raise error
            raise PoolTimeout(timeout, len(done), len(pending))
        # All ended: result() re-raises the first failure, in given order.
        return [fut.result() for fut in futures]

    def for_each_completed(
            self, futures: Iterable[cf.Future],
            callback: Callable[[cf.Future], Iterable[cf.Future] | None],
            timeout: float | None = None) -> int:
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

    def fan_out(self, fn: Callable[[Any], Any], items: Iterable[Any],
                max_workers: int | None = None, timeout: float | None = None,
                return_exceptions: bool = False) -> list[Any]:
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
        results: dict[int, Any] = {}
        running: dict[cf.Future, int] = {}
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
