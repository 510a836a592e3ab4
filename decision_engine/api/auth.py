"""API authentication: ``[api] auth_strategy``.

* ``noauth``: nothing checked; the server refuses to start unless it is
  bound to a loopback address (:func:`check_bind`).
* ``http_basic``: users and bcrypt hashes from an htpasswd file
  (``htpasswd -nbB user password``), as Ironic's standalone mode does.
* ``keystone``: keystonemiddleware's ``auth_token`` filter, configured by
  ``[keystone_authtoken]``, then :class:`RoleCheck`: a valid token is not
  enough, it must carry one of the ``[api] admin_roles`` (until the API
  has oslo.policy rules, every route is an admin's).

``GET /`` and ``/healthcheck`` stay public with every strategy, so load
balancers and version discovery need no credentials.
"""

import base64
import hashlib
import hmac
import ipaddress
import threading

import bcrypt
import webob

PUBLIC_PATHS = frozenset(['/', '/healthcheck'])


class AuthConfigError(ValueError):
    """The API's authentication settings cannot work."""


def check_bind(conf):
    """:raises AuthConfigError: for noauth on a non-loopback address."""
    if conf.api.auth_strategy != 'noauth':
        return
    host = conf.api.host
    if host == 'localhost':
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise AuthConfigError(
            '[api] auth_strategy = noauth is only allowed on a loopback '
            'address, not [api] host = %s; use http_basic or keystone, or '
            'bind to 127.0.0.1' % host)


def check_files(conf):
    """Read the files the configured authentication needs, as the API
    would at start.

    :raises AuthConfigError: naming the file and what is wrong.
    """
    if conf.api.auth_strategy == 'http_basic':
        load_htpasswd(conf.api.http_basic_auth_user_file)


def load_htpasswd(path):
    """``{user: bcrypt hash}`` from an htpasswd file.

    :raises AuthConfigError: naming the file and line of a bad entry.
    """
    users = {}
    try:
        with open(path, encoding='utf-8') as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise AuthConfigError('cannot read [api] http_basic_auth_user_file '
                              '%s: %s' % (path, exc.strerror))
    except UnicodeDecodeError as exc:
        raise AuthConfigError('[api] http_basic_auth_user_file %s is not '
                              'UTF-8 text (byte %d)' % (path, exc.start))
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        user, sep, digest = line.partition(':')
        if not sep or not user:
            raise AuthConfigError('%s line %d: expected user:hash'
                                  % (path, number))
        if not digest.startswith(('$2y$', '$2b$', '$2a$')):
            raise AuthConfigError('%s line %d: the hash of user %s is not '
                                  'bcrypt (create it with htpasswd -B)'
                                  % (path, number, user))
        users[user] = digest.replace('$2y$', '$2b$', 1).encode()
    if not users:
        raise AuthConfigError('%s has no user' % path)
    return users


class BasicAuth:
    """WSGI middleware checking HTTP basic credentials."""

    def __init__(self, app, users, realm='decision-engine'):
        self.app = app
        self.users = users
        self.realm = realm
        self._ok = set()
        self._lock = threading.Lock()
        # NOTE: an unknown user costs a bcrypt check too, at the cost of
        # the file's first hash, so the answer's delay does not tell which
        # user names exist.
        cost = next(iter(users.values())).split(b'$')[2]
        self._decoy = bcrypt.hashpw(b'decoy', b'$2b$' + cost + b'$'
                                    + bcrypt.gensalt().split(b'$')[3])

    def _check(self, user, password):
        digest = self.users.get(user)
        if digest is None:
            bcrypt.checkpw(password, self._decoy)
            return False
        # NOTE: bcrypt costs ~0.1 s by design; remember verified pairs (by
        # a keyed hash, never the password itself) so a client polling the
        # API does not pay it on every request.
        key = hmac.new(digest, password, hashlib.sha256).digest()
        with self._lock:
            if (user, key) in self._ok:
                return True
        if bcrypt.checkpw(password, digest):
            with self._lock:
                self._ok.add((user, key))
            return True
        return False

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '/') in PUBLIC_PATHS:
            return self.app(environ, start_response)
        header = environ.get('HTTP_AUTHORIZATION', '')
        scheme, _, value = header.partition(' ')
        if scheme.lower() == 'basic':
            try:
                user, _, password = base64.b64decode(
                    value.strip(), validate=True).decode(
                        'utf-8').partition(':')
            except (ValueError, UnicodeDecodeError):
                user = password = None
            if user is not None and self._check(user, password.encode()):
                environ['REMOTE_USER'] = user
                return self.app(environ, start_response)
        response = webob.Response(
            status=401, json_body={'error': {
                'code': 401, 'title': 'Unauthorized',
                'message': 'valid HTTP basic credentials are required'}})
        response.headers['WWW-Authenticate'] = 'Basic realm="%s"' % self.realm
        return response(environ, start_response)


def _forbidden(message):
    return webob.Response(status=403, json_body={
        'error': {'code': 403, 'title': 'Forbidden', 'message': message}})


class RoleCheck:
    """WSGI middleware behind keystonemiddleware's ``auth_token``: only
    a confirmed token carrying one of ``[api] admin_roles`` reaches the
    API, any other valid token gets 403.

    It reads the headers ``auth_token`` sets (``X-Identity-Status``,
    ``X-Roles``, ``X-User-Name``, ``X-Project-Id``...); ``auth_token``
    removes the ones a client sent before it sets them, so they cannot be
    forged. ``[api] admin_roles`` is read on each request: a SIGHUP that
    changes it applies to the next request.
    """

    def __init__(self, app, conf):
        self.app = app
        self.conf = conf

    def __call__(self, environ, start_response):
        if environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed':
            # NOTE: only with [keystone_authtoken] delay_auth_decision,
            # where auth_token lets requests with a bad token through.
            response = webob.Response(status=401, json_body={'error': {
                'code': 401, 'title': 'Unauthorized',
                'message': 'a valid Keystone token is required'}})
            return response(environ, start_response)
        wanted = {role.lower() for role in self.conf.api.admin_roles}
        roles = {role.strip().lower()
                 for role in environ.get('HTTP_X_ROLES', '').split(',')}
        if wanted & roles:
            return self.app(environ, start_response)
        who = environ.get('HTTP_X_USER_NAME') or environ.get(
            'HTTP_X_USER_ID') or 'unknown user'
        project = environ.get('HTTP_X_PROJECT_NAME') or environ.get(
            'HTTP_X_PROJECT_ID')
        if project:
            who = '%s in project %s' % (who, project)
        if not wanted:
            message = ('[api] admin_roles is empty: no token may use the '
                       'API')
        else:
            message = ('the token of %s has none of the roles the API '
                       'requires ([api] admin_roles: %s)'
                       % (who, ', '.join(self.conf.api.admin_roles)))
        return _forbidden(message)(environ, start_response)


class _PublicPaths:
    """Let public paths through, send the rest to the auth filter."""

    def __init__(self, app, protected):
        self.app = app
        self.protected = protected

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '/') in PUBLIC_PATHS:
            return self.app(environ, start_response)
        return self.protected(environ, start_response)


def wrap(app, conf):
    """``app`` behind the configured authentication."""
    strategy = conf.api.auth_strategy
    if strategy == 'noauth':
        return app
    if strategy == 'http_basic':
        return BasicAuth(app, load_htpasswd(
            conf.api.http_basic_auth_user_file))
    if strategy == 'keystone':
        check_admin_roles(conf)
        return _PublicPaths(app, _auth_token(RoleCheck(app, conf), conf))
    raise AuthConfigError('unknown [api] auth_strategy %r' % strategy)


def _auth_token(app, conf):
    from keystonemiddleware import auth_token
    return auth_token.AuthProtocol(app, {'oslo_config_config': conf})


def check_admin_roles(conf):
    """:raises AuthConfigError: for keystone with no ``[api]
    admin_roles``: every token would be refused."""
    if conf.api.auth_strategy == 'keystone' and not conf.api.admin_roles:
        raise AuthConfigError('[api] admin_roles is empty: with '
                              'auth_strategy = keystone no token could use '
                              'the API; name the role(s) that may, e.g. '
                              'admin')


def check_keystone(conf):
    """Set keystonemiddleware's ``auth_token`` filter up as the API would
    at start: it loads the ``[keystone_authtoken] auth_type`` plugin and
    its options then, and sends no request.

    :raises AuthConfigError: one line naming the section and the error
        (option names only: keystoneauth's errors carry no values).
    """
    if conf.api.auth_strategy != 'keystone':
        return
    check_admin_roles(conf)
    try:
        _auth_token(lambda environ, start_response: [], conf)
    except Exception as exc:
        raise AuthConfigError(
            '[api] auth_strategy = keystone: keystonemiddleware cannot be '
            'set up from [keystone_authtoken]: %s: %s' % (
                type(exc).__name__, ' '.join(str(exc).split())))
