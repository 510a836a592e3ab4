"""os-server-groups as Nova serves it (microversion 2.64 shape)."""

import pytest

from tests.fixtures.server_groups import add_groups

C = '/compute/v2.1/os-server-groups'

pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2,
                                  azs=2, seed=5, edit=add_groups)


def test_simulator_serves_groups_as_nova_264(client, topology):
    status, headers, body = client.json(
        'GET', C + '?all_projects=True',
        headers={'OpenStack-API-Version': 'compute 2.64'})
    assert status == 200
    groups = body['server_groups']
    assert [g['id'] for g in groups] == [
        g.uuid for g in topology.server_groups]
    first = groups[4]
    assert set(first) == {'id', 'name', 'policy', 'rules', 'members',
                          'project_id', 'user_id'}
    assert first['policy'] == 'anti-affinity'
    assert first['rules'] == {'max_server_per_host': 2}
    assert first['members'] == topology.server_groups[4].members
    # Before 2.64: a list of policies and an empty metadata.
    _, _, body = client.json(
        'GET', C + '?all_projects=True',
        headers={'OpenStack-API-Version': 'compute 2.63'})
    old = body['server_groups'][1]
    assert old['policies'] == ['affinity'] and old['metadata'] == {}
    assert 'policy' not in old and 'rules' not in old


def test_simulator_lists_own_project_and_pages_by_offset(client, topology):
    _, _, body = client.json('GET', C, headers={
        'OpenStack-API-Version': 'compute 2.64'})
    assert [g['name'] for g in body['server_groups']] == ['group-0',
                                                          'group-1']
    _, _, body = client.json('GET', C + '?all_projects=1&limit=2&offset=3',
                             headers={'OpenStack-API-Version':
                                      'compute 2.64'})
    assert [g['name'] for g in body['server_groups']] == ['group-3',
                                                          'group-4']
