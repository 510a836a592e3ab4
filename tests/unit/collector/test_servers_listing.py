"""``[collector] servers_listing``: both listings build the same model, and
each build reports the requests it sent by service and the Neutron queries
its listings cost Nova (an estimate the simulator checks)."""

import logging

import pytest

from decision_engine.cloud import connection
from decision_engine.collector import builder
from decision_engine.collector import collector as collector_mod
from decision_engine.collector import downstream
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.model import scope as scope_mod
from decision_engine.model.errors import ModelBuildError
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import collector_config
from tests.fixtures import truth

pytestmark = pytest.mark.topology(hosts=23, instances=300, aggregates=3,
                                  azs=2, seed=7)

SERVERS = 'GET /compute/v2.1/servers/detail'


def _neutron(sim):
    return sum(sim.stats()['downstream'].get('neutron', {}).values())


def _by_service(stats):
    counts = {}
    for endpoint, n in stats['by_endpoint'].items():
        service = endpoint.split()[1].split('/')[1]
        if service in ('compute', 'placement'):
            counts[service] = counts.get(service, 0) + n
    return counts


@pytest.mark.parametrize('usage_source', builder.USAGE_SOURCES)
def test_both_listings_build_the_truth(harnesses, usage_source):
    # Hosts that never get a node (no resource provider, Ironic) have
    # servers too: the listing over all servers must drop them.
    topo = Topology.generate(hosts=17, instances=260, aggregates=2, azs=2,
                             seed=5, providerless=2, ironic=8)
    expected = truth.expected_model(topo, usage_source=usage_source)
    with Simulator(topo) as sim:
        models = {listing: harnesses(
            sim, usage_source=usage_source, servers_listing=listing,
            servers_page_size=37).build()
            for listing in builder.SERVERS_LISTINGS}
    for listing, model in models.items():
        truth.assert_same(model, expected)
        assert model.servers_listing == listing


@pytest.mark.parametrize('scope', [
    scope_mod.Scope(include_aggregates=['agg-1']),
    scope_mod.Scope(exclude_hosts=['compute-1', 'compute-2']),
    scope_mod.Scope(include_projects=['project-1', 'project-2'],
                    include_azs=['az-2']),
], ids=['aggregate', 'hosts', 'projects-and-zone'])
@pytest.mark.parametrize('usage_source', builder.USAGE_SOURCES)
def test_scoped_builds_are_equal(harnesses, sim, topology, scope,
                                 usage_source):
    expected = truth.expected_model(topology, scope, usage_source)
    model = harnesses(sim, servers_listing='all_servers',
                      usage_source=usage_source,
                      servers_page_size=50).build(scope)
    truth.assert_same(model, expected)


@pytest.mark.parametrize('page', [1, 7, 299, 300, 1000])
def test_all_servers_requests_and_neutron_queries(harnesses, sim, topology,
                                                  page):
    harness = harnesses(sim, servers_listing='all_servers',
                        servers_page_size=page, hypervisors_page_size=10)
    harness.build()     # token and discovery out of the way
    sim.reset_stats()
    model = harness.build()
    hosts = len(topology.hosts)
    scheduled = sum(1 for i in topology.instances if i.host is not None)
    stats = sim.stats()
    assert stats['by_endpoint'] == {
        'GET /compute/v2.1/os-aggregates': 1,
        'GET /compute/v2.1/os-services': 1,
        'GET /compute/v2.1/os-server-groups': 1,
        'GET /compute/v2.1/os-hypervisors/detail':
            truth.hypervisor_requests(hosts, 10),
        'GET /placement/resource_providers/{uuid}/inventories': hosts,
        'GET /placement/resource_providers/{uuid}/traits': hosts,
        # Nova adds a next link to every full page.
        SERVERS: scheduled // page + 1,
    }
    assert model.requests_by_service == _by_service(stats)
    assert model.requests == stats['total']
    assert model.neutron_queries_estimate == _neutron(sim)


def test_per_host_requests_and_neutron_queries(harnesses, sim, topology):
    harness = harnesses(sim, servers_page_size=7)
    harness.build()
    sim.reset_stats()
    model = harness.build()
    hostnames = [h.hostname for h in topology.hosts]
    stats = sim.stats()
    assert stats['by_endpoint'][SERVERS] == truth.servers_requests(
        topology, hostnames, 7)
    assert model.requests_by_service == _by_service(stats) == {
        'compute': 4 + stats['by_endpoint'][SERVERS],
        'placement': 2 * len(hostnames)}   # inventories and traits
    # Every non-empty page: one port query (7 < 150) and one security
    # group query.
    pages_with_servers = sum(
        -(-n // 7) for n in (len(topology.instances_on(h))
                             for h in hostnames))
    assert model.neutron_queries_estimate == _neutron(sim) == \
        2 * pages_with_servers


def test_all_servers_costs_neutron_less_than_per_host(harnesses):
    topo = Topology.generate(hosts=60, instances=1200, projects=200,
                             seed=3)
    costs = {}
    with Simulator(topo) as sim:
        for listing in builder.SERVERS_LISTINGS:
            harness = harnesses(sim, servers_listing=listing)
            harness.build()
            sim.reset_stats()
            model = harness.build()
            assert model.neutron_queries_estimate == _neutron(sim)
            costs[listing] = (sim.stats()['by_endpoint'][SERVERS],
                              model.neutron_queries_estimate)
    # 60 host listings of ~20 servers, each 1 port and 1 group query (an
    # empty host: none); two pages (1000 + 200 servers of 200 projects):
    # 7 + 2 and 2 + 1.
    used = sum(1 for h in topo.hosts if topo.instances_on(h.hostname))
    assert used > 50
    assert costs == {'per_host': (60, 2 * used), 'all_servers': (2, 12)}


def test_build_log_line_names_the_cost(harnesses, sim, caplog):
    harness = harnesses(sim, servers_listing='all_servers')
    with caplog.at_level(logging.INFO, 'decision_engine.collector.builder'):
        model = harness.build()
    line = [r.getMessage() for r in caplog.records
            if r.getMessage().startswith('Compute model built')][-1]
    assert ('with %d requests (compute %d, placement %d; servers listed '
            'all_servers, costing Nova an estimated %d Neutron queries)'
            % (model.requests, model.requests_by_service['compute'],
               model.requests_by_service['placement'],
               model.neutron_queries_estimate)) in line


def test_bad_listing_is_refused():
    with pytest.raises(ValueError, match="servers_listing must be one of "
                       "per_host, all_servers, not 'everything'"):
        builder.BuildSettings(servers_listing='everything')


def test_status_and_totals_report_the_cost(tmp_path, sim, made):
    conf = collector_config.make(tmp_path, '[collector]\n'
                                 'servers_listing = all_servers\n')
    pool = WorkerPool(8)
    collector = collector_mod.ModelCollector(
        conf, pool, lambda size: connection.from_auth(conf, sim.auth(),
                                                      size))
    made.append(lambda: pool.shutdown(timeout=30))
    made.append(collector.stop)
    first = collector.get_model()
    second = collector.get_model(max_age=0)
    status = collector.status()
    assert status.servers_listing == 'all_servers'
    assert status.requests_by_service == second.requests_by_service
    assert status.neutron_queries_estimate == \
        second.neutron_queries_estimate > 0
    totals = status.totals
    assert totals.requests_by_service == {
        service: first.requests_by_service[service]
        + second.requests_by_service[service]
        for service in ('compute', 'placement')}
    assert totals.neutron_queries_estimate == \
        first.neutron_queries_estimate + second.neutron_queries_estimate
    summary = second.summary()
    assert summary['requests_by_service'] == second.requests_by_service
    assert summary['servers_listing'] == 'all_servers'


@pytest.mark.parametrize('servers,expected', [
    ([], 0),
    # No port, no security group shown (networks: none): the port query
    # only.
    ([{'tenant_id': 'p'}], 1),
    ([{'tenant_id': 'p', 'security_groups': [{'name': 'default'}]}] * 150,
     2),
    ([{'tenant_id': 'p', 'security_groups': [{'name': 'default'}]}] * 151,
     3),
    # Each project's "default" is a group of its own.
    ([{'tenant_id': 'p%d' % k, 'security_groups': [{'name': 'default'}]}
      for k in range(151)], 4),
    ([{'tenant_id': 'p', 'security_groups': [{'name': 'a'}, {'name': 'b'},
                                             'not-a-dict']}], 2),
])
def test_neutron_estimate_of_a_page(servers, expected):
    assert downstream.neutron_queries(servers) == expected


def test_a_page_that_keeps_failing_fails_the_build(harnesses, sim):
    harness = harnesses(sim, servers_listing='all_servers', max_retries=2,
                        servers_page_size=50)
    sim.add_fault('error', status=503, path='servers/detail')
    with pytest.raises(ModelBuildError, match=r'^GET compute '
                       r'/servers/detail failed after 3 attempt\(s\): '
                       r'HTTP 503'):
        harness.build()
    # The same harness builds once the listing answers again.
    sim.clear_faults()
    truth.assert_same(harness.build(), truth.expected_model(sim.topology))


def test_a_malformed_page_names_the_listing(harnesses, sim):
    harness = harnesses(sim, servers_listing='all_servers', max_retries=0)
    sim.add_fault('malformed', path='servers/detail', count=1)
    with pytest.raises(ModelBuildError, match='servers/detail.*malformed '
                       'JSON body'):
        harness.build()


def test_pages_over_all_servers_go_ahead_of_per_host_requests(harnesses):
    # One request at a time, so the order the simulator receives them in
    # is the order the build queued them in, whatever the machine's load
    # (with two, a page's parse raced the other worker's requests): a
    # page queued behind the per-host requests would wait for all of
    # them, and so would every page after it.
    topo = Topology.generate(hosts=40, instances=200, seed=2)
    with Simulator(topo) as sim:
        harness = harnesses(sim, pool_size=1, servers_listing='all_servers',
                            servers_page_size=20)
        harness.build()
        sim.reset_stats()
        harness.build()
        log = sim.stats(log=True)['log']
    starts = [k for k, entry in enumerate(log)
              if entry['endpoint'] == SERVERS]
    assert len(starts) == 200 // 20 + 1
    # Each page is sent as soon as the one before it is in: no per-host
    # request between two pages (a first-in first-out queue puts all 40
    # between the first two).
    gaps = [b - a - 1 for a, b in zip(starts, starts[1:])]
    assert gaps == [0] * len(gaps), gaps
