"""Who may use the engine's API, with real Keystone tokens (issue 23, D1).

The daemon runs with ``[api] auth_strategy = keystone`` against the test
bed's Keystone (fernet tokens validated by keystonemiddleware). The users
are the ones the control plane bootstrapped: ``admin`` (admin of project
``admin``), ``member`` and ``reader`` (those roles in project ``other``).
Only the admin's token may read the model or create an audit; member and
reader get 403 on every route but ``GET /``, no token or a bad one 401
(the role matrix of tests/fixtures/api_roles.py). Nova's own policy is the
yardstick: it refuses the member even a hypervisor list.
"""

import requests

from tests.fixtures import api_roles
from tests.fixtures.openstack import engine as engine_mod


def test_only_the_admin_token_uses_the_api(tmp_path, testbed, cloud):
    tokens = {kind: testbed.token(kind)[0]
              for kind in ('admin', 'member', 'reader')}
    # What the real cloud says of these tokens: Nova itself refuses the
    # member and the reader its hypervisors, and lets the admin see them.
    for kind, want in (('admin', 200), ('member', 403), ('reader', 403)):
        response = requests.get(
            cloud.nova + '/os-hypervisors', timeout=60,
            headers={'X-Auth-Token': tokens[kind]})
        assert response.status_code == want, (kind, response.text[:300])

    engine = engine_mod.RealEngine(tmp_path, testbed)
    engine.start()
    try:
        tokens.update({'none': None, 'invalid': 'not-a-token'})
        statuses = api_roles.role_matrix(api_roles.HttpApi(
            engine.url, timeout=120), tokens)
        assert api_roles.unexpected(statuses) == []
        # The admin's audit was created (and ran on the real cloud); no
        # other token created one.
        status, text = statuses[('admin', 'POST', '/v1/audits')]
        assert status == 201, text
        status, text = statuses[('admin', 'GET', '/v1/model')]
        assert status == 200, text
        audits = engine.get('/v1/audits')['audits']
        assert [a['name'] for a in audits] == ['role-matrix'], audits
        audit = engine.wait('/v1/audits/%s' % audits[0]['uuid'],
                            lambda a: a['state'] in (
                                'SUCCEEDED', 'FAILED', 'CANCELLED'),
                            interval=0.2)
        assert audit['state'] == 'SUCCEEDED', audit['state_reason']
        # A refusal names who was refused, as Keystone identified them.
        for kind in ('member', 'reader'):
            status, text = statuses[(kind, 'GET', '/v1/model')]
            assert '%s in project other' % kind in text, text
    finally:
        engine.stop()
