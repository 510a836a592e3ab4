"""The Neutron queries real Nova sends for server listings, counted (and
optionally waited out) by the simulator."""

import pytest

from decision_engine.simulator import ConfigError
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from decision_engine.simulator import neutron

COMPUTE = '/compute/v2.1'
PORTS = 'GET /v2.0/ports'
GROUPS = 'GET /v2.0/security-groups'


def _topology(per_host, projects=1):
    """compute-N holds per_host[N-1] servers, spread over ``projects``
    projects (round robin)."""
    hosts = [{'hostname': 'compute-%d' % (i + 1), 'uuid': 'uuid-%d' % i,
              'vcpus': 512, 'memory_mb': 1 << 22, 'disk_gb': 1 << 16}
             for i in range(len(per_host))]
    instances = []
    for i, n in enumerate(per_host):
        for k in range(n):
            instances.append({
                'uuid': 'inst-%d-%d' % (i + 1, k), 'name': 'vm',
                'host': 'compute-%d' % (i + 1),
                'project_id': 'p%d' % (k % projects),
                'created': '2024-01-01T00:%02d:%02dZ' % (k // 60, k % 60),
                'flavor': {'name': 'f', 'vcpus': 1, 'ram': 512,
                           'disk': 1}})
    return Topology.from_dict({'hosts': hosts, 'instances': instances})


class _Server:
    def __init__(self, project_id):
        self.project_id = project_id


@pytest.mark.parametrize('servers,projects,expected', [
    (0, 0, {}),
    (1, 1, {PORTS: 1, GROUPS: 1}),
    (150, 1, {PORTS: 1, GROUPS: 1}),
    (151, 3, {PORTS: 2, GROUPS: 1}),
    (1000, 151, {PORTS: 7, GROUPS: 2}),
])
def test_page_queries_follow_novas_chunks_of_150(servers, projects,
                                                 expected):
    page = [_Server('p%d' % (k % projects)) for k in range(servers)]
    assert neutron.page_queries(page) == expected


@pytest.fixture
def cloud():
    delays = []
    sim = Simulator(_topology([160, 3, 0], projects=2),
                    sleep=delays.append).start()
    yield sim, delays
    sim.stop()


def _downstream(sim):
    return sim.stats()['downstream'].get('neutron', {})


def test_listing_pages_and_shows_are_charged(cloud, make_client):
    sim, _ = cloud
    client = make_client(sim)
    client.login()
    detail = COMPUTE + '/servers/detail?all_tenants=1&host=%s&limit=%d'
    status, _, body = client.json('GET', detail % ('compute-1', 1000))
    assert status == 200 and len(body['servers']) == 160
    assert _downstream(sim) == {PORTS: 2, GROUPS: 1}
    # An empty page costs Neutron nothing; nor does the list without
    # details.
    client.json('GET', detail % ('compute-3', 1000))
    client.json('GET', COMPUTE + '/servers?all_tenants=1')
    assert _downstream(sim) == {PORTS: 2, GROUPS: 1}
    # Pages of 100: two pages, each its own port and group queries.
    sim.reset_stats()
    status, _, body = client.json('GET', detail % ('compute-1', 100))
    marker = body['servers'][-1]['id']
    client.json('GET', (detail % ('compute-1', 100)) + '&marker=' + marker)
    assert _downstream(sim) == {PORTS: 2, GROUPS: 2}
    sim.reset_stats()
    client.json('GET', COMPUTE + '/servers/inst-2-0')
    assert _downstream(sim) == {PORTS: 1, GROUPS: 1}
    stats = sim.stats()
    # What the simulator received is counted apart from what Nova would
    # have sent on.
    assert stats['total'] == 1


def test_neutron_latency_is_added_per_query(cloud, make_client):
    sim, delays = cloud
    client = make_client(sim)
    client.login()
    client.json('GET', COMPUTE + '/servers/detail?all_tenants=1'
                '&host=compute-1')
    assert delays == []     # no latency set: nothing waited
    sim.set_neutron_latency(5)
    client.json('GET', COMPUTE + '/servers/detail?all_tenants=1'
                '&host=compute-1')
    assert delays == [pytest.approx(0.015)]     # 2 ports + 1 groups


def test_neutron_latency_over_the_admin_api(cloud, make_client):
    sim, _ = cloud
    client = make_client(sim)
    assert client.json('GET', '/_sim/neutron')[2] == {'latency_ms': 0.0}
    status, _, body = client.json('PUT', '/_sim/neutron',
                                  {'latency_ms': 2.5})
    assert (status, body) == (200, {'latency_ms': 2.5})
    assert sim.neutron.latency_ms == 2.5
    status, _, body = client.json('PUT', '/_sim/neutron',
                                  {'latency_ms': -1})
    assert status == 400
    assert body == {'error': 'neutron latency must be a number of '
                             'milliseconds >= 0, got -1'}
    assert client.json('PUT', '/_sim/neutron', {})[0] == 400
    assert sim.neutron.latency_ms == 2.5


def test_bad_latency_in_python_is_a_config_error():
    with pytest.raises(ConfigError):
        Simulator(_topology([1]), neutron_latency_ms='fast')
