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
stop/start, pause/unpause, lock/unlock, an operator's live migration and
cold migration + confirm (outside any plan of the engine's) and
aggregate changes (availability zones and forced_down, whose events left
the model wrong before their fixes, are in test_zone_and_forced_down.py,
an engine per test).
"""

import pytest

from tests.fixtures import realcloud_live as live


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


def change(engine, cloud, server, body, status, what):
    """Make a change of ``server`` through Nova's API (``POST
    /servers/{id}/action`` with ``body``), wait until Nova is done with
    it (``status``, no task state; None: no wait) and until the model
    shows what the cloud then shows; the cloud's view."""
    live.server_action(cloud, server, body)
    if status:
        live.idle(cloud, server, status)
    return live.settled(engine, cloud, what)


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


@pytest.mark.parametrize('index, first, then', [
    (0, ('os-stop', 'SHUTOFF', 'stopped'), ('os-start', 'ACTIVE', 'active')),
    (1, ('pause', 'PAUSED', 'paused'), ('unpause', 'ACTIVE', 'active')),
], ids=['stop-and-start', 'pause-and-unpause'])
def test_power_changes(engine, cloud, servers, no_build, index, first,
                       then):
    server = servers[index]
    for verb, status, state in (first, then):
        view = change(engine, cloud, server, {verb: None}, status,
                      'the %s in the model' % verb)
        assert view['servers'][server]['state'] == state


def test_lock_and_unlock(engine, cloud, servers, no_build):
    server = servers[0]
    for verb, locked in (('lock', True), ('unlock', False)):
        view = change(engine, cloud, server, {verb: None}, None,
                      'the %s in the model' % verb)
        assert view['servers'][server]['locked'] is locked


def other_host(cloud, server):
    """The server's host, and a host it is not on (compute-4 unless it is
    there)."""
    source = cloud.server(server)['OS-EXT-SRV-ATTR:host']
    return source, 'compute-4' if source != 'compute-4' else 'compute-3'


def test_operators_live_migration(engine, cloud, servers, no_build):
    """An operator's live migration (no plan of the engine's): the model
    follows the server to its new host, Placement's amounts with it."""
    server = servers[0]
    source, dest = other_host(cloud, server)
    before = live.settled(engine, cloud, 'the server on its source')
    live.server_action(cloud, server, {'os-migrateLive': {
        'host': dest, 'block_migration': 'auto'}})
    migration = live.migration_of(cloud, server, 'live-migration',
                                  'completed')
    assert (migration['source_compute'], migration['dest_compute']) == (
        source, dest)
    live.idle(cloud, server, 'ACTIVE')
    view = live.settled(engine, cloud, 'the live migration in the model')
    assert view['servers'][server]['host'] == dest
    assert server in view['hosts'][dest]['servers']
    assert server not in view['hosts'][source]['servers']
    assert view['hosts'][dest]['memory_mb_used'] == \
        before['hosts'][dest]['memory_mb_used'] + 512


def test_operators_cold_migration_and_confirm(engine, cloud, servers,
                                              no_build):
    """An operator's cold migration: in the window (VERIFY_RESIZE) the
    server is on the destination and Placement holds its amounts on the
    source for the migration; the confirm gives them back. The model
    shows both, as Placement does."""
    server = servers[1]
    source, dest = other_host(cloud, server)
    before = live.settled(engine, cloud, 'the server on its source')
    live.server_action(cloud, server, {'migrate': {'host': dest}})
    live.idle(cloud, server, 'VERIFY_RESIZE')
    migration = live.migration_of(cloud, server, 'migration', 'finished')
    assert (migration['source_compute'], migration['dest_compute']) == (
        source, dest)
    window = live.settled(engine, cloud, 'the migration window in the model')
    # The set-up is what the test means: both hosts hold the server's
    # amounts in Placement.
    assert window['servers'][server]['host'] == dest
    assert window['hosts'][source]['memory_mb_used'] == \
        before['hosts'][source]['memory_mb_used']
    assert window['hosts'][dest]['memory_mb_used'] == \
        before['hosts'][dest]['memory_mb_used'] + 512
    live.server_action(cloud, server, {'confirmResize': None})
    live.idle(cloud, server, 'ACTIVE')
    live.migration_of(cloud, server, 'migration', 'confirmed')
    view = live.settled(engine, cloud, 'the confirmed migration in the model')
    assert view['servers'][server]['host'] == dest
    assert view['hosts'][source]['memory_mb_used'] == \
        before['hosts'][source]['memory_mb_used'] - 512


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
