"""Persistent HTTP(S) connections to BMCs, and one GET over them.

The lean power read of the ``redfish`` driver sends one ``GET`` of the
system resource per poll. Through sushy that ``GET`` goes through requests
with ``Connection: close`` (a TCP, and TLS, handshake every poll) and sushy
then builds its resource objects: about 2-3 ms of CPU per poll. Here it is
one ``http.client`` request on a kept-open connection.

:class:`KeepAlivePool` keeps idle connections per BMC endpoint (scheme,
host, port and TLS settings), at most ``per_bmc`` of them per endpoint and
``total`` over all endpoints (the least recently used endpoint gives its
connections up first), so the engine never holds more than ``total`` idle
sockets however many BMCs it polls. A connection is used by one request at
a time; a request finding no idle connection opens a new one and hands it
back afterwards (or closes it when its endpoint already keeps enough).

Timeouts, TLS verification and errors follow what sushy (through requests)
does, so that the two read paths fail alike:

* the TCP connect and the TLS handshake are bounded by the connect timeout,
  each read by the read timeout; a request is sent once (no transport
  retry), except when a *reused* connection turns out to have been closed
  by the BMC before it answered: that request is sent again, once, on a
  new connection (a BMC closing an idle keep-alive connection is normal);
* ``verify`` is True (the CA bundle of ``REQUESTS_CA_BUNDLE``,
  ``CURL_CA_BUNDLE`` or certifi, as requests picks it), False (no check),
  or the path of a CA bundle file or directory; host names are checked
  whenever certificates are;
* a failure without an HTTP answer raises :class:`TransportError` with a
  message in requests' words (``Read timed out. (read timeout=15.0)``).
"""

import collections
import http.client
import json
import os
import socket
import ssl
import threading

import certifi


class TransportError(Exception):
    """No HTTP answer: connection refused or reset, timeout, TLS error."""


class Response:
    """What a GET got back: ``status_code``, ``headers``, ``content``.

    ``json()`` raises ValueError on a body that is not JSON, which is what
    :func:`sushy.exceptions.raise_for_response` expects of a response.
    """

    __slots__ = ('status_code', 'headers', 'content')

    def __init__(self, status_code, headers, content):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self):
        return json.loads(self.content)


def _ca_bundle():
    # NOTE: requests' order (sushy's session trusts the environment).
    return (os.environ.get('REQUESTS_CA_BUNDLE')
            or os.environ.get('CURL_CA_BUNDLE') or certifi.where())


def ssl_context(verify):
    """An SSL context for ``verify`` (True, False or a CA bundle path)."""
    if verify is False:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    path = _ca_bundle() if verify is True else verify
    if os.path.isdir(path):
        return ssl.create_default_context(capath=path)
    return ssl.create_default_context(cafile=path)


class KeepAlivePool:
    """Idle keep-alive connections per BMC endpoint; thread-safe."""

    def __init__(self, per_bmc, total):
        self.per_bmc = per_bmc
        self.total = total
        self._idle = collections.OrderedDict()   # key -> [connection]
        self._count = 0
        self._lock = threading.Lock()
        self._contexts = {}
        self.opened = 0     # connections opened, for tests and benchmarks

    def _context(self, verify):
        ctx = self._contexts.get(verify)
        if ctx is None:
            ctx = self._contexts[verify] = ssl_context(verify)
        return ctx

    def _take(self, key):
        with self._lock:
            conns = self._idle.get(key)
            if conns:
                self._count -= 1
                self._idle.move_to_end(key)
                return conns.pop()
        return None

    def _give_back(self, key, conn):
        closing = []
        with self._lock:
            conns = self._idle.setdefault(key, [])
            self._idle.move_to_end(key)
            if len(conns) >= self.per_bmc:
                closing.append(conn)
            else:
                conns.append(conn)
                self._count += 1
            while self._count > self.total:
                oldest, idle = next(iter(self._idle.items()))
                if idle:
                    closing.append(idle.pop(0))
                    self._count -= 1
                if not idle:
                    del self._idle[oldest]
        for extra in closing:
            extra.close()

    def _open(self, scheme, host, port, verify, connect_timeout):
        if scheme == 'https':
            conn = http.client.HTTPSConnection(
                host, port, timeout=connect_timeout,
                context=self._context(verify))
        else:
            conn = http.client.HTTPConnection(host, port,
                                              timeout=connect_timeout)
        try:
            conn.connect()
        except socket.timeout:
            conn.close()
            raise TransportError('Connection to %s timed out. (connect '
                                 'timeout=%s)' % (host, connect_timeout))
        except ssl.SSLError as exc:
            conn.close()
            raise TransportError('SSLError: %s' % exc)
        except OSError as exc:
            conn.close()
            raise TransportError('Failed to establish a new connection: '
                                 '%s: %s' % (type(exc).__name__, exc))
        with self._lock:
            self.opened += 1
        return conn

    def get(self, scheme, host, port, path, headers, verify,
            connect_timeout, read_timeout):
        """GET ``path``; a :class:`Response`.

        :raises TransportError: when no HTTP answer came.
        """
        key = (scheme, host, port, verify)
        conn = self._take(key)
        reused = conn is not None
        while True:
            if conn is None:
                conn = self._open(scheme, host, port, verify,
                                  connect_timeout)
            conn.sock.settimeout(read_timeout)
            try:
                conn.request('GET', path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
            except socket.timeout:
                conn.close()
                raise TransportError('Read timed out. (read timeout=%s)'
                                     % read_timeout)
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError) as exc:
                conn.close()
                if reused:
                    # NOTE: the BMC closed an idle connection we still
                    # held: nothing was answered, a GET is safe to resend.
                    conn, reused = None, False
                    continue
                raise TransportError('Connection aborted. %s: %s'
                                     % (type(exc).__name__, exc))
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise TransportError('%s: %s' % (type(exc).__name__, exc))
            break
        if resp.will_close:
            conn.close()
        else:
            self._give_back(key, conn)
        return Response(resp.status, resp.headers, body)

    def idle_count(self):
        with self._lock:
            return self._count

    def close(self):
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, collections.OrderedDict()
            self._count = 0
        for conns in idle.values():
            for conn in conns:
                conn.close()
