"""Driver loading through real entry points (the fake driver), the clear
errors of a bad driver set-up, and the fake driver's failure tracking."""

import pytest

from decision_engine.concurrency import pool as pool_mod
from decision_engine.drivers import fake
from decision_engine.drivers import inventory
from decision_engine.drivers import loader
from decision_engine.drivers import power_state
from tests import BACKEND
from tests import fresh_conf
from tests.fixtures.inventory_files import write_inventory


@pytest.fixture
def conf():
    return fresh_conf()


def test_fake_driver_loads_through_installed_entry_point(conf, tmp_path):
    conf.set_override('inventory_file', write_inventory(tmp_path, """
        - {hostname: compute-1, driver: fake}
        - {hostname: compute-2, driver: fake,
           driver_info: {power_state: "off"}}
        """), group='power')
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    tracker = power_state.PowerStateTracker(3)
    drivers = loader.load_drivers(conf, pool, tracker, loader.load_nodes(conf))
    assert isinstance(drivers['fake'], fake.FakePowerDriver)
    drivers['fake'].sync_power_states()
    assert tracker.get('compute-1')['state'] == 'power on'
    assert tracker.get('compute-2')['state'] == 'power off'
    pool.shutdown(5)


def test_unknown_driver_is_a_clear_error(conf):
    conf.set_override('enabled_power_drivers', ['fake', 'nosuch'])
    with pytest.raises(loader.DriverLoadError,
                       match="power driver 'nosuch' .* is not installed"):
        loader.load_drivers(conf, None, None, [])


def test_node_of_disabled_driver_is_a_clear_error(conf):
    nodes = [inventory.Node('compute-1', 'redfish')]
    with pytest.raises(loader.DriverLoadError,
                       match="node compute-1 uses power driver 'redfish'"):
        loader.load_drivers(conf, None, None, nodes)


def test_invalid_driver_info_names_node_and_field(conf):
    nodes = [inventory.Node('compute-1', 'fake', {'power_state': 'dim'})]
    with pytest.raises(loader.DriverLoadError,
                       match='node compute-1: invalid driver_info.*'
                             'power_state must be'):
        loader.load_drivers(conf, pool_mod.WorkerPool(3, backend=BACKEND),
                            None, nodes)


def test_failures_flag_power_failure_then_recover(conf):
    nodes = [inventory.Node('ok', 'fake'),
             inventory.Node('bad', 'fake', {'fail': True})]
    conf.set_override('max_retries', 2, group='power')
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    tracker = power_state.PowerStateTracker(conf.power.max_retries)
    driver = fake.FakePowerDriver(conf, pool, nodes, tracker)
    driver.sync_power_states()
    assert tracker.get('bad')['failures'] == 1
    assert not tracker.get('bad')['power_failure']
    # Failed nodes are polled first on the next sweep.
    assert [n.hostname for n in tracker.order_failed_first(nodes)] == \
        ['bad', 'ok']
    driver.sync_power_states()
    record = tracker.get('bad')
    assert record['power_failure'] and record['failures'] == 2
    assert 'does not answer' in record['last_error']
    nodes[1].driver_info['fail'] = False
    driver.sync_power_states()
    assert tracker.get('bad')['power_failure'] is False
    assert tracker.get('bad')['state'] == 'power on'
    pool.shutdown(5)
