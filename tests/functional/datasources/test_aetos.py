"""A Keystone-protected Prometheus API (as Aetos serves it): queries go
through a keystoneauth session from ``[datasource]`` auth options, get a
new token after a 401, and fail with one clear error without a token.

Keystone is the simulator's (real HTTP, password tokens); in front of the
real Prometheus, a small proxy plays Aetos: it validates each request's
``X-Auth-Token`` with Keystone (``GET /v3/auth/tokens``, ``X-Subject-Token``)
and answers 401 when it is missing or invalid.
"""

import http.server
import threading
import urllib.error
import urllib.request

import pytest

from decision_engine.common import measurements as m
from decision_engine.datasources import gather
from decision_engine.simulator import Simulator
from decision_engine.simulator.topology import Topology
from tests.fixtures import load_env


class Aetos:
    def __init__(self, upstream, keystone):
        self.upstream = upstream
        self.keystone = keystone
        self.refused = 0
        aetos = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                token = self.headers.get('X-Auth-Token')
                if not token or not aetos.valid(token):
                    aetos.refused += 1
                    self._send(401, b'{"error": "unauthorized"}')
                    return
                req = urllib.request.Request(
                    aetos.upstream + self.path, data=body, headers={
                        'Content-Type': self.headers['Content-Type']})
                with urllib.request.urlopen(req, timeout=10) as resp:
                    self._send(resp.status, resp.read())

            def _send(self, status, body):
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def valid(self, token):
        req = urllib.request.Request(
            self.keystone + '/v3/auth/tokens',
            headers={'X-Auth-Token': token, 'X-Subject-Token': token})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status == 200
        except urllib.error.HTTPError:
            return False

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.httpd.server_address[1]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def keystone():
    sim = Simulator(Topology.generate(hosts=1, instances=0), latency_ms=0)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def aetos(env, keystone):
    proxy = Aetos(env.prometheus.url, keystone.auth_url)
    yield proxy
    proxy.stop()


def auth_options(keystone, password=None):
    auth = keystone.auth()
    return {'auth_type': 'password', 'auth_url': auth['auth_url'],
            'username': auth['username'],
            'password': password or auth['password'],
            'project_name': auth['project_name'],
            'user_domain_name': 'Default', 'project_domain_name': 'Default'}


def test_queries_carry_a_token_and_renew_it(env, aetos, keystone, pool):
    g = load_env.make_gatherer(pool, aetos.url, cache_ttl=0,
                               **auth_options(keystone))
    scope = {m.HOST_CPU: ['compute-1', 'compute-2']}
    first = g.gather(scope)
    assert first.get(m.HOST_CPU, 'compute-1') is not None
    assert aetos.refused == 0
    # Revoked tokens: Aetos answers 401 once, keystoneauth gets a new token
    # and sends the request again itself (no retry of ours needed).
    keystone.tokens.expire_all()
    second = g.gather(scope)
    assert second.get(m.HOST_CPU, 'compute-1') is not None
    assert aetos.refused == 1
    assert g.statistics().queries == 2 and g.statistics().retries == 0


def test_without_auth_options_aetos_refuses_one_clear_error(aetos, pool):
    g = load_env.make_gatherer(pool, aetos.url, max_retries=0)
    with pytest.raises(gather.GatheringError,
                       match=r'failed: HTTP 401 from http://127\.0\.0\.1:'):
        g.gather({m.HOST_CPU: ['compute-1']})


def test_bad_credentials_are_one_clear_error(aetos, keystone, pool):
    g = load_env.make_gatherer(pool, aetos.url, **auth_options(
        keystone, password='wrong'))
    with pytest.raises(gather.GatheringError,
                       match='failed: no token for .*Unauthorized'):
        g.gather({m.HOST_CPU: ['compute-1']})
    assert g.statistics().retries == 0
