"""Each kind of Nova change reaches the engine's model through Nova's
versioned notifications, as Nova's and Placement's APIs then show it,
with no full build (issue 23, part 2).

One engine (the manager in this process: tests/fixtures/realcloud_live.py,
``[collector] usage_source = placement``) follows the test bed's
notifications for the whole module; two servers are booted once. After
each change, once Nova is done with it, the model must equal what the
APIs show: per host its servers, service status and state, zone,
capacities and Placement's used amounts; per server its host, vm_state
and lock; the aggregates and their hosts. Service disable/enable,
stop/start, pause/unpause, lock/unlock and aggregate changes
(availability zones and forced_down, whose events leave the model wrong
before their fixes, are in test_zone_and_forced_down.py, an engine per
test).
"""

import pytest

from tests.fixtures import realcloud_live as live
from tests.fixtures.waiting import until


@pytest.fixture(scope='module')
def engine(tmp_path_factory, testbed, cloud):
    cloud.delete_all_servers()
    made = live.LiveEngine(tmp_path_factory.mktemp('kinds'), testbed)
    made.start()
    yield made
    try:
        assert made.stop() == []
    finally:
        live.restore_services(cloud)


@pytest.fixture(scope='module')
def servers(engine, cloud):
    flavor = cloud.flavor('rc-kinds', 1, 512, 1)
    ids = cloud.boot_rounds([{'compute-1': flavor, 'compute-2': flavor}],
                            prefix='kinds')
    yield ids
    cloud.delete_all_servers()


@pytest.fixture
def no_build(engine):
    """The test's changes must come from events: no full build."""
    builds = engine.builds()
    yield
    assert engine.builds() == builds
    status = engine.status()
    assert (status.mode, status.failed, status.gaps) == (
        'event-fed', 0, 0), status


def action(cloud, server, body):
    cloud.compute('POST', '/servers/%s/action' % server, json=body)


def idle(cloud, server, status):
    """Wait for Nova to be done with ``server``: ``status`` and no task
    state."""
    def done():
        body = cloud.server(server)
        return body['status'] == status and body[
            'OS-EXT-STS:task_state'] is None
    until(done, 'server %s %s with no task' % (server, status),
          timeout=120, interval=0.5)


def test_boots_are_in_the_model(engine, cloud, servers, no_build):
    view = live.settled(engine, cloud, 'the boots in the model')
    assert sorted(view['servers']) == sorted(servers)


def test_service_disable_and_enable(engine, cloud, servers, no_build):
    live.put_service(cloud, 'compute-3', {
        'status': 'disabled', 'disabled_reason': 'rc-maintenance'})
    view = live.settled(engine, cloud, 'compute-3 disabled in the model')
    assert view['hosts']['compute-3']['status'] == 'disabled'
    node = engine.model().get_node_by_hostname('compute-3')
    assert node.disabled_reason == 'rc-maintenance'
    live.put_service(cloud, 'compute-3', {'status': 'enabled'})
    view = live.settled(engine, cloud, 'compute-3 enabled in the model')
    assert view['hosts']['compute-3']['status'] == 'enabled'


def test_stop_and_start(engine, cloud, servers, no_build):
    server = servers[0]
    action(cloud, server, {'os-stop': None})
    idle(cloud, server, 'SHUTOFF')
    view = live.settled(engine, cloud, 'the stop in the model')
    assert view['servers'][server]['state'] == 'stopped'
    action(cloud, server, {'os-start': None})
    idle(cloud, server, 'ACTIVE')
    view = live.settled(engine, cloud, 'the start in the model')
    assert view['servers'][server]['state'] == 'active'


def test_pause_and_unpause(engine, cloud, servers, no_build):
    server = servers[1]
    action(cloud, server, {'pause': None})
    idle(cloud, server, 'PAUSED')
    view = live.settled(engine, cloud, 'the pause in the model')
    assert view['servers'][server]['state'] == 'paused'
    action(cloud, server, {'unpause': None})
    idle(cloud, server, 'ACTIVE')
    view = live.settled(engine, cloud, 'the unpause in the model')
    assert view['servers'][server]['state'] == 'active'


def test_lock_and_unlock(engine, cloud, servers, no_build):
    server = servers[0]
    action(cloud, server, {'lock': None})
    view = live.settled(engine, cloud, 'the lock in the model')
    assert view['servers'][server]['locked'] is True
    action(cloud, server, {'unlock': None})
    view = live.settled(engine, cloud, 'the unlock in the model')
    assert view['servers'][server]['locked'] is False


@pytest.fixture
def aggregates(cloud):
    made = live.Aggregates(cloud)
    yield made
    made.cleanup()


def test_aggregate_create_add_remove_delete(engine, cloud, servers,
                                            aggregates, no_build):
    agg = aggregates.new('rc-agg')
    view = live.settled(engine, cloud, 'the new aggregate in the model')
    assert view['aggregates']['rc-agg'] == []
    aggregates.action(agg, 'add_host', 'compute-2')
    aggregates.action(agg, 'add_host', 'compute-3')
    view = live.settled(engine, cloud, 'two hosts added in the model')
    assert view['aggregates']['rc-agg'] == ['compute-2', 'compute-3']
    node = engine.model().get_node_by_hostname('compute-2')
    assert 'rc-agg' in node.aggregates
    aggregates.action(agg, 'remove_host', 'compute-2')
    view = live.settled(engine, cloud, 'a host removed in the model')
    assert view['aggregates']['rc-agg'] == ['compute-3']
    assert 'rc-agg' not in engine.model().get_node_by_hostname(
        'compute-2').aggregates
    aggregates.action(agg, 'remove_host', 'compute-3')
    aggregates.delete(agg)
    view = live.settled(engine, cloud, 'the aggregate deleted in the model')
    assert 'rc-agg' not in view['aggregates']
