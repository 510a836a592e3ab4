"""Completeness of the parallel build against the simulator's ground truth.
"""

import pytest

from decision_engine.model import scope as scope_mod
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import truth


pytestmark = pytest.mark.topology(hosts=23, instances=300, aggregates=3, azs=2,
                                  seed=7)


@pytest.mark.parametrize('seed,hosts,instances', [
    (1, 12, 150), (2, 31, 700), (3, 5, 0), (4, 40, 400)])
def test_parallel_equals_sequential_equals_truth(harnesses, seed, hosts,
                                                 instances):
    topo = Topology.generate(hosts=hosts, instances=instances,
                             aggregates=seed % 4, azs=seed % 3, seed=seed)
    with Simulator(topo) as sim:
        expected = truth.expected_model(topo)
        parallel = harnesses(sim, pool_size=16).build()
        sequential = harnesses(sim, pool_size=1).build()
    truth.assert_same(parallel, expected)
    truth.assert_same(sequential, expected)
    assert parallel.requests == sequential.requests


@pytest.mark.parametrize('transport_name', ['sdk', 'direct'])
def test_both_transports_build_the_truth(harnesses, sim, topology,
                                         transport_name):
    model = harnesses(sim, transport_name=transport_name).build()
    truth.assert_same(model, truth.expected_model(topology))


def test_prefix_hostnames_are_matched_exactly(harnesses, sim, topology):
    model = harnesses(sim).build()
    assert {'compute-1', 'compute-10', 'compute-11'} <= set(
        n.hostname for n in model.nodes.values())
    for hostname in ('compute-1', 'compute-10', 'compute-11'):
        got = sorted(i.uuid for i in model.instances_on(hostname))
        want = sorted(i.uuid for i in topology.instances_on(hostname))
        assert got == want
        assert all(i.host == hostname for i in model.instances_on(hostname))


def test_requests_per_endpoint_match_the_topology(harnesses, sim, topology):
    harness = harnesses(sim, servers_page_size=7, hypervisors_page_size=10)
    harness.build()     # connection set-up (token, discovery) out of the way
    sim.reset_stats()
    model = harness.build()
    hostnames = [h.hostname for h in topology.hosts]
    expected = {
        'GET /compute/v2.1/os-aggregates': 1,
        'GET /compute/v2.1/os-services': 1,
        'GET /compute/v2.1/os-server-groups': 1,
        'GET /compute/v2.1/os-hypervisors/detail':
            truth.hypervisor_requests(len(hostnames), 10),
        'GET /placement/resource_providers/{uuid}/inventories':
            len(hostnames),
        # each provider's traits (required and forbidden traits)
        'GET /placement/resource_providers/{uuid}/traits': len(hostnames),
        'GET /compute/v2.1/servers/detail':
            truth.servers_requests(topology, hostnames, 7),
    }
    stats = sim.stats()
    assert stats['by_endpoint'] == expected
    assert model.requests == sum(expected.values())


def test_the_three_steps_overlap(harnesses, topology):
    topo = Topology.generate(hosts=60, instances=600, aggregates=2, azs=2,
                             seed=11)
    with Simulator(topo, latency_ms=5) as sim:
        harness = harnesses(sim, pool_size=8, hypervisors_page_size=20)
        harness.build()
        sim.reset_stats()
        harness.build()
        log = sim.stats(log=True)['log']
        peak = sim.stats()['peak_in_flight']
    servers = [e for e in log if e['endpoint'].endswith('servers/detail')]
    inventories = [e for e in log if e['endpoint'].endswith('inventories')]
    hypervisors = [e for e in log
                   if e['endpoint'].endswith('os-hypervisors/detail')]
    step1 = [e for e in log if e['endpoint'].endswith(
        ('os-aggregates', 'os-services'))]
    # step 3 starts before step 2 ends, step 2 before the last page ends
    assert min(e['start'] for e in servers) < \
        max(e['end'] for e in inventories)
    assert min(e['start'] for e in inventories) < \
        max(e['end'] for e in hypervisors)
    # step 1 and the first hypervisor page are on the wire together
    assert min(e['start'] for e in hypervisors) < \
        max(e['end'] for e in step1)
    assert peak > 1


@pytest.mark.parametrize('page', [1, 5])
def test_pagination_boundaries(harnesses, page):
    # hosts with exactly one page, one more than a page, and none
    hosts = [{'hostname': 'compute-%d' % (i + 1), 'uuid': u, 'vcpus': 8,
              'memory_mb': 8192, 'disk_gb': 100}
             for i, u in enumerate(['1d7c0f8a-8c0e-4d22-9b6a-%012d' % i
                                    for i in range(4)])]
    flavor = {'name': 'f', 'vcpus': 1, 'ram': 64, 'disk': 1, 'swap': 1}
    counts = {'compute-1': page, 'compute-2': page + 1, 'compute-3': 0,
              'compute-4': 2 * page}
    instances = []
    for host, n in counts.items():
        for j in range(n):
            instances.append({
                'uuid': '2e8d1f9b-1c2d-4e3f-8a9b-%06d%06d' % (
                    int(host.split('-')[1]), j),
                'name': '%s-vm-%d' % (host, j), 'host': host,
                'project_id': 'p%d' % (j % 3),
                'created': '2024-01-01T00:00:%02dZ' % (j % 60),
                'flavor': flavor})
    topo = Topology.from_dict({'hosts': hosts, 'instances': instances})
    with Simulator(topo) as sim:
        harness = harnesses(sim, servers_page_size=page,
                            hypervisors_page_size=4)
        harness.build()
        sim.reset_stats()
        model = harness.build()
        stats = sim.stats()['by_endpoint']
    truth.assert_same(model, truth.expected_model(topo))
    assert len(model.instances_on('compute-3')) == 0
    assert stats['GET /compute/v2.1/servers/detail'] == \
        truth.servers_requests(topo, list(counts), page)
    # 4 hosts at a page of 4: one full page, then an empty one
    assert stats['GET /compute/v2.1/os-hypervisors/detail'] == 2


def test_nova_page_cap_below_the_asked_limit_is_followed(harnesses):
    topo = Topology.generate(hosts=3, instances=40, seed=5)
    with Simulator(topo, max_limit=4) as sim:
        model = harnesses(sim, servers_page_size=1000).build()
    truth.assert_same(model, truth.expected_model(topo))


def _scopes(topo):
    projects = sorted({i.project_id for i in topo.instances})
    return [
        scope_mod.Scope(include_aggregates=['agg-1']),
        scope_mod.Scope(exclude_aggregates=['agg-2'], include_azs=['az-1']),
        scope_mod.Scope(exclude_azs=['az-2']),
        scope_mod.Scope(include_hosts=['compute-1', 'compute-10']),
        scope_mod.Scope(exclude_hosts=['compute-1'],
                        include_projects=projects[:2]),
        scope_mod.Scope(exclude_projects=projects[:1]),
    ]


def test_scoped_builds(harnesses, sim, topology):
    harness = harnesses(sim)
    whole = harness.build()
    for scope in _scopes(topology):
        expected = truth.expected_model(topology, scope)
        sim.reset_stats()
        model = harness.build(scope)
        truth.assert_same(model, expected)
        assert model.scope == scope
        # per-host requests only for hosts in scope
        assert sim.stats()['by_endpoint'].get(
            'GET /placement/resource_providers/{uuid}/inventories', 0) \
            == len(expected.nodes)
        # and the same selection from the whole-cloud model
        truth.assert_same(scope_mod.select(whole, scope), expected)


def test_scope_validation():
    with pytest.raises(scope_mod.ScopeError, match='include_hosts'):
        scope_mod.Scope(include_hosts='compute-1')
    with pytest.raises(scope_mod.ScopeError, match='unknown scope field'):
        scope_mod.Scope.from_dict({'hosts': ['x']})
    assert scope_mod.Scope.from_dict({'include_hosts': ['a']}) == \
        scope_mod.Scope(include_hosts=('a',))


def test_the_build_keeps_the_aggregates_zones_and_checks_the_default_zone(
        harnesses, sim, topology, caplog):
    """The event-fed model needs each aggregate's zone and Nova's default
    zone to give a host the zone Nova shows after an aggregate change; a
    build whose default zone is not Nova's says so."""
    # One host in no zone aggregate: Nova's default zone.
    host = topology.hosts[0]
    for agg in topology.aggregates:
        if host.hostname in agg.hosts:
            agg.hosts.remove(host.hostname)
    host.availability_zone = 'nova'
    model = harnesses(sim).build()
    want = {a.name: a.availability_zone for a in topology.aggregates
            if a.availability_zone}
    assert want and model.aggregate_zones == want
    assert model.default_zone == 'nova'
    assert model.get_node_by_hostname(host.hostname).availability_zone == \
        'nova'
    assert 'default_availability_zone' not in caplog.text
    model = harnesses(sim, default_zone='elsewhere').build()
    assert model.default_zone == 'elsewhere'
    assert "[collector] default_availability_zone is 'elsewhere'" in \
        caplog.text
