"""``[collector] servers_listing`` against the simulator in a process of its
own (real HTTP, the engine's collector and builder): both listings build
the same, true model; each build reports what each service received and
the Neutron queries Nova would have sent for its listings, as the
simulator counted them."""

import pytest

from decision_engine.cloud import connection
from decision_engine.collector import collector as collector_mod
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.simulator import Topology
from tests.fixtures import collector_config
from tests.fixtures import truth

SHAPE = dict(hosts=30, instances=640, aggregates=3, azs=2, seed=4)
PAGE = 100
SERVERS = 'GET /compute/v2.1/servers/detail'


def _received(stats):
    """Requests the simulator received, by service."""
    counts = {}
    for endpoint, n in stats['by_endpoint'].items():
        service = endpoint.split()[1].split('/')[1]
        counts[service] = counts.get(service, 0) + n
    return counts


def _pages(count, page=PAGE):
    """Pages Nova answers for ``count`` servers (a full page gets a next
    link, so a full last page costs one more, empty page)."""
    return count // page + 1


@pytest.fixture
def engine(tmp_path, made):
    conf = collector_config.make(tmp_path, '\n'.join(
        ['[simulator]', 'embedded = true']
        + ['%s = %s' % item for item in SHAPE.items()]
        + ['[collector]', 'servers_page_size = %d' % PAGE, '']))
    pool = WorkerPool(16)
    made.append(lambda: pool.shutdown(timeout=30))
    connector = connection.CloudConnector(conf)
    shared = connection.SharedCloud(conf, 16, connector)
    collector = collector_mod.ModelCollector(conf, pool, shared)
    made.append(shared.close)
    made.append(collector.stop)
    collector.get_model()       # token, discovery, connections
    return conf, collector, connector.simulator


def test_both_listings_same_model_and_their_cost(engine):
    conf, collector, sim = engine
    topo = Topology.generate(**SHAPE)
    expected = truth.expected_model(topo)
    hosts = [h.hostname for h in topo.hosts]
    per_host = [len(topo.instances_on(h)) for h in hosts]
    scheduled = sum(per_host)
    # Every page here is below Nova's 150 ids a query and the simulator's
    # 5 projects: a non-empty page costs one port and one security group
    # query.
    want = {
        'per_host': {
            SERVERS: sum(_pages(n) for n in per_host),
            'neutron': 2 * sum(-(-n // PAGE) for n in per_host)},
        'all_servers': {
            SERVERS: _pages(scheduled),
            'neutron': 2 * -(-scheduled // PAGE)},
    }
    models = {}
    for listing in ('per_host', 'all_servers'):
        conf.set_override('servers_listing', listing, group='collector')
        sim.admin('reset', 'POST')
        model = collector.get_model(max_age=0)
        stats = sim.admin('stats')
        truth.assert_same(model, expected)
        assert model.servers_listing == listing
        assert stats['by_endpoint'][SERVERS] == want[listing][SERVERS]
        neutron = sum(stats['downstream']['neutron'].values())
        assert neutron == want[listing]['neutron']
        assert model.neutron_queries_estimate == neutron
        assert model.requests_by_service == _received(stats) == {
            'compute': 4 + want[listing][SERVERS],
            # each provider's inventories and traits
            'placement': 2 * len(hosts)}
        status = collector.status()
        assert status.servers_listing == listing
        assert status.neutron_queries_estimate == neutron
        models[listing] = model
    assert models['per_host'] == models['all_servers']
    # 640 servers on 30 hosts (one empty): the listing over all servers
    # sends 7 listing requests instead of 30 and costs Neutron 14 queries
    # instead of 58.
    assert want == {'per_host': {SERVERS: 30, 'neutron': 58},
                    'all_servers': {SERVERS: 7, 'neutron': 14}}


def test_neutron_latency_is_paid_per_listing_page(engine):
    conf, collector, sim = engine
    conf.set_override('servers_listing', 'all_servers', group='collector')
    sim.admin('neutron', 'PUT', {'latency_ms': 40})
    sim.admin('reset', 'POST')
    collector.get_model(max_age=0)
    log = sim.admin('stats?log=1')['log']
    pages = [e for e in log if e['endpoint'] == SERVERS]
    topo = Topology.generate(**SHAPE)
    scheduled = sum(len(topo.instances_on(h.hostname)) for h in topo.hosts)
    assert len(pages) == _pages(scheduled)
    if scheduled % PAGE == 0:
        pages = pages[:-1]      # the empty last page costs Neutron nothing
    # Each page: 2 Neutron queries of 40 ms inside Nova's answer.
    for entry in pages:
        assert entry['end'] - entry['start'] >= 0.08
