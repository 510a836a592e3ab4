"""Fixtures of the simulator's unit tests: a raw HTTP client that shows
status codes and headers exactly as the simulator sent them."""

import http.client
import json

import pytest


class RawClient:
    """Minimal keep-alive JSON client that shows status codes and headers
    exactly as the simulator sent them."""

    def __init__(self, sim):
        self.sim = sim
        self.http = http.client.HTTPConnection('127.0.0.1', sim.port,
                                               timeout=30)
        self.token = None

    def request(self, method, path, body=None, headers=None, auth=True):
        headers = dict(headers or {})
        if auth and self.token is None and not path.startswith('/_sim'):
            self.login()
        if auth and self.token:
            headers.setdefault('X-Auth-Token', self.token)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        self.http.request(method, path, data, headers)
        resp = self.http.getresponse()
        raw = resp.read()
        return resp.status, dict(resp.getheaders()), raw

    def json(self, method, path, body=None, headers=None, auth=True):
        status, headers, raw = self.request(method, path, body, headers,
                                            auth)
        return status, headers, json.loads(raw) if raw else None

    def login(self, username='admin', password='secret'):
        status, headers, _ = self.request(
            'POST', '/identity/v3/auth/tokens', auth=False,
            body={'auth': {
                'identity': {'methods': ['password'], 'password': {
                    'user': {'name': username, 'password': password,
                             'domain': {'name': 'Default'}}}},
                'scope': {'project': {'name': 'admin',
                                      'domain': {'name': 'Default'}}}}})
        self.token = headers.get('X-Subject-Token')
        return status

    def close(self):
        self.http.close()


@pytest.fixture
def make_client():
    """Factory: make_client(sim) -> RawClient, closed at teardown."""
    made = []

    def make(simulator):
        made.append(RawClient(simulator))
        return made[-1]
    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(sim, make_client):
    return make_client(sim)
