"""The one persistent-HTTP mechanism: its CA bundle rule, its pool bounds,
and what it does with a connection the server closed, against in-process
HTTP servers on loopback."""

import concurrent.futures
import http.server
import logging
import socket
import threading

import certifi
import pytest

from decision_engine.common import http_pool
from tests.fixtures import waiting


# -- the CA bundle rule -----------------------------------------------------

@pytest.fixture
def no_bundle_env(monkeypatch):
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    return monkeypatch


def test_default_bundle_is_certifis(no_bundle_env):
    assert http_pool.ca_bundle(True) == certifi.where()


def test_environment_bundle_as_requests_picks_it(no_bundle_env):
    no_bundle_env.setenv('CURL_CA_BUNDLE', '/etc/curl.pem')
    assert http_pool.ca_bundle(True) == '/etc/curl.pem'
    no_bundle_env.setenv('REQUESTS_CA_BUNDLE', '/etc/requests.pem')
    assert http_pool.ca_bundle(True) == '/etc/requests.pem'


def test_explicit_bundle_wins_and_false_checks_nothing(no_bundle_env):
    no_bundle_env.setenv('REQUESTS_CA_BUNDLE', '/etc/requests.pem')
    assert http_pool.ca_bundle('/etc/option.pem') == '/etc/option.pem'
    assert http_pool.ca_bundle(False) is None


def test_tls_settings(no_bundle_env, tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text('')
    assert http_pool.tls_settings(str(bundle)) == {
        'cert_reqs': 'CERT_REQUIRED', 'ca_certs': str(bundle)}
    assert http_pool.tls_settings(str(tmp_path)) == {
        'cert_reqs': 'CERT_REQUIRED', 'ca_cert_dir': str(tmp_path)}
    assert http_pool.tls_settings(True)['ca_certs'] == certifi.where()
    # No check at all: neither the chain nor the host name.
    assert http_pool.tls_settings(False) == {
        'cert_reqs': 'CERT_NONE', 'assert_hostname': False}
    assert http_pool.tls_settings(False, ('c.pem', 'k.pem')) == {
        'cert_reqs': 'CERT_NONE', 'assert_hostname': False,
        'cert_file': 'c.pem', 'key_file': 'k.pem'}
    assert http_pool.tls_settings(False, 'both.pem')['cert_file'] == \
        'both.pem'


def test_bounds_are_checked():
    with pytest.raises(ValueError, match='at least one connection'):
        http_pool.HttpPool(0)
    with pytest.raises(ValueError, match='at least one connection'):
        http_pool.HttpPool(1, 0)


# -- servers ------------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True

    def setup(self):
        self.timeout = self.server.idle_timeout
        super().setup()
        self.on_connection = 0
        self.server.change(+1)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.change(-1)

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.on_connection += 1
        with self.server.lock:
            self.server.received += 1
        mode = self.server.mode
        if mode == 'drop' or (mode == 'drop-reused'
                              and self.on_connection > 1):
            # Read, then closed without an answer: what a client sees
            # when the server's idle close crosses its request.
            self.close_connection = True
            return
        if mode == 'truncate':
            # An answer began: its head promises more than comes.
            self.close_connection = True
            self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n'
                             b'\r\n{"ok"')
            return
        if mode == 'garbage':
            self.close_connection = True
            self.wfile.write(b'NOT HTTP\r\n\r\n')
            return
        if mode == 'hang':
            self.server.release.wait(10)
            self.close_connection = True
            return
        if self.server.barrier is not None:
            self.server.barrier.wait()
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, mode='ok', idle_timeout=None, barrier=None):
        self.mode = mode
        self.idle_timeout = idle_timeout
        self.barrier = barrier
        self.lock = threading.Lock()
        self.received = 0
        self.open = 0
        self.release = threading.Event()
        super().__init__(('127.0.0.1', 0), _Handler)
        self.port = self.server_address[1]

    def server_bind(self):
        # No getfqdn() lookup.
        import socketserver
        socketserver.TCPServer.server_bind(self)

    def change(self, delta):
        with self.lock:
            self.open += delta


@pytest.fixture
def servers():
    made = []

    def make(**kwargs):
        server = _Server(**kwargs)
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.05},
                                  daemon=True)
        thread.start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.release.set()
        server.shutdown()
        server.server_close()


def _get(pool, server, read_timeout=5.0):
    return pool.get('http', '127.0.0.1', server.port, '/x',
                    {'Accept': 'application/json'}, connect_timeout=5.0,
                    read_timeout=read_timeout)


# -- kept connections and the server closing them ---------------------------

def test_connection_is_kept_and_reused(servers):
    server = servers()
    pool = http_pool.HttpPool(4)
    for _ in range(5):
        resp = _get(pool, server)
        assert resp.status_code == 200 and resp.json() == {'ok': True}
        assert resp.headers['content-type'] == 'application/json'
    assert (pool.opened, server.received, pool.idle_count()) == (1, 5, 1)
    pool.close()
    assert pool.idle_count() == 0


def test_connection_closed_while_idle_is_reopened_before_use(servers):
    server = servers(idle_timeout=0.1)
    pool = http_pool.HttpPool(4)
    _get(pool, server)
    waiting.until(lambda: server.open == 0, 'the server closing it',
                  timeout=10)
    assert _get(pool, server).status_code == 200
    # Seen closed before it was used: nothing sent on it, nothing resent.
    assert (pool.opened, pool.resent, server.received) == (2, 0, 2)


def test_close_crossing_the_request_is_resent_once(servers):
    server = servers(mode='drop-reused')
    pool = http_pool.HttpPool(4)
    _get(pool, server)
    # The kept connection looks alive; the server reads the GET and
    # closes: the GET goes again, at once, on a new connection.
    assert _get(pool, server).status_code == 200
    assert (pool.opened, pool.resent, server.received) == (2, 1, 3)


def test_fresh_connection_closed_without_answer_is_not_resent(servers):
    server = servers(mode='drop')
    pool = http_pool.HttpPool(4)
    with pytest.raises(http_pool.TransportError) as err:
        _get(pool, server)
    assert str(err.value) == ('Connection aborted. RemoteDisconnected: '
                              'Remote end closed connection without '
                              'response')
    assert (server.received, pool.resent) == (1, 0)


def test_timeout_on_a_reused_connection_is_not_resent(servers):
    server = servers()
    pool = http_pool.HttpPool(4)
    _get(pool, server)
    server.mode = 'hang'
    with pytest.raises(http_pool.TransportError) as err:
        _get(pool, server, read_timeout=0.2)
    assert str(err.value) == 'Read timed out. (read timeout=0.2)'
    assert (server.received, pool.resent) == (2, 0)


@pytest.mark.parametrize('mode, words', [
    ('truncate', 'Connection broken: IncompleteRead'),
    ('garbage', 'Connection aborted. BadStatusLine')])
def test_answer_that_began_on_a_reused_connection_is_not_resent(
        servers, mode, words):
    server = servers()
    pool = http_pool.HttpPool(4)
    _get(pool, server)
    server.mode = mode
    with pytest.raises(http_pool.TransportError) as err:
        _get(pool, server)
    assert str(err.value).startswith(words), str(err.value)
    assert '\n' not in str(err.value)
    assert (server.received, pool.resent) == (2, 0)


def test_refused_connection_in_one_line():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    pool = http_pool.HttpPool(1)
    with pytest.raises(http_pool.TransportError) as err:
        pool.get('http', '127.0.0.1', port, '/', {}, connect_timeout=2.0,
                 read_timeout=2.0)
    assert str(err.value).startswith('Failed to establish a new '
                                     'connection: ConnectionRefusedError')
    assert '\n' not in str(err.value)


# -- bounds -------------------------------------------------------------------

def _at_once(pool, server, n):
    """n GETs in flight together (the server answers none before all
    arrived): n connections."""
    with concurrent.futures.ThreadPoolExecutor(n) as executor:
        answers = list(executor.map(lambda _: _get(pool, server),
                                    range(n)))
    assert all(resp.status_code == 200 for resp in answers)


def test_per_host_bound_closes_extra_connections_quietly(servers, caplog):
    server = servers(barrier=threading.Barrier(6, timeout=10))
    pool = http_pool.HttpPool(2)
    with caplog.at_level(logging.DEBUG):
        _at_once(pool, server, 6)
    assert pool.opened == 6
    assert pool.idle_count() == 2
    # The bound at work, as documented: not a warning.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    waiting.until(lambda: server.open == 2, 'the extra ones closed',
                  timeout=10)


@pytest.mark.parametrize('idle_total', [None, 1])
def test_many_threads_share_few_connections(servers, idle_total):
    # A connection goes back to its pool only once its answer was read
    # whole, and only idle ones are closed over idle_total: never one
    # under a thread reading its answer.
    both = [servers(), servers()]
    pool = http_pool.HttpPool(2, idle_total)
    with concurrent.futures.ThreadPoolExecutor(8) as executor:
        answers = list(executor.map(
            lambda n: _get(pool, both[n % 2]).json(), range(400)))
    assert answers == [{'ok': True}] * 400
    assert both[0].received + both[1].received == 400
    assert pool.idle_count() <= (idle_total or 4)


def test_idle_total_gives_up_the_least_recently_used_first(servers):
    first = servers(barrier=threading.Barrier(2, timeout=10))
    second = servers(barrier=threading.Barrier(2, timeout=10))
    pool = http_pool.HttpPool(2, idle_total=2)
    _at_once(pool, first, 2)
    assert pool.idle_count() == 2
    _at_once(pool, second, 2)
    assert pool.idle_count() == 2
    assert pool.opened == 4
    # The second server's two are kept; the first's were closed.
    waiting.until(lambda: (first.open, second.open) == (0, 2),
                  'the first server losing its connections', timeout=10)
    first.barrier = second.barrier = None
    _get(pool, second)
    assert pool.opened == 4
    _get(pool, first)
    assert pool.opened == 5
    assert pool.idle_count() <= 2


def test_resize_applies_new_bounds(servers):
    server = servers()
    pool = http_pool.HttpPool(4)
    _get(pool, server)
    pool.resize(4)                  # unchanged: the connection stays
    _get(pool, server)
    assert pool.opened == 1
    pool.resize(1, idle_total=1)
    assert pool.idle_count() == 0
    assert (pool.per_host, pool.idle_total) == (1, 1)
    _get(pool, server)
    assert pool.opened == 2
