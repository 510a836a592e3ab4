"""The request id Nova sends each notification with reaches the event and
the listener's warnings about it (so a warning can be matched with Nova's
logs)."""

import logging

from decision_engine.collector import notifications
from decision_engine.concurrency.pool import WorkerPool
from tests import fresh_conf

A = '178b0921-8f85-4257-88b6-2e743b5a975c'


def test_a_malformed_notification_is_logged_with_its_request_id(
        nova, caplog):
    pool = WorkerPool(2)
    listener = notifications.NotificationListener(fresh_conf(), pool)
    endpoint = notifications._Endpoint(listener._receive)
    event_type, payload, metadata = nova.instance('instance.power_off.end',
                                                  A)
    del payload['nova_object.data']['flavor']
    caplog.set_level(logging.WARNING, 'decision_engine.collector')
    try:
        # NOTE: what oslo.messaging's dispatcher calls: the context is a
        # dict, Nova's request context as sent.
        endpoint.info({'request_id': 'req-5e1f'}, 'nova-compute:compute',
                      event_type, payload, metadata)
        endpoint.info({}, 'nova-compute:compute', event_type, payload,
                      metadata)
    finally:
        pool.shutdown(timeout=10)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith('Malformed instance.power_off.end '
                               'notification ignored (request req-5e1f): ')
    assert lines[1].startswith('Malformed instance.power_off.end '
                               'notification ignored: ')
    assert listener.status().failed == 2
