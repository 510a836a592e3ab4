"""A late ``instance.update`` (state ``deleted``) that Nova sends after a
server's ``instance.delete.end`` costs the engine no ``GET
/servers/{id}`` (issue 23, D5).

On the test bed the nova-compute that ran the server sends that update
when its pending-deletes periodic task (``[DEFAULT]
instance_delete_interval``, 300 s by default, 15 s on the test bed)
marks the deleted server cleaned: seconds to five minutes after the
delete (with the fake driver every deleted server gets one). The test
waits for it, then counts the engine's requests for the server in a
recording proxy in front of nova-api (``[nova] endpoint_override``).
"""

import pytest

from decision_engine.collector import notifications
from tests.fixtures import figures
from tests.fixtures import realcloud_live as live
from tests.fixtures.recording_proxy import RecordingProxy
from tests.fixtures.waiting import until

#: the compute's pending-deletes period (Nova's default) and a margin.
LATE_GUARD = 330


@pytest.fixture
def received(monkeypatch):
    """``(event type, instance uuid, state)`` of every notification the
    engine's listener receives, in arrival order."""
    seen = []
    receive = notifications.NotificationListener._receive

    def recording(self, event_type, payload, metadata, *args, **kwargs):
        data = (payload or {}).get('nova_object.data') or {}
        seen.append((event_type, data.get('uuid'), data.get('state')))
        return receive(self, event_type, payload, metadata, *args, **kwargs)
    monkeypatch.setattr(notifications.NotificationListener, '_receive',
                        recording)
    return seen


@pytest.fixture
def proxied(tmp_path, testbed, cloud, received):
    """An engine whose every request to Nova goes through a recording
    proxy, and the proxy."""
    cloud.delete_all_servers()
    proxy = RecordingProxy(cloud.nova)
    engine = live.LiveEngine(tmp_path, testbed, options=(
        '[nova]\nendpoint_override = %s%s\n' % (
            proxy.url, cloud.nova[len(cloud.nova.split('/v2.1')[0]):])))
    engine.start()
    yield engine, proxy
    assert engine.stop() == []
    proxy.stop()
    cloud.delete_all_servers()


def test_late_deleted_update_costs_no_request(proxied, received, cloud):
    engine, proxy = proxied
    # The override holds: the engine's build went through the proxy.
    assert proxy.count('GET', '/v2.1/os-hypervisors/detail') >= 1, \
        proxy.requests
    flavor = cloud.flavor('rc-late', 1, 256, 1)
    server = cloud.boot('late-1', flavor, 'compute-2')
    cloud.wait_status(server)
    live.settled(engine, cloud, 'the boot in the model')
    path = '/v2.1/servers/%s' % server
    # NOTE: the updates Nova sends while the server builds, before its
    # instance.create.end, cost a GET each (the model does not know the
    # server yet): not what this test is about.
    booting = proxy.count('GET', path)
    cloud.compute('DELETE', '/servers/%s' % server)
    # NOTE: an update with state deleted may take the server out of the
    # model before its instance.delete.end arrives: wait for both.
    until(lambda: server not in engine.model().instances and (
        'instance.delete.end', server, 'deleted') in received,
        'the delete in the model', timeout=120, interval=0.2)
    ended = received.index(('instance.delete.end', server, 'deleted'))
    assert engine.manager.listener.wait_idle(timeout=60)
    deleted = proxy.count('GET', path)

    def late_update():
        return ('instance.update', server, 'deleted') in received[ended:]
    until(late_update, 'a late instance.update (deleted) of %s' % server,
          timeout=LATE_GUARD, interval=0.5)
    assert engine.manager.listener.wait_idle(timeout=60)
    assert live.model_view(engine.model())['servers'] == {}
    figures.record('realcloud/late-deleted-update',
                   boot_gets=booting, delete_gets=deleted - booting,
                   late_update_gets=proxy.count('GET', path) - deleted)
    assert proxy.count('GET', path) == deleted, [
        r for r in proxy.requests if server in r[1]]
