"""A host_maintenance plan really empties a host of the real cloud: the
compute service disabled and every server live-migrated in Nova, the plan
SUCCEEDED (checked in Nova: GET /os-migrations, the servers' hosts and
the service's status)."""

import pytest

from tests.fixtures.openstack import engine as engine_mod

HOST = 'compute-1'


@pytest.fixture
def on_host(cloud):
    cloud.delete_all_servers()
    flavor = cloud.flavor('rc-move', 1, 512, 1)
    ids = cloud.boot_rounds([{HOST: flavor, 'compute-3': flavor},
                             {HOST: flavor}], prefix='maint')
    yield [i for i in ids if cloud.server(i)[
        'OS-EXT-SRV-ATTR:host'] == HOST]
    for service in cloud.compute(
            'GET', '/os-services?binary=nova-compute')['services']:
        if service['status'] != 'enabled':
            cloud.compute('PUT', '/os-services/%s' % service['id'],
                          json={'status': 'enabled'})
    cloud.delete_all_servers()


def test_host_maintenance_live_migrates_in_nova(tmp_path, testbed, cloud,
                                                on_host):
    assert len(on_host) == 2
    engine = engine_mod.RealEngine(tmp_path, testbed)
    engine.start()
    try:
        audit = engine.run_audit({
            'strategy': 'host_maintenance',
            'parameters': {'maintenance_node': HOST}})
        assert audit['state'] == 'SUCCEEDED', audit['state_reason']
        uuid = audit['last_action_plan_uuid']
        plan = engine.get('/v1/action_plans/%s' % uuid)
        kinds = sorted(a['action_type'] for a in plan['actions'])
        assert kinds == ['change_compute_service_state', 'migrate',
                         'migrate'], plan['actions']
        response = engine.call('POST', '/v1/action_plans/%s/start' % uuid)
        assert response.status_code == 202, response.text
        plan = engine.wait('/v1/action_plans/%s' % uuid, lambda p: p[
            'state'] in ('SUCCEEDED', 'FAILED', 'CANCELLED'), interval=0.5)
        assert plan['state'] == 'SUCCEEDED', (
            plan['state_reason'],
            [(a['action_type'], a['state'], a.get('state_reason'))
             for a in plan['actions']], engine.log_text())
    finally:
        engine.stop()
    hosts = {i: cloud.server(i)['OS-EXT-SRV-ATTR:host'] for i in on_host}
    assert HOST not in hosts.values(), hosts
    migrations = cloud.compute('GET', '/os-migrations')['migrations']
    done = {m['instance_uuid']: m for m in migrations
            if m['instance_uuid'] in on_host}
    assert sorted(done) == sorted(on_host), migrations
    for server, migration in done.items():
        assert migration['migration_type'] == 'live-migration'
        assert migration['status'] == 'completed'
        assert migration['source_compute'] == HOST
        assert migration['dest_compute'] == hosts[server]
    [service] = [s for s in cloud.compute(
        'GET', '/os-services?binary=nova-compute')['services']
        if s['host'] == HOST]
    assert service['status'] == 'disabled'
