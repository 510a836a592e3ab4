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
"""

import logging
import threading

import sushy
from sushy import auth as sushy_auth
from sushy import exceptions as sushy_exc

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
    __slots__ = ('key', 'root', 'system', 'lock')

    def __init__(self, key):
        self.key = key
        self.root = None
        self.system = None
        self.lock = threading.Lock()


class RedfishPowerDriver(base.PowerDriver):
    """Power states over Redfish; see the module docstring."""

    def __init__(self, conf, pool, nodes, tracker):
        super().__init__(conf, pool, nodes, tracker)
        self._clients = {}
        self._clients_lock = threading.Lock()
        self._plain_http_logged = False

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

    def _connect(self, settings):
        if settings.auth_type == 'basic':
            auth_cls = sushy_auth.BasicAuth
        elif settings.auth_type == 'session':
            auth_cls = sushy_auth.SessionAuth
        else:
            auth_cls = sushy_auth.SessionOrBasicAuth
        root = sushy.Sushy(
            settings.address,
            auth=auth_cls(username=settings.username,
                          password=settings.password),
            verify=settings.verify,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            # NOTE: 1, not 0: sushy turns 0 into its default of three
            # transport attempts two seconds apart; with 1 a hung BMC costs
            # one connect + one read timeout. A 5xx answer to a GET is
            # retried once, at once (delay 0).
            server_side_retries=1, server_side_retries_delay=0)
        return root, root.get_system(settings.system_id)

    def _with_system(self, node, action):
        """Run ``action(system)`` on the node's (fresh) system resource."""
        settings = _Settings(self.conf, node.driver_info)
        client = self._client(node, settings)
        try:
            with client.lock:
                if client.system is None:
                    client.root, client.system = self._connect(settings)
                else:
                    client.system.refresh(force=True)
                return action(client.system)
        except sushy_exc.SushyError as exc:
            self._drop(node, client)
            raise base.PowerDriverError(base.redact(
                'Redfish BMC of node %s: %s' % (node.hostname, exc), node))
        except Exception as exc:
            self._drop(node, client)
            raise base.PowerDriverError(base.redact(
                'Redfish BMC of node %s: %s: %s'
                % (node.hostname, type(exc).__name__, exc), node))

    # -- the interface ---------------------------------------------------

    def get_power_state(self, node):
        def read(system):
            state = _STATES.get(system.power_state)
            if state is None:
                raise base.PowerDriverError(
                    'Redfish BMC of node %s reports power state %r'
                    % (node.hostname, getattr(system.power_state, 'value',
                                              system.power_state)))
            return state
        return self._with_system(node, read)

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
        """Forget every client (sushy closes their Redfish sessions)."""
        with self._clients_lock:
            self._clients.clear()


def _plain_http(address):
    return address.lower().startswith('http://')
