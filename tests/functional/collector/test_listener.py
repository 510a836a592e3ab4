"""The listener against the real RabbitMQ (a virtual host of each test's
own) and the simulated cloud: events reach the model, events during a full
build are kept, a dropped broker connection makes the model rebuild-only
until a full build heals it, snapshots do not change under an audit."""

import datetime
import logging
import threading

import pytest

from decision_engine.api import engine_api
from decision_engine.collector import notifications
from tests import fresh_conf
from tests.fixtures import rabbit
from tests.fixtures.listener_engine import Engine
from tests.fixtures.listener_engine import Publisher
from tests.fixtures import waiting


pytestmark = pytest.mark.topology(
    hosts=6, instances=40, aggregates=2, azs=1, seed=3)


def _conf(vhost):
    conf = fresh_conf(host='engine-test')
    conf.set_override('transport_url', rabbit.url(vhost),
                      group='notifications')
    conf.set_override('retry_delay', 0.001, group='collector')
    return conf


@pytest.fixture
def engine(vhost, sim):
    made = Engine(_conf(vhost), sim)
    yield made
    made.stop()


@pytest.fixture
def publisher(vhost):
    made = Publisher(vhost)
    yield made
    made.close()


def _fed(engine):
    """Connected, first full build done: event-fed."""
    assert engine.builds.acquire(timeout=60)
    waiting.until(lambda: engine.listener.status().mode == 'event-fed')


def _some_instance(engine):
    model = engine.listener.snapshot()
    return sorted(model.instances.values(), key=lambda i: i.uuid)[0]


def _event_for(nova, inst, event_type, **changes):
    fields = dict(host=inst.host, state=inst.state, name=inst.name,
                  tenant=inst.project_id, locked=inst.locked,
                  metadata=inst.metadata,
                  flavor={'vcpus': inst.vcpus, 'memory_mb': inst.memory_mb,
                          'root_gb': inst.disk_gb,
                          'ephemeral_gb': inst.ephemeral_gb,
                          'swap': inst.swap_mb})
    fields.update(changes)
    return nova.instance(event_type, inst.uuid, **fields)


def test_events_reach_the_model_and_audits_get_it_without_a_build(
        engine, publisher, nova, sim):
    _fed(engine)
    inst = _some_instance(engine)
    builds = engine.collector.status().builds
    publisher.send(_event_for(nova, inst, 'instance.power_off.end',
                              state='stopped'))
    waiting.until(lambda: engine.listener.status().applied == 1)
    # An audit asking for a model at most 1 s old gets the event-fed one.
    model = engine.collector.get_model(max_age=1)
    assert model.get_instance(inst.uuid).state == 'stopped'
    assert engine.collector.status().builds == builds
    status = engine.collector.status().notifications
    assert status.mode == 'event-fed' and status.connected
    assert status.by_type['instance.power_off.end'] == {'applied': 1}
    assert status.lag_ms is not None and status.last_event_at is not None
    # What GET /v1/model shows of it.
    document = engine_api.jsonable(engine.collector.status())
    assert document['notifications']['mode'] == 'event-fed'
    assert document['notifications']['applied'] == 1
    # Unknown types are counted and ignored; malformed ones counted.
    publisher.send(('instance.snapshot.end', {}, None))
    publisher.send(('instance.power_on.end', {'nova_object.data': {}},
                    None))
    waiting.until(lambda: engine.listener.status().failed == 1)
    status = engine.listener.status()
    assert status.ignored == 1 and status.mode == 'event-fed'


def test_unknown_instance_is_fetched(engine, publisher, nova):
    _fed(engine)
    inst = _some_instance(engine)
    # The model lost it (as if it appeared after the build).
    engine.listener.live._model.remove_instance(inst.uuid)
    requests = engine.listener.fetcher.requests
    publisher.send(_event_for(nova, inst, 'instance.update'))
    waiting.until(lambda: engine.listener.status().applied == 1)
    got = engine.listener.snapshot().get_instance(inst.uuid)
    assert got == inst
    assert engine.listener.fetcher.requests == requests + 1


def test_events_during_a_full_build_are_neither_lost_nor_doubled(
        engine, publisher, nova, sim):
    _fed(engine)
    inst = _some_instance(engine)
    # Hold the next build in its first requests while events arrive.
    sim.add_fault('stall', service='compute', path='/os-hypervisors/detail')
    build = threading.Thread(target=engine.collector.refresh_model)
    build.start()
    sim.wait_in_flight(1)
    publisher.send(_event_for(nova, inst, 'instance.lock', locked=True))
    publisher.send(_event_for(nova, inst, 'instance.power_off.end',
                              state='stopped', locked=True))
    waiting.until(lambda: engine.listener.status().applied == 2)
    # The old model got them at once ...
    assert engine.listener.snapshot().get_instance(inst.uuid).state == \
        'stopped'
    sim.clear_faults()
    sim.release_stalls()
    build.join(60)
    # ... and the new build, which read the simulator's unchanged state,
    # got them replayed: nothing lost, nothing counted twice.
    got = engine.listener.snapshot().get_instance(inst.uuid)
    assert (got.state, got.locked) == ('stopped', True)
    assert engine.listener.status().applied == 2


def test_dropped_connection_means_rebuild_only_until_a_full_build(
        engine, publisher, nova, vhost, caplog):
    _fed(engine)
    caplog.set_level(logging.INFO, notifications.RABBIT_LOGGER)
    assert rabbit.close_connections(vhost) >= 1
    waiting.until(lambda: engine.listener.status().mode == 'rebuild-only')
    # Not fresh: an audit's request makes a build, not the live model.
    assert not engine.listener.fresh()
    # oslo.messaging reconnects; the reconnection asks for a full build
    # which makes the model event-fed again.
    assert engine.builds.acquire(timeout=60)
    waiting.until(lambda: engine.listener.status().mode == 'event-fed')
    status = engine.listener.status()
    assert status.gaps >= 1 and status.rebuilds_triggered >= 2
    inst = _some_instance(engine)
    publisher.send(_event_for(nova, inst, 'instance.pause.end',
                              state='paused'))
    waiting.until(lambda: engine.listener.snapshot().get_instance(
        inst.uuid).state == 'paused')


def test_snapshot_does_not_change_while_events_arrive(engine, publisher,
                                                      nova):
    _fed(engine)
    inst = _some_instance(engine)
    snapshot = engine.collector.get_model(max_age=60)
    before = snapshot.get_instance(inst.uuid).copy()
    for state in ('stopped', 'active', 'paused'):
        publisher.send(_event_for(nova, inst, 'instance.update',
                                  state=state))
    waiting.until(lambda: engine.listener.status().applied == 3)
    assert snapshot.get_instance(inst.uuid) == before
    assert engine.collector.get_model(max_age=60).get_instance(
        inst.uuid).state == 'paused'


def test_unknown_host_is_fetched(engine, publisher, nova):
    _fed(engine)
    model = engine.listener.live._model
    node = sorted(model.nodes.values(), key=lambda n: n.hostname)[0]
    for inst in model.instances_on(node.hostname):
        model.remove_instance(inst.uuid)
    model.remove_node(node.uuid)
    publisher.send(nova.service('service.update', node.hostname,
                                disabled=True, reason='fetched'))
    waiting.until(lambda: engine.listener.status().applied == 1)
    got = engine.listener.snapshot().get_node_by_hostname(node.hostname)
    assert (got.uuid, got.vcpus, got.memory_mb, got.aggregates,
            got.availability_zone) == (node.uuid, node.vcpus,
                                       node.memory_mb, node.aggregates,
                                       node.availability_zone)
    assert (got.status, got.disabled_reason) == ('disabled', 'fetched')


def test_late_deleted_update_of_an_unknown_instance_costs_no_request(
        engine, publisher, nova, sim):
    """D5: Nova's late instance.update (state deleted) after
    instance.delete.end: no GET /servers/{id} (answered 404)."""
    _fed(engine)
    gone = '5d0f1f7e-6b0a-4d7e-9d43-0a2b9c1f5e77'
    requests = engine.listener.fetcher.requests
    publisher.send(nova.instance('instance.update', gone, host=None,
                                 state='deleted'))
    waiting.until(lambda: engine.listener.status().stale == 1)
    assert engine.listener.fetcher.requests == requests
    assert engine.listener.status().by_type['instance.update'] == {
        'stale': 1}


def test_forced_down_cleared_brings_the_host_back_up(engine, publisher,
                                                     nova):
    """D3: PUT /os-services/{id} {"forced_down": false} (service.update
    with forced_down false, the service reporting): up again at once, not
    at the next full build."""
    _fed(engine)
    node = sorted(engine.listener.snapshot().nodes.values(),
                  key=lambda n: n.hostname)[0]
    assert node.state == 'up'
    builds = engine.collector.status().builds

    def state():
        return engine.listener.snapshot().get_node_by_hostname(
            node.hostname).state

    def update(forced_down):
        # NOTE: the publisher stamps the notification with the real time:
        # the service's last heartbeat is just before it.
        triple = nova.service('service.update', node.hostname,
                              forced_down=forced_down)
        triple[1]['nova_object.data']['last_seen_up'] = \
            datetime.datetime.now(datetime.timezone.utc).strftime(
                '%Y-%m-%dT%H:%M:%SZ')
        publisher.send(triple)

    update(True)
    waiting.until(lambda: state() == 'down')
    update(False)
    waiting.until(lambda: engine.listener.status().applied == 2)
    assert state() == 'up'
    assert engine.collector.status().builds == builds
