"""Keystone v3 emulation: version discovery and password tokens.

One user (username/password, domain Default) with role admin on one
project.  ``POST /identity/v3/auth/tokens`` answers 201 with
``X-Subject-Token`` and a token body whose catalog lists identity,
compute, placement and baremetal (public/internal/admin, RegionOne) at the
simulator's real bound address.  Tokens live ``token_ttl_s`` seconds of the
simulator's clock (and ``expires_at`` says so); :meth:`TokenStore.expire_all`
revokes every issued token at once, which is how a test makes a client
holding a still-"valid" token meet a 401 and re-authenticate.
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
_UPDATED = '2023-03-04T00:00:00Z'


def _iso(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000000Z')


class TokenStore:
    """Issued tokens -> (expiry on ``clock``, scope).  Thread-safe."""

    def __init__(self, ttl_s, clock=time.monotonic):
        self.ttl_s = ttl_s
        self._clock = clock
        self._tokens = {}
        self._lock = threading.Lock()

    def issue(self, scope):
        token = uuid.uuid4().hex
        with self._lock:
            self._tokens[token] = (self._clock() + self.ttl_s, scope)
        return token

    def check(self, token):
        """The token's scope if it is known and unexpired, else None."""
        entry = self._tokens.get(token) if token else None
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def expire_all(self):
        with self._lock:
            self._tokens.clear()


def noauth_scope(token):
    """The scope of a token under Nova's and Placement's ``noauth2``
    strategy (``[api] auth_strategy = noauth2``): any token is accepted,
    read as ``user[:project]`` (keystoneauth's ``none`` plugin sends
    ``notused``).  The simulator keeps no policy, so the caller may list
    every project (``all_tenants``) as an admin may."""
    if not token:
        return None
    user, _, project = token.partition(':')
    return {'project_id': project or user, 'user_id': user}


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
        titles = {400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found'}
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
        cfg = self.sim.credentials
        name_ok = (user.get('name') == cfg['username']
                   or user.get('id') == ADMIN_USER_ID)
        if not name_ok or password != cfg['password']:
            raise HTTPError(401, 'The request you have made requires '
                            'authentication.')
        scope = auth.get('scope')
        project = None
        if scope:
            project = scope.get('project') if isinstance(scope, dict) \
                else None
            if not isinstance(project, dict) or not (
                    project.get('name') == cfg['project']
                    or project.get('id') == ADMIN_PROJECT_ID):
                raise HTTPError(401, 'User has no access to the requested '
                                'scope.')
        scope_info = {'project_id': ADMIN_PROJECT_ID if project else None}
        token = self.sim.tokens.issue(scope_info)
        now = time.time()
        domain = {'id': 'default', 'name': 'Default'}
        tbody = {
            'methods': ['password'],
            'user': {'id': ADMIN_USER_ID, 'name': cfg['username'],
                     'domain': domain, 'password_expires_at': None},
            'audit_ids': [uuid.uuid4().hex[:22]],
            'issued_at': _iso(now),
            'expires_at': _iso(now + self.sim.tokens.ttl_s),
        }
        if project:
            tbody.update({
                'project': {'id': ADMIN_PROJECT_ID, 'name': cfg['project'],
                            'domain': domain},
                'is_domain': False,
                'roles': [{'id': uuid.uuid5(uuid.NAMESPACE_URL, r).hex,
                           'name': r} for r in ('admin', 'member',
                                                'reader')],
                'catalog': self.catalog(req.base_url),
            })
        resp = routing.json_response({'token': tbody}, 201,
                                     {'X-Subject-Token': token})
        resp.token_issued = True
        return resp

    def validate_token(self, req):
        subject = req.headers.get('X-Subject-Token')
        if self.sim.tokens.check(subject) is None:
            raise HTTPError(404, 'Could not find token: %s' % subject)
        return routing.json_response({'token': {
            'methods': ['password'],
            'project': {'id': ADMIN_PROJECT_ID,
                        'name': self.sim.credentials['project'],
                        'domain': {'id': 'default', 'name': 'Default'}},
            'catalog': self.catalog(req.base_url)}})
