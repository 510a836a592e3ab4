"""Counters, request log, latency and concurrency."""

import threading

import pytest

from decision_engine.simulator import ConfigError
from decision_engine.simulator import Simulator


pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2, azs=2,
                                  seed=3)

INV = 'GET /placement/resource_providers/{uuid}/inventories'


def test_endpoints_are_normalized(sim, client, topology):
    client.login()
    for host in topology.hosts[:3]:
        client.json('GET', '/placement/resource_providers/%s/inventories'
                    % host.uuid)
    client.json('GET', '/placement/resource_providers/nope/inventories')
    client.json('GET', '/compute/v2.1/servers/detail?host=compute-1'
                '&all_tenants=1')
    stats = sim.stats()
    assert stats['by_endpoint'][INV] == 4
    assert stats['by_endpoint']['GET /compute/v2.1/servers/detail'] == 1
    assert stats['by_status'] == {'201': 1, '200': 4, '404': 1}
    assert stats['total'] == 6
    assert stats['in_flight'] == 0


def test_request_log_order_and_reset(sim, client):
    client.login()
    client.json('GET', '/compute/v2.1/os-aggregates?x=1')
    log = sim.stats(log=True)['log']
    assert [e['endpoint'] for e in log] == [
        'POST /identity/v3/auth/tokens', 'GET /compute/v2.1/os-aggregates']
    assert log[1]['query'] == 'x=1' and log[1]['status'] == 200
    assert log[0]['start'] <= log[0]['end'] <= log[1]['start'] \
        <= log[1]['end']
    sim.reset_stats()
    assert sim.stats(log=True)['log'] == []
    assert sim.stats()['total'] == 0


def test_stats_over_http(sim, client):
    client.login()
    status, _, body = client.json('GET', '/_sim/stats?log=1')
    assert status == 200
    assert body['total'] == 1 and len(body['log']) == 1
    assert client.json('POST', '/_sim/reset')[0] == 200
    # Admin calls are not counted.
    assert client.json('GET', '/_sim/stats')[2]['total'] == 0


def test_unknown_endpoints_counted(sim, client):
    client.json('GET', '/nowhere', auth=False)
    client.json('GET', '/compute/v2.1/nothing', auth=False)
    by = sim.stats()['by_endpoint']
    assert by['GET <unknown>'] == 1
    assert by['GET /compute/<unknown>'] == 1


@pytest.mark.parametrize('n', [2, 8])
def test_peak_concurrency_equals_parallel_requests(sim, make_client, n):
    sim.add_fault('stall', service='compute')      # held until released
    clients = [make_client(sim) for _ in range(n)]
    for c in clients:
        c.login()
    sim.reset_stats()
    barrier = threading.Barrier(n)
    results = []

    def call(c):
        barrier.wait()
        results.append(c.json('GET', '/compute/v2.1/os-services')[0])
    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    assert sim.wait_in_flight(n)
    sim.clear_faults()
    sim.release_stalls()
    for t in threads:
        t.join(30)
    assert results == [200] * n
    stats = sim.stats()
    assert stats['peak_in_flight'] == n
    assert stats['in_flight'] == 0


def test_latency_sleeps_overlap(topology, make_client):
    # The latency wait is a barrier of n parties: it only opens if n
    # handler threads wait at the same time, i.e. sleeps never serialize.
    n = 6
    barrier = threading.Barrier(n)
    sim = Simulator(topology, latency_ms={'compute': 5},
                    sleep=lambda s: barrier.wait(timeout=30)).start()
    try:
        clients = [make_client(sim) for _ in range(n)]
        for c in clients:
            c.login()
        results = []
        threads = [threading.Thread(target=lambda c=c: results.append(
            c.json('GET', '/compute/v2.1/os-services')[0]))
            for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == [200] * n
        assert not barrier.broken
    finally:
        sim.stop()


def test_latency_is_waited(sim, client):
    client.login()
    sim.set_latency(0, placement=50)
    client.json('GET', '/placement/resource_providers')
    entry = sim.stats(log=True)['log'][-1]
    assert entry['end'] - entry['start'] >= 0.05


def test_latency_spec():
    from decision_engine.simulator.faults import LatencyPlan
    assert LatencyPlan.parse('compute=50,placement=20') == (
        0.0, {'compute': 50.0, 'placement': 20.0})
    assert LatencyPlan.parse('10,compute=50') == (10.0, {'compute': 50.0})
    plan = LatencyPlan(10, {'compute': 50})
    assert plan.seconds('compute') == 0.05
    assert plan.seconds('placement') == 0.01
    for bad in ('x', 'nova=5', '-1'):
        with pytest.raises(ConfigError):
            LatencyPlan.parse(bad)


def test_latency_over_http(sim, client):
    status, _, body = client.json('PUT', '/_sim/latency',
                                  {'default': 5, 'placement': 20})
    assert status == 200 and body == {'default': 5, 'placement': 20}
    assert sim.latency.seconds('placement') == 0.02
    assert sim.latency.seconds('compute') == 0.005
    status, _, body = client.json('PUT', '/_sim/latency', {'nova': 5})
    assert status == 400
