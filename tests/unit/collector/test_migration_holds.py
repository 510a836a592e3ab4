"""D2: with Placement's usage, what moves hold follows Nova's events.

Every step checks each host's usage against what Placement holds then
(Nova 34: the old allocation on the source under the migration, the new
one on the destination under the instance, from scheduling to confirm,
post or rollback)."""

import pytest

from decision_engine.collector import events
from decision_engine.collector import live as live_mod
from decision_engine.model import elements

A = '178b0921-8f85-4257-88b6-2e743b5a975c'
M = '42b9d1b6-64a6-4f0e-a5b1-3f1b0a7c9d21'     # a migration's uuid

#: the fixture's flavor (1 vCPU, 512 MiB, 1 GiB) and a bigger one.
OLD = {'VCPU': 1, 'MEMORY_MB': 512, 'DISK_GB': 1}
NEW_FLAVOR = {'vcpus': 2, 'memory_mb': 2048, 'root_gb': 20}
NEW = {'VCPU': 2, 'MEMORY_MB': 2048, 'DISK_GB': 20}
NOTHING = {}


def _model():
    model = elements.ComputeModel()
    model.usage_source = 'placement'
    for i, host in enumerate(('compute', 'host2', 'host3')):
        model.add_node(elements.ComputeNode(
            uuid='node-%d' % i, hostname=host, vcpus=16, memory_mb=32768,
            disk_gb=500))
    return model


@pytest.fixture
def cloud(nova):
    model, versions = _model(), events.Versions()

    def send(event_type, publisher, flavor=None, new_flavor=None,
             **fields):
        event_type, payload, metadata = nova.instance(
            event_type, A, flavor=flavor, new_flavor=new_flavor, **fields)
        event = events.parse(event_type, payload, metadata,
                             publisher_id='nova-compute:%s' % publisher)
        return events.apply(model, versions, event)

    send('instance.create.end', 'compute')
    return model, versions, send


def usage(model):
    return {h: model.usage(h) for h in ('compute', 'host2', 'host3')}


def test_resize_confirmed(cloud):
    model, _, send = cloud
    assert usage(model)['compute'] == OLD
    # Scheduled: the destination claims the new flavor.
    assert send('instance.resize_prep.end', 'host2', host='compute',
                new_flavor=NEW_FLAVOR, task_state='resize_prep') == \
        events.APPLIED
    assert usage(model) == {'compute': OLD, 'host2': NEW, 'host3': NOTHING}
    # Updates in between change nothing of it.
    send('instance.update', 'compute', host='compute',
         task_state='resize_migrating')
    assert usage(model) == {'compute': OLD, 'host2': NEW, 'host3': NOTHING}
    # On the destination: the source keeps the old allocation (the
    # migration's) until the resize is confirmed.
    send('instance.resize_finish.end', 'host2', host='host2',
         state='resized', flavor=NEW_FLAVOR)
    assert model.get_instance(A).host == 'host2'
    assert usage(model) == {'compute': OLD, 'host2': NEW, 'host3': NOTHING}
    assert model.get_node_by_hostname('compute').held == OLD
    send('instance.update', 'compute', host='compute', state='resized',
         flavor=NEW_FLAVOR)
    assert usage(model) == {'compute': OLD, 'host2': NEW, 'host3': NOTHING}
    send('instance.resize_confirm.end', 'compute', host='host2',
         flavor=NEW_FLAVOR)
    assert usage(model) == {'compute': NOTHING, 'host2': NEW,
                            'host3': NOTHING}
    assert model.held_by == {}


def test_rescheduled_resize_drops_the_first_destination_s_claim(cloud):
    model, _, send = cloud
    send('instance.resize_prep.end', 'host2', host='compute',
         new_flavor=NEW_FLAVOR)
    # host2 failed its claim; Nova reverted it and scheduled host3.
    send('instance.resize_prep.end', 'host3', host='compute',
         new_flavor=NEW_FLAVOR)
    assert usage(model) == {'compute': OLD, 'host2': NOTHING, 'host3': NEW}
    send('instance.resize_finish.end', 'host3', host='host3',
         state='resized', flavor=NEW_FLAVOR)
    assert usage(model) == {'compute': OLD, 'host2': NOTHING, 'host3': NEW}


def test_resize_reverted(cloud):
    model, _, send = cloud
    send('instance.resize_prep.end', 'host2', host='compute',
         new_flavor=NEW_FLAVOR)
    send('instance.resize_finish.end', 'host2', host='host2',
         state='resized', flavor=NEW_FLAVOR)
    send('instance.resize_revert.end', 'compute', host='compute')
    assert model.get_instance(A).host == 'compute'
    assert usage(model) == {'compute': OLD, 'host2': NOTHING,
                            'host3': NOTHING}
    assert model.held_by == {}


def test_resize_on_the_same_host(cloud):
    model, _, send = cloud
    send('instance.resize_prep.end', 'compute', host='compute',
         new_flavor=NEW_FLAVOR)
    both = {rc: OLD[rc] + NEW[rc] for rc in OLD}
    assert usage(model)['compute'] == both
    send('instance.resize_finish.end', 'compute', host='compute',
         state='resized', flavor=NEW_FLAVOR)
    assert usage(model)['compute'] == both
    send('instance.resize_confirm.end', 'compute', host='compute',
         flavor=NEW_FLAVOR)
    assert usage(model)['compute'] == NEW


def test_live_migration_and_its_rollback(cloud):
    model, _, send = cloud
    send('instance.live_migration_pre.end', 'host2', host='compute',
         task_state='migrating')
    assert usage(model) == {'compute': OLD, 'host2': OLD, 'host3': NOTHING}
    send('instance.live_migration_rollback.end', 'compute', host='compute')
    assert usage(model) == {'compute': OLD, 'host2': NOTHING,
                            'host3': NOTHING}
    send('instance.live_migration_pre.end', 'host3', host='compute',
         task_state='migrating')
    send('instance.live_migration_post_dest.end', 'host3', host='host3')
    assert usage(model) == {'compute': OLD, 'host2': NOTHING, 'host3': OLD}
    # The source's post.end: Nova deletes the migration's allocation.
    send('instance.live_migration_post.end', 'compute', host='compute',
         task_state='migrating')
    assert model.get_instance(A).host == 'host3'
    assert usage(model) == {'compute': NOTHING, 'host2': NOTHING,
                            'host3': OLD}


def test_evacuation_leaves_the_allocation_on_the_failed_source(
        cloud, nova):
    model, versions, send = cloud
    # Sent by the API before it starts: the instance is on its source.
    evacuate = nova.instance('instance.evacuate', A, host='compute',
                             task_state='rebuilding')
    events.apply(model, versions, events.parse(*evacuate,
                                               publisher_id='nova-api:api'))
    assert usage(model) == {'compute': OLD, 'host2': NOTHING,
                            'host3': NOTHING}
    # The destination's rebuild puts it there.
    send('instance.rebuild.end', 'host2', host='host2')
    assert model.get_instance(A).host == 'host2'
    assert usage(model) == {'compute': OLD, 'host2': OLD, 'host3': NOTHING}
    # Deleted: nothing of it is held anywhere.
    send('instance.delete.end', 'host2', host='host2', state='deleted')
    assert usage(model) == {'compute': NOTHING, 'host2': NOTHING,
                            'host3': NOTHING}


def test_duplicates_and_late_copies_change_nothing(cloud):
    model, _, send = cloud
    prep = dict(host='compute', new_flavor=NEW_FLAVOR)
    send('instance.resize_prep.end', 'host2', **prep)
    send('instance.resize_prep.end', 'host2', **prep)
    send('instance.resize_finish.end', 'host2', host='host2',
         state='resized', flavor=NEW_FLAVOR)
    send('instance.resize_finish.end', 'host2', host='host2',
         state='resized', flavor=NEW_FLAVOR)
    send('instance.resize_confirm.end', 'compute', host='host2',
         flavor=NEW_FLAVOR)
    send('instance.resize_confirm.end', 'compute', host='host2',
         flavor=NEW_FLAVOR)
    assert usage(model) == {'compute': NOTHING, 'host2': NEW,
                            'host3': NOTHING}


def _built(model, on, resources, held_by):
    """As a full build leaves it: the instance where Nova lists it, with
    what Placement holds for it there, the other consumers held."""
    model.add_instance(elements.Instance(
        A, 'some-server', 'resized', 'p', on, vcpus=2, memory_mb=2048,
        disk_gb=20, resources=resources))
    for hostname, consumers in held_by.items():
        node = model.get_node_by_hostname(hostname).copy()
        total = {}
        for amounts in consumers.values():
            for rc, amount in amounts.items():
                total[rc] = total.get(rc, 0) + amount
        node.held = total
        model.add_node(node)
        model.held_by[hostname] = consumers


def test_confirm_after_a_full_build_saw_the_migration(nova):
    """The reported 'too high after the confirm until the next full
    build': the build saw the migration's allocation under its uuid."""
    model, versions = _model(), events.Versions()
    _built(model, 'host2', NEW, {'compute': {M: OLD}})
    assert usage(model)['compute'] == OLD
    event_type, payload, metadata = nova.instance(
        'instance.resize_confirm.end', A, host='host2', flavor=NEW_FLAVOR)
    events.apply(model, versions, events.parse(
        event_type, payload, metadata,
        publisher_id='nova-compute:compute'))
    assert usage(model) == {'compute': NOTHING, 'host2': NEW,
                            'host3': NOTHING}


def test_finish_and_revert_after_a_build_between_prep_and_finish(nova):
    model, versions = _model(), events.Versions()
    # Nova still lists it on the source, whose allocation the migration
    # holds; the destination's claim is the instance's.
    _built(model, 'compute', NOTHING, {'compute': {M: OLD},
                                       'host2': {A: NEW}})
    assert usage(model) == {'compute': OLD, 'host2': NEW, 'host3': NOTHING}

    def send(event_type, publisher, **fields):
        events.apply(model, versions, events.parse(
            *nova.instance(event_type, A, **fields),
            publisher_id='nova-compute:%s' % publisher))

    send('instance.update', 'compute', host='compute', state='active')
    assert usage(model) == {'compute': OLD, 'host2': NEW, 'host3': NOTHING}
    send('instance.resize_finish.end', 'host2', host='host2',
         state='resized', flavor=NEW_FLAVOR)
    assert usage(model) == {'compute': OLD, 'host2': NEW, 'host3': NOTHING}
    send('instance.resize_revert.end', 'compute', host='compute')
    assert usage(model) == {'compute': OLD, 'host2': NOTHING,
                            'host3': NOTHING}


def test_flavors_usage_is_unchanged(nova):
    model, versions = _model(), events.Versions()
    model.usage_source = 'flavors'
    for event_type, host, publisher in (
            ('instance.create.end', 'compute', 'compute'),
            ('instance.live_migration_pre.end', 'compute', 'host2'),
            ('instance.live_migration_post_dest.end', 'host2', 'host2')):
        events.apply(model, versions, events.parse(
            *nova.instance(event_type, A, host=host),
            publisher_id='nova-compute:%s' % publisher))
    assert usage(model) == {'compute': NOTHING, 'host2': OLD,
                            'host3': NOTHING}
    assert model.held_by == {}


def test_events_replayed_onto_a_build_that_saw_the_move_end(nova):
    """Events received during a full build are replayed onto it: when the
    build already saw the instance on its destination, neither the
    destination's claim nor the source's allocation counts twice."""
    live_model = live_mod.LiveModel()
    start = _model()
    start.add_instance(elements.Instance(
        A, 'some-server', 'active', 'p', 'compute', vcpus=1, memory_mb=512,
        disk_gb=1, resources=OLD))
    live_model.finish_build(start)
    live_model.begin_build()
    for event_type, publisher, fields in (
            ('instance.resize_prep.end', 'host2',
             dict(host='compute', new_flavor=NEW_FLAVOR)),
            ('instance.resize_finish.end', 'host2',
             dict(host='host2', state='resized', flavor=NEW_FLAVOR))):
        assert live_model.apply(events.parse(
            *nova.instance(event_type, A, **fields),
            publisher_id='nova-compute:%s' % publisher)) == events.APPLIED
    assert usage(live_model.snapshot()) == {
        'compute': OLD, 'host2': NEW, 'host3': NOTHING}
    built = _model()
    _built(built, 'host2', NEW, {'compute': {M: OLD}})
    live_model.finish_build(built)
    assert usage(live_model.snapshot()) == {
        'compute': OLD, 'host2': NEW, 'host3': NOTHING}
    # ... and the confirm drops what the build saw.
    live_model.apply(events.parse(
        *nova.instance('instance.resize_confirm.end', A, host='host2',
                       flavor=NEW_FLAVOR),
        publisher_id='nova-compute:compute'))
    assert usage(live_model.snapshot()) == {
        'compute': NOTHING, 'host2': NEW, 'host3': NOTHING}


@pytest.mark.parametrize('publisher_id, host', [
    ('nova-compute:compute-1', 'compute-1'),
    ('nova-compute:', None),
    ('nova-api:controller', None),
    ('nova-compute', None),
    (None, None),
])
def test_the_sending_compute_is_the_publisher_s_host(publisher_id, host):
    assert events.publisher_host(publisher_id) == host
