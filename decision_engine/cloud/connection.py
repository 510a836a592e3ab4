"""One openstacksdk connection per engine, shared by the pool's threads.

Where the connection comes from, first match wins:

1. ``[simulator] embedded = true``: the built-in simulated cloud, started
   by :class:`~decision_engine.cloud.embedded.EmbeddedSimulator`;
2. ``[cloud] cloud_name``: that cloud of ``clouds.yaml``;
3. keystoneauth options of ``[nova]`` (session and auth), as Nova builds
   its Placement and Ironic clients; openstacksdk reads the adapter options
   (``valid_interfaces``, ``region_name``, ``endpoint_override``, ...) of
   ``[nova]``, ``[placement]`` and ``[ironic]`` itself (``oslo_conf``). A
   ``[placement]`` or ``[ironic]`` group with its own ``auth_type`` gets a
   session of its own for that service.

Thread safety: a keystoneauth ``Session`` (and the sdk proxies on it) may be
used from many threads; token renewal is serialized by the auth plugin. The
underlying ``requests`` session keeps only ``pool_connections`` x
``pool_maxsize`` connections per host, 10 by default: with more threads than
that, urllib3 discards the extra connections after each use and every
request pays a new TCP connect. :func:`size_connection_pool` mounts adapters
as large as the build's concurrency.
"""

import logging
import threading

from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
import openstack.connection
from oslo_config import cfg
from requests import adapters as requests_adapters

LOG = logging.getLogger(__name__)

APP_NAME = 'decision-engine'
SERVICE_TYPES = ('compute', 'placement', 'baremetal')
#: what the compute model build uses
MODEL_SERVICES = ('compute', 'placement')
_GROUP_OF = {'compute': 'nova', 'placement': 'placement',
             'baremetal': 'ironic'}


class CloudConfigError(ValueError):
    """The configuration does not say how to reach the cloud."""


class CloudConnectError(RuntimeError):
    """The configured cloud refused the credentials or did not answer."""


class Cloud:
    """The service proxies the engine uses, possibly over several sessions.

    ``compute``, ``placement`` and ``baremetal`` are openstacksdk proxies
    (keystoneauth adapters): ``cloud.compute.get(path, microversion=...)``.
    Each is made on first use (version discovery runs then), so a cloud
    that has no Ironic, or a set-up that points [nova] and [placement] at
    their endpoints without a catalog, serves the model build without ever
    asking for the baremetal service.

    :param connections: ``{service type: openstack.connection.Connection}``
        for the services this cloud may be asked for.
    :param sources: ``{service type: text}`` naming the options that say
        where that service is (used in error messages).
    """

    def __init__(self, connections, description, sources=None):
        self._connections = connections
        self._sources = dict(sources or {})
        self.description = description
        self._proxies = {}
        self._lock = threading.Lock()

    def source(self, service_type):
        """The section and option the service's endpoint comes from."""
        return self._sources.get(service_type, self.description)

    def proxy(self, service_type):
        """The SDK proxy of ``service_type``, made on first use.

        :raises CloudConfigError: when the connection was not set up for
            that service.
        :raises CloudConnectError: when the proxy cannot be made (no such
            service, no supported version), naming the options used.
        """
        proxy = self._proxies.get(service_type)
        if proxy is not None:
            return proxy
        conn = self._connections.get(service_type)
        if conn is None:
            raise CloudConfigError(
                'the %s service was not asked for when the cloud '
                'connection was made (it has %s)' % (
                    service_type, ', '.join(sorted(self._connections))))
        with self._lock:
            proxy = self._proxies.get(service_type)
            if proxy is None:
                try:
                    proxy = getattr(conn, service_type)
                except Exception as exc:
                    raise CloudConnectError('%s: the %s service: %s' % (
                        self.source(service_type), service_type, exc))
                self._proxies[service_type] = proxy
        return proxy

    @property
    def compute(self):
        return self.proxy('compute')

    @property
    def placement(self):
        return self.proxy('placement')

    @property
    def baremetal(self):
        return self.proxy('baremetal')

    @property
    def service_types(self):
        return tuple(self._connections)

    def sessions(self):
        seen = []
        for conn in self._connections.values():
            if conn.session not in seen:
                seen.append(conn.session)
        return seen

    def close(self):
        closed = []
        for conn in self._connections.values():
            if any(conn is c for c in closed):
                continue
            closed.append(conn)
            try:
                conn.close()
            except Exception:   # closing is best effort
                LOG.debug('Closing a cloud connection failed',
                          exc_info=True)


class SizedAdapter(requests_adapters.HTTPAdapter):
    """An ``HTTPAdapter`` that says how many connections it keeps per host
    (requests keeps that private)."""

    def __init__(self, pool_maxsize):
        super().__init__(pool_connections=10, pool_maxsize=pool_maxsize)
        self.pool_maxsize = pool_maxsize


def size_connection_pool(session, pool_maxsize):
    """Let ``pool_maxsize`` threads share the session's HTTP connections."""
    pool_maxsize = max(10, int(pool_maxsize))
    requests_session = session.session
    for prefix in ('http://', 'https://'):
        current = requests_session.get_adapter(prefix)
        if isinstance(current, SizedAdapter) and \
                current.pool_maxsize >= pool_maxsize:
            continue
        requests_session.mount(prefix, SizedAdapter(pool_maxsize))


def bound_session(session, conf):
    """Give ``session`` a timeout when its configuration set none.

    NOTE: keystoneauth and requests wait forever by default, and the
    authentication requests (version discovery, token issue, renewal) do
    not go through the builder's per-request timeout: an auth_url that
    accepts connections but never answers (a hung Keystone, a black hole)
    would hold the build, and the periodic that runs it, for ever. An
    operator's own ``timeout`` (``[nova] timeout``, clouds.yaml
    ``api_timeout``) wins.
    """
    if session.timeout is None:
        session.timeout = conf.collector.request_timeout
    return session


def _prepared(session, conf, pool_maxsize):
    size_connection_pool(session, pool_maxsize)
    return bound_session(session, conf)


def _sdk_connection(session, conf, service_types):
    # NOTE: openstacksdk reads the adapter options (endpoint_override,
    # valid_interfaces, ...) of the groups of these service types only;
    # the proxies themselves are made later, by Cloud.proxy.
    return openstack.connection.Connection(
        session=session, oslo_conf=conf, service_types=list(service_types),
        app_name=APP_NAME)


def _session_from_group(conf, group):
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, group)
    except Exception as exc:
        raise CloudConfigError('[%s] auth options are invalid: %s'
                               % (group, exc))
    if auth is None:
        return None
    return ks_loading.load_session_from_conf_options(conf, group, auth=auth)


def from_auth(conf, auth_settings, pool_maxsize,
              service_types=SERVICE_TYPES):
    """A :class:`Cloud` from password auth settings (``auth_url``,
    ``username``, ``password``, ``project_name``, domain names)."""
    loader = ks_loading.get_plugin_loader('password')
    auth = loader.load_from_options(**auth_settings)
    session = ks_session.Session(auth=auth, app_name=APP_NAME)
    conn = _sdk_connection(_prepared(session, conf, pool_maxsize), conf,
                           service_types)
    where = 'simulated cloud at %s' % auth_settings['auth_url']
    return Cloud({st: conn for st in service_types}, where)


def from_conf(conf, pool_maxsize, service_types=MODEL_SERVICES):
    """A :class:`Cloud` from ``[cloud] cloud_name`` or ``[nova]`` options,
    for the services ``service_types`` only (the model build needs compute
    and placement; the ironic power driver asks for baremetal).

    :raises CloudConfigError: when neither says how to authenticate, or a
        service has neither a catalog nor an ``endpoint_override``.
    :raises CloudConnectError: when the cloud refused or did not answer
        (wrong credentials, unreachable auth_url), naming the options used.
    """
    unknown = set(service_types) - set(SERVICE_TYPES)
    if unknown:
        raise ValueError('unknown service types %s' % sorted(unknown))
    try:
        return _from_conf(conf, pool_maxsize, tuple(service_types))
    except CloudConfigError:
        raise
    except Exception as exc:
        # NOTE: keystoneauth's messages ("requires authentication (HTTP
        # 401)") do not say which settings were used.
        raise CloudConnectError('%s: %s' % (_source(conf, service_types),
                                            exc))


def _opt(conf, group, name):
    """An option's value, or None where the group lacks that option."""
    try:
        return conf[group][name]
    except (KeyError, AttributeError, cfg.NoSuchOptError):
        return None


def _auth_group(conf, group):
    """The group whose auth options ``group``'s service uses."""
    if group != 'nova' and (_opt(conf, group, 'auth_type')
                            or _opt(conf, group, 'auth_section')):
        return group
    return 'nova'


#: keystoneauth plugins that give no service catalog: ``none`` (no token;
#: it sends ``notused``) and ``admin_token`` (a fixed token, e.g. ``admin``
#: for Placement's noauth2, and a fixed ``endpoint``).
_NO_CATALOG = ('none', 'admin_token')


def _auth_source(conf, group):
    auth_type = _opt(conf, group, 'auth_type')
    if auth_type in _NO_CATALOG:
        return '[%s] auth_type %s' % (group, auth_type)
    url = _opt(conf, group, 'auth_url')
    user = _opt(conf, group, 'username')
    return '[%s] auth_url %s%s' % (group, url or '(unset)',
                                   ' as user %s' % user if user else '')


def service_source(conf, service_type):
    """The section and option that say where ``service_type`` is: its
    group's ``endpoint_override``, else the catalog of the auth options
    used for it."""
    if conf.cloud.cloud_name:
        return '[cloud] cloud_name %r' % conf.cloud.cloud_name
    group = _GROUP_OF[service_type]
    override = _opt(conf, group, 'endpoint_override')
    if override:
        return '[%s] endpoint_override %s' % (group, override)
    auth_group = _auth_group(conf, group)
    if _opt(conf, auth_group, 'auth_type') == 'admin_token' and \
            _opt(conf, auth_group, 'endpoint'):
        return '[%s] endpoint %s' % (auth_group,
                                     _opt(conf, auth_group, 'endpoint'))
    return '%s (service catalog, %s)' % (
        _auth_source(conf, _auth_group(conf, group)), service_type)


def _source(conf, service_types=MODEL_SERVICES):
    if conf.cloud.cloud_name:
        return '[cloud] cloud_name %r' % conf.cloud.cloud_name
    sources = []
    for service_type in service_types:
        source = service_source(conf, service_type)
        if source not in sources:
            sources.append(source)
    return '; '.join(sources)


def _check_endpoints(conf, service_types):
    """A service whose auth gives no catalog needs an endpoint_override."""
    for service_type in service_types:
        group = _GROUP_OF[service_type]
        auth_group = _auth_group(conf, group)
        auth_type = _opt(conf, auth_group, 'auth_type')
        if auth_type not in _NO_CATALOG or \
                _opt(conf, group, 'endpoint_override'):
            continue
        if auth_type == 'admin_token':
            # NOTE: keystoneauth registers a plugin's options when it
            # loads it, which for this group may not have happened yet.
            conf.register_opts(ks_loading.get_auth_plugin_conf_options(
                auth_type), group=auth_group)
            if _opt(conf, auth_group, 'endpoint'):
                continue
        raise CloudConfigError(
            '[%s] endpoint_override is required for the %s service: '
            '[%s] auth_type is %s, so there is no service catalog '
            'to find it in' % (group, service_type, auth_group, auth_type))


def _from_conf(conf, pool_maxsize, service_types):
    if conf.cloud.cloud_name:
        try:
            conn = openstack.connection.Connection(
                cloud=conf.cloud.cloud_name, app_name=APP_NAME)
        except Exception as exc:
            raise CloudConfigError('[cloud] cloud_name %r: %s'
                                   % (conf.cloud.cloud_name, exc))
        _prepared(conn.session, conf, pool_maxsize)
        where = 'cloud %r of clouds.yaml' % conf.cloud.cloud_name
        return Cloud({st: conn for st in service_types}, where,
                     {st: service_source(conf, st) for st in service_types})
    session = _session_from_group(conf, 'nova')
    if session is None:
        raise CloudConfigError(
            'no cloud configured: set [cloud] cloud_name, or the auth '
            'options of [nova] (auth_type, auth_url, username, ...), or '
            '[simulator] embedded = true')
    _check_endpoints(conf, service_types)
    main = None
    connections = {}
    for service_type in service_types:
        group = _GROUP_OF[service_type]
        own = None if group == 'nova' else _session_from_group(conf, group)
        if own is None:
            if main is None:
                main = _sdk_connection(
                    _prepared(session, conf, pool_maxsize), conf,
                    service_types)
            connections[service_type] = main
        else:
            connections[service_type] = _sdk_connection(
                _prepared(own, conf, pool_maxsize), conf, (service_type,))
    return Cloud(connections, 'cloud of %s' % _auth_source(conf, 'nova'),
                 {st: service_source(conf, st) for st in service_types})


def services_for(conf):
    """The service types the enabled features use: compute and placement
    for the model (``[collector] enabled``), baremetal for the ``ironic``
    power driver."""
    # NOTE: a configuration without the power options (a collector-only
    # tool) has no ironic driver.
    try:
        drivers = conf.enabled_power_drivers
    except cfg.NoSuchOptError:
        drivers = ()
    services = list(MODEL_SERVICES) if conf.collector.enabled else []
    if 'ironic' in (drivers or ()):
        services.append('baremetal')
    return tuple(services) or MODEL_SERVICES


def cloud_configured(conf):
    """Whether the configuration names a cloud to connect to."""
    return bool(conf.simulator.embedded or conf.cloud.cloud_name
                or conf.nova.auth_type or conf.nova.auth_section)


class CloudConnector:
    """``connector(pool_maxsize) -> Cloud`` for the configured cloud.

    With ``[simulator] embedded = true`` the first call starts the simulated
    cloud in a child process; :meth:`close` stops it. ``service_types``
    (default: :func:`services_for` the configuration) are the services the
    cloud may be asked for.
    """

    def __init__(self, conf, service_types=None):
        self.conf = conf
        self.service_types = tuple(service_types or services_for(conf))
        self.simulator = None

    def __call__(self, pool_maxsize):
        if self.conf.simulator.embedded:
            if self.simulator is None:
                from decision_engine.cloud import embedded
                self.simulator = embedded.EmbeddedSimulator.from_conf(
                    self.conf).start()
            return from_auth(self.conf, self.simulator.auth(), pool_maxsize,
                             self.service_types)
        return from_conf(self.conf, pool_maxsize, self.service_types)

    def close(self):
        simulator, self.simulator = self.simulator, None
        if simulator is not None:
            simulator.stop()


class SharedCloud:
    """The engine's one :class:`Cloud`, connected on first use.

    The manager makes one and hands it to every part that talks to the
    cloud (the model collector, the ``ironic`` power driver), so they share
    one set of sessions and connection pools and all follow ``[simulator]
    embedded``. Calling it (``shared(pool_maxsize)``, the collector's
    connection factory interface) or reading :attr:`compute`,
    :attr:`placement` or :attr:`baremetal` connects once; the connection
    pools are sized for ``pool_maxsize``, the largest concurrency of its
    users. :meth:`close` closes the connection and stops an embedded
    simulator; the manager calls it after its users stopped.
    """

    def __init__(self, conf, pool_maxsize, connector=None):
        self._connector = connector or CloudConnector(conf)
        self._pool_maxsize = pool_maxsize
        self._lock = threading.Lock()
        self._cloud = None

    def __call__(self, pool_maxsize=None):
        with self._lock:
            if self._cloud is None:
                self._cloud = self._connector(
                    max(self._pool_maxsize, pool_maxsize or 0))
            return self._cloud

    @property
    def compute(self):
        return self().compute

    @property
    def placement(self):
        return self().placement

    @property
    def baremetal(self):
        return self().baremetal

    def close(self):
        with self._lock:
            cloud, self._cloud = self._cloud, None
        if cloud is not None:
            cloud.close()
        self._connector.close()
