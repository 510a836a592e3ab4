import json
import threading

import bcrypt
import pytest
import requests

from decision_engine.api import auth
from decision_engine.api import server
from tests.fixtures import fakes
from tests.fixtures import model_helpers
from tests.fixtures.api_engine import Engine
from tests.fixtures.api_engine import write_htpasswd


@pytest.fixture
def engine(tmp_path):
    engine = Engine(tmp_path)
    yield engine
    engine.close()


def error_of(response, code):
    assert response.status_code == code, response.text
    assert response.headers['Content-Type'].startswith('application/json')
    body = response.json()['error']
    assert body['code'] == code
    return body['message']


def test_versions_health_and_openapi(engine):
    versions = requests.get(engine.url + '/').json()
    assert versions['versions'][0]['id'] == 'v1'
    assert requests.get(engine.url + '/healthcheck').status_code == 200
    doc = requests.get(engine.url + '/v1/openapi.json').json()
    assert doc['openapi'].startswith('3.')
    assert {'/v1/audits', '/v1/audits/{uuid}', '/v1/action_plans/{uuid}',
            '/v1/model', '/v1/status', '/metrics'} <= set(doc['paths'])
    names = [s['name'] for s in requests.get(
        engine.url + '/v1/strategies').json()['strategies']]
    assert 'server_consolidation' in names


def test_create_wait_and_read_the_plan(engine):
    response = requests.post(engine.url + '/v1/audits', json={
        'strategy': 'server_consolidation', 'name': 'pack'})
    assert response.status_code == 201, response.text
    audit = response.json()
    assert response.headers['Location'].endswith(
        '/v1/audits/' + audit['uuid'])
    assert engine.audits.runner.wait_idle(30)
    audit = requests.get(response.headers['Location']).json()
    assert audit['state'] == 'SUCCEEDED'
    assert audit['created_at'].endswith('Z')
    assert len(audit['action_plans']) == 1
    plan = requests.get('%s/v1/action_plans/%s' % (
        engine.url, audit['last_action_plan_uuid'])).json()
    assert plan['audit_uuid'] == audit['uuid']
    assert plan['indicators']['hosts_released'] == 2
    assert [a['position'] for a in plan['actions']] == list(
        range(len(plan['actions'])))
    listed = requests.get(engine.url + '/v1/audits').json()['audits']
    assert [a['uuid'] for a in listed] == [audit['uuid']]
    status = requests.get(engine.url + '/v1/status').json()
    assert status['pool']['size'] == 3
    assert status['audits']['by_state']['SUCCEEDED'] == 1
    model = requests.get(engine.url + '/v1/model').json()
    assert model['max_model_age'] == 300
    assert model['summary']['nodes'] == 3 and model['stale'] is False
    assert model['collector']['builds'] == 1
    metrics = requests.get(engine.url + '/metrics').text
    assert 'decision_engine_pool_size 3.0' in metrics
    assert 'decision_engine_model_builds 1.0' in metrics
    assert 'decision_engine_model_stale 0.0' in metrics
    assert 'decision_engine_model_age_seconds ' in metrics
    assert 'decision_engine_audits{state="SUCCEEDED"} 1.0' in metrics
    assert 'decision_engine_periodic_failures_total{task="audit.x"} 1.0' \
        in metrics
    assert 'decision_engine_api_requests_total{method="POST",' \
           'status="201"} 1.0' in metrics


@pytest.mark.parametrize('body,message', [
    ({'strategy': 'nope'}, "unknown strategy 'nope'"),
    ({'strategy': 'dummy', 'parameters': {'sleep': 'x'}},
     "parameter 'sleep'"),
    ({'strategy': 'dummy', 'colour': 'red'}, 'colour'),
])
def test_validation_errors_are_400_with_a_message(engine, body, message):
    response = requests.post(engine.url + '/v1/audits', json=body)
    assert message in error_of(response, 400)


def test_bad_bodies(engine):
    url = engine.url + '/v1/audits'
    assert 'not valid JSON' in error_of(
        requests.post(url, data=b'{nope',
                      headers={'Content-Type': 'application/json'}), 400)
    assert 'application/json' in error_of(
        requests.post(url, data=b'{}', headers={
            'Content-Type': 'text/plain'}), 415)
    big = json.dumps({'strategy': 'dummy', 'name': 'x' * 2000})
    assert 'max_request_body_size' in error_of(
        requests.post(url, data=big,
                      headers={'Content-Type': 'application/json'}), 413)
    # Chunked: no Content-Length to check up front.
    assert 'max_request_body_size' in error_of(
        requests.post(url, data=iter([big.encode()]),
                      headers={'Content-Type': 'application/json'}), 413)
    assert engine.store.list_audits() == []


def test_a_large_body_on_a_route_that_reads_none_is_413(engine):
    """cheroot would read the whole unread body to keep the connection:
    a declared 10 MB body on a body-less route is refused unread."""
    with requests.Session() as session:
        response = session.post(
            engine.url + '/v1/action_plans/x/cancel',
            data=b'a' * 2048, headers={'Content-Length': '10000000'},
            timeout=10)
        assert 'max_request_body_size' in error_of(response, 413)
        assert response.headers['Connection'] == 'close'


def test_unknown_ids_paths_and_methods(engine):
    assert 'no audit nope' in error_of(
        requests.get(engine.url + '/v1/audits/nope'), 404)
    assert 'no action plan nope' in error_of(
        requests.get(engine.url + '/v1/action_plans/nope'), 404)
    assert 'no audit nope' in error_of(
        requests.delete(engine.url + '/v1/audits/nope'), 404)
    assert 'no such resource' in error_of(
        requests.get(engine.url + '/v2/things'), 404)
    response = requests.put(engine.url + '/v1/audits')
    assert 'allowed: GET, POST' in error_of(response, 405)
    assert 'state must be one of' in error_of(
        requests.get(engine.url + '/v1/audits?state=DONE'), 400)
    assert 'limit must be' in error_of(
        requests.get(engine.url + '/v1/audits?limit=0'), 400)


def test_cancel_then_cancel_again(tmp_path):
    gate = threading.Event()
    engine = Engine(tmp_path, gate=gate)
    try:
        audit = requests.post(engine.url + '/v1/audits',
                              json={'strategy': 'dummy'}).json()
        assert engine.collector.build_started.wait(30)
        response = requests.delete(engine.url + '/v1/audits/'
                                   + audit['uuid'])
        assert response.status_code == 200
        assert response.json()['state'] == 'CANCELLED'
        gate.set()
        assert engine.audits.runner.wait_idle(30)
        assert 'already ended (CANCELLED)' in error_of(requests.delete(
            engine.url + '/v1/audits/' + audit['uuid']), 409)
        assert requests.get(engine.url + '/v1/audits/'
                            + audit['uuid']).json()['action_plans'] == []
    finally:
        gate.set()
        engine.close()


def test_paging(engine):
    uuids = [engine.store.create_audit({'strategy': 'dummy',
                                        'state': 'CANCELLED'})['uuid']
             for _ in range(3)]
    page = requests.get(engine.url + '/v1/audits?limit=2').json()
    assert [a['uuid'] for a in page['audits']] == uuids[:2]
    page = requests.get(engine.url + '/v1/audits?limit=2&marker='
                        + page['next_marker']).json()
    assert [a['uuid'] for a in page['audits']] == uuids[2:]
    assert 'next_marker' not in page


def test_noauth_on_a_public_address_is_refused(tmp_path):
    conf = fakes.make_conf(api={'host': '0.0.0.0', 'port': 0})
    with pytest.raises(auth.AuthConfigError, match='only allowed on a '
                                                   'loopback address'):
        server.start(conf, None)
    conf = fakes.make_conf(api={'host': '::1', 'port': 0})
    auth.check_bind(conf)


def test_http_basic(tmp_path):
    digest = bcrypt.hashpw(b's3cret', bcrypt.gensalt(rounds=4)).decode()
    path = write_htpasswd(tmp_path, ['# users', 'admin:' + digest.replace(
        '$2b$', '$2y$', 1)])
    engine = Engine(tmp_path, auth_strategy='http_basic',
                    http_basic_auth_user_file=path)
    try:
        url = engine.url + '/v1/status'
        assert requests.get(url, auth=('admin', 's3cret')).status_code \
            == 200
        # Cached verification still checks the password.
        assert requests.get(url, auth=('admin', 's3cret')).status_code \
            == 200
        for creds in (('admin', 'wrong'), ('root', 's3cret'), None):
            response = requests.get(url, auth=creds)
            assert 'credentials' in error_of(response, 401)
            assert response.headers['WWW-Authenticate'].startswith('Basic')
        response = requests.get(url, headers={'Authorization': 'Basic !!'})
        assert response.status_code == 401
        # Version discovery and the health check stay public.
        assert requests.get(engine.url + '/').status_code == 200
        assert requests.get(engine.url + '/healthcheck').status_code == 200
    finally:
        engine.close()


@pytest.mark.parametrize('lines,message', [
    (['admin:$apr1$abc$def'], 'line 1: the hash of user admin is not '
                              'bcrypt'),
    (['justaname'], 'line 1: expected user:hash'),
    (['# nobody'], 'has no user'),
])
def test_bad_htpasswd_refused_at_start(tmp_path, lines, message):
    conf = fakes.make_conf(api={
        'port': 0, 'auth_strategy': 'http_basic',
        'http_basic_auth_user_file': write_htpasswd(tmp_path, lines)})
    with pytest.raises(auth.AuthConfigError, match=message):
        server.start(conf, None)
    conf.set_override('http_basic_auth_user_file',
                      str(tmp_path / 'missing'), group='api')
    with pytest.raises(auth.AuthConfigError, match='cannot read'):
        server.start(conf, None)


def test_keystone_rejects_requests_without_a_token(tmp_path, monkeypatch):
    from keystonemiddleware import auth_token
    real = fakes.make_conf

    def make_conf(**overrides):
        conf = real(**overrides)
        for group, opts in auth_token.list_opts():
            conf.register_opts(opts, group=group)
        conf.set_override('www_authenticate_uri',
                          'http://127.0.0.1:1/identity',
                          group='keystone_authtoken')
        return conf
    monkeypatch.setattr(fakes, 'make_conf', make_conf)
    engine = Engine(tmp_path, auth_strategy='keystone')
    try:
        response = requests.get(engine.url + '/v1/status')
        assert response.status_code == 401
        assert 'Keystone uri' in response.headers['WWW-Authenticate']
        assert requests.get(engine.url + '/').status_code == 200
    finally:
        engine.close()


@pytest.mark.parametrize('raw,message', [
    # Out of the database's integer range: 400, not a 500 from the store.
    ({'strategy': 'dummy', 'audit_type': 'CONTINUOUS',
      'interval': 10 ** 23}, "field 'interval'"),
    # A valid cron expression that never fires (no 31 February).
    ({'strategy': 'dummy', 'audit_type': 'CONTINUOUS',
      'cron': '0 0 31 2 *'}, 'never runs'),
    # NUL cannot be stored in a PostgreSQL text column.
    ({'strategy': 'dummy', 'name': 'a\x00b'}, "field 'name'"),
    ({'strategy': 'dummy', 'scope': {'include_hosts': ['h\x00']}},
     "field 'scope.include_hosts.0'"),
    # Not JSON (RFC 8259) and could not be returned as JSON.
    ('{"strategy": "dummy", "parameters": {"sleep": NaN}}', 'NaN'),
    ('{"strategy": "dummy", "parameters": {"sleep": -Infinity}}',
     '-Infinity'),
])
def test_values_the_store_cannot_keep_are_400(engine, raw, message):
    data = raw if isinstance(raw, str) else json.dumps(raw)
    response = requests.post(engine.url + '/v1/audits', data=data, headers={
        'Content-Type': 'application/json'})
    assert message in error_of(response, 400)
    assert engine.store.list_audits() == []


def test_error_messages_keep_their_quotes(engine):
    response = requests.post(engine.url + '/v1/audits', json={
        'strategy': 'dummy', 'scope': {'include_hosts': 'x'}})
    assert error_of(response, 400).endswith("is not of type 'array'")


def test_unknown_marker_is_a_bad_request(engine):
    assert 'marker nope' in error_of(
        requests.get(engine.url + '/v1/audits?marker=nope'), 400)


def test_head_is_get_without_a_body_and_links_resolve(engine):
    response = requests.head(engine.url + '/v1/status')
    assert response.status_code == 200 and response.content == b''
    assert response.headers['Content-Type'].startswith('application/json')
    # NOTE: /v1 is Watcher's document; the engine's own resources are
    # under their names.
    document = requests.get(engine.url + '/v1').json()
    links = [link for name in ('model', 'status', 'openapi')
             for link in document[name]]
    paths = set(requests.get(engine.url + '/v1/openapi.json')
                .json()['paths'])
    for link in links:
        assert requests.get(link['href']).status_code == 200, link
        assert link['href'][len(engine.url):] in paths, link


def test_every_route_is_in_the_openapi_document(engine):
    paths = set(requests.get(engine.url + '/v1/openapi.json')
                .json()['paths'])
    application = engine.server.application
    for pattern, _ in application.routes:
        source = pattern.pattern.replace('(?P<uuid>[^/]+)', '{uuid}') \
            .replace('(?P<name>[^/]+)', '{name}')
        path = source.strip('^$').replace('/?', '').replace('\\', '')
        assert path in paths, path


def test_model_lists_the_hypervisors_kept_out_of_decisions(engine):
    def with_excluded():
        model = model_helpers.small_model()
        model.excluded = {
            'u-new': {'uuid': 'u-new', 'hostname': 'compute-new-1',
                      'reason': 'no Placement resource provider',
                      'hypervisor_type': 'QEMU', 'aggregates': [],
                      'availability_zone': 'nova'},
            'u-bm': {'uuid': 'u-bm', 'hostname': 'ironic-compute-1',
                     'reason': 'ironic hypervisor (a bare metal node)',
                     'hypervisor_type': 'ironic', 'aggregates': [],
                     'availability_zone': 'nova'}}
        return model

    engine.collector.factory = with_excluded
    engine.collector.get_model()
    summary = requests.get(engine.url + '/v1/model').json()['summary']
    assert summary['excluded_nodes'] == 2
    assert summary['excluded_by_reason'] == {
        'no Placement resource provider': 1,
        'ironic hypervisor (a bare metal node)': 1}
    assert [(e['hostname'], e['uuid']) for e in summary['excluded']] == [
        ('compute-new-1', 'u-new'), ('ironic-compute-1', 'u-bm')]
    assert summary['nodes'] == 3 and summary['usage_source'] == 'flavors'


def test_an_unknown_user_costs_a_bcrypt_check_too(monkeypatch):
    """The answer's delay does not tell which user names exist."""
    digest = bcrypt.hashpw(b's3cret', bcrypt.gensalt(4))
    basic = auth.BasicAuth(None, {'admin': digest})
    checks = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, 'checkpw', lambda password, hashed: (
        checks.append(hashed[:7]) or real(password, hashed)))
    assert not basic._check('nobody', b's3cret')
    assert not basic._check('admin', b'wrong')
    assert checks == [b'$2b$04$', b'$2b$04$']
