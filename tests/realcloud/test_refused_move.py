"""A move the real Nova refuses fails its action with Nova's reason,
skips the actions that depend on it, and the plan ends FAILED (issue 23,
part 2).

A host_maintenance plan for a host with two servers moves both to the
backup host; before the plan starts, the backup host's compute service
is disabled in Nova (the engine, without notifications, still sees it
enabled). Nova's scheduler refuses the first live migration (no valid
host): that action fails with Nova's words, the second migration, which
waits for it on the same hosts, is skipped, and both servers stay where
they were.
"""

import pytest

from tests.fixtures.openstack import engine as engine_mod

HOST = 'compute-1'
BACKUP = 'compute-2'
SERVICES = '/os-services?binary=nova-compute'


@pytest.fixture
def on_host(cloud):
    cloud.delete_all_servers()
    flavor = cloud.flavor('rc-refused', 1, 512, 1)
    ids = cloud.boot_rounds([{HOST: flavor}, {HOST: flavor}],
                            prefix='refused')
    yield ids
    for service in cloud.compute('GET', SERVICES)['services']:
        if service['status'] != 'enabled':
            cloud.compute('PUT', '/os-services/%s' % service['id'],
                          json={'status': 'enabled'})
    cloud.delete_all_servers()


def set_status(cloud, host, status):
    [service] = [s for s in cloud.compute('GET', SERVICES)['services']
                 if s['host'] == host]
    cloud.compute('PUT', '/os-services/%s' % service['id'],
                  json={'status': status})


def test_refused_migration_fails_and_skips_its_dependants(
        tmp_path, testbed, cloud, on_host):
    engine = engine_mod.RealEngine(tmp_path, testbed)
    engine.start()
    try:
        audit = engine.run_audit({
            'strategy': 'host_maintenance',
            'parameters': {'maintenance_node': HOST,
                           'backup_node': BACKUP}})
        assert audit['state'] == 'SUCCEEDED', audit['state_reason']
        uuid = audit['last_action_plan_uuid']
        plan = engine.get('/v1/action_plans/%s' % uuid)
        steps = [(a['action_type'], a['input_parameters'].get(
            'destination_node')) for a in plan['actions']]
        assert steps == [('change_compute_service_state', None),
                         ('migrate', BACKUP), ('migrate', BACKUP)], steps
        set_status(cloud, BACKUP, 'disabled')
        response = engine.call('POST', '/v1/action_plans/%s/start' % uuid)
        assert response.status_code == 202, response.text
        plan = engine.wait('/v1/action_plans/%s' % uuid, lambda p: p[
            'state'] in ('SUCCEEDED', 'FAILED', 'CANCELLED'), interval=0.5)
    finally:
        engine.stop()
    actions = plan['actions']
    summary = [(a['action_type'], a['state'], a.get('state_reason'))
               for a in actions]
    assert plan['state'] == 'FAILED', summary
    assert [a['state'] for a in actions] == [
        'SUCCEEDED', 'FAILED', 'SKIPPED'], summary
    refused = actions[1]
    # Nova's own reason, as its API gave it.
    assert 'No valid host' in refused['state_reason'], summary
    assert 'HTTP 400' in refused['state_reason'], summary
    assert refused['input_parameters']['instance_uuid'] in \
        refused['state_reason']
    skipped = actions[2]
    assert skipped['state_reason'], summary
    # Nova moved nothing: both servers are still on the host, and no
    # migration of theirs completed.
    assert {i: cloud.server(i)['OS-EXT-SRV-ATTR:host']
            for i in on_host} == {i: HOST for i in on_host}
    migrations = [m for m in cloud.compute('GET', '/os-migrations')[
        'migrations'] if m['instance_uuid'] in on_host]
    assert [m for m in migrations if m['status'] == 'completed'] == [], \
        migrations
    # The first action really ran: the host's service is disabled.
    [service] = [s for s in cloud.compute('GET', SERVICES)['services']
                 if s['host'] == HOST]
    assert service['status'] == 'disabled'
