"""Bad input, Nova notifications: events in Nova's versioned shapes (the
simulated Nova's payloads, ``nova_object`` envelopes of
``InstanceActionPayload``, ``ServiceStatusPayload``, ``AggregatePayload``)
truncated, with fields of wrong types, unknown versions and unknown types,
handed to the listener as oslo.messaging's dispatcher hands them (the bus
itself: tests/functional/collector/test_listener.py). Each one is applied,
or dropped and counted with a clear log line; the model is never
corrupted: every element keeps its types and bounds, and after the cloud's
true state is sent again the event-fed model equals a fresh full build.
"""

import copy
import datetime
import logging
import random

import pytest

from decision_engine.cloud import connection
from decision_engine.collector import collector as collector_mod
from decision_engine.collector import fetch
from decision_engine.collector import notifications
from decision_engine.collector import targeted
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.simulator import notifier as nova
from tests import fresh_conf
from tests.fixtures import figures


pytestmark = pytest.mark.topology(
    hosts=6, instances=40, aggregates=2, azs=1, seed=15)

FUZZED = 1500
WRONG = [None, '', 'x', -1, -2 ** 40, 2 ** 70, 1.5, 1e308, True, False,
         [], ['a'], {}, {'a': 1}, 'not-a-time', '2026-13-45T99:00:00Z']
TYPES = ['instance.update', 'instance.power_off.end', 'instance.create.end',
         'instance.live_migration_post_dest.end', 'instance.delete.end',
         'instance.resize_confirm.end', 'service.update', 'service.delete',
         'aggregate.add_host.end', 'instance.frobnicate.end',
         'aggregate.update_prop.end']


@pytest.fixture
def engine(sim):
    conf = fresh_conf()
    conf.set_override('retry_delay', 0.001, group='collector')
    pool = WorkerPool(6)
    listener = notifications.NotificationListener(conf, pool)
    collector = collector_mod.ModelCollector(
        conf, pool, lambda size: connection.from_auth(conf, sim.auth(), size),
        live=listener)
    # NOTE: as start() wires it, without a bus: events come from the test.
    listener.fetcher = targeted.TargetedFetcher(
        collector.transport, fetch.FetchSettings.from_conf(conf.collector))
    listener.live.set_connected(True)
    collector.refresh_model()
    yield listener, collector
    collector.stop()
    pool.shutdown(timeout=30)


def _truth(topo, moment):
    """Nova's notifications of the cloud as it is: every instance, every
    compute service, every aggregate."""
    zones = {h.hostname: h.availability_zone for h in topo.hosts}
    sent = [('instance.update', nova.instance_payload(
        i, i.host, moment, availability_zone=zones[i.host]))
        for i in topo.instances if i.host is not None]
    sent += [('service.update', nova.service_payload(h, moment))
             for h in topo.hosts]
    sent += [('aggregate.add_host.end', nova.aggregate_payload(a))
             for a in topo.aggregates]
    return sent


def _paths(doc, prefix=()):
    items = doc.items() if isinstance(doc, dict) else (
        enumerate(doc) if isinstance(doc, list) else ())
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


def _mutate(rng, event_type, payload):
    """One fuzzed (event_type, payload, metadata)."""
    payload = copy.deepcopy(payload)
    how = rng.choice(('truncate', 'wrong', 'wrong', 'wrong', 'version',
                      'envelope', 'type', 'metadata'))
    metadata = {'message_id': 'fuzz-%d' % rng.getrandbits(32),
                'timestamp': str(datetime.datetime.utcnow())}
    if how == 'type':
        event_type = rng.choice(TYPES)
    elif how == 'version':
        payload['nova_object.version'] = rng.choice(('99.0', '0.1', 'x'))
        payload['nova_object.name'] = rng.choice(
            ('InstanceActionPayloadV9', payload['nova_object.name']))
    elif how == 'envelope':
        payload = rng.choice((None, [], 'x', {'nova_object.data': 'x'},
                              payload['nova_object.data']))
    elif how == 'metadata':
        metadata = rng.choice((None, {}, {'timestamp': rng.choice(WRONG)}))
    else:
        paths = list(_paths(payload))
        path = rng.choice(paths)
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if how == 'truncate' and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(WRONG)
    return event_type, payload, metadata


def _sound(model):
    """The model's invariants; a list of what breaks them."""
    broken = []
    for inst in model.instances.values():
        if model.get_node_by_hostname(inst.host) is None:
            broken.append('instance %s on unknown host %r'
                          % (inst.uuid, inst.host))
        for field in ('vcpus', 'memory_mb', 'disk_gb', 'ephemeral_gb',
                      'swap_mb'):
            value = getattr(inst, field)
            if type(value) is not int or value < 0 or value > 2 ** 40:
                broken.append('instance %s %s = %r'
                              % (inst.uuid, field, value))
        for field in ('state', 'project_id'):
            if not isinstance(getattr(inst, field), str):
                broken.append('instance %s %s = %r' % (
                    inst.uuid, field, getattr(inst, field)))
        if not isinstance(inst.name, (str, type(None))) or \
                type(inst.locked) is not bool or \
                not isinstance(inst.metadata, dict):
            broken.append('instance %s name/locked/metadata = %r' % (
                inst.uuid, (inst.name, inst.locked, inst.metadata)))
    for node in model.nodes.values():
        if node.status not in ('enabled', 'disabled'):
            broken.append('node %s status %r' % (node.hostname, node.status))
    for name, hosts in model.aggregates.items():
        if not isinstance(name, str) or not all(
                model.get_node_by_hostname(h) for h in hosts):
            broken.append('aggregate %r hosts %r' % (name, hosts))
    return broken


def test_fuzzed_notifications_never_corrupt_the_model(engine, sim, caplog):
    listener, collector = engine
    caplog.set_level(logging.WARNING, 'decision_engine.collector')
    rng = random.Random(15)
    moment = datetime.datetime.now(datetime.timezone.utc).replace(
        microsecond=0)
    valid = _truth(sim.topology, moment)
    for _ in range(FUZZED):
        # NOTE: what oslo.messaging's dispatch thread calls.
        listener._receive(*_mutate(rng, *rng.choice(valid)))
    assert listener.wait_idle(60)
    status = listener.status()
    handled = status.applied + status.stale + status.ignored + status.failed
    assert handled >= FUZZED, status
    broken = _sound(listener.snapshot())
    malformed = [r for r in caplog.records
                 if 'notification ignored' in r.getMessage()]
    assert all('\n' not in r.getMessage() and r.exc_info is None
               for r in caplog.records), [
        r.getMessage() for r in caplog.records if r.exc_info][:3]
    unexpected = [r for r in caplog.records
                  if 'Unexpected error' in r.getMessage()]
    # The truth again, a second later: the model heals to a full build's.
    later = moment + datetime.timedelta(seconds=1)
    for event_type, payload in _truth(sim.topology, later):
        listener._receive(event_type, payload, {
            'message_id': 'truth', 'timestamp': str(later)})
    assert listener.wait_idle(60)
    healed = listener.snapshot()
    built = collector_mod.ModelCollector(
        collector.conf, collector.pool,
        lambda size: connection.from_auth(collector.conf, sim.auth(), size))
    try:
        fresh = built.get_model(max_age=0)
    finally:
        built.stop()
    differing = sorted(
        set(fresh.instances) ^ set(healed.instances)) + sorted(
        u for u in fresh.instances if u in healed.instances
        and fresh.instances[u] != healed.instances[u])
    figures.record('bad-input/notifications', fuzzed=FUZZED,
                   applied=status.applied, stale=status.stale,
                   ignored=status.ignored, failed=status.failed,
                   logged_malformed=len(malformed),
                   unexpected_errors=len(unexpected),
                   invariants_broken=len(broken),
                   differing_after_truth=len(differing))
    assert not unexpected, [r.getMessage() for r in unexpected][:3]
    assert not broken, broken[:5]
    assert status.failed >= len(malformed) > FUZZED / 4
    assert not differing, differing[:5]
