"""Each handled Nova event changes the model as Nova's state changed;
stale, duplicated and shuffled deliveries give the same model."""

import datetime
import random

import pytest

from decision_engine.collector import events
from decision_engine.collector import live as live_mod
from decision_engine.model import elements
from tests.fixtures import nova_events

A = '178b0921-8f85-4257-88b6-2e743b5a975c'
B = '2a6b7a1e-43c5-4d3a-9a3e-6e6a3c1f0b11'


def _model():
    model = elements.ComputeModel()
    for i, host in enumerate(('compute', 'host2', 'host3')):
        model.add_node(elements.ComputeNode(
            uuid='node-%d' % i, hostname=host, vcpus=16, memory_mb=32768,
            disk_gb=500, availability_zone='nova'))
    model.aggregates = {'agg-1': ('compute',)}
    model.nodes['node-0'].aggregates = ('agg-1',)
    model.availability_zones = {'nova': ('compute', 'host2', 'host3')}
    return model


def _apply(model, versions, triple):
    event = events.parse(*triple)
    if event is None:       # a type the model does not follow
        return events.IGNORED
    return events.apply(model, versions, event)


@pytest.fixture
def live():
    return _model(), events.Versions()


def test_create_then_every_state_event(live, nova):
    model, versions = live
    assert _apply(model, versions, nova.instance(
        'instance.create.end', A)) == events.APPLIED
    inst = model.get_instance(A)
    assert (inst.host, inst.state, inst.vcpus, inst.memory_mb,
            inst.disk_gb, inst.project_id, inst.name, inst.created) == (
        'compute', 'active', 1, 512, 1, '6f70656e737461636b20342065766572',
        'some-server', '2012-10-29T13:42:11Z')
    for event_type, state in (
            ('instance.power_off.end', 'stopped'),
            ('instance.power_on.end', 'active'),
            ('instance.shutdown.end', 'stopped'),
            ('instance.power_on.end', 'active'),
            ('instance.pause.end', 'paused'),
            ('instance.unpause.end', 'active'),
            ('instance.suspend.end', 'suspended'),
            ('instance.resume.end', 'active'),
            ('instance.rescue.end', 'rescued'),
            ('instance.unrescue.end', 'active'),
            ('instance.rebuild.end', 'active'),
            ('instance.shelve.end', 'shelved'),
            ('instance.update', 'shelved'),
            ('instance.soft_delete.end', 'soft-delete')):
        assert _apply(model, versions, nova.instance(
            event_type, A, state=state)) == events.APPLIED, event_type
        assert model.get_instance(A).state == state, event_type
        assert model.get_instance(A).host == 'compute'


def test_lock_unlock_and_update_fields(live, nova):
    model, versions = live
    _apply(model, versions, nova.instance('instance.create.end', A))
    _apply(model, versions, nova.instance('instance.lock', A, locked=True))
    assert model.get_instance(A).locked is True
    _apply(model, versions, nova.instance('instance.unlock', A))
    assert model.get_instance(A).locked is False
    _apply(model, versions, nova.instance('instance.update', A,
                                          name='renamed',
                                          metadata={'k': 'v'}))
    assert model.get_instance(A).name == 'renamed'
    assert model.get_instance(A).metadata == {'k': 'v'}


def test_instance_zone_follows_the_payload(live, nova):
    model, versions = live
    _apply(model, versions, nova.instance('instance.create.end', A))
    # Nova's InstancePayload carries the instance's zone (Nova's sample).
    assert model.get_instance(A).availability_zone == 'nova'
    event_type, payload, meta = nova.instance('instance.update', A,
                                              name='renamed')
    del payload['nova_object.data']['availability_zone']
    _apply(model, versions, (event_type, payload, meta))
    # A payload without the field keeps the zone the model knew.
    assert model.get_instance(A).name == 'renamed'
    assert model.get_instance(A).availability_zone == 'nova'


def test_server_groups(live, nova):
    model, versions = live
    G = '788608ec-ebdc-45c5-bc7f-e5f24ab92c80'
    assert _apply(model, versions, nova.server_group(
        'server_group.create', G, rules={'max_server_per_host': '3'})) \
        == events.APPLIED
    group = model.server_groups[G]
    assert (group.policy, group.members, group.max_server_per_host) == (
        'anti-affinity', (), 3)
    late = nova.server_group('server_group.add_member', G, members=[A])
    newest = nova.server_group('server_group.add_member', G,
                               members=[A, B])
    assert _apply(model, versions, newest) == events.APPLIED
    assert _apply(model, versions, late) == events.STALE
    assert model.server_groups[G].members == (A, B)
    # A payload 1.0 (policies only) is understood too.
    assert _apply(model, versions, nova.server_group(
        'server_group.create', B, policy='affinity', version='1.0')) \
        == events.APPLIED
    assert model.server_groups[B].policy == 'affinity'
    snapshot = model.snapshot()
    assert _apply(model, versions, nova.server_group(
        'server_group.delete', G)) == events.APPLIED
    assert G not in model.server_groups and G in snapshot.server_groups
    with pytest.raises(events.BadEvent, match='no known policy'):
        events.parse(*nova.server_group('server_group.create', G,
                                        policy='often'))
    with pytest.raises(events.BadEvent, match='max_server_per_host'):
        events.parse(*nova.server_group('server_group.create', G,
                                        rules={'max_server_per_host': 'x'}))


def test_moves(live, nova):
    model, versions = live
    _apply(model, versions, nova.instance('instance.create.end', A))
    # Live migration: only the destination's post_dest.end moves it.
    _apply(model, versions, nova.instance(
        'instance.live_migration_post.end', A, task_state='migrating'))
    assert model.get_instance(A).host == 'compute'
    _apply(model, versions, nova.instance(
        'instance.live_migration_post_dest.end', A, host='host2'))
    assert model.instances_on('host2')[0].uuid == A
    assert model.instances_on('compute') == []
    # A rollback leaves (puts) it on the source.
    _apply(model, versions, nova.instance(
        'instance.live_migration_rollback.end', A, host='host2'))
    assert model.get_instance(A).host == 'host2'
    # Resize confirmed: new host and new flavor.
    _apply(model, versions, nova.instance(
        'instance.resize_confirm.end', A, host='host3',
        flavor={'vcpus': 4, 'memory_mb': 2048, 'root_gb': 20}))
    inst = model.get_instance(A)
    assert (inst.host, inst.vcpus, inst.memory_mb, inst.disk_gb) == (
        'host3', 4, 2048, 20)
    # Shelve offload: on no host, so not in the model; unshelve: back.
    _apply(model, versions, nova.instance(
        'instance.shelve_offload.end', A, host=None,
        state='shelved_offloaded'))
    assert model.get_instance(A) is None
    _apply(model, versions, nova.instance('instance.unshelve.end', A,
                                          host='host2'))
    assert model.get_instance(A).host == 'host2'
    _apply(model, versions, nova.instance('instance.delete.end', A,
                                          state='deleted'))
    assert model.get_instance(A) is None
    assert model.instances_on('host2') == []


def test_source_update_after_migration_does_not_move_back(live, nova):
    """Watcher's wrong destinations: the source compute's later
    instance.update still names the source host."""
    model, versions = live
    _apply(model, versions, nova.instance('instance.create.end', A))
    _apply(model, versions, nova.instance(
        'instance.live_migration_post_dest.end', A, host='host2'))
    assert _apply(model, versions, nova.instance(
        'instance.update', A, host='compute')) == events.APPLIED
    assert model.get_instance(A).host == 'host2'


def test_stale_and_duplicate_are_dropped(live, nova):
    model, versions = live
    create = nova.instance('instance.create.end', A)
    off = nova.instance('instance.power_off.end', A, state='stopped')
    on = nova.instance('instance.power_on.end', A)
    for triple in (create, on):
        _apply(model, versions, triple)
    assert _apply(model, versions, off) == events.STALE
    assert _apply(model, versions, on) == events.STALE
    assert model.get_instance(A).state == 'active'
    delete = nova.instance('instance.delete.end', A)
    _apply(model, versions, delete)
    # A late event never brings a deleted instance back.
    assert _apply(model, versions, create) == events.STALE
    assert model.get_instance(A) is None


def test_late_deleted_update_costs_no_fetch(live, nova):
    """D5: Nova sends instance.update with state deleted seconds to
    minutes after instance.delete.end; an instance the model does not know
    is not fetched (Nova would answer 404)."""
    model, versions = live
    _apply(model, versions, nova.instance('instance.create.end', A))
    _apply(model, versions, nova.instance('instance.delete.end', A,
                                          state='deleted'))
    assert _apply(model, versions, nova.instance(
        'instance.update', A, state='deleted')) == events.STALE
    # Never in the model (deleted before the last full build).
    assert _apply(model, versions, nova.instance(
        'instance.update', B, state='deleted')) == events.STALE
    assert model.get_instance(A) is None and model.get_instance(B) is None
    # A deleted update of an instance the model has removes it.
    _apply(model, versions, nova.instance('instance.create.end', B))
    assert _apply(model, versions, nova.instance(
        'instance.update', B, state='deleted')) == events.APPLIED
    assert model.get_instance(B) is None


def test_unknown_instance_or_host_asks_for_a_fetch(live, nova):
    model, versions = live
    assert _apply(model, versions, nova.instance(
        'instance.power_off.end', B)) == (events.NEEDS_FETCH, 'instance', B)
    assert _apply(model, versions, nova.instance(
        'instance.create.end', B, host='new-host')) == (
        events.NEEDS_FETCH, 'host', 'new-host')
    assert _apply(model, versions, nova.service(
        'service.update', 'new-host')) == (
        events.NEEDS_FETCH, 'host', 'new-host')


def test_services(live, nova):
    model, versions = live
    _apply(model, versions, nova.service('service.update', 'host2',
                                         disabled=True, reason='maint'))
    node = model.get_node_by_hostname('host2')
    assert (node.status, node.disabled_reason) == ('disabled', 'maint')
    _apply(model, versions, nova.service('service.update', 'host2',
                                         forced_down=True))
    node = model.get_node_by_hostname('host2')
    assert (node.status, node.state) == ('enabled', 'down')
    # D3: forced_down cleared: up again, as Nova's API then shows a
    # service whose last heartbeat is recent ...
    _apply(model, versions, nova.service('service.update', 'host2'))
    assert model.get_node_by_hostname('host2').state == 'up'
    # ... and down when it has not reported for longer than Nova's
    # service_down_time.
    _apply(model, versions, nova.service('service.update', 'host3',
                                         forced_down=True, last_seen_ago=61))
    assert _apply(model, versions, nova.service(
        'service.update', 'host3', last_seen_ago=61)) == events.APPLIED
    assert model.get_node_by_hostname('host3').state == 'down'
    assert _apply(model, versions, nova.service(
        'service.update', 'host2', binary='nova-scheduler')) == \
        events.IGNORED
    _apply(model, versions, nova.instance('instance.create.end', A,
                                          host='host3'))
    _apply(model, versions, nova.service('service.delete', 'host3'))
    assert model.get_node_by_hostname('host3') is None
    assert model.get_instance(A) is None


def test_aggregates(live, nova):
    model, versions = live
    _apply(model, versions, nova.aggregate('aggregate.create.end', 'agg-2'))
    assert model.aggregates['agg-2'] == ()
    _apply(model, versions, nova.aggregate(
        'aggregate.add_host.end', 'agg-2', ['compute', 'host2'],
        zone='az-2'))
    assert model.aggregates['agg-2'] == ('compute', 'host2')
    assert model.get_node_by_hostname('compute').aggregates == (
        'agg-1', 'agg-2')
    assert model.get_node_by_hostname('host2').availability_zone == 'az-2'
    assert model.availability_zones['az-2'] == ('compute', 'host2')
    _apply(model, versions, nova.aggregate(
        'aggregate.remove_host.end', 'agg-2', ['host2']))
    assert model.get_node_by_hostname('compute').aggregates == ('agg-1',)
    _apply(model, versions, nova.aggregate('aggregate.delete.end', 'agg-2'))
    assert 'agg-2' not in model.aggregates
    assert model.get_node_by_hostname('host2').aggregates == ()


def test_unknown_type_and_malformed_payloads(nova):
    assert events.parse('instance.snapshot.end', {}, {}) is None
    etype, payload, meta = nova.instance('instance.power_off.end', A)
    del payload['nova_object.data']['flavor']
    with pytest.raises(events.BadEvent, match='flavor'):
        events.parse(etype, payload, meta)
    with pytest.raises(events.BadEvent, match='envelope'):
        events.parse('service.update', {'host': 'x'}, meta)
    with pytest.raises(events.BadEvent, match='ISO 8601'):
        events.parse(etype, nova.instance(etype, A)[1],
                     {'timestamp': 'yesterday'})


def test_the_request_id_of_the_context_is_kept(nova):
    triple = nova.instance('instance.power_off.end', A)
    event = events.parse(*triple, {'request_id': 'req-1f0c-ab'})
    assert event.request_id == 'req-1f0c-ab'
    assert events.parse(*triple).request_id is None
    for context in ({}, None, {'request_id': 7}, {'request_id': ''},
                    {'request_id': 'req-1\nforged line'},
                    {'request_id': 'r' * 129}):
        assert events.parse(*triple, context).request_id is None, context


def _history(nova):
    """Events of three instances, two hosts and an aggregate."""
    c = 'c5e9a2f0-5d0b-4c35-9d59-0a3b8e1e7f01'
    return [
        nova.instance('instance.create.end', A),
        nova.instance('instance.create.end', B, host='host2'),
        nova.instance('instance.power_off.end', A, state='stopped'),
        nova.instance('instance.live_migration_post_dest.end', B,
                      host='host3'),
        nova.instance('instance.update', B, host='host2', name='b2'),
        nova.service('service.update', 'host2', disabled=True,
                     reason='x'),
        nova.instance('instance.create.end', c, host='host2'),
        nova.instance('instance.resize_confirm.end', c, host='compute',
                      flavor={'vcpus': 2}),
        nova.aggregate('aggregate.create.end', 'agg-2'),
        nova.aggregate('aggregate.add_host.end', 'agg-2', ['host3']),
        nova.service('service.update', 'host2'),
        nova.instance('instance.power_on.end', A),
        nova.instance('instance.lock', c, host='compute', locked=True,
                      flavor={'vcpus': 2}),
        nova.instance('instance.delete.end', B),
        nova.aggregate('aggregate.add_host.end', 'agg-2',
                       ['host3', 'compute']),
    ]


def _deliver(live_model, triple, truth):
    """Apply one delivery as the listener does, a targeted fetch
    answering from ``truth`` (Nova's state now)."""
    event = events.parse(*triple)
    if event is None:
        return
    outcome = live_model.apply(event)
    if isinstance(outcome, tuple):
        _, kind, name = outcome
        assert kind == 'instance'
        found = truth.get_instance(name)
        if found is not None:
            live_model.apply(event, fetched=('instance', found.copy()))


@pytest.mark.parametrize('seed', range(8))
def test_shuffled_and_duplicated_deliveries_give_the_same_model(
        nova, seed):
    history = _history(nova)
    in_order = _model()
    versions = events.Versions()
    for triple in history:
        assert not isinstance(_apply(in_order, versions, triple), tuple)
    rng = random.Random(seed)
    deliveries = history + rng.sample(history, 5)
    rng.shuffle(deliveries)
    shuffled = live_mod.LiveModel()
    shuffled.finish_build(_model())
    for triple in deliveries:
        _deliver(shuffled, triple, in_order)
    assert shuffled.snapshot() == in_order
    assert {u: i.host for u, i in in_order.instances.items()} == {
        A: 'compute', 'c5e9a2f0-5d0b-4c35-9d59-0a3b8e1e7f01': 'compute'}


def test_rabbit_driver_logger_is_the_one_watched():
    """NOTE: the listener learns of a lost and regained connection only
    from oslo.messaging's RabbitMQ driver log; fail loudly if its logger
    or messages change (the listener would never see a gap)."""
    import inspect

    from oslo_messaging._drivers import impl_rabbit

    from decision_engine.collector import notifications

    assert impl_rabbit.LOG.logger.name == notifications.RABBIT_LOGGER
    source = inspect.getsource(impl_rabbit)
    assert 'Reconnected to AMQP server' in source
    assert 'is unreachable' in source


def test_a_redelivered_event_does_not_roll_a_new_full_build_back(nova):
    """The broker delivers again what was not acknowledged when a
    connection closed: a copy of an event applied before a full build began
    arrives after the build and must stay stale."""
    live_model = live_mod.LiveModel()
    live_model.finish_build(_model())
    created = nova.instance('instance.create.end', A)
    off = nova.instance('instance.power_off.end', A, state='stopped')
    on = nova.instance('instance.power_on.end', A, state='active')
    for triple in (created, off, on):
        assert live_model.apply(events.parse(*triple)) == events.APPLIED
    live_model.begin_build()
    built = _model()
    built.add_instance(live_model.snapshot().get_instance(A).copy())
    live_model.finish_build(built)
    assert live_model.apply(events.parse(*off)) == events.STALE
    assert live_model.snapshot().get_instance(A).state == 'active'
    # An event held during a build is still replayed onto the new model.
    live_model.begin_build()
    paused = nova.instance('instance.pause.end', A, state='paused')
    assert live_model.apply(events.parse(*paused)) == events.APPLIED
    rebuilt = _model()
    rebuilt.add_instance(built.get_instance(A).copy())
    live_model.finish_build(rebuilt)
    assert live_model.snapshot().get_instance(A).state == 'paused'


def test_a_host_leaving_its_zone_aggregate_goes_back_to_the_default_zone(
        live, nova):
    """Nova (os-services) puts a host in no zone aggregate in its
    ``default_availability_zone``; a host still in another aggregate of
    the same zone keeps it."""
    model, versions = live
    model.default_zone = 'az-default'
    _apply(model, versions, nova.aggregate(
        'aggregate.add_host.end', 'agg-z', ['compute', 'host2'], zone='z1'))
    _apply(model, versions, nova.aggregate(
        'aggregate.add_host.end', 'agg-z2', ['host2'], zone='z1'))
    assert model.availability_zones['z1'] == ('compute', 'host2')
    assert _apply(model, versions, nova.aggregate(
        'aggregate.remove_host.end', 'agg-z', ['host2'], zone='z1')) == \
        events.APPLIED
    assert model.get_node_by_hostname('compute').availability_zone == \
        'az-default'
    assert model.get_node_by_hostname('compute').aggregates == ('agg-1',)
    assert model.availability_zones['z1'] == ('host2',)
    _apply(model, versions, nova.aggregate(
        'aggregate.remove_host.end', 'agg-z2', [], zone='z1'))
    assert model.get_node_by_hostname('host2').availability_zone == 'z1'
    _apply(model, versions, nova.aggregate(
        'aggregate.remove_host.end', 'agg-z', [], zone='z1'))
    assert model.get_node_by_hostname('host2').availability_zone == \
        'az-default'
    assert 'z1' not in model.availability_zones
    assert model.availability_zones['az-default'] == ('compute', 'host2')


def test_a_zone_set_changed_or_removed_on_an_aggregate_with_hosts(
        live, nova):
    """``aggregate.update_metadata.end`` (Nova's whole aggregate after
    ``set_metadata`` or a ``PUT`` of its zone) moves its hosts."""
    model, versions = live
    _apply(model, versions, nova.instance('instance.create.end', A,
                                          host='host3'))
    _apply(model, versions, nova.aggregate(
        'aggregate.add_host.end', 'agg-1', ['compute', 'host3']))
    assert model.get_node_by_hostname('host3').availability_zone == 'nova'
    assert _apply(model, versions, nova.aggregate(
        'aggregate.update_metadata.end', 'agg-1', ['compute', 'host3'],
        zone='later')) == events.APPLIED
    assert model.availability_zones['later'] == ('compute', 'host3')
    assert model.aggregate_zones == {'agg-1': 'later'}
    assert model.get_node_by_hostname('host3').availability_zone == 'later'
    # As Nova's API shows it (before 2.96): the zone of its host now.
    assert model.get_instance(A).availability_zone == 'later'
    _apply(model, versions, nova.aggregate(
        'aggregate.update_metadata.end', 'agg-1', ['compute', 'host3'],
        zone='renamed'))
    assert set(model.availability_zones) == {'nova', 'renamed'}
    # Renamed (update_prop: the aggregate's uuid, a new name).
    uuid = model.aggregate_uuids['agg-1']
    _apply(model, versions, nova.aggregate(
        'aggregate.update_prop.end', 'agg-one', ['compute', 'host3'],
        zone='renamed', uuid=uuid))
    assert model.aggregates == {'agg-one': ('compute', 'host3')}
    assert model.aggregate_uuids == {'agg-one': uuid}
    assert model.get_node_by_hostname('host3').aggregates == ('agg-one',)
    assert model.availability_zones['renamed'] == ('compute', 'host3')
    _apply(model, versions, nova.aggregate(
        'aggregate.update_metadata.end', 'agg-one', ['compute', 'host3'],
        uuid=uuid))
    assert model.aggregate_zones == {}
    assert model.availability_zones == {
        'nova': ('compute', 'host2', 'host3')}
    # An older copy changes nothing.
    old = nova.aggregate('aggregate.update_metadata.end', 'agg-one',
                         ['compute', 'host3'], zone='old', uuid=uuid)
    _apply(model, versions, nova.aggregate(
        'aggregate.update_metadata.end', 'agg-one', ['compute', 'host3'],
        zone='new', uuid=uuid))
    assert _apply(model, versions, old) == events.STALE
    assert model.get_node_by_hostname('compute').availability_zone == 'new'


def test_events_older_than_the_build_are_not_replayed_onto_it(nova):
    """A listener pool's queue keeps what Nova sent while the engine was
    away, and delivers it during or after the engine's first build: what
    was sent before the build began is in the build, and an old service
    event must not bring back up a host the build saw down (its compute
    stopped reporting: Nova sends nothing for that)."""
    now = [1000.0]
    live_model = live_mod.LiveModel(clock=lambda: now[0],
                                    clock_skew=lambda: 2.0)
    enabled = events.parse(*nova.service('service.update', 'host2'))
    now[0] = enabled.timestamp + 5.0
    live_model.begin_build()
    assert live_model.apply(enabled) == events.STALE    # no model yet
    built = _model()
    node = built.get_node_by_hostname('host2').copy()
    node.state = 'down'
    built.add_node(node)
    live_model.finish_build(built)
    assert live_model.snapshot().get_node_by_hostname('host2').state == \
        'down'
    # Delivered after the build: still older than it.
    assert live_model.apply(enabled) == events.STALE
    assert live_model.snapshot().get_node_by_hostname('host2').state == \
        'down'
    # Within the clock skew of the build's start: applied as before.
    later = nova_events.Nova(start=datetime.datetime.fromtimestamp(
        now[0] + 60, datetime.timezone.utc).replace(tzinfo=None))
    recent = events.parse(*later.service('service.update', 'host3',
                                         disabled=True))
    now[0] = recent.timestamp + 1.0
    live_model.begin_build()
    live_model.apply(recent)
    live_model.finish_build(_model())
    assert live_model.snapshot().get_node_by_hostname('host3').status == \
        'disabled'
    assert live_model.status().stale == 2
