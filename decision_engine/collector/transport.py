"""How the builder sends its GET requests.

Both transports take auth (the token, renewed by keystoneauth), the service
catalog (endpoints) and the microversion headers from the openstacksdk
connection, and hand back the raw body: the builder parses the JSON itself
and never builds SDK resource objects (openstacksdk builds about 600
``Server`` objects per second; see doc/source/admin/model.rst).

:class:`SdkTransport` sends through the SDK proxies
(``conn.compute.get(url, microversion=...)``): keystoneauth, requests and
urllib3. Two costs of that path are avoided: the catalog lookup on every
request (the endpoint is resolved once, requests use absolute URLs) and,
when no proxy or CA bundle variable is set in the environment, requests'
per-request scan of the environment and of ``~/.netrc`` (``trust_env``).

:class:`DirectTransport` sends through kept-open connections, the engine's
one persistent-HTTP mechanism (:mod:`decision_engine.common.http_pool`,
on urllib3): per endpoint, as many connections as the build runs requests
at once are kept between requests and builds. It costs a fraction of the
CPU per request of the SDK's path (keystoneauth's session and requests'
adapters are skipped), which is what lets a 2,000-request build fit in
about a second of CPU. A connection the server closed while idle is
opened again without a failed attempt (see the pool's docstring). A 401
makes it invalidate the token (keystoneauth re-authenticates) and retry
once, as keystoneauth does. It honours the session's TLS settings
(``verify``, ``cert``) but not HTTP proxies: when a proxy variable is set
in the environment, :func:`make_transport` falls back to
:class:`SdkTransport`. Both verify with the same CA bundle:
the session's path when it has one, else ``REQUESTS_CA_BUNDLE``,
``CURL_CA_BUNDLE`` or certifi's, as requests chooses
(:func:`decision_engine.common.http_pool.ca_bundle`).
"""

import http.client
import logging
import os
import threading
import time
import urllib.parse

from keystoneauth1 import exceptions as ks_exc
import requests

from decision_engine.common import http_pool
from decision_engine.model.errors import TransportError

LOG = logging.getLogger(__name__)

#: Connections kept per endpoint when the caller does not say
#: (``[collector] build_workers``' default).
DEFAULT_CONNECTIONS = 64
_PROXY_VARS = ('http_proxy', 'https_proxy', 'all_proxy')
_MICROVERSION_HEADERS = {
    'compute': ('OpenStack-API-Version', 'compute %s',
                'X-OpenStack-Nova-API-Version', '%s'),
    'placement': ('OpenStack-API-Version', 'placement %s', None, None),
    'baremetal': ('X-OpenStack-Ironic-API-Version', '%s', None, None),
}


def _proxy_env():
    """Whether an HTTP proxy is set in the environment."""
    return any(os.environ.get(name) or os.environ.get(name.upper())
               for name in _PROXY_VARS)


def _proxy_of(cloud, service):
    return getattr(cloud, service)


class _Endpoints:
    """Endpoint URL per service, resolved once from the catalog."""

    def __init__(self, cloud):
        self._cloud = cloud
        self._urls = {}
        self._lock = threading.Lock()

    def url(self, service):
        url = self._urls.get(service)
        if url is None:
            with self._lock:
                url = self._urls.get(service)
                if url is None:
                    try:
                        url = _proxy_of(self._cloud, service).get_endpoint()
                    except ks_exc.ClientException as exc:
                        raise TransportError('cannot find the %s endpoint: '
                                             '%s' % (service, exc))
                    if not url:
                        raise TransportError('no %s endpoint in the service '
                                             'catalog' % service)
                    url = url.rstrip('/')
                    self._urls[service] = url
        return url


class SdkTransport:
    """GET through the openstacksdk proxies (keystoneauth + requests)."""

    name = 'sdk'

    def __init__(self, cloud):
        self.cloud = cloud
        self.endpoints = _Endpoints(cloud)
        if not _proxy_env():
            # NOTE: with trust_env requests reads every proxy variable and
            # ~/.netrc on each request (a third of its CPU cost here); the
            # one thing it would take from there, a CA bundle, is set once.
            for session in cloud.sessions():
                session.session.trust_env = False
                if session.verify is True:
                    session.verify = http_pool.ca_bundle(True)

    def get(self, service, path, params, microversion, timeout):
        """``(status, headers, body bytes)``.

        :raises TransportError: when no HTTP answer came.
        """
        url = self.endpoints.url(service) + path
        try:
            resp = _proxy_of(self.cloud, service).get(
                url, params=params, microversion=microversion,
                raise_exc=False, timeout=timeout)
            return resp.status_code, resp.headers, resp.content
        except (ks_exc.ConnectionError, ks_exc.RetriableConnectionFailure,
                requests.exceptions.RequestException, OSError,
                http.client.HTTPException) as exc:
            raise TransportError('%s: %s' % (type(exc).__name__, exc))

    def close(self):
        pass


class DirectTransport:
    """GET through kept-open connections
    (:class:`decision_engine.common.http_pool.HttpPool`).

    :param connections: idle connections kept per endpoint: as many as
        requests may run at once (the build's workers), so none is closed
        after its request.
    """

    name = 'direct'

    def __init__(self, cloud, connections=DEFAULT_CONNECTIONS):
        self.cloud = cloud
        self.endpoints = _Endpoints(cloud)
        self.http = http_pool.HttpPool(connections)
        self._sessions = {}
        self._origins = {}
        self._kept_headers = {}     # (service, microversion) -> headers

    def _session(self, service):
        session = self._sessions.get(service)
        if session is None:
            session = _proxy_of(self.cloud, service).session
            self._sessions[service] = session
        return session

    def _origin(self, base):
        """``(scheme, host, port, path)`` of an endpoint URL."""
        origin = self._origins.get(base)
        if origin is None:
            parts = urllib.parse.urlsplit(base)
            port = parts.port or (443 if parts.scheme == 'https' else 80)
            origin = self._origins[base] = (parts.scheme, parts.hostname,
                                            port, parts.path)
        return origin

    def _headers(self, service, session, microversion):
        """The request headers: the token keystoneauth gives, and ours.

        NOTE: keystoneauth checks the token's expiry on each call (it
        parses the ISO date twice: about a tenth of the CPU of a GET), so
        the headers of a token are built once and used again while the
        plugin holds the same token (its public ``auth_ref``) and until
        keystoneauth would renew it (``MIN_TOKEN_LIFE_SECONDS`` before
        it expires). A new token, an invalidated one (``auth_ref`` None)
        or a plugin without ``auth_ref`` (admin token, noauth) asks
        keystoneauth again. The dict is shared: callers only read it.
        """
        key = (service, microversion)
        auth_ref = getattr(session.auth, 'auth_ref', None)
        kept = self._kept_headers.get(key)
        if kept is not None and auth_ref is not None \
                and kept[0] is auth_ref and time.time() < kept[1]:
            return kept[2]
        try:
            headers = session.get_auth_headers()
        except ks_exc.ClientException as exc:
            raise TransportError('authentication failed: %s' % exc)
        if headers is None:
            raise TransportError('authentication failed: no token')
        headers = dict(headers)
        headers['Accept'] = 'application/json'
        headers['User-Agent'] = 'decision-engine'
        if microversion:
            name, fmt, legacy, legacy_fmt = _MICROVERSION_HEADERS[service]
            headers[name] = fmt % microversion
            if legacy:
                headers[legacy] = legacy_fmt % microversion
        auth_ref = getattr(session.auth, 'auth_ref', None)
        until = _renewal_time(session.auth, auth_ref)
        # NOTE: kept only when that token is the one just sent (another
        # thread may have renewed it meanwhile).
        if until is not None and \
                getattr(auth_ref, 'auth_token', None) == \
                headers.get('X-Auth-Token'):
            self._kept_headers[key] = (auth_ref, until, headers)
        return headers

    def get(self, service, path, params, microversion, timeout):
        """``(status, headers, body bytes)``.

        :raises TransportError: when no HTTP answer came.
        """
        scheme, host, port, base_path = self._origin(
            self.endpoints.url(service))
        target = base_path + path
        if params:
            target += '?' + urllib.parse.urlencode(params)
        session = self._session(service)
        for attempt in (1, 2):
            headers = self._headers(service, session, microversion)
            try:
                resp = self.http.get(
                    scheme, host, port, target, headers,
                    verify=session.verify, cert=session.cert,
                    connect_timeout=timeout, read_timeout=timeout)
            except http_pool.TransportError as exc:
                raise TransportError(str(exc))
            if resp.status_code == 401 and attempt == 1:
                # NOTE: the token expired or was revoked early: drop it so
                # keystoneauth authenticates again, as its Session does.
                self._kept_headers.clear()
                session.invalidate()
                continue
            return resp.status_code, resp.headers, resp.content

    def close(self):
        self.http.close()


def _renewal_time(auth, auth_ref):
    """When keystoneauth would stop using ``auth_ref`` (a Unix time), or
    None when the headers of that token are not to be kept."""
    if auth_ref is None:
        return None
    try:
        expires = auth_ref.expires
    except (KeyError, NotImplementedError, ValueError):
        return None
    if expires is None:
        return float('inf')
    return expires.timestamp() - getattr(auth, 'MIN_TOKEN_LIFE_SECONDS',
                                         120)


TRANSPORTS = {'sdk': SdkTransport, 'direct': DirectTransport}


def make_transport(cloud, name, connections=DEFAULT_CONNECTIONS):
    """The transport called ``name`` ('sdk' or 'direct') for ``cloud``;
    ``connections``: the requests that may run at once (the direct
    transport keeps as many connections per endpoint)."""
    if name == 'direct' and _proxy_env():
        LOG.info('HTTP proxy variables are set: the model '
                 'builder sends its requests through the SDK instead of '
                 'its direct HTTP client')
        name = 'sdk'
    if name == 'direct':
        return DirectTransport(cloud, connections)
    return TRANSPORTS[name](cloud)
