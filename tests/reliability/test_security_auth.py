"""Security, authentication: who may do what.

* ``noauth`` on a non-loopback address: the real daemon refuses to start
  (exit 2, one line naming the option), before anything listens.
* ``http_basic``: every route of the OpenAPI document but the public ones
  (``GET /``, ``/healthcheck``) answers 401 to a missing header, a wrong
  password, an unknown user, another scheme and malformed credentials; no
  audit is created or cancelled and no plan started or cancelled by such
  a client. The right credentials pass.

Keystone (keystonemiddleware against a token endpoint) is in
test_security_secrets.py, on the real daemon.
"""

import base64
import uuid

import bcrypt
import pytest
import requests

from tests.fixtures.api_engine import Engine
from tests.fixtures.api_engine import write_htpasswd
from tests.fixtures import engine_process
from tests.fixtures import figures

PUBLIC = {('GET', '/'), ('GET', '/healthcheck')}


def _basic(user, password):
    raw = ('%s:%s' % (user, password)).encode()
    return 'Basic ' + base64.b64encode(raw).decode()


@pytest.fixture(scope='module')
def noauth_refusals(tmp_path_factory):
    """The daemon with noauth on each address: (address, exit, stderr)."""
    results = []
    for address in ('0.0.0.0', '::', '192.0.2.10', 'engine.example.org'):
        engine = engine_process.EngineProcess(
            tmp_path_factory.mktemp('noauth'))
        engine.write_config(nodes=())
        engine.config_path.write_text(
            engine.config_path.read_text().replace(
                '[api]\nenabled = false',
                '[api]\nenabled = true\nhost = %s\nport = 0' % address))
        engine.start()
        try:
            engine.proc.wait(engine_process.GUARD)
        finally:
            engine.stop()
        results.append((address, engine.proc.returncode, engine.output()))
    return results


def test_noauth_is_refused_on_non_loopback_addresses(noauth_refusals):
    wrong = [(address, code, output) for address, code, output
             in noauth_refusals
             if code != 2 or len(output.strip().splitlines()) != 1
             or 'auth_strategy = noauth' not in output]
    figures.record('security/noauth-bind', addresses=len(noauth_refusals),
                   refused=len(noauth_refusals) - len(wrong))
    assert not wrong, wrong


def test_http_basic_rejects_every_bad_credential(tmp_path):
    digest = bcrypt.hashpw(b's3cret', bcrypt.gensalt(4)).decode()
    path = write_htpasswd(tmp_path, ['admin:' + digest])
    engine = Engine(tmp_path, auth_strategy='http_basic',
                    http_basic_auth_user_file=path)
    good = {'Authorization': _basic('admin', 's3cret')}
    bad = {
        'missing': {},
        'wrong password': {'Authorization': _basic('admin', 'S3cret')},
        'empty password': {'Authorization': _basic('admin', '')},
        'unknown user': {'Authorization': _basic('root', 's3cret')},
        'password prefix': {'Authorization': _basic('admin', 's3cre')},
        'other scheme': {'Authorization': 'Bearer s3cret'},
        'not base64': {'Authorization': 'Basic !!!not-base64'},
        'no colon': {'Authorization': 'Basic ' + base64.b64encode(
            b'admins3cret').decode()},
        'not utf-8': {'Authorization': 'Basic ' + base64.b64encode(
            b'admin:\xff\xfe').decode()},
    }
    try:
        audit = requests.post(engine.url + '/v1/audits', headers=good,
                              json={'strategy': 'dummy',
                                    'audit_type': 'CONTINUOUS',
                                    'interval': 3600}).json()
        document = requests.get(engine.url + '/v1/openapi.json',
                                headers=good).json()
        routes = []
        for path, item in document['paths'].items():
            concrete = path.replace('{uuid}', audit['uuid']).replace(
                '{name}', 'dummy')
            routes += [(m.upper(), concrete) for m in item
                       if m in ('get', 'post', 'delete')]
        tried = rejected = 0
        wrong = []
        for method, path in routes:
            for kind, headers in bad.items():
                tried += 1
                response = requests.request(
                    method, engine.url + path, headers=headers,
                    json={'strategy': 'dummy'} if method == 'POST' else None)
                expected = 200 if (method, path) in PUBLIC else 401
                if response.status_code != expected:
                    wrong.append((kind, method, path, response.status_code))
                elif expected == 401:
                    rejected += 1
                    assert response.json()['error']['code'] == 401
                    assert 'WWW-Authenticate' in response.headers
        unchanged = engine.store.list_audits()
        good_statuses = [requests.get(engine.url + p, headers=good)
                         .status_code for m, p in routes if m == 'GET']
        plan = requests.post(engine.url + '/v1/action_plans/%s/start'
                             % uuid.uuid4(), headers=good)
    finally:
        engine.close()
    figures.record('security/http-basic', routes=len(routes),
                   bad_credential_cases=tried, rejected_401=rejected,
                   wrong=len(wrong))
    assert not wrong, wrong
    assert rejected == tried - len(bad) * len(PUBLIC)
    # Nothing created or cancelled by the rejected clients.
    assert [(a['uuid'], a['state']) for a in unchanged] == [
        (audit['uuid'], audit['state'])]
    assert 401 not in good_statuses and max(good_statuses) < 500
    assert plan.status_code in (404, 503)
