"""A resize opens a window in which Placement holds resources on two hosts
(the new flavor on the destination for the server, the old one on the
source for the migration) until it is confirmed or reverted. With
``[collector] usage_source = placement`` the event-fed model must show
Placement's used amounts on both hosts during the window and after the
confirm or the revert, with no full build (issue 23, D2).

Each test has an engine of its own (tests/fixtures/realcloud_live.py):
before the fix the model stays wrong after the window until a full build.
Before the fix, an engine following the resize shows nothing held on the
source in the window (too low: 0 MB where Placement holds 512 MB); an
engine built in the window still holds the source's amounts after the
confirm (too high).
"""

import pytest

from tests.fixtures import realcloud_live as live

SOURCE = 'compute-1'


@pytest.fixture
def resizable(tmp_path, testbed, cloud):
    """A server on SOURCE, the flavor to resize it to, and ``start()``,
    which starts an engine following the cloud."""
    cloud.delete_all_servers()
    small = cloud.flavor('rc-resize-small', 1, 512, 1)
    large = cloud.flavor('rc-resize-large', 2, 1024, 2)
    [server] = cloud.boot_rounds([{SOURCE: small}], prefix='resize')
    engines = []

    def start():
        engine = live.LiveEngine(tmp_path / str(len(engines)), testbed,
                                 usage_source='placement')
        engines.append(engine)
        return engine.start()
    yield start, server, large
    for engine in engines:
        assert engine.stop() == []
    cloud.delete_all_servers()


def migration_of(cloud, server, status):
    """Wait for the server's resize to reach ``status`` in Nova
    (``finished`` in the window, ``confirmed``, ``reverted``: Placement's
    allocations follow the migration's status)."""
    return live.migration_of(cloud, server, 'resize', status)


def resize(cloud, server, flavor):
    """Resize ``server`` to ``flavor`` and wait for the window
    (VERIFY_RESIZE); the migration."""
    cloud.compute('POST', '/servers/%s/action' % server,
                  json={'resize': {'flavorRef': flavor['id']}})
    live.idle(cloud, server, 'VERIFY_RESIZE')
    migration = migration_of(cloud, server, 'finished')
    assert migration['source_compute'] == SOURCE
    assert migration['dest_compute'] != SOURCE
    return migration


def check_window(engine, cloud, server, flavor, migration, before):
    """In the window the model and Placement agree on both hosts."""
    dest = migration['dest_compute']
    window = live.settled(engine, cloud, 'the resize window in the model')
    # The set-up is what the test means: Placement holds the old flavor
    # on the source (the migration) and the new one on the destination.
    hosts = window['hosts']
    assert hosts[SOURCE]['memory_mb_used'] == \
        before['hosts'][SOURCE]['memory_mb_used']
    assert hosts[dest]['memory_mb_used'] == \
        before['hosts'][dest]['memory_mb_used'] + flavor['ram']
    assert window['servers'][server]['host'] == dest


def confirm(engine, cloud, server, migration):
    cloud.compute('POST', '/servers/%s/action' % server,
                  json={'confirmResize': None})
    live.idle(cloud, server, 'ACTIVE')
    migration_of(cloud, server, 'confirmed')
    after = live.settled(engine, cloud, 'the confirm in the model')
    assert after['hosts'][SOURCE]['servers'] == []
    assert after['servers'][server]['host'] == migration['dest_compute']


def revert(engine, cloud, server):
    cloud.compute('POST', '/servers/%s/action' % server,
                  json={'revertResize': None})
    live.idle(cloud, server, 'ACTIVE')
    migration_of(cloud, server, 'reverted')
    after = live.settled(engine, cloud, 'the revert in the model')
    assert after['servers'][server]['host'] == SOURCE


def test_resize_window_and_confirm(resizable, cloud):
    start, server, large = resizable
    engine = start()
    builds = engine.builds()
    before = live.settled(engine, cloud, 'the boot in the model')
    migration = resize(cloud, server, large)
    check_window(engine, cloud, server, large, migration, before)
    confirm(engine, cloud, server, migration)
    assert engine.builds() == builds


def test_resize_window_and_revert(resizable, cloud):
    start, server, large = resizable
    engine = start()
    builds = engine.builds()
    before = live.settled(engine, cloud, 'the boot in the model')
    migration = resize(cloud, server, large)
    check_window(engine, cloud, server, large, migration, before)
    revert(engine, cloud, server)
    assert engine.builds() == builds


def test_built_in_the_window_then_confirmed(resizable, cloud):
    """A model built in the window (it reads what Placement holds for
    the migration) is right until the confirm; after it, the source's
    held amounts must go."""
    start, server, large = resizable
    migration = resize(cloud, server, large)
    engine = start()
    builds = engine.builds()
    live.settled(engine, cloud, 'the window in the model built in it')
    confirm(engine, cloud, server, migration)
    assert engine.builds() == builds
