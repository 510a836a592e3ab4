"""Pagination boundaries and bad query values, as real Nova/Ironic do."""

import pytest

from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology


pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2, azs=2,
                                  seed=3)

COMPUTE = '/compute/v2.1'
MV = {'OpenStack-API-Version': 'compute 2.53'}


def _doc(counts):
    """A topology whose compute-N holds counts[N-1] instances."""
    hosts = [{'hostname': 'compute-%d' % (i + 1), 'uuid': 'uuid-%d' % i,
              'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 100}
             for i in range(len(counts))]
    instances = []
    for i, n in enumerate(counts):
        for k in range(n):
            instances.append({
                'uuid': 'inst-%d-%d' % (i + 1, k), 'name': 'vm',
                'host': 'compute-%d' % (i + 1), 'project_id': 'p1',
                'created': '2024-01-%02dT00:00:00Z' % (k + 1),
                'flavor': {'name': 'f', 'vcpus': 1, 'ram': 512,
                           'disk': 1}})
    return Topology.from_dict({'hosts': hosts, 'instances': instances})


@pytest.fixture
def paged():
    # compute-1: exactly one page of 3, compute-2: one more than a page,
    # compute-3: empty.
    sim = Simulator(_doc([3, 4, 0]), max_limit=3).start()
    yield sim
    sim.stop()


@pytest.fixture
def pclient(paged, make_client):
    return make_client(paged)


def _walk(client, path, key):
    """Follow next links; return the pages' item ids."""
    pages = []
    while path:
        status, _, body = client.json('GET', path, headers=MV)
        assert status == 200, body
        pages.append([item.get('id') or item.get('uuid')
                      for item in body[key]])
        links = body.get(key + '_links') or []
        nxt = body.get('next') or (links[0]['href'] if links else None)
        path = nxt.split(client.sim.url, 1)[1] if nxt else None
    return pages


@pytest.mark.parametrize('explicit_limit', [True, False])
def test_servers_page_boundaries(paged, pclient, explicit_limit):
    limit = '&limit=3' if explicit_limit else ''   # else max_limit caps
    url = COMPUTE + '/servers/detail?all_tenants=1&host=%s' + limit
    exact = _walk(pclient, url % 'compute-1', 'servers')
    # A full page always carries a next link, so "exactly one page"
    # costs a second, empty request -- as in Nova.
    assert [len(p) for p in exact] == [3, 0]
    over = _walk(pclient, url % 'compute-2', 'servers')
    assert [len(p) for p in over] == [3, 1]
    assert set(over[0] + over[1]) == {'inst-2-%d' % k for k in range(4)}
    assert _walk(pclient, url % 'compute-3', 'servers') == [[]]


def test_servers_sorted_newest_first(pclient):
    status, _, body = pclient.json(
        'GET', COMPUTE + '/servers/detail?all_tenants=1&host=compute-2')
    assert [s['id'] for s in body['servers']] == [
        'inst-2-3', 'inst-2-2', 'inst-2-1']


def test_next_link_keeps_filters(pclient):
    _, _, body = pclient.json(
        'GET', COMPUTE + '/servers/detail?all_tenants=1&host=compute-2'
        '&limit=3')
    href = body['servers_links'][0]['href']
    assert 'host=compute-2' in href and 'all_tenants=1' in href
    assert 'marker=inst-2-1' in href and 'limit=3' in href


@pytest.mark.parametrize('query,status', [
    ('limit=abc', 400), ('limit=-1', 400), ('marker=nope', 400),
    ('all_tenants=maybe', 400), ('limit=0', 200)])
def test_servers_bad_query_values(pclient, query, status):
    got, _, body = pclient.json(
        'GET', COMPUTE + '/servers/detail?all_tenants=1&' + query)
    assert got == status, body
    if status == 400:
        assert body['badRequest']['code'] == 400


def test_hypervisor_pagination(pclient):
    pages = _walk(pclient, COMPUTE + '/os-hypervisors/detail?limit=2',
                  'hypervisors')
    assert [len(p) for p in pages] == [2, 1]
    assert pages[0] + pages[1] == ['uuid-0', 'uuid-1', 'uuid-2']
    status, _, _ = pclient.json(
        'GET', COMPUTE + '/os-hypervisors/detail?marker=nope', headers=MV)
    assert status == 400


def test_hypervisor_shape_by_microversion(pclient):
    def first(mv):
        _, _, body = pclient.json(
            'GET', COMPUTE + '/os-hypervisors/detail',
            headers={'OpenStack-API-Version': 'compute ' + mv})
        return body['hypervisors'][0]
    assert first('2.1')['id'] == 1 and first('2.1')['vcpus'] == 8
    assert first('2.53')['id'] == 'uuid-0'
    assert 'vcpus' not in first('2.88')
    status, _, _ = pclient.json(
        'GET', COMPUTE + '/os-hypervisors/detail',
        headers={'OpenStack-API-Version': 'compute 3.0'})
    assert status == 406


def test_hypervisor_pattern_is_substring(sim, client):
    # The trap real Nova sets: the pattern compute-1 also finds compute-10.
    _, _, body = client.json(
        'GET', COMPUTE + '/os-hypervisors?hypervisor_hostname_pattern='
        'compute-1', headers=MV)
    names = {h['hypervisor_hostname'] for h in body['hypervisors']}
    assert {'compute-1', 'compute-10', 'compute-11'} <= names


def test_ironic_pagination(pclient):
    pages = _walk(pclient, '/baremetal/v1/nodes?limit=2&fields=uuid,name',
                  'nodes')
    assert [len(p) for p in pages] == [2, 1]
    status, _, body = pclient.json('GET', '/baremetal/v1/nodes?limit=0')
    assert status == 400
    status, _, _ = pclient.json('GET', '/baremetal/v1/nodes?fields=bogus')
    assert status == 400


def test_unknown_paths_and_methods(client):
    status, _, body = client.json('GET', '/nowhere')
    assert status == 404 and body['error']['code'] == 404
    status, _, body = client.json('GET', COMPUTE + '/os-nothing')
    assert status == 404 and 'itemNotFound' in body
    status, _, body = client.json('DELETE', COMPUTE + '/servers/detail')
    assert status == 405
    status, _, body = client.json('GET', '/placement/nothing')
    assert status == 404 and body['errors'][0]['status'] == 404
    status, _, body = client.json(
        'GET', '/placement/resource_providers?bogus=1')
    assert status == 400
