"""Serving the API with cheroot on a thread of the engine process.

The lead's service calls::

    api_server = decision_engine.api.server.start(conf, engine_api)
    ...
    api_server.stop()

:func:`start` refuses (:class:`~.auth.AuthConfigError`, one line) to serve
``noauth`` on a non-loopback address or an unreadable htpasswd file, and
raises :class:`OSError` when the port cannot be bound.
"""

import json
import logging
import socket
import threading
import time

from cheroot import server as cheroot_server
from cheroot import wsgi
from oslo_middleware import healthcheck

from decision_engine.api import app as app_mod
from decision_engine.api import auth
from decision_engine.api import dispatch
from decision_engine.api.v1 import router as v1_router

LOG = logging.getLogger(__name__)


class _Router:
    """``/healthcheck`` to oslo.middleware's health check application,
    everything else to the authenticated API."""

    def __init__(self, health, api):
        self.health = health
        self.api = api

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO') == '/healthcheck':
            return self.health(environ, start_response)
        return self.api(environ, start_response)


def build_app(conf, engine_api):
    """The full WSGI stack: health check, authentication, then
    Watcher's API v1 or the engine's own routes (see
    :mod:`decision_engine.api.dispatch`).

    :returns: ``(wsgi application, the engine routes' Application)``.
    """
    application = app_mod.Application(engine_api, conf)
    watcher = v1_router.WatcherAPI(engine_api, conf,
                                   count=application.metrics.count)
    dispatcher = dispatch.Dispatcher(watcher, application)
    # NOTE: in keystone mode the engine's own routes admit the roles of
    # [api] admin_roles only; Watcher's routes apply their policy rules.
    protected = auth.wrap(dispatcher, conf, policy_governed=lambda environ:
                          dispatcher.choose(environ) is watcher)
    # NOTE: oslo.middleware's Healthcheck is an application, not a filter:
    # it answers every request it is given.
    health = healthcheck.Healthcheck(None, {'backends': [],
                                            'detailed': False})
    return _Router(health, protected), application


_REFUSAL = json.dumps({'error': {
    'code': 503, 'title': 'Service Unavailable',
    'message': 'too many connections to the API ([api] max_connections); '
               'retry later'}}).encode()
_REFUSAL = (b'HTTP/1.1 503 Service Unavailable\r\n'
            b'Content-Type: application/json\r\n'
            b'Content-Length: %d\r\nConnection: close\r\n'
            b'Retry-After: 1\r\n\r\n' % len(_REFUSAL)) + _REFUSAL


_WARNING_INTERVAL = 60.0


class _HeaderWatch:
    """Cut connections whose request line and headers take too long.

    cheroot's timeout is per read: a client sending one header byte every
    few seconds would hold an API thread for ever, and ``[api] threads``
    such clients the whole API. One thread checks every second or so and
    shuts down the socket of each request still reading its headers after
    ``timeout`` seconds (the blocked read then ends and cheroot closes the
    connection).
    """

    def __init__(self, timeout):
        self.timeout = timeout
        self.cut = 0
        self._reading = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def begin(self, conn):
        with self._lock:
            self._reading[conn] = time.monotonic()

    def end(self, conn):
        with self._lock:
            self._reading.pop(conn, None)

    def run(self):
        while not self._stopped.wait(min(1.0, self.timeout / 4)):
            now = time.monotonic()
            with self._lock:
                late = [conn for conn, since in self._reading.items()
                        if now - since > self.timeout]
                for conn in late:
                    del self._reading[conn]
            for conn in late:
                self.cut += 1
                try:
                    conn.socket.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        self._stopped.set()


class _WatchedRequest(cheroot_server.HTTPRequest):
    """A request whose line and headers are read under the watch."""

    def parse_request(self):
        watch = self.server.header_watch
        watch.begin(self.conn)
        try:
            super().parse_request()
        finally:
            watch.end(self.conn)


class _CountedConnection(cheroot_server.HTTPConnection):
    """A connection that counts itself among the server's open ones."""

    RequestHandlerClass = _WatchedRequest

    def __init__(self, server, sock, *args, **kwargs):
        super().__init__(server, sock, *args, **kwargs)
        self._open = True
        self.over_limit = server.opened() > server.max_connections

    def close(self):
        if getattr(self, '_open', False):
            self._open = False
            self.server.closed()
        super().close()


class _BoundedServer(wsgi.Server):
    """cheroot's WSGI server with a bound on open connections.

    cheroot accepts every connection and keeps idle ones in its selector
    until their timeout; past ``max_connections`` a new one is answered
    503 and closed on the spot, before it takes a worker thread.
    """

    ConnectionClass = _CountedConnection

    def __init__(self, *args, max_connections, header_timeout, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections
        self.header_watch = _HeaderWatch(header_timeout)
        self.open_connections = 0
        self.refused_connections = 0
        self._last_warning = -_WARNING_INTERVAL
        self._count_lock = threading.Lock()

    def opened(self):
        with self._count_lock:
            self.open_connections += 1
            return self.open_connections

    def closed(self):
        with self._count_lock:
            self.open_connections -= 1

    def process_conn(self, conn):
        if not getattr(conn, 'over_limit', False):
            return super().process_conn(conn)
        conn.over_limit = False
        with self._count_lock:
            self.refused_connections += 1
            now = time.monotonic()
            warn = now - self._last_warning >= _WARNING_INTERVAL
            if warn:
                self._last_warning = now
        if warn:
            # NOTE: at most one line a minute, however hard the flood.
            LOG.warning('API connection refused: %d connection(s) open, '
                        '[api] max_connections is %d (%d refused so far)',
                        self.open_connections, self.max_connections,
                        self.refused_connections)
        # NOTE: on the selector thread, so never block: a fresh socket's
        # send buffer takes these few hundred bytes at once.
        try:
            conn.socket.setblocking(False)
            conn.socket.send(_REFUSAL)
        except OSError:
            pass
        conn.close()


class ApiServer:
    def __init__(self, server, thread, application):
        self._server = server
        self._thread = thread
        self.application = application

    @property
    def port(self):
        return self._server.bind_addr[1]

    @property
    def url(self):
        host = self._server.bind_addr[0]
        if ':' in host:
            host = '[%s]' % host
        return 'http://%s:%d' % (host, self.port)

    def stop(self, timeout=10):
        self._server.header_watch.stop()
        self._server.stop()
        self._thread.join(timeout)
        LOG.info('API server stopped')


class CannotListen(OSError):
    """The API's address cannot be bound; the message is one line."""


def check_listen(conf):
    """Refuse, before anything starts, an API address that cannot be bound.

    Binds ``[api] host`` and ``port`` once and lets go at once (the
    daemon's pre-flight, before the launcher forks); port 0 needs no check.

    :raises CannotListen: naming the options and the reason.
    """
    host, port = conf.api.host, conf.api.port
    if not port:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            # NOTE: as cheroot binds it: a port left in TIME_WAIT by the
            # previous engine is free, one in use by a listener is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise CannotListen('cannot listen on [api] host %s port %d: %s'
                           % (host, port, exc.strerror or exc))


def start(conf, engine_api):
    """Start serving; :returns: an :class:`ApiServer`."""
    auth.check_bind(conf)
    wsgi_app, application = build_app(conf, engine_api)
    server = _BoundedServer((conf.api.host, conf.api.port), wsgi_app,
                            numthreads=conf.api.threads,
                            max=-1, request_queue_size=64,
                            server_name='decision-engine',
                            max_connections=conf.api.max_connections,
                            header_timeout=conf.api.header_timeout)
    # NOTE: cheroot reads headers without a bound unless told one.
    server.max_request_header_size = conf.api.max_request_header_size
    # NOTE: Nagle's algorithm adds ~40 ms to small responses on loopback.
    server.nodelay = True
    server.prepare()
    thread = threading.Thread(target=server.serve, name='api-server',
                              daemon=True)
    thread.start()
    threading.Thread(target=server.header_watch.run, name='api-header-watch',
                     daemon=True).start()
    api = ApiServer(server, thread, application)
    LOG.info('API listening on %s (auth: %s)', api.url,
             conf.api.auth_strategy)
    return api
