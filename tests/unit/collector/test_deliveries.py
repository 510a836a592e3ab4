"""tests/fixtures/deliveries.py: a copy the broker delivers again does not
stand for a notification still on its way (the broker-fault test's wait
counted deliveries, and compared its model an event early)."""

import pytest

from tests.fixtures import deliveries as deliveries_mod


class _Publisher:
    def __init__(self):
        self.sent = 0

    def send(self, publisher, event_type, payload, request_id=None):
        self.sent += 1
        return request_id or 'req-%d' % self.sent


class _Listener:
    def __init__(self):
        self.received = []

    def _receive(self, event_type, payload, metadata, context=None):
        self.received.append((event_type, context))


@pytest.fixture
def tracked(monkeypatch):
    listener = _Listener()
    deliveries = deliveries_mod.Deliveries(_Publisher())
    deliveries.attach(listener, monkeypatch)
    return deliveries, listener


def test_a_redelivered_copy_does_not_stand_for_a_missing_notification(
        tracked):
    deliveries, listener = tracked
    sent = [deliveries.send('nova-compute:c1', 'instance.power_off.end', {})
            for _ in range(3)]
    # The first two arrive, then the broker delivers the first again
    # (its acknowledgement was cut by a closed connection).
    for request_id in (sent[0], sent[1], sent[0]):
        listener._receive('instance.power_off.end', {}, {},
                          {'request_id': request_id})
    deliveries.published_all()
    assert len(listener.received) == 3          # passed through
    # As many deliveries as publications, but the third is on its way:
    # a wait on the count ends here, one early.
    assert deliveries.count_early_by == 1
    assert deliveries.missing() == [(sent[2], 'instance.power_off.end')]
    listener._receive('instance.power_off.end', {}, {},
                      {'request_id': sent[2]})
    assert deliveries.missing() == []
    assert deliveries.figures() == dict(published=3, received=3,
                                        redelivered=1, unknown=0)


def test_the_notifications_of_one_request_are_told_apart_by_type(tracked):
    deliveries, listener = tracked
    first = deliveries.send('nova-compute:c2',
                            'instance.live_migration_post_dest.end', {},
                            request_id='req-a')
    second = deliveries.send('nova-compute:c1',
                             'instance.live_migration_post.end', {},
                             request_id='req-a')
    assert first == second == 'req-a'
    listener._receive('instance.live_migration_post_dest.end', {}, {},
                      {'request_id': 'req-a'})
    listener._receive('instance.update', {}, {}, {'request_id': 'req-b'})
    deliveries.published_all()
    # Two deliveries for two publications, one of them another request's.
    assert deliveries.count_early_by == 1
    assert deliveries.missing() == [
        ('req-a', 'instance.live_migration_post.end')]
    assert deliveries.figures()['unknown'] == 1
