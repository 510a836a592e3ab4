"""Trying an operation again: how many times, how long between tries, and
when to give up.

The engine's three retrying clients share this loop: the model build's
GETs (:mod:`decision_engine.collector.fetch`), the datasource's queries
(:mod:`decision_engine.datasources.gather`) and the store's operations
after a lost database connection (:mod:`decision_engine.db.reconnect`).
Each says what is worth another try and turns the ways of giving up
below into its own one-line error.

The rules, the same for every caller:

* at most :attr:`Policy.attempts` tries;
* after failed try ``n`` the wait is the server's ``Retry-After`` when the
  failure carries one (read by :mod:`decision_engine.common.retry_after`),
  else the policy's backoff; either is capped at :attr:`Policy.max_delay`
  when the policy has one;
* with a deadline, no try starts at or after it, and a wait that would
  reach it is not waited: the call gives up at once
  (:class:`PastDeadline`), since a try after the deadline could only fail
  later;
* with a stop event, a set event ends the wait and no try starts after it
  (:class:`Stopped`).
"""

import random
import time


class GaveUp(Exception):
    """The call was not tried again.

    :ivar last: the exception of the last try, or None when no try failed
        (the deadline passed or the stop event was set before the first).
    :ivar attempts: the tries made.
    """

    def __init__(self, last, attempts):
        super().__init__(str(last) if last is not None else
                         type(self).__name__)
        self.last = last
        self.attempts = attempts


class AttemptsExhausted(GaveUp):
    """Every try the policy allows failed."""


class DeadlineReached(GaveUp):
    """The deadline passed before the next try could start."""


class PastDeadline(GaveUp):
    """The wait before the next try would reach the deadline.

    :ivar delay: that wait, in seconds.
    :ivar retry_after: the server's ``Retry-After`` it came from, or None
        when it is the policy's backoff.
    """

    def __init__(self, last, attempts, delay, retry_after):
        super().__init__(last, attempts)
        self.delay = delay
        self.retry_after = retry_after


class Stopped(GaveUp):
    """The stop event was set."""


def full_jitter(base):
    """Exponential backoff with "full jitter": the wait after try ``n`` is
    drawn uniformly from ``[0, base * 2 ** (n - 1)]`` (then capped), so
    many clients failing together do not come back together."""
    def backoff(attempt, cap, rng):
        return rng.uniform(0, _capped(base * 2 ** (attempt - 1), cap))
    return backoff


def linear(step):
    """The wait after try ``n`` is ``step * n``: a restarting server gets
    a moment more each time, without randomness."""
    def backoff(attempt, cap, rng):
        return _capped(step * attempt, cap)
    return backoff


def _capped(delay, cap):
    return delay if cap is None else min(cap, delay)


class Policy:
    """How one kind of call is tried again.

    :param attempts: tries at most (the first one included), >= 1.
    :param backoff: :func:`full_jitter` or :func:`linear`.
    :param max_delay: the longest wait, backoff or ``Retry-After``; None
        for no cap.
    :param rng: the random source of the jitter (tests seed one).
    """

    def __init__(self, attempts, backoff, max_delay=None, rng=None):
        if attempts < 1:
            raise ValueError('a call is tried at least once, not %r times'
                             % attempts)
        self.attempts = attempts
        self.backoff = backoff
        self.max_delay = max_delay
        self.rng = rng or random.Random()

    def delay(self, attempt, retry_after=None):
        """Seconds to wait after failed try ``attempt``."""
        if retry_after is not None:
            return _capped(max(0.0, retry_after), self.max_delay)
        return self.backoff(attempt, self.max_delay, self.rng)

    def call(self, attempt, retryable, retry_after=None, deadline=None,
             stop=None, on_retry=None, clock=time.monotonic,
             sleep=None):
        """``attempt()``'s result, trying again after a retryable error.

        :param attempt: makes one try; raises to fail it.
        :param retryable: ``retryable(exc)``: whether another try may help;
            any other exception propagates unchanged.
        :param retry_after: ``retry_after(exc)``: the seconds the server
            asked to wait, or None.
        :param deadline: a ``clock()`` value, or None.
        :param stop: a :class:`threading.Event` that ends waits and tries.
        :param on_retry: ``on_retry(exc, attempt, delay)``, called before
            each wait (to log or count it).
        :param sleep: waits without a stop event; ``time.sleep`` (looked up
            at each wait, so a test can replace it).
        :raises AttemptsExhausted, DeadlineReached, PastDeadline, Stopped:
            with the last try's exception as ``last``.
        """
        last = None
        tries = 0
        while True:
            if stop is not None and stop.is_set():
                raise Stopped(last, tries)
            if deadline is not None and clock() >= deadline:
                raise DeadlineReached(last, tries)
            tries += 1
            try:
                return attempt()
            except Exception as exc:
                if not retryable(exc):
                    raise
                last = exc
            if tries >= self.attempts:
                raise AttemptsExhausted(last, tries)
            asked = retry_after(last) if retry_after is not None else None
            delay = self.delay(tries, asked)
            if deadline is not None and clock() + delay >= deadline:
                raise PastDeadline(last, tries, delay, asked)
            if on_retry is not None:
                on_retry(last, tries, delay)
            if stop is not None:
                # NOTE: Event.wait, not sleep: setting the event ends it.
                if stop.wait(delay):
                    raise Stopped(last, tries)
            else:
                (sleep or time.sleep)(delay)
