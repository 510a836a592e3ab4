"""A farm of simulated Redfish BMCs on one loopback port.

For tests and benchmarks of the power drivers at scale: thousands of
systems behind one threaded HTTP server, each with its own power state,
latency and fault, and counters of what was asked::

    from decision_engine.simulator.bmc import BMCFarm
    farm = BMCFarm(systems=2000, latency_ms=100, username='admin',
                   password='s3cret').start()
    farm.driver_info('node-0007')   # what the redfish driver needs
    farm.set_power('node-0007', 'Off')      # an "external" change
    farm.set_fault('node-0003', 'hang')     # accept, never answer
    farm.set_fault('node-0004', 500)        # answer 500
    farm.stats(); farm.wait_hung(1); farm.release_hangs(); farm.stop()

The farm looks like one Redfish service managing many systems (as
sushy-emulator does): the service root and the session service are shared,
and each system is ``/redfish/v1/Systems/<id>``. Latency and faults apply
to requests of a system's resources, not to the service root.

Authentication: with a username, a request for a system needs HTTP basic
credentials or an ``X-Auth-Token`` from ``POST
/redfish/v1/SessionService/Sessions``; otherwise it is answered 401.

:class:`~.silent_bmc.SilentBMC` is the other kind of bad peer: a TCP
socket that accepts connections and never sends a byte.  The HTTP server
itself is :mod:`.bmc_http`.

Run it alone (for ``benchmarks.power_sync`` or by hand)::

    python -m decision_engine.simulator.bmc --systems 2000 --latency-ms 100

prints one JSON line with the URL once listening, then serves until killed.
"""

import argparse
import base64
import collections
import json
import secrets
import signal
import sys
import threading
import time

from decision_engine.simulator import bmc_http

ROOT = '/redfish/v1'
SYSTEMS = ROOT + '/Systems'
SESSIONS = ROOT + '/SessionService/Sessions'
RESET_TYPES = ('On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart',
               'ForceRestart', 'PushPowerButton')
_AFTER_RESET = {'On': 'On', 'ForceOff': 'Off', 'GracefulShutdown': 'Off',
                'GracefulRestart': 'On', 'ForceRestart': 'On'}


class _System:
    __slots__ = ('ident', 'power_state', 'latency', 'fault')

    def __init__(self, ident, power_state):
        self.ident = ident
        self.power_state = power_state
        self.latency = None     # seconds; None: the farm's default
        self.fault = None       # None, an HTTP status, or 'hang'


class BMCFarm:
    """Many simulated Redfish BMCs on one port; see the module docstring.

    :param systems: how many systems, or an iterable of system ids.
    :param latency_ms: default time each system request takes.
    :param power_state: initial ``'On'`` or ``'Off'`` of every system.
    """

    def __init__(self, systems=10, host='127.0.0.1', port=0, latency_ms=0,
                 username=None, password=None, power_state='On',
                 prefix='node-'):
        if isinstance(systems, int):
            width = max(4, len(str(systems - 1)))
            systems = ['%s%0*d' % (prefix, width, i) for i in range(systems)]
        if power_state not in ('On', 'Off'):
            raise ValueError('power_state must be "On" or "Off", not %r'
                             % (power_state,))
        self._systems = collections.OrderedDict(
            (ident, _System(ident, power_state)) for ident in systems)
        self.host = host
        self._requested_port = port
        self.port = None
        self.url = None
        self.username = username
        self.password = password
        self.latency = latency_ms / 1000.0
        self._lock = threading.Lock()
        self._tokens = {}
        self._release = threading.Event()
        self._hung_changed = threading.Condition(self._lock)
        self._counters = collections.Counter()
        self._per_system = collections.Counter()
        self._order = collections.deque(maxlen=100000)
        self._reads = collections.deque(maxlen=100000)
        self._in_flight = 0
        self._peak = 0
        self._hung = 0
        self._server = None
        self._thread = None

    # -- life cycle --------------------------------------------------------

    def start(self):
        if self._server is not None:
            raise RuntimeError('BMC farm already started')
        self._release = threading.Event()
        self._server = bmc_http.FarmServer(
            (self.host, self._requested_port), self)
        self.port = self._server.server_address[1]
        self.url = 'http://%s:%d' % (self.host, self.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={'poll_interval': 0.1},
            name='bmc-farm-%d' % self.port, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self.release_hangs()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- what a driver needs -------------------------------------------------

    @property
    def system_ids(self):
        return list(self._systems)

    @staticmethod
    def system_path(ident):
        return '%s/%s' % (SYSTEMS, ident)

    def driver_info(self, ident, auth_type='basic'):
        """``driver_info`` of the ``redfish`` driver for system ``ident``."""
        self._get(ident)
        info = {'address': self.url, 'system_id': self.system_path(ident),
                'auth_type': auth_type}
        if self.username is not None:
            info.update(username=self.username, password=self.password)
        return info

    # -- controls ----------------------------------------------------------

    def _get(self, ident):
        try:
            return self._systems[ident]
        except KeyError:
            raise KeyError('no simulated system %r' % (ident,))

    def power_state(self, ident):
        with self._lock:
            return self._get(ident).power_state

    def set_power(self, ident, state):
        """Change a system's power state behind the engine's back."""
        if state not in ('On', 'Off'):
            raise ValueError('state must be "On" or "Off", not %r' % state)
        with self._lock:
            self._get(ident).power_state = state

    def set_latency(self, latency_ms, ident=None):
        """The default latency, or one system's (None: back to default)."""
        with self._lock:
            if ident is None:
                self.latency = latency_ms / 1000.0
            else:
                self._get(ident).latency = (
                    None if latency_ms is None else latency_ms / 1000.0)

    def set_fault(self, ident, fault):
        """``None`` (healthy), an HTTP status such as 500, or ``'hang'``
        (the request is read and never answered until released)."""
        if fault not in (None, 'hang') and not (
                isinstance(fault, int) and 400 <= fault < 600):
            raise ValueError('fault must be None, "hang" or an HTTP error '
                             'status, not %r' % (fault,))
        with self._lock:
            self._get(ident).fault = fault

    def release_hangs(self):
        """Let every hung request end (its connection is closed unanswered).
        """
        old, self._release = self._release, threading.Event()
        old.set()

    def wait_hung(self, n, timeout=10.0):
        """Block until at least ``n`` requests are hung; False on timeout."""
        with self._hung_changed:
            return self._hung_changed.wait_for(lambda: self._hung >= n,
                                               timeout)

    def stats(self):
        with self._lock:
            stats = dict(self._counters)
            stats.update(in_flight=self._in_flight, peak_in_flight=self._peak,
                         hung=self._hung, systems=len(self._systems))
            return stats

    def requests_for(self, ident):
        with self._lock:
            return self._per_system[ident]

    def request_order(self):
        """System ids in the order their requests arrived (the last
        100,000)."""
        with self._lock:
            return list(self._order)

    def reads_since(self, since):
        """``{system id: [arrival times]}`` of the GETs of each system's
        document (power-state reads) that arrived at or after ``since``
        (epoch seconds; the last 100,000 reads are kept)."""
        found = collections.defaultdict(list)
        with self._lock:
            for at, ident in self._reads:
                if at >= since:
                    found[ident].append(at)
        return dict(found)

    def reset_stats(self):
        with self._lock:
            self._counters.clear()
            self._per_system.clear()
            self._order.clear()
            self._reads.clear()
            self._peak = self._in_flight

    # -- request handling --------------------------------------------------

    def _authorized(self, headers):
        if self.username is None:
            return True
        token = headers.get('X-Auth-Token')
        if token:
            with self._lock:
                return token in self._tokens
        value = headers.get('Authorization', '')
        if not value.startswith('Basic '):
            return False
        try:
            user, _, password = base64.b64decode(
                value[6:]).decode('utf-8').partition(':')
        except (ValueError, UnicodeDecodeError):
            return False
        return (secrets.compare_digest(user, self.username)
                and secrets.compare_digest(password, self.password or ''))

    def handle(self, method, path, headers, body):
        """``(status, headers, document or None)``; may block (latency,
        hang). Runs on the server's request thread."""
        path = path.split('?', 1)[0].rstrip('/') or '/'
        with self._lock:
            self._counters['requests'] += 1
            self._counters['%s %s' % (method, _kind(path))] += 1
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        try:
            return self._route(method, path, headers, body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _route(self, method, path, headers, body):
        if path in ('/redfish', ROOT) and method == 'GET':
            return 200, {}, self._root_doc()
        if path == ROOT + '/SessionService' and method == 'GET':
            return 200, {}, {'@odata.id': ROOT + '/SessionService',
                             'Id': 'SessionService', 'Name': 'Sessions',
                             'ServiceEnabled': True,
                             'Sessions': {'@odata.id': SESSIONS}}
        if path == SESSIONS and method == 'POST':
            return self._login(body)
        if path.startswith(SESSIONS + '/') and method == 'DELETE':
            with self._lock:
                self._tokens = {t: p for t, p in self._tokens.items()
                                if p != path}
            return 204, {}, None
        if not self._authorized(headers):
            return 401, {'WWW-Authenticate': 'Basic realm="bmc-farm"'}, \
                _error('Authentication required')
        if path == SYSTEMS and method == 'GET':
            return 200, {}, {
                '@odata.id': SYSTEMS, 'Name': 'Computer System Collection',
                'Members@odata.count': len(self._systems),
                'Members': [{'@odata.id': self.system_path(i)}
                            for i in self._systems]}
        if not path.startswith(SYSTEMS + '/'):
            return 404, {}, _error('No resource at %s' % path)
        ident, _, rest = path[len(SYSTEMS) + 1:].partition('/')
        system = self._systems.get(ident)
        if system is None:
            return 404, {}, _error('No system %s' % ident)
        with self._lock:
            self._per_system[ident] += 1
            self._order.append(ident)
            if method == 'GET' and not rest:
                self._reads.append((time.time(), ident))
            latency = self.latency if system.latency is None \
                else system.latency
            fault = system.fault
        if fault == 'hang':
            self._hang()
            return None
        if latency:
            time.sleep(latency)
        if isinstance(fault, int):
            with self._lock:
                self._counters['faults'] += 1
            return fault, {}, _error('Simulated BMC fault')
        if rest == '' and method == 'GET':
            with self._lock:
                return 200, {}, self._system_doc(system)
        if rest == 'Actions/ComputerSystem.Reset' and method == 'POST':
            return self._reset(system, body)
        return 405 if rest == '' else 404, {}, _error(
            'Unsupported %s %s' % (method, path))

    def _hang(self):
        release = self._release
        with self._hung_changed:
            self._hung += 1
            self._counters['hangs'] += 1
            self._hung_changed.notify_all()
        try:
            release.wait()
        finally:
            with self._lock:
                self._hung -= 1

    def _login(self, body):
        doc = _json(body)
        if not isinstance(doc, dict):
            return 400, {}, _error('Body must be a JSON object')
        if self.username is not None and not (
                doc.get('UserName') == self.username
                and doc.get('Password') == self.password):
            return 401, {}, _error('Invalid credentials')
        token = secrets.token_hex(16)
        location = '%s/%s' % (SESSIONS, token[:8])
        with self._lock:
            self._tokens[token] = location
        return 201, {'X-Auth-Token': token, 'Location': location}, {
            '@odata.id': location, 'Id': token[:8], 'Name': 'Session',
            'UserName': doc.get('UserName')}

    def _reset(self, system, body):
        doc = _json(body)
        reset = doc.get('ResetType') if isinstance(doc, dict) else None
        if reset not in RESET_TYPES:
            return 400, {}, _error('ResetType must be one of %s'
                                   % ', '.join(RESET_TYPES))
        with self._lock:
            if reset == 'PushPowerButton':
                system.power_state = ('Off' if system.power_state == 'On'
                                      else 'On')
            else:
                system.power_state = _AFTER_RESET[reset]
            self._counters['resets'] += 1
        return 204, {}, None

    def _root_doc(self):
        return {'@odata.id': ROOT + '/', '@odata.type':
                '#ServiceRoot.v1_5_0.ServiceRoot', 'Id': 'RootService',
                'Name': 'Simulated BMC farm', 'RedfishVersion': '1.6.0',
                'UUID': '00000000-0000-4000-8000-000000000000',
                'Systems': {'@odata.id': SYSTEMS},
                'SessionService': {'@odata.id': ROOT + '/SessionService'},
                'Links': {'Sessions': {'@odata.id': SESSIONS}}}

    def _system_doc(self, system):
        path = self.system_path(system.ident)
        return {
            '@odata.id': path,
            '@odata.type': '#ComputerSystem.v1_10_0.ComputerSystem',
            'Id': system.ident, 'Name': system.ident,
            'SystemType': 'Physical', 'PowerState': system.power_state,
            'Status': {'State': 'Enabled', 'Health': 'OK'},
            'Actions': {'#ComputerSystem.Reset': {
                'target': path + '/Actions/ComputerSystem.Reset',
                'ResetType@Redfish.AllowableValues': list(RESET_TYPES)}},
        }


def _kind(path):
    if path.startswith(SYSTEMS + '/'):
        return 'reset' if path.endswith('.Reset') else 'system'
    return {ROOT: 'root', SYSTEMS: 'systems'}.get(path, 'other')


def _json(body):
    try:
        return json.loads(body or b'null')
    except ValueError:
        return None


def _error(message):
    return {'error': {'code': 'Base.1.0.GeneralError', 'message': message}}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m decision_engine.simulator.bmc',
        description='Serve many simulated Redfish BMCs on one port.')
    parser.add_argument('--systems', type=int, default=100)
    parser.add_argument('--latency-ms', type=float, default=0.0)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--username')
    parser.add_argument('--password')
    parser.add_argument('--power-state', choices=('On', 'Off'),
                        default='On')
    args = parser.parse_args(argv)
    if args.systems < 1:
        parser.error('--systems must be at least 1')
    if args.latency_ms < 0:
        parser.error('--latency-ms must be >= 0')
    farm = BMCFarm(args.systems, host=args.host, port=args.port,
                   latency_ms=args.latency_ms, username=args.username,
                   password=args.password, power_state=args.power_state)
    farm.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps({'url': farm.url, 'port': farm.port,
                      'systems': len(farm.system_ids),
                      'system_path': farm.system_path('{id}'),
                      'first': farm.system_ids[0]}), flush=True)
    stop.wait()
    print(json.dumps(farm.stats()), file=sys.stderr, flush=True)
    farm.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
