"""Persistent HTTP(S) connections, and one GET over them.

The engine's two hand-made HTTP clients share this one mechanism: the model
builder's ``direct`` transport (:mod:`decision_engine.collector.transport`,
to Nova and Placement) and the Redfish driver's lean power read
(:mod:`decision_engine.drivers.redfish`, to BMCs). It is urllib3's
``PoolManager`` (the library under requests), used through its public
interface, with the engine's rules on top:

* **pools**: one pool of connections per endpoint (scheme, host, port and
  TLS settings), keeping at most ``per_host`` idle connections; a request
  finding none idle opens a new one, and a connection beyond the bound is
  closed after its request (never a wait for a free one). At most
  ``idle_total`` idle connections are kept over all endpoints: the least
  recently used endpoint gives its connections up first;
* **CA bundle**, one rule (:func:`ca_bundle`): ``verify`` is False (no
  check, no host name check), a path (a CA bundle file or directory:
  the option the caller was given), or True: the bundle requests would
  use, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's;
* **timeouts**: the connect timeout bounds the TCP connect and the TLS
  handshake, the read timeout each read;
* **no retries of its own**: urllib3 is told never to retry (retries are
  the callers' policy, :mod:`decision_engine.common.retry_policy`) with
  one exception, which is not a retry of a failed request: a server may
  close a kept-open connection while it is idle (gunicorn after 2 s,
  Apache, uwsgi and haproxy alike). A connection closed while idle is seen
  before it is reused (urllib3 checks ``is_connection_dropped``) and
  opened again. When the close crosses our request on the wire, a GET
  sent on a *reused* connection that fails before any byte of an answer
  came back is sent again, at once and once, on a new connection: the
  server never saw it, so it is neither a failed attempt nor a request
  the server received;
* **errors**: a failure without an HTTP answer raises
  :class:`TransportError` with a one-line message in requests' words
  (``Read timed out. (read timeout=15.0)``).
"""

import collections
import http.client
import json
import logging
import os
import threading

import certifi
import urllib3
from urllib3 import connection as u3_connection
from urllib3 import connectionpool as u3_connectionpool
from urllib3 import exceptions as u3_exc

LOG = logging.getLogger(__name__)

#: Endpoints whose pools a :class:`HttpPool` keeps when no ``idle_total``
#: bounds them (a collector talks to two or three services).
DEFAULT_ENDPOINTS = 16
_FULL_POOL_MESSAGE = 'Connection pool is full'
#: urllib3 never retries: errors come back as they are, redirects too.
_NO_RETRY = urllib3.Retry(total=False, redirect=False)
#: Timeouts a pool builds at most, one per (connect, read) pair a caller
#: used: a caller has one or two (the transport's request timeout, a
#: BMC's connect and read timeouts).
_TIMEOUTS_KEPT = 64


class TransportError(Exception):
    """No HTTP answer: connection refused or reset, timeout, TLS error."""


class Response:
    """What a GET got back: ``status_code``, ``headers`` (case-insensitive
    names), ``content`` (bytes).

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


def ca_bundle(verify):
    """The CA bundle (file or directory) that checks certificates for
    ``verify``; None when ``verify`` is False (no check).

    An explicit path wins; True means requests' choice: the
    ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` environment variable,
    else certifi's bundle.
    """
    if verify is False:
        return None
    if isinstance(verify, str):
        return verify
    return (os.environ.get('REQUESTS_CA_BUNDLE')
            or os.environ.get('CURL_CA_BUNDLE') or certifi.where())


def tls_settings(verify, cert=None):
    """urllib3's pool keywords for ``verify`` (see :func:`ca_bundle`) and
    a client certificate ``cert`` (a path, or ``(cert, key)``)."""
    bundle = ca_bundle(verify)
    if bundle is None:
        settings = {'cert_reqs': 'CERT_NONE', 'assert_hostname': False}
    elif os.path.isdir(bundle):
        settings = {'cert_reqs': 'CERT_REQUIRED', 'ca_cert_dir': bundle}
    else:
        settings = {'cert_reqs': 'CERT_REQUIRED', 'ca_certs': bundle}
    if cert:
        if isinstance(cert, (tuple, list)):
            settings['cert_file'], settings['key_file'] = cert[0], cert[1]
        else:
            settings['cert_file'] = cert
    return settings


class _FullPoolFilter(logging.Filter):
    """Drops urllib3's warning about a connection closed because its pool
    already keeps enough, for our requests only: that is the bound working
    as documented, not a problem (other users of urllib3 keep it)."""

    def __init__(self):
        super().__init__()
        self.local = threading.local()

    def filter(self, record):
        return not (getattr(self.local, 'inside', False)
                    and str(record.msg).startswith(_FULL_POOL_MESSAGE))


# NOTE: urllib3 logs "Connection pool is full, discarding connection" at
# WARNING each time a pool that does not block hands back a connection
# beyond its maxsize; for us that is the per_host bound closing an extra
# connection, as the callers' options document. Only while one of our
# requests runs in the thread is it dropped.
_FULL_POOL_FILTER = _FullPoolFilter()
logging.getLogger('urllib3.connectionpool').addFilter(_FULL_POOL_FILTER)


class _Tracking:
    """What each connection tells its :class:`HttpPool` (a mixin of
    urllib3's public connection classes): opened, sending on a fresh or a
    reused socket, answered, closed."""

    owner = None        # the HttpPool; set by HttpPool's subclasses
    _fresh = False      # connected and not used yet

    def connect(self):
        super().connect()
        self._fresh = True
        self.owner._opened(self)

    def request(self, method, url, body=None, headers=None, **kwargs):
        # A socket open before this request and not opened for it: a
        # kept-open connection used again.
        reused = not self.is_closed and not self._fresh
        self.owner._sending(self, reused)
        try:
            super().request(method, url, body=body, headers=headers,
                            **kwargs)
        finally:
            self._fresh = False

    def getresponse(self):
        resp = super().getresponse()
        self.owner._answered()
        return resp

    def close(self):
        super().close()
        self.owner._closed(self)


class HttpPool:
    """Kept-open connections per endpoint, and a GET over them;
    thread-safe. See the module docstring.

    :param per_host: idle connections kept per endpoint, >= 1.
    :param idle_total: idle connections kept over all endpoints, or None
        for no bound but :data:`DEFAULT_ENDPOINTS` endpoints.
    """

    def __init__(self, per_host, idle_total=None):
        owner = self

        class Connection(_Tracking, u3_connection.HTTPConnection):
            pass

        class HTTPSConnection(_Tracking, u3_connection.HTTPSConnection):
            pass

        Connection.owner = HTTPSConnection.owner = owner

        class Pool(u3_connectionpool.HTTPConnectionPool):
            ConnectionCls = Connection

        class HTTPSPool(u3_connectionpool.HTTPSConnectionPool):
            ConnectionCls = HTTPSConnection

        self._pool_classes = {'http': Pool, 'https': HTTPSPool}
        # NOTE: reentrant: a connection closed under it reports its close.
        self._lock = threading.RLock()
        self._local = threading.local()
        self._live = {}     # connection -> endpoint key, while connected
        self._busy = {}     # connection -> thread serving a request on it
        self._endpoints = collections.OrderedDict()   # key -> connections
        self.opened = 0     # connections opened, for tests and benchmarks
        self.resent = 0     # GETs sent again after a stale connection
        self.per_host = self.idle_total = None
        self._manager = None
        self._pools = {}    # (scheme, host, port, verify, cert) -> pool
        self._timeouts = {}     # (connect, read) -> urllib3.Timeout
        self.resize(per_host, idle_total)

    # -- sizing ----------------------------------------------------------

    def resize(self, per_host, idle_total=None):
        """Apply new bounds; kept connections of the old ones are
        closed when the bounds change."""
        if per_host < 1 or (idle_total is not None and idle_total < 1):
            raise ValueError('an HTTP pool keeps at least one connection '
                             '(per_host=%r, idle_total=%r)'
                             % (per_host, idle_total))
        if (per_host, idle_total) == (self.per_host, self.idle_total):
            return
        maxsize = per_host if idle_total is None else min(per_host,
                                                          idle_total)
        manager = urllib3.PoolManager(
            num_pools=(DEFAULT_ENDPOINTS if idle_total is None
                       else idle_total),
            maxsize=maxsize, block=False, retries=False)
        # NOTE: pool_classes_by_scheme is PoolManager's public instance
        # attribute naming the pool class of each scheme; ours differ
        # only in their (public) ConnectionCls.
        manager.pool_classes_by_scheme = self._pool_classes
        with self._lock:
            old, self._manager = self._manager, manager
            self._pools = {}
            self.per_host, self.idle_total = per_host, idle_total
        if old is not None:
            old.clear()

    # -- the request -----------------------------------------------------

    def get(self, scheme, host, port, target, headers, verify=True,
            connect_timeout=None, read_timeout=None, cert=None):
        """GET ``target`` (path and query) from ``scheme://host:port``;
        a :class:`Response`, whatever its status (redirects are not
        followed).

        :param verify: see :func:`ca_bundle`.
        :param cert: a client certificate path, or ``(cert, key)``.
        :raises TransportError: when no HTTP answer came.
        """
        key = (scheme, host, port)
        pool_key = (scheme, host, port, verify,
                    tuple(cert) if isinstance(cert, list) else cert)
        timeout = self._timeout(connect_timeout, read_timeout)
        local = self._local
        local.key = key
        _FULL_POOL_FILTER.local.inside = True
        try:
            for first in (True, False):
                local.reused = local.answered = False
                local.conn = None
                try:
                    pool = self._pool(pool_key)
                    # NOTE: the body is read here, not in urlopen, so
                    # that an answer whose head came is known as begun;
                    # the connection goes back to its pool once the body
                    # is read whole (release_conn=False), never before.
                    resp = pool.urlopen(
                        'GET', target, headers=headers, retries=_NO_RETRY,
                        redirect=False, timeout=timeout,
                        preload_content=False, release_conn=False,
                        assert_same_host=False)
                    try:
                        body = resp.data
                    finally:
                        resp.release_conn()
                except u3_exc.ClosedPoolError as exc:
                    with self._lock:
                        if self._pools.get(pool_key) is pool:
                            del self._pools[pool_key]
                    if first:
                        # NOTE: resize() or close() closed that pool, or
                        # the manager dropped it for a more recent one,
                        # before it gave a connection: nothing was sent.
                        continue
                    raise TransportError(_message(exc, connect_timeout,
                                                  read_timeout, host))
                except u3_exc.ProtocolError as exc:
                    if (first and local.reused and not local.answered
                            and _closed_under_us(exc)):
                        # NOTE: the server closed the kept-open connection
                        # as we sent: it saw nothing, a GET is safe to
                        # send again, on a new connection.
                        LOG.debug('%s://%s:%s closed a kept-open '
                                  'connection as it was reused: GET %s '
                                  'sent again on a new one', scheme, host,
                                  port, target)
                        with self._lock:
                            self.resent += 1
                        continue
                    raise TransportError(_message(exc, connect_timeout,
                                                  read_timeout, host))
                except (u3_exc.HTTPError, OSError) as exc:
                    raise TransportError(_message(exc, connect_timeout,
                                                  read_timeout, host))
                return Response(resp.status, resp.headers, body)
        finally:
            _FULL_POOL_FILTER.local.inside = False
            conn = local.conn
            local.conn = None
            self._done(key, conn)

    def _timeout(self, connect, read):
        """One urllib3 Timeout per (connect, read) pair, built once
        (urllib3 copies the one it is given for each request)."""
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = urllib3.Timeout(connect=connect, read=read)
            if len(self._timeouts) < _TIMEOUTS_KEPT:
                self._timeouts[key] = timeout
        return timeout

    def _pool(self, pool_key):
        """The urllib3 pool of an endpoint and TLS settings, kept here
        (the manager's look-up costs about a tenth of a request)."""
        pool = self._pools.get(pool_key)
        if pool is None:
            scheme, host, port, verify, cert = pool_key
            tls = tls_settings(verify, cert) if scheme == 'https' else None
            with self._lock:
                manager = self._manager
            pool = manager.connection_from_host(host, port, scheme,
                                                pool_kwargs=tls)
            with self._lock:
                if self._manager is manager:
                    self._pools[pool_key] = pool
        return pool

    # -- what the connections tell ------------------------------------------

    def _opened(self, conn):
        # NOTE: opened in this thread for its request: busy from now on.
        key = getattr(self._local, 'key', None)
        self._local.conn = conn
        with self._lock:
            self.opened += 1
            self._live[conn] = key
            self._busy[conn] = threading.get_ident()
            self._endpoints.setdefault(key, set()).add(conn)

    def _sending(self, conn, reused):
        self._local.conn = conn
        self._local.reused = reused
        with self._lock:
            self._busy[conn] = threading.get_ident()

    def _answered(self):
        self._local.answered = True

    def _closed(self, conn):
        with self._lock:
            key = self._live.pop(conn, None)
            self._busy.pop(conn, None)
            conns = self._endpoints.get(key)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self._endpoints[key]

    def _done(self, key, conn):
        """After a request: its connection is idle (or closed), and the
        idle connections over ``idle_total`` are closed, those of the
        least recently used endpoints first."""
        with self._lock:
            # NOTE: back in its pool since its answer was read, the
            # connection may already serve another thread's request.
            if conn is not None and \
                    self._busy.get(conn) == threading.get_ident():
                del self._busy[conn]
            if key in self._endpoints:
                self._endpoints.move_to_end(key)
            if self.idle_total is None:
                return
            excess = len(self._live) - len(self._busy) - self.idle_total
            closing = []
            for conns in self._endpoints.values():
                if excess <= 0:
                    break
                for idle in conns:
                    if excess <= 0:
                        break
                    if idle not in self._busy:
                        closing.append(idle)
                        excess -= 1
            # NOTE: under the lock, so that no thread starts a request on
            # one meanwhile. It stays in its pool, closed: urllib3 sees it
            # is (``is_connection_dropped``) and connects it again when it
            # is next taken.
            for idle in closing:
                idle.close()

    # -- state -----------------------------------------------------------

    def idle_count(self):
        """Open connections not serving a request."""
        with self._lock:
            return len(self._live) - len(self._busy)

    def close(self):
        """Close every idle connection (busy ones close after their
        request)."""
        with self._lock:
            manager = self._manager
            self._pools = {}
        manager.clear()


def _closed_under_us(exc):
    """Whether a request failed because the connection closed before any
    byte of an answer (not a malformed answer)."""
    inner = exc.args[1] if len(exc.args) > 1 else exc.__cause__
    return isinstance(inner, (http.client.RemoteDisconnected,
                              ConnectionResetError, BrokenPipeError,
                              ConnectionAbortedError))


def _message(exc, connect_timeout, read_timeout, host):
    """One line in requests' words for a failure without an answer."""
    # NOTE: what a server sent (a bad status line) may hold line breaks.
    return ' '.join(_words(exc, connect_timeout, read_timeout,
                           host).split())


def _words(exc, connect_timeout, read_timeout, host):
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, u3_exc.NewConnectionError):
        if cause is not None:
            return ('Failed to establish a new connection: %s: %s'
                    % (type(cause).__name__, cause))
        return 'Failed to establish a new connection: %s' % (exc,)
    if isinstance(exc, u3_exc.ConnectTimeoutError):
        return ('Connection to %s timed out. (connect timeout=%s)'
                % (host, connect_timeout))
    if isinstance(exc, u3_exc.ReadTimeoutError):
        return 'Read timed out. (read timeout=%s)' % read_timeout
    if isinstance(exc, u3_exc.SSLError):
        return 'SSLError: %s' % (cause if cause is not None else exc)
    if isinstance(exc, u3_exc.ProtocolError):
        # ('Connection aborted.', error) before an answer, ('Connection
        # broken: ...', error) while reading one.
        what = exc.args[0] if exc.args else 'Connection aborted.'
        inner = exc.args[1] if len(exc.args) > 1 else cause
        if what == 'Connection aborted.' and isinstance(inner,
                                                        BaseException):
            return 'Connection aborted. %s: %s' % (type(inner).__name__,
                                                   inner)
        return str(what)
    return '%s: %s' % (type(exc).__name__, exc)
