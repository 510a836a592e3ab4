"""Waiting on many futures: one deadline, completions in order.

The pool's helpers (``wait_all``, ``for_each_completed``, ``fan_out``) wait
on futures as they complete, within one overall deadline; these are the two
pieces they share.
"""

import queue
import time


class Deadline:
    """One overall deadline shared by every wait of a helper call."""

    def __init__(self, timeout):
        self.timeout = timeout
        self._end = None if timeout is None else time.monotonic() + timeout

    def remaining(self):
        if self._end is None:
            return None
        return max(0.0, self._end - time.monotonic())


class Completions:
    """Futures in the order they complete, one O(1) step each.

    A done-callback puts each watched future on a queue as it completes
    (at once if it is already done), so waiting for the next one never
    rescans the futures still pending.
    """

    def __init__(self):
        # NOTE: queue.Queue, not SimpleQueue: its pure-Python locks are the
        # ones eventlet's monkey patching turns green.
        self._done = queue.Queue()

    def watch(self, fut):
        fut.add_done_callback(self._done.put)

    def next(self, deadline):
        """The next completed future, or None when the deadline passed."""
        try:
            return self._done.get(timeout=deadline.remaining())
        except queue.Empty:
            return None


def cancel_all(futures):
    """Cancel every future not started yet."""
    for fut in futures:
        fut.cancel()
