"""Tokens: issue, reject, expiry and keystoneauth re-authentication."""

import pytest

from decision_engine.simulator import Simulator


pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2, azs=2,
                                  seed=3)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_password_token(client):
    assert client.login() == 201
    status, _, body = client.json('GET', '/compute/v2.1/os-aggregates')
    assert status == 200 and 'aggregates' in body


def test_wrong_password_is_401(client):
    assert client.login(password='wrong') == 401


def test_missing_and_unknown_token_is_401(client):
    for headers in ({}, {'X-Auth-Token': 'bogus'}):
        for path in ('/compute/v2.1/servers/detail',
                     '/placement/resource_providers',
                     '/baremetal/v1/nodes'):
            status, hdrs, _ = client.json('GET', path, headers=headers,
                                          auth=False)
            assert status == 401, path
            assert hdrs['WWW-Authenticate'].startswith('Keystone uri=')


def test_version_documents_need_no_token(client):
    for path, status in (('/identity', 300), ('/identity/v3', 200),
                         ('/compute/', 200), ('/compute/v2.1/', 200),
                         ('/placement/', 200), ('/baremetal/', 200),
                         ('/baremetal/v1', 200)):
        got, _, body = client.json('GET', path, auth=False)
        assert got == status, path
    _, _, body = client.json('GET', '/compute/v2.1', auth=False)
    assert body['version']['min_version'] == '2.1'
    assert body['version']['version'] == '2.96'
    _, _, body = client.json('GET', '/placement', auth=False)
    assert body['versions'][0]['max_version'] == '1.39'


def test_token_expires_on_the_clock(topology, make_client):
    clock = FakeClock()
    sim = Simulator(topology, token_ttl_s=60, clock=clock).start()
    try:
        client = make_client(sim)
        client.login()
        assert client.json('GET', '/placement/resource_providers')[0] == 200
        clock.now += 59
        assert client.json('GET', '/placement/resource_providers')[0] == 200
        clock.now += 1
        assert client.json('GET', '/placement/resource_providers')[0] == 401
    finally:
        sim.stop()


def test_keystoneauth_reauthenticates_after_401(sim, conn):
    assert conn.compute.get('/os-aggregates').status_code == 200
    assert sim.stats()['tokens_issued'] == 1
    sim.expire_tokens()       # the client still believes its token valid
    assert conn.compute.get('/os-aggregates').status_code == 200
    stats = sim.stats()
    assert stats['tokens_issued'] == 2
    assert stats['by_status']['401'] == 1


def test_expire_tokens_over_http(sim, client):
    client.login()
    status, _, _ = client.json('POST', '/_sim/tokens/expire')
    assert status == 200
    assert client.json('GET', '/compute/v2.1/os-services')[0] == 401
