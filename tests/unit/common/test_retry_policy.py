"""The retry loop shared by the model build, the datasource and the
store: tries, backoff, Retry-After, deadline and stop."""

import random
import threading

import pytest

from decision_engine.common import retry_policy


class Flaky(Exception):
    def __init__(self, retry_after=None):
        super().__init__('flaky')
        self.retry_after = retry_after


class Clock:
    """A clock that only sleeping moves."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def failing(times, error=Flaky, result='done'):
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) <= times:
            raise error()
        return result
    attempt.calls = calls
    return attempt


def _call(policy, attempt, clock, **kwargs):
    kwargs.setdefault('retryable', lambda exc: isinstance(exc, Flaky))
    kwargs.setdefault('retry_after', lambda exc: exc.retry_after)
    return policy.call(attempt, clock=clock, sleep=clock.sleep, **kwargs)


def test_success_after_failures_with_linear_backoff():
    clock = Clock()
    policy = retry_policy.Policy(5, retry_policy.linear(0.1))
    attempt = failing(3)
    assert _call(policy, attempt, clock) == 'done'
    assert len(attempt.calls) == 4
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.3])


def test_attempts_exhausted_carries_the_last_error_and_count():
    clock = Clock()
    policy = retry_policy.Policy(3, retry_policy.linear(0.1))
    with pytest.raises(retry_policy.AttemptsExhausted) as info:
        _call(policy, failing(10), clock)
    assert isinstance(info.value.last, Flaky)
    assert info.value.attempts == 3
    # no wait after the last try
    assert len(clock.sleeps) == 2


def test_an_error_not_retryable_propagates_unchanged_at_once():
    clock = Clock()
    policy = retry_policy.Policy(5, retry_policy.linear(0.1))
    attempt = failing(1, error=KeyError)
    with pytest.raises(KeyError):
        _call(policy, attempt, clock)
    assert len(attempt.calls) == 1
    assert clock.sleeps == []


def test_full_jitter_stays_under_the_doubling_bound_and_the_cap():
    policy = retry_policy.Policy(
        10, retry_policy.full_jitter(0.5), max_delay=3.0,
        rng=random.Random(7))
    for attempt, bound in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0),
                           (9, 3.0)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= bound for d in delays)
        # NOTE: jitter, not a constant: the draws spread over the range.
        assert max(delays) > bound * 0.8 and min(delays) < bound * 0.2


def test_retry_after_replaces_the_backoff_and_is_capped():
    clock = Clock()
    policy = retry_policy.Policy(3, retry_policy.linear(0.1),
                                 max_delay=30.0)
    attempt = failing(2, error=lambda: Flaky(retry_after=45.0))
    assert _call(policy, attempt, clock) == 'done'
    assert clock.sleeps == [30.0, 30.0]
    uncapped = retry_policy.Policy(3, retry_policy.linear(0.1))
    assert uncapped.delay(1, retry_after=45.0) == 45.0
    assert uncapped.delay(1, retry_after=0.0) == 0.0


def test_a_retry_after_reaching_the_deadline_gives_up_at_once():
    clock = Clock()
    policy = retry_policy.Policy(5, retry_policy.linear(0.1))
    attempt = failing(5, error=lambda: Flaky(retry_after=600.0))
    with pytest.raises(retry_policy.PastDeadline) as info:
        _call(policy, attempt, clock, deadline=clock.now + 30)
    assert info.value.retry_after == 600.0
    assert info.value.delay == 600.0
    assert info.value.attempts == 1
    assert clock.sleeps == []


def test_a_backoff_reaching_the_deadline_gives_up_at_once():
    clock = Clock()
    policy = retry_policy.Policy(5, retry_policy.linear(1.0))
    with pytest.raises(retry_policy.PastDeadline) as info:
        _call(policy, failing(5), clock, deadline=clock.now + 2.5)
    assert info.value.retry_after is None
    # waited 1 s after try 1; the 2 s after try 2 would reach the deadline
    assert clock.sleeps == [1.0]
    assert info.value.attempts == 2


def test_no_try_starts_at_or_after_the_deadline():
    clock = Clock()
    policy = retry_policy.Policy(5, retry_policy.linear(0.1))
    attempt = failing(0)
    with pytest.raises(retry_policy.DeadlineReached) as info:
        _call(policy, attempt, clock, deadline=clock.now)
    assert attempt.calls == []
    assert info.value.last is None and info.value.attempts == 0


def test_on_retry_sees_each_failure_before_its_wait():
    clock = Clock()
    seen = []
    policy = retry_policy.Policy(4, retry_policy.linear(0.5))
    _call(policy, failing(2), clock,
          on_retry=lambda exc, n, delay: seen.append((n, delay)))
    assert seen == [(1, 0.5), (2, 1.0)]


def test_a_set_stop_event_ends_the_wait_and_starts_no_try():
    stop = threading.Event()
    policy = retry_policy.Policy(5, retry_policy.linear(60.0))
    calls = []

    def attempt():
        calls.append(1)
        # NOTE: set from the try itself: the 60 s wait that follows must
        # end at once.
        stop.set()
        raise Flaky()
    with pytest.raises(retry_policy.Stopped) as info:
        policy.call(attempt, retryable=lambda exc: True, stop=stop)
    assert len(calls) == 1
    assert isinstance(info.value.last, Flaky)
    with pytest.raises(retry_policy.Stopped):
        policy.call(attempt, retryable=lambda exc: True, stop=stop)
    assert len(calls) == 1


def test_a_policy_tries_at_least_once():
    with pytest.raises(ValueError):
        retry_policy.Policy(0, retry_policy.linear(0.1))
