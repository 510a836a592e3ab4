"""The simulated cloud: one threaded HTTP/1.1 server, all services on one
port under path prefixes (``/identity``, ``/compute``, ``/placement``,
``/baremetal``; admin endpoints under ``/_sim/``).

Per request (admin endpoints skip steps 2-4): route -> 1. count in stats
-> 2. sleep the latency in this handler thread (one thread per
connection, so sleeps overlap across connections) -> 3. fault plan ->
4. token check -> handler -> write status line, headers and body in one
``sendall`` -> count out.

Usage::

    sim = Simulator(Topology.generate(hosts=50, instances=500), latency_ms=0)
    sim.start()                 # returns once listening
    sim.auth_url                # http://127.0.0.1:PORT/identity
    ...
    sim.stop()

or ``with Simulator(topo) as sim: ...``.
"""

import http.server
import logging
import select
import socket
import socketserver
import struct
import threading
import time
import uuid

from decision_engine.simulator import admin as admin_mod
from decision_engine.simulator import baremetal
from decision_engine.simulator import compute
from decision_engine.simulator import faults as faults_mod
from decision_engine.simulator import identity
from decision_engine.simulator import aggregate_writes
from decision_engine.simulator import migrations as writes_mod
from decision_engine.simulator import neutron as neutron_mod
from decision_engine.simulator import placement
from decision_engine.simulator import routing
from decision_engine.simulator import stats as stats_mod
from decision_engine.simulator.topology import Topology

LOG = logging.getLogger(__name__)
_REASONS = {s.value: s.phrase for s in http.HTTPStatus}


class _Router:
    """Path prefix -> service; route regexes within the service."""

    def __init__(self, services, extra=None):
        self._by_prefix = {s.prefix: (s, s.routes() + (extra or {}).get(
            s.prefix, [])) for s in services}

    def match(self, method, path):
        """(service or None, route or None, params, status if no route)."""
        end = path.find('/', 1)
        prefix = path if end < 0 else path[:end]
        entry = self._by_prefix.get(prefix)
        if entry is None:
            return None, None, None, 404
        service, routes = entry
        rest = path[len(prefix):]
        other_method = False
        for route in routes:
            m = route.regex.match(rest)
            if m:
                if route.method == method:
                    return service, route, m.groupdict(), None
                other_method = True
        return service, None, None, 405 if other_method else 404


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Without this every response waits ~40 ms for the client's delayed
    # ACK (Nagle), which would dwarf everything we measure.
    disable_nagle_algorithm = True
    server_version = 'decision-engine-simulator'
    sys_version = ''

    def setup(self):
        # NOTE: BaseHTTPRequestHandler's ``timeout`` bounds every read of
        # the connection: an idle keep-alive connection is closed after
        # it, as gunicorn (2 s), Apache, uwsgi and haproxy do.
        self.timeout = self.server.simulator.idle_timeout
        super().setup()
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, fmt, *args):
        if self.server.simulator.log_requests:
            LOG.info('%s %s', self.address_string(), fmt % args)

    def _serve(self):
        self.server.simulator._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def send_raw(self, resp, request_id, length=None):
        """Status line, headers and body in one write (``length``: the
        Content-Length to announce, if not the body's)."""
        body = resp.body
        lines = ['HTTP/1.1 %d %s' % (resp.status,
                                     _REASONS.get(resp.status, 'Unknown')),
                 'Content-Type: ' + resp.content_type,
                 'Content-Length: %d' % (len(body) if length is None
                                         else length),
                 'X-OpenStack-Request-Id: ' + request_id]
        for key, value in resp.headers.items():
            lines.append('%s: %s' % (key, value))
        if resp.close or self.close_connection:
            lines.append('Connection: close')
            self.close_connection = True
        head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        if self.command == 'HEAD':
            body = b''
        self.wfile.write(head + body)

    def send_truncated(self, resp, request_id):
        """The answer's head with its full Content-Length, then half its
        body (at least one byte short), then the connection closes."""
        body = resp.body
        resp.body = body[:max(0, min(len(body) // 2, len(body) - 1))]
        # An empty body has nothing to cut: one byte is announced that
        # never comes.
        self.close_connection = True
        self.send_raw(resp, request_id, length=max(len(body), 1))

    def client_gone(self):
        """Whether the client closed its side (it gave up waiting)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(
                1, socket.MSG_PEEK) == b''
        except OSError:
            return True

    def reset_connection(self):
        """Drop the connection without answering: linger 0 makes close()
        send a RST, which clients see as a connection reset."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack('ii', 1, 0))
        self.close_connection = True


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections must not make stop() wait for them.
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address, simulator):
        self.simulator = simulator
        self._connections = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self):
        # HTTPServer.server_bind calls socket.getfqdn(), a DNS lookup that
        # can take seconds; we never need the name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def track(self, conn, add):
        with self._conn_lock:
            (self._connections.add if add
             else self._connections.discard)(conn)

    def open_connections(self):
        with self._conn_lock:
            return len(self._connections)

    def close_connections(self):
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Simulator:
    """A simulated OpenStack cloud on one loopback port.

    :param topology: a :class:`Topology` (default ``Topology.generate()``)
    :param latency_ms: number, ``"compute=50,placement=20"`` string, or
        dict ``{"default": 10, "compute": 50}``
    :param token_ttl_s: token lifetime on ``clock``
    :param faults: iterable of :class:`FaultRule` (or dicts)
    :param fault_seed: seed of the fault RNG
    :param max_limit: Nova/Ironic page size cap (``[api] max_limit``)
    :param clock: monotonic clock for token expiry (tests may fake it)
    :param sleep: how latency is waited out, in the handler thread
        (tests substitute a barrier to prove the waits overlap)
    :param preserialize: serialize all servers (microversion >= 2.47
        shape) in start(), ~20 us each, so no listing pays for it
    :param noauth: the services that still have a no-Keystone mode run
        in it, answering as the real ones do: Placement as with ``[api]
        auth_strategy = noauth2`` (the token ``admin`` is an admin, any
        other token is a user without a role, so 403 on its admin APIs;
        see :func:`.identity.noauth_scope`), Ironic as with
        ``auth_strategy = noauth`` (any token, no policy). Nova 34 has no
        such mode: compute keeps requiring the simulator's Keystone tokens.
    :param users: more Keystone users, ``{name: {'password', 'role',
        'project'}}`` (see :meth:`add_user`)
    :param neutron_latency_ms: added to a server listing or show per
        Neutron query real Nova would send for it (see ``neutron``; the
        queries are counted under ``downstream`` in the stats whatever
        the latency)
    :param idle_timeout: seconds after which an idle keep-alive
        connection is closed by the server (None: kept until the client
        closes it)
    :param migrations: settings of the write side (``duration_s``,
        ``jitter``, ``fail_ratio``, ``seed``,
        ``max_concurrent_live_migrations``; see ``migrations``), reachable
        as ``sim.writes``
    """

    def __init__(self, topology=None, host='127.0.0.1', port=0,
                 latency_ms=0, token_ttl_s=3600, faults=(), fault_seed=0,
                 username='admin', password='secret', project='admin',
                 max_limit=compute.MAX_LIMIT, clock=time.monotonic,
                 log_requests=False, preserialize=True, sleep=time.sleep,
                 noauth=False, migrations=None, users=None,
                 neutron_latency_ms=0.0, idle_timeout=None):
        self.topology = topology if topology is not None \
            else Topology.generate()
        self.host = host
        self._requested_port = port
        self.port = None
        self.url = None
        self.credentials = {'username': username, 'password': password,
                            'project': project}
        self.log_requests = log_requests
        self.preserialize = preserialize
        self.noauth = noauth
        self.idle_timeout = idle_timeout
        self._sleep = sleep
        self.latency = faults_mod.LatencyPlan()
        self.set_latency(latency_ms)
        self.faults = faults_mod.FaultPlan(faults, seed=fault_seed)
        self.tokens = identity.TokenStore(token_ttl_s, clock)
        self.users = identity.Users(username, password, project)
        for name, user in (users or {}).items():
            self.add_user(name, **user)
        self._stats = stats_mod.Stats()
        self.neutron = neutron_mod.NeutronCost(self._stats,
                                               neutron_latency_ms, sleep)
        self._release = threading.Event()
        self._stopping = threading.Event()
        self.services = [identity.IdentityService(self),
                         compute.ComputeService(self, max_limit),
                         placement.PlacementService(self),
                         baremetal.BaremetalService(self, max_limit)]
        self.writes = writes_mod.ComputeWrites(
            self.topology, self.services[1], self.services[2],
            **(migrations or {}))
        self.aggregate_writes = aggregate_writes.AggregateWrites(self)
        #: a :class:`~decision_engine.simulator.notifier.NovaNotifier` (or
        #: anything with its ``send``): the API's writes then send Nova's
        #: notifications; None sends none.
        self.notifier = None
        self.writes.notify = self._notify
        self._router = _Router(self.services, extra=self._write_routes())
        self._admin = admin_mod.AdminAPI(self)
        self._server = None
        self._thread = None

    def reload_topology(self):
        """Serve :attr:`topology` again after it was changed in place (the
        churn): the compute and placement services index it when made.
        Requests in flight finish on the state they started with."""
        services = list(self.services)
        services[1] = compute.ComputeService(self, services[1].max_limit)
        services[2] = placement.PlacementService(self)
        self.services = services
        self._router = _Router(services, extra=self._write_routes())

    def _write_routes(self):
        return {'/compute': self.writes.routes()
                + self.aggregate_writes.routes()}

    def _notify(self, publisher, event_type, payload):
        notifier = self.notifier
        if notifier is not None:
            notifier.send(publisher, event_type, payload)

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        """Bind, start serving in a daemon thread; return once listening."""
        if self._server is not None:
            raise RuntimeError('simulator already started')
        self._stopping.clear()
        self._server = _HTTPServer((self.host, self._requested_port), self)
        self.port = self._server.server_address[1]
        host = '[%s]' % self.host if ':' in self.host else self.host
        self.url = 'http://%s:%d' % (host, self.port)
        if self.preserialize:
            self.services[1].preserialize(self.url)
        # The socket listens from bind(); serve_forever only accepts.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={'poll_interval': 0.1},
            name='simulator-%d' % self.port, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop accepting, end stalls, close open connections."""
        if self._server is None:
            return
        self._stopping.set()
        self.release_stalls()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join()
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def auth_url(self):
        return self.url + '/identity'

    # -- runtime controls --------------------------------------------------

    def set_latency(self, latency_ms=0, **per_service):
        """``set_latency(10)``, ``set_latency(0, compute=50)``,
        ``set_latency("compute=50,placement=20")`` or a dict."""
        if isinstance(latency_ms, str):
            default, per = faults_mod.LatencyPlan.parse(latency_ms)
        elif isinstance(latency_ms, dict):
            per = dict(latency_ms)
            default = per.pop('default', 0)
        else:
            default, per = latency_ms, {}
        per.update(per_service)
        self.latency.set(default, per)

    def set_neutron_latency(self, latency_ms):
        """Milliseconds each Neutron query of Nova's server listings adds
        (:raises ConfigError: below 0 or not a number)."""
        self.neutron.set_latency(latency_ms)

    def set_faults(self, rules=(), seed=None):
        """Replace the fault rules (FaultRule objects or dicts)."""
        self.faults.set(rules, seed)

    def add_fault(self, kind='error', **fields):
        """Append one rule, e.g. ``add_fault('error', status=503,
        count=3, path='inventories')``; returns it."""
        rule = faults_mod.FaultRule(kind=kind, **fields)
        self.faults.add(rule)
        return rule

    def clear_faults(self):
        self.faults.set([])

    def release_stalls(self):
        """Let every currently stalled request continue."""
        old, self._release = self._release, threading.Event()
        old.set()

    def expire_tokens(self):
        """Revoke every issued token (clients then get 401)."""
        self.tokens.expire_all()

    def add_user(self, name, password, role='member', project=None):
        """A Keystone user of the simulator: ``role`` (admin, manager,
        member, reader or service, with its implied roles) on ``project``
        (a name; default the admin user's project)."""
        self.users.add(name, password, role, project)

    def token_for(self, name=None):
        """A project-scoped token of user ``name`` (default: the admin
        user), issued without a request (not counted in the stats)."""
        record = self.users.find(name=name or self.credentials['username'])
        if record is None:
            raise KeyError('no simulator user %r' % name)
        return self.tokens.issue({
            'user_id': record['id'], 'user_name': record['name'],
            'project_id': record['project_id'],
            'project_name': record['project_name'],
            'roles': record['roles']})

    def stats(self, log=False):
        return self._stats.snapshot(log)

    def reset_stats(self):
        self._stats.reset()

    def open_connections(self):
        """Client connections open now (kept-alive idle ones included)."""
        return self._server.open_connections() if self._server else 0

    def wait_in_flight(self, n, timeout=10.0):
        """Block until >= n requests are being served (no polling)."""
        return self._stats.wait_in_flight(n, timeout)

    # -- client conveniences -----------------------------------------------

    def auth(self):
        """keystoneauth/openstacksdk ``auth`` settings."""
        return {'auth_url': self.auth_url,
                'username': self.credentials['username'],
                'password': self.credentials['password'],
                'project_name': self.credentials['project'],
                'user_domain_name': 'Default',
                'project_domain_name': 'Default'}

    def clouds_yaml(self, cloud='simulator'):
        auth = self.auth()
        lines = ['clouds:', '  %s:' % cloud, '    auth:']
        lines += ['      %s: %s' % (k, v) for k, v in auth.items()]
        lines += ['    region_name: RegionOne',
                  '    identity_api_version: 3', '    interface: public']
        return '\n'.join(lines) + '\n'

    def connection(self, **kwargs):
        """An ``openstack.connection.Connection`` to this simulator."""
        import openstack.connection
        settings = dict(self.auth(), region_name='RegionOne')
        settings.update(kwargs)
        return openstack.connection.Connection(**settings)

    # -- request path ------------------------------------------------------

    def _serve(self, handler):
        method = handler.command
        path, _, raw_query = handler.path.partition('?')
        length = handler.headers.get('Content-Length')
        body = handler.rfile.read(int(length)) if length else b''
        request_id = 'req-' + str(uuid.uuid4())
        if path.startswith('/_sim/') or path == '/_sim':
            handler.send_raw(self._admin.handle(method, path, raw_query,
                                                body), request_id)
            return
        if len(path) > 1 and path.endswith('/'):
            path = path.rstrip('/')
        service, route, params, miss = self._router.match(method, path)
        if route is not None:
            endpoint = route.endpoint
        elif service is not None:
            endpoint = '%s %s/<unknown>' % (method, service.prefix)
        else:
            endpoint = '%s <unknown>' % method
        stats = self._stats
        entry = stats.begin(method, endpoint, path, raw_query,
                            time.monotonic())
        fault = None
        try:
            sname = service.name if service is not None else None
            delay = self.latency.seconds(sname)
            if delay:
                self._sleep(delay)
            resp = None
            rule = self.faults.pick(sname, method, path) \
                if service is not None else None
            if rule is not None:
                fault = rule.kind
                if rule.kind == 'reset':
                    handler.reset_connection()
                    return
                if rule.kind == 'stall':
                    self._release.wait(rule.stall_s)
                    if handler.client_gone():
                        # NOTE: as a proxy in front of the API would do: a
                        # request its client gave up on is not carried out
                        # long after the client decided it had failed.
                        handler.close_connection = True
                        return
                elif rule.kind == 'error':
                    resp = service.error(rule.status,
                                         'Injected fault (simulator)')
                    if rule.status in (429, 503) and \
                            rule.retry_after is not None:
                        resp.headers['Retry-After'] = str(rule.retry_after)
                elif rule.kind == 'malformed':
                    resp = routing.Response(200, b'{"truncated": [{"id": ')
                elif rule.kind == 'expire':
                    self.tokens.expire_all()
            if resp is None:
                resp = self._dispatch(handler, service, route, params,
                                      miss, method, path, raw_query, body)
            if fault == 'truncated':
                stats.end(entry, resp.status, time.monotonic(), fault,
                          resp.token_issued)
                entry = None
                handler.send_truncated(resp, request_id)
                return
            # Count out before writing: once a client has its answer, the
            # stats it reads next must already include this request.
            stats.end(entry, resp.status, time.monotonic(), fault,
                      resp.token_issued)
            entry = None
            handler.send_raw(resp, request_id)
        except (ConnectionError, BrokenPipeError):
            handler.close_connection = True
        finally:
            if entry is not None:   # reset, or died before answering
                stats.end(entry, None, time.monotonic(), fault)

    def _scope(self, service, headers):
        """The scope of the request's token as ``service`` reads it, or
        None (401)."""
        token = headers.get('X-Auth-Token')
        if self.noauth and service.name == 'placement':
            return identity.noauth_scope(token, headers.get('X-Roles'))
        if self.noauth and service.name == 'baremetal':
            scope = identity.noauth_scope(token)
            if scope is not None:
                scope['roles'] = identity.IMPLIED_ROLES['admin']
            return scope
        return self.tokens.check(token)

    def _dispatch(self, handler, service, route, params, miss, method, path,
                  raw_query, body):
        if route is None:
            if service is None:
                return routing.json_response({'error': {
                    'code': 404, 'title': 'Not Found',
                    'message': 'No service at %s' % path}}, 404)
            if miss == 405:
                return service.error(405, 'Method %s not allowed on %s'
                                     % (method, path))
            return service.error(404, 'The resource could not be found: %s'
                                 % path)
        req = routing.Request(method, path, raw_query, handler.headers,
                              body, self.url)
        req.params = params
        # NOTE: migrations progress on the clock; what is due is applied
        # before any request reads or writes the cloud.
        self.writes.settle()
        try:
            if route.auth:
                req.token = self._scope(service, handler.headers)
                if req.token is None:
                    resp = service.error(401, 'The request you have made '
                                         'requires authentication.')
                    resp.headers['WWW-Authenticate'] = \
                        'Keystone uri="%s"' % self.auth_url
                    return resp
                if route.policy is not None and not (
                        service.policy_roles & set(req.token['roles'])):
                    return service.error(403, service.policy_message
                                         % route.policy)
            return route.handler(req)
        except routing.HTTPError as exc:
            resp = service.error(exc.status, exc.message)
            resp.headers.update(exc.headers)
            return resp
        except Exception:   # a simulator bug: say so, keep serving
            LOG.exception('simulator handler failed for %s %s', method,
                          path)
            return service.error(500, 'Simulator internal error')
