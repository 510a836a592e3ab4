"""The simulator's auth modes answer as the services they imitate
(issue 23, D4): Keystone tokens carry roles (admin, member, reader, with
their implied roles), Nova's and Placement's admin APIs refuse a token
without the admin role, Placement's noauth2 only makes the token ``admin``
an admin, and Nova (34) has no noauth mode."""

import pytest
import requests

from decision_engine.simulator import Simulator
from decision_engine.simulator import cmd
from decision_engine.simulator.records import ADMIN_PROJECT_ID


pytestmark = pytest.mark.topology(hosts=6, instances=40, aggregates=2, azs=2,
                                  seed=5)

ADMIN_APIS = (
    ('compute', '/compute/v2.1/os-hypervisors/detail',
     'os_compute_api:os-hypervisors:list-detail'),
    ('compute', '/compute/v2.1/os-services',
     'os_compute_api:os-services:list'),
    ('compute', '/compute/v2.1/os-aggregates',
     'os_compute_api:os-aggregates:index'),
    ('compute', '/compute/v2.1/os-availability-zone/detail',
     'os_compute_api:os-availability-zone:detail'),
    ('compute', '/compute/v2.1/servers/detail?all_tenants=1',
     'os_compute_api:servers:detail:get_all_tenants'),
    ('placement', '/placement/resource_providers',
     'placement:resource_providers:list'),
)


@pytest.fixture
def sim(topology):
    server = Simulator(topology, users={
        'bob': {'password': 'pw-bob', 'role': 'member'},
        'carol': {'password': 'pw-carol', 'role': 'reader'},
        'mallory': {'password': 'pw-m', 'role': 'member',
                    'project': 'unrelated'},
    }).start()
    yield server
    server.stop()


def _password_auth(user, password, project):
    return {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': user, 'password': password,
            'domain': {'name': 'Default'}}}},
        'scope': {'project': {'name': project,
                              'domain': {'name': 'Default'}}}}}


def _login(sim, user, password, project):
    response = requests.post(sim.auth_url + '/v3/auth/tokens', timeout=30,
                             json=_password_auth(user, password, project))
    assert response.status_code == 201, response.text
    return response.headers['X-Subject-Token'], response.json()['token']


def _get(sim, path, token, **headers):
    if token is not None:
        headers['X-Auth-Token'] = token
    return requests.get(sim.url + path, headers=headers, timeout=30)


def _forbidden(response, service, rule):
    assert response.status_code == 403, response.text
    if service == 'compute':
        assert response.json() == {'forbidden': {
            'code': 403,
            'message': "Policy doesn't allow %s to be performed." % rule}}
    else:
        error = response.json()['errors'][0]
        assert error['status'] == 403 and error['title'] == 'Forbidden'
        assert error['detail'] == ('Policy does not allow %s to be '
                                   'performed.' % rule)


def test_tokens_carry_the_implied_roles(sim):
    roles = {}
    for user, password, project in (('admin', 'secret', 'admin'),
                                    ('bob', 'pw-bob', 'admin'),
                                    ('carol', 'pw-carol', 'admin'),
                                    ('mallory', 'pw-m', 'unrelated')):
        _, body = _login(sim, user, password, project)
        roles[user] = sorted(r['name'] for r in body['roles'])
        assert body['user']['name'] == user
        assert body['project']['name'] == project
    assert roles == {'admin': ['admin', 'manager', 'member', 'reader'],
                     'bob': ['member', 'reader'], 'carol': ['reader'],
                     'mallory': ['member', 'reader']}


def test_a_user_cannot_scope_to_a_project_it_has_no_role_on(sim):
    response = requests.post(sim.auth_url + '/v3/auth/tokens', timeout=30,
                             json=_password_auth('mallory', 'pw-m', 'admin'))
    assert response.status_code == 401


@pytest.mark.parametrize('service,path,rule', ADMIN_APIS)
def test_admin_apis_refuse_members_and_readers(sim, service, path, rule):
    assert _get(sim, path, sim.token_for()).status_code == 200
    for user in ('bob', 'carol', 'mallory'):
        _forbidden(_get(sim, path, sim.token_for(user)), service, rule)


def test_a_member_sees_its_own_project_only(sim):
    own = {i.uuid for i in sim.topology.instances
           if i.project_id == ADMIN_PROJECT_ID}
    other = next(i for i in sim.topology.instances
                 if i.project_id != ADMIN_PROJECT_ID)
    token = sim.token_for('bob')
    listed = {s['id'] for s in _get(
        sim, '/compute/v2.1/servers/detail?limit=1000',
        token).json()['servers']}
    assert listed == own
    # Nova drops the host filter of a non-admin instead of applying it.
    filtered = {s['id'] for s in _get(
        sim, '/compute/v2.1/servers/detail?host=%s' % other.host,
        token).json()['servers']}
    assert filtered == own
    assert _get(sim, '/compute/v2.1/servers/%s' % other.uuid,
                token).status_code == 404
    assert _get(sim, '/compute/v2.1/servers/%s' % other.uuid,
                sim.token_for()).status_code == 200
    assert _get(sim, '/compute/v2.1/servers?all_tenants=1',
                token).status_code == 403


def test_moves_and_service_changes_need_an_admin(sim):
    server = next(i for i in sim.topology.instances
                  if i.project_id == ADMIN_PROJECT_ID and i.host)
    target = next(h.hostname for h in sim.topology.hosts
                  if h.hostname != server.host)
    url = '%s/compute/v2.1/servers/%s/action' % (sim.url, server.uuid)
    headers = {'X-Auth-Token': sim.token_for('bob'),
               'OpenStack-API-Version': 'compute 2.56'}
    response = requests.post(url, headers=headers, timeout=30, json={
        'migrate': {'host': target}})
    _forbidden(response, 'compute', 'os_compute_api:os-migrate-server:'
                                    'migrate')
    response = requests.post(url, headers=headers, timeout=30, json={
        'os-migrateLive': {'host': target, 'block_migration': 'auto'}})
    _forbidden(response, 'compute', 'os_compute_api:os-migrate-server:'
                                    'migrate_live')
    service = _get(sim, '/compute/v2.1/os-services', sim.token_for(),
                   **{'OpenStack-API-Version': 'compute 2.53'}
                   ).json()['services'][0]
    response = requests.put(
        '%s/compute/v2.1/os-services/%s' % (sim.url, service['id']),
        headers=headers, timeout=30, json={'status': 'disabled'})
    _forbidden(response, 'compute', 'os_compute_api:os-services:update')
    assert sim.writes.migrations() == []


def test_token_validation_as_keystone_allows_it(sim):
    admin = sim.token_for()
    bob, _ = _login(sim, 'bob', 'pw-bob', 'admin')
    carol = sim.token_for('carol')

    def validate(caller, subject):
        return _get(sim, '/identity/v3/auth/tokens', caller,
                    **{'X-Subject-Token': subject})

    response = validate(admin, bob)
    assert response.status_code == 200
    token = response.json()['token']
    assert token['user']['name'] == 'bob'
    assert sorted(r['name'] for r in token['roles']) == ['member', 'reader']
    assert token['expires_at'] > token['issued_at']
    assert validate(bob, bob).status_code == 200     # its own token
    assert validate(carol, bob).status_code == 403
    assert validate(admin, 'nope').status_code == 404


def test_noauth_placement_admits_only_the_admin_token(topology):
    """Placement's noauth2 as its NoAuthMiddleware: the token is
    ``user[:project]``; user ``admin`` is an admin, any other user (the
    ``notused`` of keystoneauth's ``none`` plugin included) has no role,
    and an ``X-Roles`` header names the roles."""
    with Simulator(topology, noauth=True) as sim:
        path = '/placement/resource_providers'
        for token in ('admin', 'admin:someproject'):
            assert _get(sim, path, token).status_code == 200
        for token in ('notused', 'bob', 'bob:admin'):
            _forbidden(_get(sim, path, token), 'placement',
                       'placement:resource_providers:list')
        assert _get(sim, path, 'bob', **{
            'X-Roles': 'service'}).status_code == 200
        assert _get(sim, path, None).status_code == 401


def test_noauth_nova_still_needs_keystone(topology):
    """Nova 34 has no noauth2: its API keeps checking Keystone tokens."""
    with Simulator(topology, noauth=True) as sim:
        path = '/compute/v2.1/os-hypervisors'
        for token in ('admin', 'notused', None):
            assert _get(sim, path, token).status_code == 401
        assert _get(sim, path, sim.token_for()).status_code == 200
        # Ironic's noauth: no policy.
        assert _get(sim, '/baremetal/v1/nodes', 'x').status_code == 200


def test_cli_users():
    parser = cmd.build_parser()
    args = parser.parse_args(['--user', 'bob:pw:member',
                              '--user', 'eve:pw:reader:other'])
    assert dict(args.user) == {
        'bob': {'password': 'pw', 'role': 'member', 'project': None},
        'eve': {'password': 'pw', 'role': 'reader', 'project': 'other'}}
    for bad, message in (('bob:pw', 'NAME:PASSWORD:ROLE'),
                         ('bob:pw:owner', 'role must be one of')):
        with pytest.raises(cmd._UsageError, match=message):
            parser.parse_args(['--user', bad])
