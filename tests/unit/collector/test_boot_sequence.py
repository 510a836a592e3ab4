"""A server booted while the engine follows Nova's notifications ends in
the model as Nova shows it (issue 23: one stayed ``building``).

Nova 34 sends, for one boot: nova-conductor's ``instance.update`` for the
server it has just created (never saved yet: its payload has no
``updated_at``, and no host), then the compute's ``instance.update``
events (task states, the host it claimed) and ``instance.create.end``,
whose payloads carry ``updated_at`` cut to the second (oslo.versionedobjects
writes payload times as ``%Y-%m-%dT%H:%M:%SZ``). The conductor's event is
about a server the model lacks: the listener fetches it (``GET
/servers/{id}``), and under load that answer already shows the claimed
host and ``building``. The order of the fetch and the events is played
here step by step through the listener's own handler.
"""

import datetime

import pytest

from decision_engine.collector import events
from decision_engine.collector import notifications
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.model import elements
from tests import fresh_conf
from tests.fixtures import nova_events

A = '5a0c1d3e-6f7b-4c2d-9e8f-0a1b2c3d4e5f'


class _Nova34:
    """What GET /servers/{id} answers (the server as Nova has it at the
    time of the fetch); the only stand-in: Nova cannot run here."""

    def __init__(self):
        self.server = None
        self.gets = 0

    def instance(self, uuid):
        self.gets += 1
        assert uuid == self.server.uuid
        return self.server.copy(), self.server.host

    def host(self, hostname):       # every host of the test is known
        raise AssertionError('unexpected host fetch of %s' % hostname)


def _model():
    model = elements.ComputeModel()
    model.add_node(elements.ComputeNode(
        uuid='node-1', hostname='compute-2', vcpus=16, memory_mb=32768,
        disk_gb=500, availability_zone='nova'))
    model.availability_zones = {'nova': ('compute-2',)}
    return model


@pytest.fixture
def listener():
    pool = WorkerPool(2)
    made = notifications.NotificationListener(fresh_conf(), pool)
    made.live.connected = True
    made.live.begin_build()
    made.live.finish_build(_model())
    made.fetcher = _Nova34()
    yield made
    pool.shutdown(timeout=10)


def _nova_at(fraction):
    """Nova's notifier, its next event stamped ``fraction`` of a second
    into a whole second an hour from now (after any build's start)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    second = now.replace(microsecond=0) + datetime.timedelta(hours=1)
    start = second + datetime.timedelta(seconds=fraction - 0.01)
    return nova_events.Nova(start=start)


def _conductor_update(nova):
    """nova-conductor's instance.update of a server just created."""
    event_type, payload, metadata = nova.instance(
        'instance.update', A, host=None, state='building',
        task_state='scheduling')
    payload['nova_object.data']['updated_at'] = None
    return events.parse(event_type, payload, metadata)


def _compute_events(nova):
    """What the compute sends next for the boot, in order."""
    return [events.parse(*triple) for triple in (
        nova.instance('instance.update', A, host='compute-2',
                      state='building', task_state='spawning'),
        nova.instance('instance.update', A, host='compute-2',
                      state='active'),
        nova.instance('instance.create.end', A, host='compute-2',
                      state='active'))]


def _claimed(event):
    """The server as GET /servers/{id} shows it once the compute claimed
    it: on its host, building."""
    fields, _ = events._instance_fields(event.data)
    return elements.Instance(host='compute-2', **fields)


@pytest.mark.parametrize('fraction', [0.05, 0.5, 0.9])
def test_a_boot_finished_within_the_conductors_second_ends_active(
        listener, fraction):
    nova = _nova_at(fraction)
    conductor = _conductor_update(nova)
    later = _compute_events(nova)
    # The whole boot within one wall-clock second, as on an idle test bed.
    assert {int(e.timestamp) for e in [conductor] + later} == \
        {int(conductor.timestamp)}
    listener.fetcher.server = _claimed(later[0])

    listener._handle(conductor)
    assert listener.fetcher.gets == 1
    model = listener.snapshot()
    assert model.get_instance(A).state == 'building'
    for event in later:
        listener._handle(event)

    instance = listener.snapshot().get_instance(A)
    assert (instance.state, instance.host) == ('active', 'compute-2')
    status = listener.status()
    assert (status.applied, status.stale, status.failed) == (4, 0, 0)


def test_any_delivery_order_of_the_boot_gives_the_active_server(listener):
    """Versions, not arrival, decide: the conductor's event delivered
    last (after the compute's) is older than all of them."""
    nova = _nova_at(0.5)
    conductor = _conductor_update(nova)
    later = _compute_events(nova)
    for event in [later[2], later[0], conductor, later[1]]:
        listener._handle(event)
    instance = listener.snapshot().get_instance(A)
    assert (instance.state, instance.host) == ('active', 'compute-2')
    assert listener.fetcher.gets == 0
    assert listener.status().stale == 3


def test_a_payload_without_updated_at_is_versioned_to_the_second(nova):
    event_type, payload, metadata = nova.instance(
        'instance.update', A, host=None, state='building')
    payload['nova_object.data']['updated_at'] = None
    event = events.parse(event_type, payload, metadata)
    assert event.version == (float(int(event.timestamp)), event.timestamp)
    # With a payload updated_at, that comes first (Nova's, to the second).
    timed = events.parse(*nova.instance('instance.update', A))
    assert timed.version[0] == float(int(timed.timestamp))
