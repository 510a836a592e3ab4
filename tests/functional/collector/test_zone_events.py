"""Zones follow Nova's aggregate notifications, sent by the simulator as
Nova sends them (decision_engine/simulator/aggregate_writes.py) through the
real RabbitMQ to the engine's listener: a host joining a zone aggregate,
leaving it (back to the default zone), a zone set, changed and removed on
an aggregate that has hosts. After each change the event-fed model equals
what a full build of the simulator then reads, with no build meanwhile."""

import pytest
import requests

from decision_engine.simulator import notifier as notifier_mod
from tests import fresh_conf
from tests.fixtures import rabbit
from tests.fixtures.listener_engine import Engine
from tests.fixtures import waiting

pytestmark = pytest.mark.topology(hosts=4, instances=8, aggregates=1, azs=0,
                                  seed=11)


@pytest.fixture
def cloud(sim, vhost):
    sim.notifier = notifier_mod.NovaNotifier(rabbit.url(vhost))
    yield sim
    sim.notifier.close()
    sim.notifier = None


@pytest.fixture
def engine(cloud, vhost):
    conf = fresh_conf(host='engine-zones')
    conf.set_override('transport_url', rabbit.url(vhost),
                      group='notifications')
    made = Engine(conf, cloud)
    assert made.builds.acquire(timeout=60)
    waiting.until(lambda: made.listener.status().mode == 'event-fed')
    yield made
    made.stop()


class Api:
    """The simulator's os-aggregates, as an operator's client calls it."""

    def __init__(self, sim):
        self.url = sim.url + '/compute/v2.1/os-aggregates'
        self.headers = {'X-Auth-Token': sim.token_for(),
                        'X-OpenStack-Nova-API-Version': '2.53'}

    def call(self, method, path='', body=None, status=200):
        resp = requests.request(method, self.url + path, json=body,
                                headers=self.headers, timeout=30)
        assert resp.status_code == status, resp.text
        return resp.json() if resp.content else None

    def create(self, name, zone=None):
        return self.call('POST', body={'aggregate': {
            'name': name, 'availability_zone': zone}})['aggregate']['id']

    def action(self, agg, action, args):
        return self.call('POST', '/%s/action' % agg, {action: args})


def _caught_up(engine, applied):
    waiting.until(lambda: engine.listener.status().applied >= applied,
                  'the listener applied %d events' % applied)
    assert engine.listener.wait_idle(30)


def _equals_a_full_build(engine):
    """The event-fed model equals the next full build's (no build
    between the events)."""
    fed = engine.listener.snapshot()
    engine.collector.refresh_model()
    built = engine.listener.snapshot()
    assert fed.aggregates == built.aggregates
    assert fed.availability_zones == built.availability_zones
    assert {n.hostname: (n.aggregates, n.availability_zone)
            for n in fed.nodes.values()} == {
        n.hostname: (n.aggregates, n.availability_zone)
        for n in built.nodes.values()}
    assert fed == built
    assert fed.aggregate_zones == built.aggregate_zones
    return built


def test_zones_follow_aggregate_events_as_a_full_build_reads_them(
        engine, cloud):
    api = Api(cloud)
    first, second = sorted(h.hostname for h in cloud.topology.hosts)[:2]
    builds = engine.collector.status().builds
    applied = engine.listener.status().applied

    def zone(host):
        return engine.listener.snapshot().get_node_by_hostname(
            host).availability_zone

    zoned = api.create('zone-agg', zone='z-one')
    api.action(zoned, 'add_host', {'host': first})
    applied += 2
    _caught_up(engine, applied)
    assert zone(first) == 'z-one'
    # A zone set on an aggregate that already has a host.
    later = api.create('later-agg')
    api.action(later, 'add_host', {'host': second})
    api.action(later, 'set_metadata',
               {'metadata': {'availability_zone': 'z-later'}})
    applied += 3
    _caught_up(engine, applied)
    assert zone(second) == 'z-later'
    # Renamed and its zone changed through PUT (update_prop.end, then
    # update_metadata.end); the first host leaves: the default zone.
    api.call('PUT', '/%s' % later, {'aggregate': {
        'name': 'later-renamed', 'availability_zone': 'z-renamed'}})
    api.action(zoned, 'remove_host', {'host': first})
    applied += 3
    _caught_up(engine, applied)
    assert (zone(first), zone(second)) == ('nova', 'z-renamed')
    model = engine.listener.snapshot()
    assert model.availability_zones['z-renamed'] == (second,)
    assert 'z-one' not in model.availability_zones
    assert model.aggregates['later-renamed'] == (second,)
    assert 'later-agg' not in model.aggregates
    assert engine.collector.status().builds == builds
    _equals_a_full_build(engine)
    # The zone removed from the aggregate: its host back in the default.
    api.action(later, 'set_metadata',
               {'metadata': {'availability_zone': None}})
    _caught_up(engine, applied + 1)
    assert zone(second) == 'nova'
    built = _equals_a_full_build(engine)
    assert set(built.availability_zones) == {'nova'}
    status = engine.listener.status()
    assert (status.mode, status.failed, status.gaps) == ('event-fed', 0, 0)


def test_the_simulator_answers_and_refuses_as_nova(cloud):
    """Nova's checks on the aggregate writes (no engine)."""
    api = Api(cloud)
    host = cloud.topology.hosts[0].hostname
    zoned = api.create('a-zone', zone='z-a')
    api.call('POST', body={'aggregate': {'name': 'a-zone'}}, status=409)
    other = api.create('b-zone', zone='z-b')
    api.action(zoned, 'add_host', {'host': host})
    # One host, one zone.
    api.call('POST', '/%s/action' % other, {'add_host': {'host': host}},
             status=400)
    api.call('POST', '/%s/action' % zoned, {'add_host': {'host': host}},
             status=409)
    api.call('POST', '/%s/action' % zoned,
             {'add_host': {'host': 'no-such-host'}}, status=404)
    api.call('DELETE', '/%s' % zoned, status=400)
    services = requests.get(
        cloud.url + '/compute/v2.1/os-services', headers=api.headers,
        timeout=30).json()['services']
    assert {s['host']: s['zone'] for s in services}[host] == 'z-a'
    api.action(zoned, 'remove_host', {'host': host})
    services = requests.get(
        cloud.url + '/compute/v2.1/os-services', headers=api.headers,
        timeout=30).json()['services']
    assert {s['host']: s['zone'] for s in services}[host] == 'nova'
    api.call('DELETE', '/%s' % zoned)
    names = [a['name'] for a in api.call('GET')['aggregates']]
    assert 'a-zone' not in names and 'b-zone' in names
