"""``[api] auth_strategy = keystone`` against the simulator's Keystone
(real HTTP, password tokens validated by keystonemiddleware): only a
token with the admin role may use the API (issue 23, D1).

The role matrix (tests/fixtures/api_roles.py) is the one the real-Keystone
tests reuse: admin admitted, member and reader (of the engine's project
or an unrelated one) 403, no token or a bad one 401, ``GET /`` open.
"""

import functools

import pytest

from decision_engine.simulator import Simulator
from decision_engine.simulator.topology import Topology
from tests.fixtures import api_roles
from tests.fixtures.api_engine import Engine


@pytest.fixture
def keystone():
    sim = Simulator(Topology.generate(hosts=1, instances=0), users={
        'bob': {'password': 'pw-bob', 'role': 'member'},
        'carol': {'password': 'pw-carol', 'role': 'reader'},
        'mallory': {'password': 'pw-mallory', 'role': 'member',
                    'project': 'unrelated'},
    }).start()
    yield sim
    sim.stop()


@pytest.fixture
def engine(tmp_path, keystone):
    auth = keystone.auth()
    engine = Engine(tmp_path, configure=functools.partial(
        api_roles.use_keystone, auth_url=auth['auth_url'],
        username=auth['username'], password=auth['password'],
        project_name=auth['project_name']))
    yield engine
    engine.close()


def test_only_admin_tokens_use_the_api(keystone, engine):
    url = keystone.auth_url
    tokens = {
        'admin': api_roles.password_token(url, 'admin', 'secret', 'admin'),
        'member': api_roles.password_token(url, 'bob', 'pw-bob', 'admin'),
        'reader': api_roles.password_token(url, 'carol', 'pw-carol',
                                           'admin'),
        'unrelated-member': api_roles.password_token(
            url, 'mallory', 'pw-mallory', 'unrelated'),
        'none': None,
        'invalid': 'not-a-token',
    }
    statuses = api_roles.role_matrix(api_roles.HttpApi(engine.url), tokens)
    assert api_roles.unexpected(statuses) == []
    # The admin's audit was created; no other token created one.
    assert statuses[('admin', 'POST', '/v1/audits')][0] == 201
    assert [a['name'] for a in engine.store.list_audits()] == [
        'role-matrix']
    status, text = statuses[('unrelated-member', 'GET', '/v1/model')]
    assert 'mallory in project unrelated' in text, text
