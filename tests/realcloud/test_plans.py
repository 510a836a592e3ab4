"""Plans really change the real cloud, checked in Nova: ``GET
/os-migrations``, the servers' hosts and the compute services' status.

* ``host_maintenance`` empties a host: its compute service disabled and
  every server live-migrated;
* ``server_consolidation`` packs the servers onto fewer hosts: each
  released host's service disabled, its running servers live-migrated
  and its stopped one cold-migrated (the engine confirms the resize).

One daemon serves the module (``[audit] max_model_age = 0``: each audit
builds its model, as the tests change the cloud behind its back).
"""

import collections

import pytest

from tests.fixtures import realcloud_live as live
from tests.fixtures.openstack import engine as engine_mod

HOST = 'compute-1'


@pytest.fixture(scope='module')
def engine(tmp_path_factory, testbed):
    made = engine_mod.RealEngine(tmp_path_factory.mktemp('plans'), testbed,
                                 max_model_age=0)
    made.start()
    yield made
    made.stop()


@pytest.fixture
def clean(cloud):
    """No server before the test; none, and every compute service enabled,
    after it."""
    cloud.delete_all_servers()
    yield
    live.restore_services(cloud)
    cloud.delete_all_servers()


def audit_plan(engine, body):
    """Run an audit; its action plan (with its actions)."""
    audit = engine.run_audit(body)
    assert audit['state'] == 'SUCCEEDED', audit['state_reason']
    return engine.get('/v1/action_plans/%s'
                      % audit['last_action_plan_uuid'])


def run(engine, plan):
    """Start ``plan`` and wait for it to end SUCCEEDED; the plan."""
    ended = engine.run_plan(plan['uuid'])
    assert ended['state'] == 'SUCCEEDED', (
        ended['state_reason'],
        [(a['action_type'], a['state'], a.get('state_reason'))
         for a in ended['actions']], engine.log_text())
    return ended


def moves_of(plan):
    """server -> the input parameters of its migrate action."""
    return {a['input_parameters']['instance_uuid']: a['input_parameters']
            for a in plan['actions'] if a['action_type'] == 'migrate'}


def migrations_in_nova(cloud, servers):
    """server -> its migrations as ``GET /os-migrations`` lists them."""
    found = collections.defaultdict(list)
    for migration in cloud.compute('GET', '/os-migrations')['migrations']:
        if migration['instance_uuid'] in servers:
            found[migration['instance_uuid']].append(migration)
    return dict(found)


def check_moves_in_nova(cloud, moves):
    """Each server of ``moves`` is where the plan sent it, by exactly one
    migration of the plan's kind, which ended as Nova ends it: a live one
    ``completed``, a cold one ``confirmed`` (by the engine)."""
    assert {s: cloud.server(s)['OS-EXT-SRV-ATTR:host'] for s in moves} \
        == {s: m['destination_node'] for s, m in moves.items()}
    migrations = migrations_in_nova(cloud, moves)
    assert sorted(migrations) == sorted(moves), migrations
    for server, found in migrations.items():
        assert len(found) == 1, found
        [migration] = found
        move = moves[server]
        want = {'live': ('live-migration', 'completed'),
                'cold': ('migration', 'confirmed')}[move['migration_type']]
        assert (migration['migration_type'], migration['status']) == want
        assert (migration['source_compute'], migration['dest_compute']) \
            == (move['source_node'], move['destination_node'])


def test_host_maintenance_live_migrates_in_nova(engine, cloud, clean):
    flavor = cloud.flavor('rc-move', 1, 512, 1)
    ids = cloud.boot_rounds([{HOST: flavor, 'compute-3': flavor},
                             {HOST: flavor}], prefix='maint')
    on_host = [i for i in ids
               if cloud.server(i)['OS-EXT-SRV-ATTR:host'] == HOST]
    assert len(on_host) == 2
    plan = audit_plan(engine, {
        'strategy': 'host_maintenance',
        'parameters': {'maintenance_node': HOST}})
    kinds = sorted(a['action_type'] for a in plan['actions'])
    assert kinds == ['change_compute_service_state', 'migrate',
                     'migrate'], plan['actions']
    moves = moves_of(plan)
    assert sorted(moves) == sorted(on_host)
    assert {m['migration_type'] for m in moves.values()} == {'live'}
    run(engine, plan)
    check_moves_in_nova(cloud, moves)
    assert HOST not in {cloud.server(i)['OS-EXT-SRV-ATTR:host']
                        for i in on_host}
    assert live.service(cloud, HOST)['status'] == 'disabled'


def test_server_consolidation_live_and_cold_migrates_in_nova(engine, cloud,
                                                             clean):
    """Four servers on three hosts (compute-4 empty), the one on
    compute-3 stopped: the plan releases every host but one, and Nova
    ends with all four servers on the kept host and the released hosts'
    services disabled."""
    flavor = cloud.flavor('rc-pack', 1, 512, 1)
    ids = cloud.boot_rounds([
        {'compute-1': flavor, 'compute-2': flavor, 'compute-3': flavor},
        {'compute-1': flavor}], prefix='pack')
    hosts = {i: cloud.server(i)['OS-EXT-SRV-ATTR:host'] for i in ids}
    [stopped] = [i for i, host in hosts.items() if host == 'compute-3']
    cloud.compute('POST', '/servers/%s/action' % stopped,
                  json={'os-stop': None})
    cloud.wait_status(stopped, 'SHUTOFF')

    plan = audit_plan(engine, {'strategy': 'server_consolidation',
                               'parameters': {'power_off': False}})
    moves = moves_of(plan)
    released = sorted(a['input_parameters']['hostname']
                      for a in plan['actions']
                      if a['action_type'] == 'change_compute_service_state')
    # The plan is what the test means: two hosts released, their server
    # each moved (the stopped one cold, the other live) to the host kept.
    assert len(released) == 2, plan['actions']
    assert sorted(moves) == sorted(i for i, host in hosts.items()
                                   if host in released), plan['actions']
    assert {s: m['migration_type'] for s, m in moves.items()} == {
        s: 'cold' if s == stopped else 'live' for s in moves}
    assert stopped in moves
    indicators = plan['indicators']
    assert (indicators['hosts_released'], indicators['migrations']) == (
        2, 2), indicators

    run(engine, plan)
    check_moves_in_nova(cloud, moves)
    after = {i: cloud.server(i)['OS-EXT-SRV-ATTR:host'] for i in ids}
    assert len(set(after.values())) == 1, after
    assert set(after.values()).isdisjoint(released)
    # The cold migration kept the stopped server stopped.
    assert cloud.server(stopped)['status'] == 'SHUTOFF'
    assert {h: live.service(cloud, h)['status'] for h in released} == {
        h: 'disabled' for h in released}
    kept = {h for h in ('compute-1', 'compute-2', 'compute-3',
                        'compute-4') if h not in released}
    assert {h: live.service(cloud, h)['status'] for h in kept} == {
        h: 'enabled' for h in kept}
