"""The store's operations made again after a lost connection, through
the retry policy (no database: the operations are the test's own)."""

import pytest
from sqlalchemy import exc as sa_exc

from decision_engine.common import retry_policy
from decision_engine.db import reconnect


def _lost():
    return sa_exc.OperationalError('SELECT 1', {}, ConnectionError('reset'),
                                   connection_invalidated=True)


@reconnect.reconnecting
class Store:
    NOT_RETRIED = ('untouched',)

    def __init__(self, errors):
        self.errors = list(errors)
        self.calls = 0

    def read(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return 'row'

    def untouched(self):
        return self.read.__wrapped__(self)


@pytest.fixture
def waits(monkeypatch):
    seen = []
    monkeypatch.setattr(retry_policy.time, 'sleep', seen.append)
    return seen


def test_a_lost_connection_is_tried_again_with_a_growing_wait(waits):
    store = Store([_lost(), _lost()])
    assert store.read() == 'row'
    assert store.calls == 3
    assert waits == pytest.approx([reconnect.DELAY, 2 * reconnect.DELAY])


def test_the_last_error_reaches_the_caller_as_it_was(waits):
    errors = [_lost() for _ in range(reconnect.ATTEMPTS)]
    store = Store(errors)
    with pytest.raises(sa_exc.OperationalError) as info:
        store.read()
    assert info.value is errors[-1]
    assert store.calls == reconnect.ATTEMPTS
    # NOTE: not chained to the policy's exception: the log shows the
    # database's error alone.
    assert not isinstance(info.value.__context__,
                          retry_policy.GaveUp)
    assert len(waits) == reconnect.ATTEMPTS - 1


def test_other_errors_are_not_retried(waits):
    store = Store([sa_exc.IntegrityError('INSERT', {}, ValueError('dup'))])
    with pytest.raises(sa_exc.IntegrityError):
        store.read()
    assert store.calls == 1 and waits == []


def test_not_retried_methods_are_left_alone():
    assert getattr(Store.read, 'reconnecting', False)
    assert not getattr(Store.untouched, 'reconnecting', False)
