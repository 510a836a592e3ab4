"""Keystone v3 emulation: version discovery, password tokens with roles,
and token validation for keystonemiddleware.

Users (:class:`Users`) have a password, one project and one role; a
token carries the role's implied roles too, flattened as Keystone does
with its default roles (``admin`` implies ``member``, which implies
``reader``).  The simulator's own user (``username``/``password``,
project ``project``) is an admin; ``Simulator.add_user`` adds others
(``--user NAME:PASSWORD:ROLE[:PROJECT]``), so tests can hold member and
reader tokens, of the admin project or of another one.

``POST /identity/v3/auth/tokens`` answers 201 with ``X-Subject-Token`` and
a token body whose catalog lists identity, compute, placement and
baremetal (public/internal/admin, RegionOne) at the simulator's real bound
address.  ``GET /identity/v3/auth/tokens`` validates the token of
``X-Subject-Token`` for a caller that is an admin, a service, or the
token's own user (Keystone's ``identity:validate_token``), with the body
keystonemiddleware reads (user, project, roles, expiry).  Tokens live
``token_ttl_s`` seconds of the simulator's clock (and ``expires_at`` says
so); :meth:`TokenStore.expire_all` revokes every issued token at once,
which is how a test makes a client holding a still-"valid" token meet a
401 and re-authenticate.
"""

import datetime
import threading
import time
import uuid

from decision_engine.simulator import routing
from decision_engine.simulator.records import ADMIN_PROJECT_ID
from decision_engine.simulator.records import ADMIN_USER_ID
from decision_engine.simulator.routing import HTTPError, Route

CATALOG_SERVICES = (
    # type, name, path under the base url
    ('identity', 'keystone', '/identity'),
    ('compute', 'nova', '/compute/v2.1'),
    ('placement', 'placement', '/placement'),
    ('baremetal', 'ironic', '/baremetal'),
)
#: role -> the roles a token of a user given it carries (Keystone's
#: implied roles of its bootstrap: admin > manager > member > reader).
IMPLIED_ROLES = {
    'admin': ('admin', 'manager', 'member', 'reader'),
    'manager': ('manager', 'member', 'reader'),
    'member': ('member', 'reader'),
    'reader': ('reader',),
    'service': ('service',),
}
_UPDATED = '2023-03-04T00:00:00Z'
_NS = uuid.UUID('6ba7b811-9dad-11d1-80b4-00c04fd430c8')
_DOMAIN = {'id': 'default', 'name': 'Default'}


def _iso(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000000Z')


def is_admin(scope):
    """Whether a token scope carries the admin role (Nova's
    ``context_is_admin``)."""
    return 'admin' in scope.get('roles', ())


class Users:
    """The identities of the simulated Keystone.  Thread-safe."""

    def __init__(self, username, password, project):
        self.admin_project = project
        self._lock = threading.Lock()
        self._users = {}
        self.add(username, password, 'admin', project, user_id=ADMIN_USER_ID)

    def project_id(self, name):
        if name == self.admin_project:
            return ADMIN_PROJECT_ID
        return uuid.uuid5(_NS, 'decision-engine-sim/project/' + name).hex

    def add(self, name, password, role='member', project=None,
            user_id=None):
        """Add (or replace) user ``name`` with ``role`` on ``project``
        (default: the admin project); :returns: the user's record."""
        if role not in IMPLIED_ROLES:
            raise ValueError('role must be one of %s, not %r'
                             % (', '.join(sorted(IMPLIED_ROLES)), role))
        if not name or not password:
            raise ValueError('a user needs a name and a password')
        project = project or self.admin_project
        record = {
            'id': user_id or uuid.uuid5(
                _NS, 'decision-engine-sim/user/' + name).hex,
            'name': name, 'password': password,
            'project_id': self.project_id(project), 'project_name': project,
            'roles': IMPLIED_ROLES[role]}
        with self._lock:
            self._users[name] = record
        return record

    def find(self, name=None, user_id=None):
        with self._lock:
            for record in self._users.values():
                if (name is not None and record['name'] == name) or (
                        user_id is not None and record['id'] == user_id):
                    return record
        return None


class TokenStore:
    """Issued tokens -> (expiry on ``clock``, scope, wall-clock issue and
    expiry).  Thread-safe.  A scope is ``{'user_id', 'user_name',
    'project_id', 'project_name', 'roles'}`` (no project and no role when
    unscoped)."""

    def __init__(self, ttl_s, clock=time.monotonic):
        self.ttl_s = ttl_s
        self._clock = clock
        self._tokens = {}
        self._lock = threading.Lock()

    def issue(self, scope):
        token = uuid.uuid4().hex
        now = time.time()
        with self._lock:
            self._tokens[token] = (self._clock() + self.ttl_s, scope, now,
                                   now + self.ttl_s)
        return token

    def check(self, token):
        """The token's scope if it is known and unexpired, else None."""
        entry = self._entry(token)
        return None if entry is None else entry[1]

    def times(self, token):
        """``(issued_at, expires_at)``, wall-clock seconds, of a valid
        token."""
        return self._entry(token)[2:]

    def _entry(self, token):
        entry = self._tokens.get(token) if token else None
        if entry is None or entry[0] <= self._clock():
            return None
        return entry

    def expire_all(self):
        with self._lock:
            self._tokens.clear()


def noauth_scope(token, roles_header=None):
    """The scope of a token as Placement's ``noauth2`` strategy (its
    ``NoAuthMiddleware``) reads it: none without a token; else the token
    is ``user[:project]`` (keystoneauth's ``none`` plugin sends
    ``notused``), the roles are those of an ``X-Roles`` header if the
    request has one, else ``admin`` for user ``admin`` and none for any
    other user -- so only the token ``admin`` (or ``admin:PROJECT``) may
    use Placement's admin APIs, as with the real service."""
    if not token:
        return None
    user, _, project = token.partition(':')
    if roles_header is not None:
        roles = tuple(r for r in roles_header.split(',') if r)
    else:
        roles = ('admin',) if user == 'admin' else ()
    return {'project_id': project or user, 'user_id': user,
            'user_name': user, 'project_name': project or user,
            'roles': roles}


class IdentityService:
    name = 'identity'
    prefix = '/identity'

    def __init__(self, sim):
        self.sim = sim

    def routes(self):
        return [
            Route('GET', r'', '/identity', self.root, auth=False),
            Route('GET', r'/v3', '/identity/v3', self.v3, auth=False),
            Route('POST', r'/v3/auth/tokens', '/identity/v3/auth/tokens',
                  self.issue_token, auth=False),
            Route('GET', r'/v3/auth/tokens', '/identity/v3/auth/tokens',
                  self.validate_token),
        ]

    def error(self, status, message):
        titles = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
                  404: 'Not Found'}
        return routing.json_response(
            {'error': {'code': status, 'message': message,
                       'title': titles.get(status, 'Error')}}, status)

    def _version(self, base):
        return {
            'id': 'v3.14', 'status': 'stable', 'updated': _UPDATED,
            'links': [{'rel': 'self', 'href': base + '/identity/v3/'}],
            'media-types': [{
                'base': 'application/json',
                'type': 'application/vnd.openstack.identity-v3+json'}],
        }

    def root(self, req):
        # Keystone answers its root with 300 Multiple Choices.
        return routing.json_response(
            {'versions': {'values': [self._version(req.base_url)]}}, 300)

    def v3(self, req):
        return routing.json_response({'version': self._version(
            req.base_url)})

    def catalog(self, base):
        catalog = []
        for stype, name, path in CATALOG_SERVICES:
            url = base + path
            catalog.append({
                'type': stype, 'name': name,
                'id': uuid.uuid5(uuid.NAMESPACE_URL, stype).hex,
                'endpoints': [{
                    'id': uuid.uuid5(uuid.NAMESPACE_URL,
                                     stype + iface).hex,
                    'interface': iface, 'region': 'RegionOne',
                    'region_id': 'RegionOne', 'url': url}
                    for iface in ('public', 'internal', 'admin')],
            })
        return catalog

    def issue_token(self, req):
        body = req.json()
        try:
            auth = body['auth']
            identity = auth['identity']
            methods = identity['methods']
        except (KeyError, TypeError):
            raise HTTPError(400, 'Expecting to find auth.identity.methods')
        if 'password' not in methods:
            raise HTTPError(401, 'Only password authentication is '
                            'supported by the simulator.')
        try:
            user = identity['password']['user']
            password = user['password']
        except (KeyError, TypeError):
            raise HTTPError(400, 'Expecting to find password.user.password')
        record = self.sim.users.find(name=user.get('name'),
                                     user_id=user.get('id'))
        if record is None or password != record['password']:
            raise HTTPError(401, 'The request you have made requires '
                            'authentication.')
        scope = auth.get('scope')
        project = None
        if scope:
            project = scope.get('project') if isinstance(scope, dict) \
                else None
            if not isinstance(project, dict) or not (
                    project.get('name') == record['project_name']
                    or project.get('id') == record['project_id']):
                raise HTTPError(401, 'User has no access to the requested '
                                'scope.')
        scope_info = {'user_id': record['id'], 'user_name': record['name'],
                      'project_id': None, 'project_name': None, 'roles': ()}
        if project:
            scope_info.update(project_id=record['project_id'],
                              project_name=record['project_name'],
                              roles=record['roles'])
        token = self.sim.tokens.issue(scope_info)
        resp = routing.json_response(
            self._token_body(token, scope_info, req.base_url), 201,
            {'X-Subject-Token': token})
        resp.token_issued = True
        return resp

    def _token_body(self, token, scope, base):
        issued, expires = self.sim.tokens.times(token)
        body = {
            'methods': ['password'],
            'user': {'id': scope['user_id'], 'name': scope['user_name'],
                     'domain': _DOMAIN, 'password_expires_at': None},
            'audit_ids': [uuid.uuid5(_NS, token).hex[:22]],
            'issued_at': _iso(issued),
            'expires_at': _iso(expires),
        }
        if scope['project_id']:
            body.update({
                'project': {'id': scope['project_id'],
                            'name': scope['project_name'],
                            'domain': _DOMAIN},
                'is_domain': False,
                'roles': [{'id': uuid.uuid5(uuid.NAMESPACE_URL, r).hex,
                           'name': r} for r in scope['roles']],
                'catalog': self.catalog(base),
            })
        return {'token': body}

    def validate_token(self, req):
        """Keystone's ``identity:validate_token``: an admin, a service, or
        the token's own user may validate it; 404 for an unknown one."""
        subject = req.headers.get('X-Subject-Token')
        scope = self.sim.tokens.check(subject)
        caller = req.token
        if not ({'admin', 'service'} & set(caller.get('roles', ()))
                or scope is not None
                and scope['user_id'] == caller.get('user_id')):
            raise HTTPError(403, 'You are not authorized to perform the '
                            'requested action: identity:validate_token.')
        if scope is None:
            raise HTTPError(404, 'Could not find token: %s' % subject)
        return routing.json_response(
            self._token_body(subject, scope, req.base_url), 200,
            {'X-Subject-Token': subject})
