"""The Watcher-compatible API of the real daemon with ``[api]
auth_strategy = keystone``: keystonemiddleware checks each token against
a small Keystone (tests/fixtures/keystone_tokens.py) and the policy
decides by the token's roles, with the defaults and with a policy file
overriding one rule. python-watcherclient sends the tokens.
"""

import json

import pytest
import requests
from watcherclient.common.apiclient import exceptions as wc_exc
from watcherclient.v1 import client as wc_client

from tests.fixtures import dbfixtures
from tests.fixtures import engine_process
from tests.fixtures import keystone_tokens

PASSWORD = 'ks-secret'


class Daemon(engine_process.Daemon):
    def __init__(self, tmp_path, tokens, url, policy_file):
        super().__init__(tmp_path, host='engine-k', store_url=url, options={
            'collector': {'enabled': False},
            'api': {'auth_strategy': 'keystone'},
            'oslo_policy': {'policy_file': policy_file}})
        with self.config_path.open('a') as config:
            config.write(keystone_tokens.authtoken_options(tokens, PASSWORD))


@pytest.fixture(scope='module')
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('watcher-keystone')
    tokens = keystone_tokens.TokenServer(PASSWORD).start()
    policy_file = tmp / 'policy.yaml'
    # NOTE: one rule changed: members may list strategies.
    policy_file.write_text('"strategy:get_all": "role:member"\n')
    url = 'sqlite:///%s' % (tmp / 'engine.sqlite')
    dbfixtures.open_store(url).dispose()     # db sync
    daemon = Daemon(tmp / 'engine', tokens, url, policy_file)
    try:
        daemon.start()
        yield daemon, tokens
    finally:
        daemon.stop()
        tokens.stop()


def as_role(stack, *roles):
    daemon, tokens = stack
    return wc_client.Client(endpoint=daemon.url,
                            token=tokens.issue(roles=roles))


def test_reads_for_admins_and_readers_writes_for_admins(stack):
    admin, reader = as_role(stack, 'admin'), as_role(stack, 'reader')
    member, service = as_role(stack, 'member'), as_role(stack, 'service')
    template = admin.audit_template.create(name='ks', goal='dummy')
    assert reader.audit_template.get('ks').uuid == template.uuid
    assert [g.name for g in reader.goal.list()]
    for client in (member, service):
        with pytest.raises(wc_exc.Forbidden):
            client.goal.list()
        with pytest.raises(wc_exc.Forbidden):
            client.audit_template.get('ks')
    for client in (reader, member, service):
        with pytest.raises(wc_exc.Forbidden):
            client.audit_template.create(name='nope', goal='dummy')
        with pytest.raises(wc_exc.Forbidden):
            client.audit.create(goal='dummy')
        with pytest.raises(wc_exc.Forbidden):
            client.audit_template.delete('ks')
    assert [t.name for t in admin.audit_template.list()] == ['ks']
    admin.audit_template.delete('ks')


def test_the_policy_file_changes_one_answer(stack):
    member, reader = as_role(stack, 'member'), as_role(stack, 'reader')
    assert 'dummy' in {s.name for s in member.strategy.list()}
    with pytest.raises(wc_exc.Forbidden):
        reader.strategy.list()          # no longer a reader's
    assert reader.strategy.get('dummy').name == 'dummy'   # still is


def test_403_body_and_no_token(stack):
    daemon, tokens = stack
    headers = {'OpenStack-API-Version': 'infra-optim 1.7',
               'X-Auth-Token': tokens.issue(roles=('member',))}
    refused = requests.post(daemon.url + '/v1/audits', json={
        'goal': 'dummy'}, headers=headers, timeout=30)
    assert refused.status_code == 403
    assert json.loads(refused.json()['error_message'])['faultstring'] == \
        "Policy doesn't allow audit:create to be performed."
    # A role header sent by the client is not the token's.
    headers['X-Roles'] = 'admin'
    assert requests.get(daemon.url + '/v1/goals', headers=headers,
                        timeout=30).status_code == 403
    del headers['X-Auth-Token']
    assert requests.get(daemon.url + '/v1/goals', headers=headers,
                        timeout=30).status_code == 401
    assert requests.get(daemon.url + '/', timeout=30).status_code == 200
