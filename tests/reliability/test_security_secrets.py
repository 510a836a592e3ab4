"""Security, secrets: no secret in anything the daemon writes or answers.

The real daemon runs with ``debug = True`` and every secret-bearing option
set to a canary of its own: the store's password (PostgreSQL, which trusts
loopback whatever the password), the message bus password (RabbitMQ
refuses it: a failing connection), Prometheus basic-auth credentials in
its URL (nothing listens: a failing connection), the ``[nova]`` and
``[placement]`` service passwords (Keystone unreachable), the
``[keystone_authtoken]`` password and memcache key, Redfish and IPMI BMC
passwords (unreachable BMCs) and the API's Keystone tokens. The test calls
every API route with valid and invalid tokens, reads /metrics, asks for a
Guru Meditation Report, waits for each failing connection to be logged,
and scans the log, stdout/stderr, every response and the report for every
canary. A second daemon fails to join a coordination URL with a password,
and the CLI fails to reach a database URL with a password: their output
is scanned too.

Keystone through keystonemiddleware against a token endpoint on loopback
(tests/fixtures/keystone_tokens.py): every route but the public ones
answers 401 to a missing, unknown, expired or revoked token and 403 to a
valid member or reader token (no admin role), and nobody without a valid
admin token creates or cancels an audit or starts or cancels a plan.
"""

import signal
import socket
import subprocess
import sys
import time
import uuid

import requests

from tests.fixtures import canaries as canaries_mod
from tests.fixtures import dbfixtures
from tests.fixtures import engine_process
from tests.fixtures import figures
from tests.fixtures import keystone_tokens

PUBLIC = {('GET', '/'), ('GET', '/healthcheck')}
#: Watcher's API v1 version document: any valid token may read it (its
#: routes apply their oslo.policy rules, not [api] admin_roles).
ANY_VALID_TOKEN = {('GET', '/v1')}
SECRETS = ('db', 'rabbit', 'prom', 'nova', 'placement', 'ks_password',
           'memcache_key', 'redfish', 'ipmi')


def _closed_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def _engine_config(engine, store_url, canaries, tokens, closed):
    engine.inventory_path.write_text(
        '- hostname: bmc-1\n  driver: redfish\n  driver_info: {address: '
        '"http://127.0.0.1:%d", username: admin, password: %s}\n'
        '- hostname: bmc-2\n  driver: ipmi\n  driver_info: {address: '
        '127.0.0.1, port: %d, username: admin, password: %s}\n'
        % (closed, canaries['redfish'], closed, canaries['ipmi']))
    reports = engine.tmp / 'reports'
    reports.mkdir()
    keystone = 'http://127.0.0.1:%d/identity/v3' % closed
    authtoken = keystone_tokens.authtoken_options(
        tokens, canaries['ks_password']) + 'memcache_secret_key = %s\n' % (
            canaries['memcache_key'])
    engine.config_path.write_text(f"""
[DEFAULT]
debug = True
log_file = {engine.log_path}
enabled_power_drivers = redfish,ipmi
state_path = {engine.tmp}

[conductor]
workers_pool_size = 20
graceful_shutdown_timeout = 5
stats_interval = 3600

[power]
inventory_file = {engine.inventory_path}
sync_interval = 3600

[ipmi]
command_timeout = 1

[database]
connection = {store_url}

[collector]
enabled = true
period = 3600

[notifications]
transport_url = rabbit://guest:{canaries['rabbit']}@127.0.0.1:5672/

[datasource]
prometheus_url = http://prom:{canaries['prom']}@127.0.0.1:{closed}/

[nova]
auth_type = password
auth_url = {keystone}
username = admin
password = {canaries['nova']}
project_name = admin
user_domain_name = Default
project_domain_name = Default

[placement]
auth_type = password
auth_url = {keystone}
username = admin
password = {canaries['placement']}
project_name = admin
user_domain_name = Default
project_domain_name = Default

[api]
enabled = true
port = 0
auth_strategy = keystone

[oslo_reports]
log_dir = {reports}

{authtoken}""")
    return reports


def _routes(document):
    """``[(method, path)]`` of every operation of the OpenAPI document,
    with made-up path parameters."""
    routes = []
    for path, item in document['paths'].items():
        concrete = path.replace('{uuid}', str(uuid.uuid4())).replace(
            '{name}', 'dummy')
        routes += [(method.upper(), concrete) for method in item
                   if method in ('get', 'post', 'delete', 'put', 'patch')]
    return routes


class Exchanges:
    """Every request made and what came back, for the scan."""

    def __init__(self, base):
        self.base = base
        self.texts = []

    def call(self, method, path, token=None, **kwargs):
        headers = {'X-Auth-Token': token} if token else {}
        response = requests.request(method, self.base + path,
                                    headers=headers, timeout=30, **kwargs)
        self.texts.append('%s %s -> %d %s\n%s' % (
            method, path, response.status_code, dict(response.headers),
            response.text))
        return response


def _auth_matrix(api, tokens):
    """Every non-public route with every kind of bad token: 401."""
    valid = tokens.issue()
    routes = _routes(api.call('GET', '/v1/openapi.json', valid).json())
    expired = tokens.issue(expires_in=-60)
    revoked = tokens.issue()
    tokens.revoke(revoked)
    used_then_revoked = tokens.issue()
    assert api.call('GET', '/v1/status', used_then_revoked).status_code \
        == 200
    tokens.revoke(used_then_revoked)
    bad = {'missing': None, 'unknown': 'tok-' + uuid.uuid4().hex,
           'expired': expired, 'revoked': revoked,
           'revoked-after-use': used_then_revoked}
    # Valid tokens without the admin role ([api] admin_roles): 403.
    roles = {'member': tokens.issue('bob', roles=('member', 'reader')),
             'reader': tokens.issue('carol', roles=('reader',))}
    tried = rejected = 0
    forbidden = {'tried': 0, 'rejected': 0}
    wrong = []
    for method, path in routes:
        body = {'json': {'strategy': 'dummy'}} if method == 'POST' else {}
        for kind, token in list(bad.items()) + list(roles.items()):
            counts = forbidden if kind in roles else None
            refusal = 403 if counts else 401
            status = api.call(method, path, token, **body).status_code
            expected = 200 if (method, path) in PUBLIC or (
                counts and (method, path) in ANY_VALID_TOKEN) else refusal
            if counts:
                counts['tried'] += 1
                counts['rejected'] += status == expected == 403
            else:
                tried += 1
                rejected += status == expected == 401
            if status != expected:
                wrong.append((kind, method, path, status))
    return routes, tried, rejected, wrong, valid, forbidden


def _valid_calls(api, token, routes):
    """Each route with a valid token, and the errors a client can cause."""
    statuses = {}
    for method, path in routes:
        if method == 'GET':
            statuses[(method, path)] = api.call(method, path,
                                                token).status_code
    created = api.call('POST', '/v1/audits', token,
                       json={'strategy': 'dummy', 'name': 'mine'})
    assert created.status_code == 201, created.text
    audit = created.json()['uuid']
    assert api.call('DELETE', '/v1/audits/%s' % audit,
                    token).status_code in (200, 409)
    assert api.call('POST', '/v1/audits', token, data=b'{not json',
                    ).status_code in (400, 415)
    assert api.call('POST', '/v1/action_plans/%s/start' % uuid.uuid4(),
                    token).status_code == 404
    check = api.call('GET', '/v1/strategies/workload_balance', token)
    assert check.status_code == 200, check.text
    # The datasource is named, its credentials are not.
    assert 'prometheus at http://prom:***@' in check.text, check.text
    return statuses


def test_no_secret_in_anything_the_daemon_writes(tmp_path):
    canaries = canaries_mod.Canaries(*SECRETS, 'coordination', 'cli_db',
                                     'cli_api')
    tokens = keystone_tokens.TokenServer(canaries['ks_password']).start()
    closed = _closed_port()
    engine = engine_process.EngineProcess(tmp_path / 'engine')
    sources = {}
    try:
        with dbfixtures.postgres_url() as url:
            dbfixtures.open_store(url).dispose()
            store_url = url.replace('postgres@', 'postgres:%s@'
                                    % canaries['db'], 1)
            reports = _engine_config(engine, store_url, canaries, tokens,
                                     closed)
            engine.start()
            engine.notify.wait_for('READY')
            base = engine.wait_log(r'API listening on (http://\S+)')[0]
            api = Exchanges(base)
            routes, tried, rejected, wrong, valid, forbidden = \
                _auth_matrix(api, tokens)
            statuses = _valid_calls(api, valid, routes)
            engine.signal(signal.SIGUSR2)
            # Each secret was used by a failing connection or a working one.
            for pattern in ('Power-state poll of node bmc-1 failed',
                            'Power-state poll of node bmc-2 failed',
                            'Cannot listen to notifications',
                            'compute model refresh failed',
                            'Store: postgresql'):
                engine.wait_log(pattern)
            report = _wait_report(reports)
            engine.stop()
            sources.update({'log': engine.log_path, 'report': report,
                            'output': engine.output(),
                            'responses': '\n'.join(api.texts)})
            sources.update(_coordination(
                tmp_path / 'coordination', store_url, canaries))
        sources.update(_failing_cli(tmp_path, canaries, closed))
    finally:
        engine.stop()
        tokens.stop()
    # Each token the daemon saw is a secret too.
    token_canaries = {'token-%d' % n: token
                      for n, token in enumerate(tokens.issued)}
    canaries.values.update(token_canaries)
    leaks = canaries.scan(sources)
    statuses_5xx = [k for k, status in statuses.items() if status >= 500]
    recorded = figures.record(
        'security/secrets', canaries=len(canaries),
        sources_scanned=len(sources), leaks=len(leaks))
    figures.record('security/keystone', routes=len(routes),
                   bad_token_cases=tried, rejected_401=rejected,
                   no_admin_role_cases=forbidden['tried'],
                   rejected_403=forbidden['rejected'],
                   wrong=len(wrong), valid_token_5xx=len(statuses_5xx))
    assert not leaks, leaks
    assert recorded['sources_scanned'] == 10
    assert not wrong, wrong
    assert rejected == tried - 5 * len(PUBLIC)
    assert forbidden['rejected'] == forbidden['tried'] - 2 * len(
        PUBLIC | ANY_VALID_TOKEN)
    assert not statuses_5xx, statuses
    assert all(status != 401 for status in statuses.values()), statuses


def _wait_report(directory, timeout=engine_process.GUARD):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in directory.iterdir():
            if 'End of the worker pool section' in path.read_text():
                return path
        time.sleep(0.1)
    raise AssertionError('no Guru Meditation Report in %s' % directory)


def _coordination(tmp_path, store_url, canaries):
    """A daemon joining ``redis://:<canary>@`` (the test Redis has no
    password and lets the client's AUTH pass)."""
    engine = engine_process.EngineProcess(tmp_path)
    engine.write_config(nodes=())
    engine.config_path.write_text(engine.config_path.read_text() + """
[database]
connection = %s

[coordination]
backend_url = redis://:%s@127.0.0.1:6379
group_prefix = security-%s
""" % (store_url, canaries['coordination'], uuid.uuid4().hex[:8]))
    engine.start()
    try:
        engine.notify.wait_for('READY')
        engine.wait_log('Joined the cluster')
    finally:
        engine.stop()
    return {'coordination log': engine.log_path,
            'coordination output': engine.output()}


def _failing_cli(tmp_path, canaries, closed):
    """``decision-engine-manage db sync`` and ``decision-engine-status
    upgrade check`` against a database URL with a password that nothing
    answers: non-zero, no password."""
    config = tmp_path / 'cli.conf'
    config.write_text('[database]\nconnection = postgresql+psycopg2://'
                      'admin:%s@127.0.0.1:%d/x\nconnection_timeout = 2\n'
                      % (canaries['cli_db'], closed))
    outputs = {}
    api = 'http://admin:%s@127.0.0.1:%d' % (canaries['cli_api'], closed)
    for module, args, says in (
            ('manage', ['db', 'sync'], 'postgresql'),
            ('status', ['upgrade', 'check'], 'postgresql'),
            ('manage', ['--url', api, 'audit', 'list'], 'admin:***@'),
            ('manage', ['--url', api + '99999', 'audit', 'list'],
             'admin:***@')):
        done = subprocess.run(
            [sys.executable, '-m', 'decision_engine.cmd.%s' % module,
             '--config-file', str(config)] + args,
            capture_output=True, text=True, timeout=engine_process.GUARD)
        assert done.returncode != 0, done
        assert says in done.stdout + done.stderr, done
        outputs['cli %s %s' % (module, ' '.join(args))] = (
            done.stdout + done.stderr)
    return outputs
