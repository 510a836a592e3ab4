"""Fault injection: each kind, scoping, counts, seeding, admin API."""

import http.client
import json
import threading

import pytest

from decision_engine.simulator import ConfigError
from decision_engine.simulator import FaultRule
from decision_engine.simulator import Simulator


pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2, azs=2,
                                  seed=3)

INV = '/placement/resource_providers/%s/inventories'


def test_error_count_scoped_to_path(sim, client, topology):
    client.login()
    sim.add_fault('error', status=503, retry_after=2, count=3,
                  path='/inventories$')
    path = INV % topology.hosts[0].uuid
    for _ in range(3):
        status, headers, body = client.json('GET', path)
        assert status == 503
        assert headers['Retry-After'] == '2'
        assert body['errors'][0]['status'] == 503   # placement's format
    # Other endpoints are untouched, and the rule is spent.
    assert client.json('GET', '/placement/resource_providers')[0] == 200
    assert client.json('GET', path)[0] == 200
    assert sim.faults.rules() == []
    assert sim.stats()['faults'] == {'error': 3}


def test_429_in_service_format(sim, client):
    client.login()
    sim.add_fault('error', status=429, service='compute')
    status, headers, body = client.json('GET', '/compute/v2.1/os-services')
    assert status == 429 and headers['Retry-After'] == '1'
    assert body['overLimit']['code'] == 429
    assert client.json('GET', '/baremetal/v1/nodes')[0] == 200


def test_500_has_no_retry_after(sim, client):
    client.login()
    sim.add_fault('error', status=500, service='compute')
    status, headers, _ = client.json('GET', '/compute/v2.1/os-services')
    assert status == 500 and 'Retry-After' not in headers


def test_reset_closes_without_response(sim, client):
    client.login()
    sim.add_fault('reset', count=1, service='compute')
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        client.json('GET', '/compute/v2.1/os-services')
    assert sim.stats()['by_status']['reset'] == 1
    client.http.close()
    assert client.json('GET', '/compute/v2.1/os-services')[0] == 200


def test_malformed_body(sim, client):
    client.login()
    sim.add_fault('malformed', count=1, service='placement')
    status, _, raw = client.request('GET', '/placement/resource_providers')
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(raw)


def test_stall_until_released(sim, make_client):
    sim.add_fault('stall', service='compute', count=1)
    client = make_client(sim)
    client.login()
    result = []
    t = threading.Thread(target=lambda: result.append(
        client.json('GET', '/compute/v2.1/os-services')[0]))
    t.start()
    assert sim.wait_in_flight(1)
    assert result == []                 # still held
    sim.release_stalls()
    t.join(30)
    assert result == [200]


def test_stall_released_by_stop(topology, make_client):
    sim = Simulator(topology).start()
    client = make_client(sim)
    client.login()
    sim.add_fault('stall', service='compute')
    errors = []

    def call():
        try:
            client.json('GET', '/compute/v2.1/os-services')
        except Exception as exc:    # either answered or cut off is fine
            errors.append(exc)
    t = threading.Thread(target=call)
    t.start()
    assert sim.wait_in_flight(1)
    sim.stop()
    t.join(30)
    assert not t.is_alive()


def test_rate_is_seeded(topology, make_client):
    def run():
        sim = Simulator(topology, fault_seed=7,
                        faults=[FaultRule('error', rate=0.5,
                                          service='compute')]).start()
        try:
            client = make_client(sim)
            client.login()
            return [client.json('GET', '/compute/v2.1/os-services')[0]
                    for _ in range(40)]
        finally:
            sim.stop()
    first, second = run(), run()
    assert first == second
    assert {200, 503} == set(first)


def test_faults_skip_admin_and_other_services(sim, client):
    sim.add_fault('error', status=500, service='baremetal')
    assert client.login() == 201
    assert client.json('GET', '/_sim/stats')[0] == 200


def test_admin_fault_endpoints(sim, client):
    rule = {'kind': 'error', 'status': 502, 'path': 'os-services',
            'count': 1}
    status, _, body = client.json('PUT', '/_sim/faults',
                                  {'rules': [rule], 'seed': 1})
    assert status == 200 and body['rules'][0]['status'] == 502
    assert client.json('GET', '/compute/v2.1/os-services')[0] == 502
    assert client.json('GET', '/compute/v2.1/os-services')[0] == 200
    client.json('POST', '/_sim/faults', {'kind': 'malformed'})
    assert len(client.json('GET', '/_sim/faults')[2]['rules']) == 1
    assert client.json('DELETE', '/_sim/faults')[2] == {'rules': []}
    status, _, body = client.json('POST', '/_sim/faults', {'kind': 'boom'})
    assert status == 400 and 'kind' in body['error']
    status, _, body = client.json('POST', '/_sim/faults', {'bogus': 1})
    assert status == 400


@pytest.mark.parametrize('text,message', [
    ('explode', 'kind'), ('error:rate=2', 'rate'),
    ('error:status=200', 'status'), ('error:color=red', 'color'),
    ('error:path=(', 'regex'), ('error:count=0', 'count'),
])
def test_bad_rules(text, message):
    with pytest.raises(ConfigError, match=message):
        FaultRule.parse(text)


def test_parse_rule():
    rule = FaultRule.parse('error:rate=0.25,status=429,count=3,'
                           'service=placement')
    assert (rule.kind, rule.rate, rule.status, rule.count, rule.service) \
        == ('error', 0.25, 429, 3, 'placement')
