"""Availability zone and forced_down changes reach the engine's event-fed
model as Nova's API then shows them (issue 23, part 2; D3).

Each test has an engine of its own (tests/fixtures/realcloud_live.py,
started after the cloud is back to its usual state), since some of these
events leave the model wrong until its next full build where the fix is
missing; no server is needed. After each change the model must equal
what Nova and Placement show (hosts' zones, service status and state,
aggregates, ...), with no full build.
"""

import pytest

from tests.fixtures import realcloud_live as live
from tests.fixtures.waiting import until

HOST = 'compute-4'


@pytest.fixture
def aggregates(cloud):
    made = live.Aggregates(cloud)
    yield made
    made.cleanup()


@pytest.fixture
def engine(tmp_path, testbed, cloud, aggregates):
    # NOTE: after ``aggregates``: its cleanup runs once the engine stopped.
    cloud.delete_all_servers()
    live.restore_services(cloud)
    made = live.LiveEngine(tmp_path, testbed)
    made.start()
    builds = made.builds()
    yield made
    try:
        assert made.builds() == builds
        status = made.status()
        assert (status.mode, status.failed, status.gaps) == (
            'event-fed', 0, 0), status
    finally:
        assert made.stop() == []
        live.restore_services(cloud)


def test_host_joins_an_availability_zone(engine, cloud, aggregates):
    agg = aggregates.new('rc-zone-agg', zone='rc-zone')
    aggregates.action(agg, 'add_host', HOST)
    view = live.settled(engine, cloud, '%s in zone rc-zone' % HOST)
    assert view['hosts'][HOST]['zone'] == 'rc-zone'
    assert engine.model().availability_zones['rc-zone'] == (HOST,)


def test_host_leaves_an_availability_zone(engine, cloud, aggregates):
    agg = aggregates.new('rc-zone-agg', zone='rc-zone')
    aggregates.action(agg, 'add_host', HOST)
    live.settled(engine, cloud, '%s in zone rc-zone' % HOST)
    aggregates.action(agg, 'remove_host', HOST)
    # Nova puts the host back in its default zone.
    assert live.service(cloud, HOST)['zone'] == 'nova'
    view = live.settled(engine, cloud, '%s back in zone nova' % HOST)
    assert view['hosts'][HOST]['zone'] == 'nova'


def test_zone_set_on_an_aggregate_with_hosts(engine, cloud, aggregates):
    agg = aggregates.new('rc-zone-later')
    aggregates.action(agg, 'add_host', HOST)
    live.settled(engine, cloud, '%s in the aggregate' % HOST)
    aggregates.set_metadata(agg, {'availability_zone': 'rc-later'})
    assert live.service(cloud, HOST)['zone'] == 'rc-later'
    view = live.settled(engine, cloud, '%s in zone rc-later' % HOST)
    assert view['hosts'][HOST]['zone'] == 'rc-later'


def test_forced_down_takes_the_host_down(engine, cloud):
    live.put_service(cloud, HOST, {'forced_down': True})
    assert live.service(cloud, HOST)['state'] == 'down'
    view = live.settled(engine, cloud, '%s down in the model' % HOST)
    assert view['hosts'][HOST]['state'] == 'down'


def test_forced_down_cleared_brings_the_host_back_up(engine, cloud):
    live.put_service(cloud, HOST, {'forced_down': True})
    live.settled(engine, cloud, '%s down in the model' % HOST)
    live.put_service(cloud, HOST, {'forced_down': False})
    until(lambda: live.service(cloud, HOST)['state'] == 'up',
          '%s up in Nova' % HOST, timeout=60, interval=0.5)
    view = live.settled(engine, cloud, '%s back up in the model' % HOST)
    assert view['hosts'][HOST]['state'] == 'up'
