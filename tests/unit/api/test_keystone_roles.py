"""``[api] auth_strategy = keystone``: a valid token is not enough, it must
carry one of ``[api] admin_roles`` (issue 23, D1).

On the WSGI layer, with the headers keystonemiddleware's ``auth_token``
sets, and through the real ``auth_token`` filter whose token validation
answers from a table instead of a Keystone (no request is sent)."""

import datetime
import json

from keystonemiddleware import auth_token
from keystonemiddleware.auth_token import _exceptions as ksm_exceptions
import pytest
import webob

from decision_engine.api import auth
from tests.fixtures import api_roles
from tests import fresh_conf


def _app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [b'{"reached": true}']


def _conf(roles=None):
    conf = fresh_conf()
    conf.set_override('auth_strategy', 'keystone', group='api')
    if roles is not None:
        conf.set_override('admin_roles', roles, group='api')
    return conf


def _confirmed(roles, **headers):
    """The headers auth_token sets for a valid project-scoped token."""
    base = {'X-Identity-Status': 'Confirmed', 'X-Roles': roles,
            'X-User-Id': 'u1', 'X-User-Name': 'alice',
            'X-Project-Id': 'p1', 'X-Project-Name': 'demo'}
    base.update(headers)
    return base


def _call(app, path='/v1/status', method='GET', headers=None):
    request = webob.Request.blank(path, method=method, headers=headers or {})
    return request.get_response(app)


def _error(response, code):
    assert response.status_int == code, response.body
    assert response.content_type == 'application/json'
    body = json.loads(response.body)['error']
    assert body['code'] == code
    assert '\n' not in body['message']
    return body['message']


@pytest.mark.parametrize('roles', ['admin', 'reader,member,admin',
                                   'Admin', ' member , admin '])
def test_a_token_with_the_admin_role_reaches_the_api(roles):
    check = auth.RoleCheck(_app, _conf())
    response = _call(check, headers=_confirmed(roles))
    assert response.status_int == 200
    assert response.json == {'reached': True}


@pytest.mark.parametrize('roles', ['member,reader', 'reader', '',
                                   'service', 'administrator',
                                   'admin-not'])
@pytest.mark.parametrize('method,path', [
    ('GET', '/v1/model'), ('GET', '/v1/status'), ('POST', '/v1/audits'),
    ('POST', '/v1/action_plans/abc/start'), ('GET', '/metrics')])
def test_a_valid_token_without_it_gets_403(roles, method, path):
    check = auth.RoleCheck(_app, _conf())
    message = _error(_call(check, path, method, _confirmed(roles)), 403)
    assert message == ('the token of alice in project demo has none of '
                       'the roles the API requires ([api] admin_roles: '
                       'admin)')


def test_without_the_roles_header_the_token_has_no_role():
    check = auth.RoleCheck(_app, _conf())
    headers = _confirmed('')
    del headers['X-Roles']
    _error(_call(check, headers=headers), 403)


def test_an_unconfirmed_token_gets_401():
    """With ``delay_auth_decision`` auth_token passes bad tokens on."""
    check = auth.RoleCheck(_app, _conf())
    for status in ('Invalid', None):
        headers = _confirmed('admin', **{'X-Identity-Status': status})
        if status is None:
            del headers['X-Identity-Status']
        assert 'valid Keystone token' in _error(
            _call(check, headers=headers), 401)


def test_admin_roles_names_the_roles(tmp_path):
    check = auth.RoleCheck(_app, _conf(roles=['cloud-admin', 'operator']))
    assert _call(check, headers=_confirmed('Operator')).status_int == 200
    message = _error(_call(check, headers=_confirmed('admin')), 403)
    assert message.endswith('([api] admin_roles: cloud-admin, operator)')


def test_admin_roles_is_applied_by_a_reload(tmp_path):
    """The option is mutable and read per request: a SIGHUP (the config
    files mutated) changes the answer of the app already serving."""
    path = tmp_path / 'engine.conf'
    path.write_text('[api]\nauth_strategy = keystone\n')
    conf = fresh_conf()
    conf(['--config-file', str(path)], project='decision-engine')
    check = auth.RoleCheck(_app, conf)
    assert _call(check, headers=_confirmed('admin')).status_int == 200
    path.write_text('[api]\nauth_strategy = keystone\n'
                    'admin_roles = cloud-admin\n')
    conf.mutate_config_files()
    assert _call(check, headers=_confirmed('admin')).status_int == 403
    assert _call(check, headers=_confirmed('cloud-admin')).status_int == 200


def test_empty_admin_roles_is_refused_at_start():
    conf = _conf(roles=[])
    with pytest.raises(auth.AuthConfigError) as caught:
        auth.check_keystone(conf)
    assert str(caught.value).startswith('[api] admin_roles is empty')
    with pytest.raises(auth.AuthConfigError):
        auth.wrap(_app, conf)
    # Other strategies do not use it.
    conf.set_override('auth_strategy', 'noauth', group='api')
    auth.check_keystone(conf)


# -- through keystonemiddleware's auth_token ---------------------------------


class _TableAuthToken(auth_token.AuthProtocol):
    """auth_token validating tokens from a table: no Keystone, no cache."""

    tokens = {}

    def fetch_token(self, token, **kwargs):
        try:
            return self.tokens[token]
        except KeyError:
            raise ksm_exceptions.InvalidToken('unknown token')


def _token_body(user, roles, project='demo'):
    now = datetime.datetime.now(datetime.timezone.utc)
    iso = '%Y-%m-%dT%H:%M:%S.000000Z'
    return {'token': {
        'methods': ['password'],
        'user': {'id': user + '-id', 'name': user,
                 'domain': {'id': 'default', 'name': 'Default'}},
        'project': {'id': project + '-id', 'name': project,
                    'domain': {'id': 'default', 'name': 'Default'}},
        'roles': [{'id': r + '-id', 'name': r} for r in roles],
        'issued_at': now.strftime(iso),
        'expires_at': (now + datetime.timedelta(hours=1)).strftime(iso),
        'catalog': []}}


@pytest.fixture
def stack(monkeypatch):
    """The API's keystone stack (auth.wrap) around a stub application."""
    conf = _conf()
    for group, opts in auth_token.list_opts():
        conf.register_opts(opts, group=group)
    conf.set_override('www_authenticate_uri', 'http://keystone.invalid/v3',
                      group='keystone_authtoken')
    conf.set_override('memcached_servers', [], group='keystone_authtoken')
    tokens = {
        # Keystone flattens implied roles: admin > member > reader.
        'tok-admin': _token_body('root', api_roles.ROLES['admin']),
        'tok-member': _token_body('bob', api_roles.ROLES['member'],
                                  project='unrelated'),
        'tok-reader': _token_body('carol', api_roles.ROLES['reader']),
    }
    monkeypatch.setattr(_TableAuthToken, 'tokens', tokens)
    monkeypatch.setattr(auth, '_auth_token', lambda app, conf: (
        _TableAuthToken(app, {'oslo_config_config': conf})))
    return auth.wrap(_app, conf)


def test_auth_token_and_the_role_check_together(stack):
    def get(path, token=None, **headers):
        if token:
            headers['X-Auth-Token'] = token
        return _call(stack, path, headers=headers)

    assert get('/v1/model', 'tok-admin').status_int == 200
    message = _error(get('/v1/model', 'tok-member'), 403)
    assert 'bob in project unrelated' in message
    _error(get('/v1/model', 'tok-reader'), 403)
    # auth_token drops identity headers a client sent: they forge nothing.
    _error(get('/v1/model', 'tok-member', **{
        'X-Roles': 'admin', 'X-Identity-Status': 'Confirmed'}), 403)
    for token in (None, 'tok-unknown'):
        response = get('/v1/model', token)
        assert response.status_int == 401
        assert 'Keystone uri' in response.headers['WWW-Authenticate']
    # Version discovery stays open, whatever the token.
    for token in (None, 'tok-member', 'tok-unknown'):
        assert get('/', token).status_int == 200


def test_role_matrix_helper(stack):
    """The helper the real-Keystone tests reuse gives the expected
    matrix on the stub stack."""
    class Api:
        def call(self, method, path, token, body=None):
            response = _call(stack, path, method,
                             {'X-Auth-Token': token} if token else {})
            return response.status_int, response.text

    statuses = api_roles.role_matrix(
        Api(), {'admin': 'tok-admin', 'member': 'tok-member',
                'reader': 'tok-reader', 'none': None,
                'invalid': 'tok-unknown'})
    assert api_roles.unexpected(statuses) == []
