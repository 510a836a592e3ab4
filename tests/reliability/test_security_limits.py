"""Security, bounds: what one client can make the API hold.

The real API server (cheroot, as the daemon serves it) with small bounds:
a request line or headers over ``[api] max_request_header_size`` get
414/413, a body over ``max_request_body_size`` 413 (declared or chunked),
a body sent to a route that reads none does not hang the server,
connections past ``max_connections`` are answered 503 and closed at once,
and clients trickling their headers byte by byte on every API thread are
cut after ``header_timeout``;
after each, the API answers a normal request at once. A flood of
refused connections is logged once, not once per connection.
"""

import socket
import threading
import time

import requests

from tests.fixtures.api_engine import Engine
from tests.fixtures import figures

MAX_CONNECTIONS = 8
THREADS = 2


def _raw(url, payload, timeout=10):
    """Send ``payload`` on a new connection; the status line back."""
    host, port = url.split('//')[1].split(':')
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        try:
            s.sendall(payload)
        except OSError:
            pass  # the server may close before reading it all
        answer = b''
        try:
            while b'\r\n' not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    return answer.split(b'\r\n', 1)[0].decode()


def _healthy(url):
    return requests.get(url + '/v1/status', timeout=10).status_code == 200


def test_headers_bodies_and_connections_are_bounded(tmp_path, caplog):
    engine = Engine(tmp_path, max_request_header_size=4096,
                    max_connections=MAX_CONNECTIONS, threads=THREADS,
                    header_timeout=1.0)
    url = engine.url
    cases = {}
    try:
        cases['long request line'] = (_raw(url, b'GET /v1/status?x=' + (
            b'a' * 8192) + b' HTTP/1.1\r\nHost: x\r\n\r\n'), '414')
        cases['large headers'] = (_raw(url, b'GET /v1/status HTTP/1.1\r\n'
                                       b'Host: x\r\nX-Big: ' + b'a' * 8192
                                       + b'\r\n\r\n'), '413')
        cases['many headers'] = (_raw(url, b'GET /v1/status HTTP/1.1\r\n'
                                      b'Host: x\r\n' + b'X-A: b\r\n' * 2000
                                      + b'\r\n'), '413')
        big = b'{"strategy": "dummy", "name": "' + b'a' * 4096 + b'"}'
        response = requests.post(url + '/v1/audits', data=big,
                                 headers={'Content-Type':
                                          'application/json'})
        cases['declared body'] = (str(response.status_code), '413')
        assert response.json()['error']['code'] == 413
        response = requests.post(url + '/v1/audits', data=iter([big]),
                                 headers={'Content-Type':
                                          'application/json'})
        cases['chunked body'] = (str(response.status_code), '413')
        # A route that reads no body, sent a large one it never reads.
        cases['unread body'] = (_raw(url, (
            b'POST /v1/action_plans/x/cancel HTTP/1.1\r\nHost: x\r\n'
            b'Content-Length: 10000000\r\n\r\n') + b'a' * 65536), '413')
        cases.update(_connection_flood(url))
        cases.update(_trickling_headers(url))
        healthy = _healthy(url)
        counts = engine.server._server
        open_after = _settle(counts)
    finally:
        engine.close()
    wrong = {name: got for name, (got, expected) in cases.items()
             if expected not in got}
    figures.record('security/limits', cases=len(cases), wrong=len(wrong),
                   refused_connections=counts.refused_connections,
                   cut_trickling=counts.header_watch.cut,
                   open_after=open_after, healthy_after=healthy)
    assert not wrong, cases
    assert healthy
    assert counts.refused_connections >= 10
    assert counts.header_watch.cut >= THREADS
    assert open_after <= 1
    # Said once, not once per refused connection.
    assert caplog.text.count('API connection refused') == 1, caplog.text


def _connection_flood(url):
    """``MAX_CONNECTIONS`` idle connections held open, then 10 more."""
    host, port = url.split('//')[1].split(':')
    held = [socket.create_connection((host, int(port)), timeout=10)
            for _ in range(MAX_CONNECTIONS)]
    try:
        # NOTE: the server counts a connection once it has accepted it;
        # a request on a fresh connection proves the held ones are in.
        deadline = time.monotonic() + 10
        statuses = []
        while time.monotonic() < deadline:
            status = _raw(url, b'GET /v1/status HTTP/1.1\r\nHost: x\r\n'
                               b'Connection: close\r\n\r\n')
            if '503' in status:
                break
        statuses = [_raw(url, b'GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n')
                    for _ in range(10)]
    finally:
        for sock in held:
            sock.close()
    refused = sum('503' in status for status in statuses)
    # Served again as soon as the held connections are gone.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = _raw(url, b'GET /v1/status HTTP/1.1\r\nHost: x\r\n'
                           b'Connection: close\r\n\r\n')
        if '200' in status:
            break
    return {'connections over the limit': ('%d/10 refused' % refused,
                                           '10/10 refused'),
            'after the flood': (status, '200')}


def _trickling_headers(url):
    """As many clients as API threads, each sending one header byte every
    0.2 s for ever: the API answers again once ``header_timeout`` cuts
    them."""
    host, port = url.split('//')[1].split(':')
    stop = threading.Event()
    started = threading.Barrier(THREADS + 1)

    def trickle():
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b'GET /v1/status HTTP/1.1\r\nHost: x\r\n')
            started.wait()
            try:
                while not stop.wait(0.2):
                    s.sendall(b'X')
            except OSError:
                pass  # cut by the server

    threads = [threading.Thread(target=trickle) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    started.wait()
    try:
        begin = time.monotonic()
        # NOTE: a fresh connection waits for a free API thread; 8 s is a
        # deadlock guard, not a timing threshold (the cut comes after 1 s).
        status = _raw(url, b'GET /v1/status HTTP/1.1\r\nHost: x\r\n'
                           b'Connection: close\r\n\r\n', timeout=8)
        waited = time.monotonic() - begin
    except OSError as exc:
        status, waited = 'no answer: %s' % exc, None
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    return {'trickling headers on every thread': (
        '%s after %s s' % (status, waited), '200')}


def _settle(server, timeout=10):
    deadline = time.monotonic() + timeout
    while server.open_connections > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.open_connections
