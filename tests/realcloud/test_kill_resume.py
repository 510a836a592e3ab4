"""An engine SIGKILLed in the middle of a plan resumes it after a restart,
and Nova sees exactly one migration per server (issue 23, part 2).

A host_maintenance plan empties a host of three servers: two running
(live migrations) and one stopped (a cold migration, confirmed by the
engine). The daemon (parent and worker) is killed while the first
migration is ONGOING, started again on the same state directory (its
SQLite store), and must finish the plan: SUCCEEDED, every server on the
destination the plan named, and in ``GET /os-migrations`` one migration
per server, completed (live) or confirmed (cold).
"""

import pytest

from tests.fixtures.openstack import engine as engine_mod

HOST = 'compute-1'
SERVICES = '/os-services?binary=nova-compute'


@pytest.fixture
def on_host(cloud):
    cloud.delete_all_servers()
    flavor = cloud.flavor('rc-resume', 1, 512, 1)
    ids = cloud.boot_rounds([{HOST: flavor}] * 3, prefix='resume')
    stopped = ids[-1]
    cloud.compute('POST', '/servers/%s/action' % stopped,
                  json={'os-stop': None})
    cloud.wait_status(stopped, 'SHUTOFF')
    yield ids, stopped
    for service in cloud.compute('GET', SERVICES)['services']:
        if service['status'] != 'enabled':
            cloud.compute('PUT', '/os-services/%s' % service['id'],
                          json={'status': 'enabled'})
    cloud.delete_all_servers()


def ended(plan):
    return plan['state'] in ('SUCCEEDED', 'FAILED', 'CANCELLED')


def test_sigkill_mid_plan_resumes_with_one_migration_per_server(
        tmp_path, testbed, cloud, on_host):
    servers, stopped = on_host
    engine = engine_mod.RealEngine(tmp_path, testbed)
    engine.start()
    try:
        audit = engine.run_audit({
            'strategy': 'host_maintenance',
            'parameters': {'maintenance_node': HOST}})
        assert audit['state'] == 'SUCCEEDED', audit['state_reason']
        uuid = audit['last_action_plan_uuid']
        plan = engine.get('/v1/action_plans/%s' % uuid)
        moves = {a['input_parameters']['instance_uuid']: a[
            'input_parameters'] for a in plan['actions']
            if a['action_type'] == 'migrate'}
        assert sorted(moves) == sorted(servers), plan['actions']
        assert {s: m['migration_type'] for s, m in moves.items()} == {
            s: 'cold' if s == stopped else 'live' for s in servers}
        response = engine.call('POST', '/v1/action_plans/%s/start' % uuid)
        assert response.status_code == 202, response.text
        running = engine.wait('/v1/action_plans/%s' % uuid, lambda p: ended(
            p) or any(a['action_type'] == 'migrate' and a['state'] ==
                      'ONGOING' for a in p['actions']), interval=0.05)
        assert not ended(running), running
        engine.kill()
    finally:
        engine.stop()
    killed = [a['input_parameters']['instance_uuid']
              for a in running['actions'] if a['state'] == 'ONGOING']
    engine = engine_mod.RealEngine(tmp_path, testbed)
    engine.start()
    try:
        plan = engine.wait('/v1/action_plans/%s' % uuid, ended,
                           interval=0.5)
        log = engine.log_text(tail=None)
    finally:
        engine.stop()
    summary = [(a['action_type'], a['state'], a.get('state_reason'))
               for a in plan['actions']]
    assert plan['state'] == 'SUCCEEDED', summary
    assert 'Resuming action plan %s' % uuid in log
    # Every server where the plan said, with one migration each in Nova.
    assert {s: cloud.server(s)['OS-EXT-SRV-ATTR:host'] for s in servers} \
        == {s: m['destination_node'] for s, m in moves.items()}
    migrations = {}
    for migration in cloud.compute('GET', '/os-migrations')['migrations']:
        if migration['instance_uuid'] in moves:
            migrations.setdefault(migration['instance_uuid'], []).append(
                migration)
    assert {s: len(found) for s, found in migrations.items()} == {
        s: 1 for s in servers}, (killed, migrations)
    for server, [migration] in migrations.items():
        want = ('migration', 'confirmed') if server == stopped else (
            'live-migration', 'completed')
        assert (migration['migration_type'], migration['status']) == want
        assert (migration['source_compute'], migration['dest_compute']) \
            == (HOST, moves[server]['destination_node'])
    assert killed, running['actions']
