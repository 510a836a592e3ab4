"""Nova and Ironic details beyond the SDK happy path."""

import pytest

from decision_engine.simulator.records import ADMIN_PROJECT_ID


pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2, azs=2,
                                  seed=3)

C = '/compute/v2.1'


def test_without_all_tenants_only_own_project(client, topology):
    _, _, body = client.json('GET', C + '/servers/detail')
    own = {i.uuid for i in topology.instances
           if i.project_id == ADMIN_PROJECT_ID}
    assert own and {s['id'] for s in body['servers']} == own
    _, _, body = client.json('GET', C + '/servers/detail?host=compute-1')
    assert {s['id'] for s in body['servers']} == {
        i.uuid for i in topology.instances_on('compute-1')
        if i.project_id == ADMIN_PROJECT_ID}


def test_all_tenants_false_is_own_project(client, topology):
    _, _, body = client.json('GET', C + '/servers?all_tenants=0')
    assert {s['id'] for s in body['servers']} == {
        i.uuid for i in topology.instances
        if i.project_id == ADMIN_PROJECT_ID}


def test_project_filter_with_all_tenants(client, topology):
    other = next(i.project_id for i in topology.instances
                 if i.project_id != ADMIN_PROJECT_ID)
    _, _, body = client.json(
        'GET', C + '/servers/detail?all_tenants=1&project_id=' + other)
    assert {s['id'] for s in body['servers']} == {
        i.uuid for i in topology.instances if i.project_id == other}


def test_server_show_and_404(client, topology):
    inst = topology.instances[0]
    status, _, body = client.json('GET', C + '/servers/' + inst.uuid)
    assert status == 200 and body['server']['name'] == inst.name
    status, _, body = client.json('GET', C + '/servers/nope')
    assert status == 404 and 'itemNotFound' in body


def test_hypervisor_show(client, topology):
    host = topology.hosts[3]
    status, _, body = client.json(
        'GET', C + '/os-hypervisors/' + host.uuid,
        headers={'OpenStack-API-Version': 'compute 2.53'})
    assert status == 200
    assert body['hypervisor']['hypervisor_hostname'] == host.hostname
    assert body['hypervisor']['vcpus'] == host.vcpus
    status, _, _ = client.json('GET', C + '/os-hypervisors/' + host.uuid)
    assert status == 404        # 2.1 addresses hypervisors by integer id


def test_services_filters(client, topology):
    _, _, body = client.json(
        'GET', C + '/os-services?binary=nova-compute&host=compute-2')
    assert [s['host'] for s in body['services']] == ['compute-2']


def test_microversion_echo_legacy_header(client):
    status, headers, _ = client.json(
        'GET', C + '/os-aggregates',
        headers={'X-OpenStack-Nova-API-Version': '2.60'})
    assert status == 200
    assert headers['X-OpenStack-Nova-API-Version'] == '2.60'
    assert headers['OpenStack-API-Version'] == 'compute 2.60'
    _, headers, _ = client.json(
        'GET', C + '/os-aggregates',
        headers={'OpenStack-API-Version': 'compute latest'})
    assert headers['OpenStack-API-Version'] == 'compute 2.96'


def test_power_errors(client, topology):
    path = '/baremetal/v1/nodes/%s/states/power'
    status, _, body = client.json('PUT', path % 'nope',
                                  {'target': 'power on'})
    assert status == 404 and 'error_message' in body
    status, _, _ = client.json('PUT', path % 'compute-2',
                               {'target': 'explode'})
    assert status == 400
    status, headers, _ = client.request('PUT', path % 'compute-2',
                                        {'target': 'power off'})
    assert status == 202 and headers['Location'].endswith('/states')
    assert topology.host('compute-2').power_state == 'power off'
    _, _, body = client.json('GET', '/baremetal/v1/nodes/compute-2/states')
    assert body['power_state'] == 'power off'


def test_unscoped_token_has_no_catalog(client):
    status, headers, body = client.json(
        'POST', '/identity/v3/auth/tokens', auth=False,
        body={'auth': {'identity': {'methods': ['password'], 'password': {
            'user': {'name': 'admin', 'password': 'secret',
                     'domain': {'name': 'Default'}}}}}})
    assert status == 201 and 'catalog' not in body['token']
