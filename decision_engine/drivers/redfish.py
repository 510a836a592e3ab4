"""The ``redfish`` power driver, over sushy.

``driver_info``::

    address: https://10.0.0.1[:port]   # required; http(s), no credentials
    system_id: /redfish/v1/Systems/1   # optional when the BMC has one system
    username: admin                    # optional, together with password
    password: secret
    verify_ca: true                    # true, false or a CA bundle path
                                       # (default [redfish] verify_ca)
    auth_type: auto                    # basic, session, auto
                                       # (default [redfish] auth_type)

Every request has the ``[redfish] connect_timeout`` and ``read_timeout``
and is tried once: sushy's own transport retries (three attempts, two
seconds apart) are off, so a hung BMC holds a worker for one connect plus
one read timeout, and the next sweep is the retry.

One sushy client per node is kept between sweeps, so a steady-state poll is
one ``GET`` of the system; a failed call drops the node's client and the
next poll reconnects (and re-authenticates).

The periodic power read (``[redfish] power_read = lean``, the default)
skips sushy's resource objects once a node is connected: sushy still
authenticates, finds the system's path and switches power, but the poll is
one ``GET`` of that path over a kept-open connection
(:mod:`decision_engine.common.http_pool`, the engine's one persistent-HTTP
mechanism) taking ``PowerState`` from the
JSON, with sushy's timeouts, TLS settings, credentials (its session token
through :meth:`sushy.auth.SessionAuth.get_session_key`, or basic) and its
error classes (:func:`sushy.exceptions.raise_for_response`). The poll goes
through sushy instead when an HTTP proxy applies to the BMC address (the
lean read does not speak to proxies), when the session token was refused
(sushy re-authenticates and retries, as on its own path) and when the BMC
refuses ``Accept-Encoding: identity`` (406, sushy retries without it) or
redirects (3xx, requests follows).
"""

import base64
import json
import logging
import threading
from urllib import parse as urlparse

import requests
import sushy
from sushy import auth as sushy_auth
from sushy import exceptions as sushy_exc

from decision_engine.common import http_pool
from decision_engine.drivers import base
from decision_engine.drivers import driver_info as info_checks
from decision_engine.drivers import power_state

LOG = logging.getLogger(__name__)

KNOWN_FIELDS = ('address', 'system_id', 'username', 'password', 'verify_ca',
                'auth_type')
AUTH_TYPES = ('basic', 'session', 'auto')

# NOTE: a transition counts as its target, as Ironic does.
_STATES = {
    sushy.PowerState.ON: power_state.POWER_ON,
    sushy.PowerState.POWERING_ON: power_state.POWER_ON,
    sushy.PowerState.OFF: power_state.POWER_OFF,
    sushy.PowerState.POWERING_OFF: power_state.POWER_OFF,
    sushy.PowerState.PAUSED: power_state.POWER_ON,
}
_RESETS = {power_state.POWER_ON: sushy.ResetType.ON,
           power_state.POWER_OFF: sushy.ResetType.FORCE_OFF}
# NOTE: the Redfish values (Resource.PowerState, DMTF schema: On, Off,
# PoweringOn, PoweringOff, Paused), as the lean read finds them in JSON.
_VALUES = {member.value: state for member, state in _STATES.items()}
_LEAN_HEADERS = {'Accept': 'application/json', 'OData-Version': '4.0',
                 'Accept-Encoding': 'identity',
                 'User-Agent': 'decision-engine'}


class _Settings:
    """What a node's client is built from; a change means a new client."""

    __slots__ = ('address', 'system_id', 'username', 'password', 'verify',
                 'auth_type', 'connect_timeout', 'read_timeout')

    def __init__(self, conf, info):
        self.address = info_checks.http_url(info)
        self.system_id = info_checks.string(info, 'system_id')
        self.username, self.password = info_checks.credentials(info)
        self.verify = info_checks.verify_ca(info, conf.redfish.verify_ca)
        self.auth_type = info_checks.choice(info, 'auth_type', AUTH_TYPES,
                                            conf.redfish.auth_type)
        self.connect_timeout = conf.redfish.connect_timeout
        self.read_timeout = conf.redfish.read_timeout

    def key(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __repr__(self):
        return '<redfish settings for %s>' % self.address


class _Client:
    """A node's sushy client and what its lean read needs.

    ``target`` is ``(scheme, host, port, path)`` of the system resource,
    or None when the lean read cannot be used for this node (a proxy).
    """

    __slots__ = ('key', 'root', 'system', 'lock', 'auth', 'url', 'target',
                 'basic', '_headers')

    def __init__(self, key):
        self.key = key
        self.root = None
        self.system = None
        self.lock = threading.Lock()
        self.auth = None
        self.url = None
        self.target = None
        self.basic = None
        self._headers = (None, None, None)

    def lean_headers(self):
        """Request headers with the credentials sushy would send now
        (built once per token; the dict is shared, callers only read
        it)."""
        token = None
        if isinstance(self.auth, sushy_auth.SessionAuth):
            # NOTE: public sushy API; None when "auto" fell back to basic
            # or the session is being re-established.
            token = self.auth.get_session_key()
        kept_token, kept_basic, headers = self._headers
        if headers is not None and kept_token == token \
                and kept_basic == self.basic:
            return headers
        headers = dict(_LEAN_HEADERS)
        if token:
            headers['X-Auth-Token'] = token
        elif self.basic:
            headers['Authorization'] = self.basic
        self._headers = (token, self.basic, headers)
        return headers

    def uses_session(self):
        return (isinstance(self.auth, sushy_auth.SessionAuth)
                and bool(self.auth.get_session_key()))


class RedfishPowerDriver(base.PowerDriver):
    """Power states over Redfish; see the module docstring."""

    def __init__(self, conf, pool, nodes, tracker):
        super().__init__(conf, pool, nodes, tracker)
        self._clients = {}
        self._clients_lock = threading.Lock()
        self._plain_http_logged = False
        self._proxy_logged = False
        self._http = http_pool.HttpPool(
            conf.redfish.lean_connections_per_bmc,
            conf.redfish.lean_idle_connections)

    def validate(self, driver_info):
        info_checks.check_known(driver_info, KNOWN_FIELDS, 'redfish')
        settings = _Settings(self.conf, driver_info)
        if (_plain_http(settings.address)
                and driver_info.get('verify_ca') is not None
                and settings.verify is not False):
            # NOTE: only an explicit per-node verify_ca is refused: the
            # operator asked for TLS checks on an address that has no TLS.
            raise base.InvalidDriverInfo(
                '"verify_ca" asks for TLS verification but "address" is '
                'http://, which has no TLS: use https:// or set verify_ca '
                'to false')

    def _sweep(self, nodes):
        if not self._plain_http_logged:
            self._plain_http_logged = True
            self._warn_plain_http()
        return super()._sweep(nodes)

    def _warn_plain_http(self):
        """One warning per driver naming the nodes reached over http://."""
        plain = []
        for node in self.nodes:
            try:
                address = info_checks.http_url(node.driver_info)
            except base.InvalidDriverInfo:
                continue
            if _plain_http(address):
                plain.append(node.hostname)
        if plain:
            shown = ', '.join(plain[:5]) + (', ...' if len(plain) > 5
                                            else '')
            LOG.warning('Redfish BMC address of %d node(s) is plain http:// '
                        '(%s): no TLS, so [redfish] verify_ca does not apply '
                        'and their credentials and power states cross the '
                        'network unencrypted; use https://',
                        len(plain), shown)

    # -- client cache --------------------------------------------------------

    def _client(self, node, settings):
        key = settings.key()
        with self._clients_lock:
            client = self._clients.get(node.hostname)
            if client is None or client.key != key:
                client = self._clients[node.hostname] = _Client(key)
        return client

    def _drop(self, node, client):
        with self._clients_lock:
            if self._clients.get(node.hostname) is client:
                del self._clients[node.hostname]

    def _connect(self, settings, client):
        if settings.auth_type == 'basic':
            auth_cls = sushy_auth.BasicAuth
        elif settings.auth_type == 'session':
            auth_cls = sushy_auth.SessionAuth
        else:
            auth_cls = sushy_auth.SessionOrBasicAuth
        auth = auth_cls(username=settings.username,
                        password=settings.password)
        root = sushy.Sushy(
            settings.address, auth=auth,
            verify=settings.verify,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            # NOTE: 1, not 0: sushy turns 0 into its default of three
            # transport attempts two seconds apart; with 1 a hung BMC costs
            # one connect + one read timeout. A 5xx answer to a GET is
            # retried once, at once (delay 0).
            server_side_retries=1, server_side_retries_delay=0)
        system = root.get_system(settings.system_id)
        client.root, client.system, client.auth = root, system, auth
        client.url = urlparse.urljoin(settings.address, system.path)
        client.target = self._lean_target(client.url)
        if settings.username is not None:
            client.basic = 'Basic ' + base64.b64encode(
                ('%s:%s' % (settings.username, settings.password))
                .encode('utf-8')).decode('ascii')

    def _lean_target(self, url):
        """``(scheme, host, port, path)`` of ``url``, or None when a proxy
        applies to it (sushy's requests session would use the proxy)."""
        if requests.utils.get_environ_proxies(url):
            if not self._proxy_logged:
                self._proxy_logged = True
                LOG.info('An HTTP proxy is set for Redfish BMC addresses '
                         '(e.g. %s): their power states are read through '
                         'sushy, not the lean read', _origin(url))
            return None
        parts = urlparse.urlsplit(url)
        path = parts.path + ('?' + parts.query if parts.query else '')
        port = parts.port or (443 if parts.scheme == 'https' else 80)
        return parts.scheme, parts.hostname, port, path

    def _with_system(self, node, action, lean=None):
        """Run ``action(system)`` on the node's (fresh) system resource, or
        ``lean(client, settings)`` when the lean read applies."""
        settings = _Settings(self.conf, node.driver_info)
        client = self._client(node, settings)
        try:
            with client.lock:
                if client.system is None:
                    self._connect(settings, client)
                elif (lean is not None and client.target is not None
                        and self.conf.redfish.power_read == 'lean'):
                    return lean(client, settings)
                else:
                    client.system.refresh(force=True)
                return action(client.system)
        except sushy_exc.SushyError as exc:
            self._drop(node, client)
            raise base.PowerDriverError(base.redact(
                'Redfish BMC of node %s: %s' % (node.hostname, exc), node))
        except base.PowerDriverError:
            self._drop(node, client)
            raise
        except json.JSONDecodeError as exc:
            # NOTE: sushy lets the JSON decoder's error through.
            self._drop(node, client)
            raise base.PowerDriverError(base.redact(
                'Redfish BMC of node %s: the system resource is not valid '
                'JSON (%s)' % (node.hostname, exc), node))
        except Exception as exc:
            self._drop(node, client)
            raise base.PowerDriverError(base.redact(
                'Redfish BMC of node %s: %s: %s'
                % (node.hostname, type(exc).__name__, exc), node))

    def _lean_get(self, client, settings):
        """One GET of the system over a kept-open connection (a 5xx is
        retried once, at once, as sushy does); the response."""
        scheme, host, port, path = client.target
        self._http.resize(self.conf.redfish.lean_connections_per_bmc,
                          self.conf.redfish.lean_idle_connections)
        for attempt in (1, 2):
            try:
                resp = self._http.get(
                    scheme, host, port, path, client.lean_headers(),
                    verify=settings.verify,
                    connect_timeout=settings.connect_timeout,
                    read_timeout=settings.read_timeout)
            except http_pool.TransportError as exc:
                raise sushy_exc.ConnectionError(url=client.url, error=exc)
            if resp.status_code < 500:
                return resp
            LOG.debug('Redfish GET %s answered %d%s', client.url,
                      resp.status_code,
                      ', retrying once' if attempt == 1 else '')
        return resp

    # -- the interface ---------------------------------------------------

    def get_power_state(self, node):
        def read(system):
            value = system.power_state
            return _to_state(node, getattr(value, 'value', value))

        def lean(client, settings):
            resp = self._lean_get(client, settings)
            status = resp.status_code
            if (status in (401, 403) and client.uses_session()) \
                    or status == 406 or 300 <= status < 400:
                # NOTE: sushy's path knows what to do next: re-establish
                # the session and retry, retry without identity encoding,
                # follow a redirect; it raises sushy's error when that
                # fails too.
                client.system.refresh(force=True)
                return read(client.system)
            sushy_exc.raise_for_response('GET', client.url, resp)
            return _to_state(node, _lean_value(node, resp))
        return self._with_system(node, read, lean)

    def set_power_state(self, node, state):
        if state not in _RESETS:
            raise base.InvalidDriverInfo('unknown power state %r' % (state,))

        def switch(system):
            if _STATES.get(system.power_state) == state:
                return
            system.reset_system(_RESETS[state])
        self._with_system(node, switch)
        LOG.info('Requested %s of node %s over Redfish', state,
                 node.hostname)

    def close(self):
        """Forget every client (sushy closes their Redfish sessions) and
        close the kept-open connections."""
        with self._clients_lock:
            self._clients.clear()
        self._http.close()


def _plain_http(address):
    return address.lower().startswith('http://')


def _origin(url):
    parts = urlparse.urlsplit(url)
    return '%s://%s' % (parts.scheme, parts.hostname)


def _lean_value(node, resp):
    """The ``PowerState`` string of a 2xx system resource (None when
    missing or null)."""
    try:
        body = json.loads(resp.content)
    except ValueError as exc:
        raise base.PowerDriverError(
            'Redfish BMC of node %s: the system resource is not valid JSON '
            '(%s)' % (node.hostname, exc))
    if not isinstance(body, dict):
        raise base.PowerDriverError(
            'Redfish BMC of node %s: the system resource is not a JSON '
            'object' % node.hostname)
    value = body.get('PowerState')
    if value is not None and not isinstance(value, str):
        raise base.PowerDriverError(
            'Redfish BMC of node %s reports a PowerState that is not a '
            'string' % node.hostname)
    return value


def _to_state(node, value):
    """Our power state for the Redfish ``PowerState`` ``value``.

    The sushy path only knows sushy's enum: a value sushy does not know
    reaches us as None, like a missing one.
    """
    state = _VALUES.get(value)
    if state is not None:
        return state
    if value is None:
        raise base.PowerDriverError(
            'Redfish BMC of node %s reports no known PowerState (missing, '
            'null or not a Redfish value)' % node.hostname)
    raise base.PowerDriverError(
        'Redfish BMC of node %s reports PowerState %r, which is not a '
        'Redfish power state (On, Off, PoweringOn, PoweringOff, Paused)'
        % (node.hostname, value[:40]))
