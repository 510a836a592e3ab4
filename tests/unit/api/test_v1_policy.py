"""The default rules of API v1 per role, a policy file overriding them,
and the 403 in Watcher's shape."""

import json

import pytest
import webob

from decision_engine.api.v1 import policy
from decision_engine.api.v1 import router
from tests.fixtures import fakes

READS = [r.name for r in policy.RULES
         if r.name.split(':')[1] in ('get_all', 'detail', 'get', 'state')]
WRITES = [r.name for r in policy.RULES
          if r.name not in READS and r.name != 'webhook:trigger']


def creds(*roles):
    return policy.credentials(
        {'HTTP_X_ROLES': ','.join(roles), 'HTTP_X_PROJECT_ID': 'p1',
         'HTTP_X_USER_ID': 'u1'}, 'keystone')


@pytest.fixture
def enforcer():
    return policy.make_enforcer(fakes.make_conf())


def allowed(enforcer, rule, *roles):
    return enforcer.authorize(rule, {}, creds(*roles))


def test_every_route_has_a_rule():
    """Each operation of the route table is named by a rule's
    operations (so the sample documents it)."""
    documented = {(op['method'], op['path'].split('{')[0])
                  for rule in policy.RULES for op in rule.operations}
    for path, methods in router.ROUTE_DECLARATIONS.items():
        if path in ('/', '/v1'):
            continue
        for method in methods:
            assert (method, path.split('{')[0]) in documented, (method,
                                                                path)
    assert len(READS) == 26 and len(WRITES) == 10


@pytest.mark.parametrize('rule', READS)
def test_reads_are_for_admins_and_readers(enforcer, rule):
    assert allowed(enforcer, rule, 'admin')
    assert allowed(enforcer, rule, 'administrator')
    assert allowed(enforcer, rule, 'reader')
    assert allowed(enforcer, rule, 'Reader', 'member')
    assert not allowed(enforcer, rule, 'member')
    assert not allowed(enforcer, rule, 'service')
    assert not allowed(enforcer, rule)


@pytest.mark.parametrize('rule', WRITES)
def test_writes_are_for_admins_only(enforcer, rule):
    assert allowed(enforcer, rule, 'admin')
    assert allowed(enforcer, rule, 'member', 'administrator')
    assert not allowed(enforcer, rule, 'reader')
    assert not allowed(enforcer, rule, 'member')
    assert not allowed(enforcer, rule, 'service')


def test_the_webhook_is_for_admins_and_services(enforcer):
    assert allowed(enforcer, 'webhook:trigger', 'admin')
    assert allowed(enforcer, 'webhook:trigger', 'service')
    assert not allowed(enforcer, 'webhook:trigger', 'reader')
    assert not allowed(enforcer, 'webhook:trigger', 'member')


def test_without_keystone_everyone_is_admin_whatever_the_headers(
        enforcer):
    spoofed = {'HTTP_X_ROLES': 'member'}
    for strategy in ('noauth', 'http_basic'):
        who = policy.credentials(spoofed, strategy)
        assert enforcer.authorize('audit:create', {}, who)


def test_a_policy_file_overrides_a_default(tmp_path):
    path = tmp_path / 'policy.yaml'
    path.write_text('"goal:get_all": "role:member"\n'
                    '"audit:create": "!"\n')
    conf = fakes.make_conf()
    conf.set_override('policy_file', str(path), group='oslo_policy')
    enforcer = policy.make_enforcer(conf)
    assert enforcer.authorize('goal:get_all', {}, creds('member'))
    assert not enforcer.authorize('goal:get_all', {}, creds('reader'))
    assert not enforcer.authorize('audit:create', {}, creds('admin'))
    # The others keep their defaults.
    assert enforcer.authorize('goal:get', {}, creds('reader'))


def keystone_call(path, roles, method='GET', body=None):
    app = router.WatcherAPI(None, fakes.make_conf(
        api={'auth_strategy': 'keystone'}))
    request = webob.Request.blank(path, method=method)
    request.headers['X-Roles'] = roles
    if body is not None:
        request.json_body = body
    return request.get_response(app)


def test_refused_is_403_in_watchers_shape_before_the_body_is_read():
    response = keystone_call('/v1/audit_templates', 'member,reader',
                             method='POST', body={'name': 'x'})
    assert response.status_int == 403
    fault = json.loads(response.json['error_message'])
    assert fault == {'faultcode': 'Client', 'debuginfo': None,
                     'faultstring': "Policy doesn't allow "
                                    "audit_template:create to be "
                                    "performed."}


def test_a_reader_reads():
    response = keystone_call('/v1/goals', 'reader')
    assert response.status_int == 200
    assert 'server_consolidation' in {g['name'] for g in
                                      response.json['goals']}
    assert keystone_call('/v1/goals', 'member').status_int == 403
