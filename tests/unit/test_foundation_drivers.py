"""Inventory, driver loading through real entry points, the fake driver."""

import textwrap

import pytest

from decision_engine.conductor import manager as manager_mod
from decision_engine.concurrency import pool as pool_mod
from tests import BACKEND
from tests import fresh_conf
from decision_engine.drivers import fake
from decision_engine.drivers import inventory
from decision_engine.drivers import loader
from decision_engine.drivers import power_state


@pytest.fixture
def conf():
    return fresh_conf()


def _write(tmp_path, text, name='inventory.yaml'):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_inventory_parses_list_and_mapping(tmp_path):
    path = _write(tmp_path, """
        nodes:
          - hostname: compute-1
            driver: fake
            driver_info: {password: s3cret, power_state: "off"}
          - {hostname: compute-10, driver: fake}
        """)
    nodes = inventory.load(path)
    assert [n.hostname for n in nodes] == ['compute-1', 'compute-10']
    assert nodes[0].driver_info['password'] == 's3cret'
    assert 's3cret' not in repr(nodes[0])


@pytest.mark.parametrize('text, message', [
    ('- {driver: fake}', 'node 1: "hostname" must be a non-empty string'),
    ('- {hostname: a, driver: fake}\n- {hostname: a, driver: fake}',
     'node a: hostname appears twice'),
    ('- {hostname: a, driver: fake, bmc: x}', 'node 1: unknown field(s) bmc'),
    ('- {hostname: a, driver: fake, driver_info: [1]}',
     'node a: "driver_info" must be a mapping'),
    ('hosts: []', 'unknown top-level key(s) hosts'),
    ('42', 'expected a list of nodes, got int'),
    ('- [unclosed', 'not valid YAML at line'),
])
def test_inventory_errors_are_one_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(inventory.InventoryError) as info:
        inventory.load(path)
    assert message in str(info.value)
    assert path in str(info.value)
    assert '\n' not in str(info.value)


def test_missing_inventory_file(tmp_path):
    with pytest.raises(inventory.InventoryError, match='cannot be read'):
        inventory.load(str(tmp_path / 'absent.yaml'))


def test_fake_driver_loads_through_installed_entry_point(conf, tmp_path):
    conf.set_override('inventory_file', _write(tmp_path, """
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


def test_manager_collects_periodics_from_itself_and_drivers(conf, tmp_path):
    conf.set_override('workers_pool_size', 3, group='conductor')
    conf.set_override('state_path', str(tmp_path))
    conf.set_override('enabled', False, group='api')
    conf.set_override('enabled', False, group='collector')
    conf.set_override('inventory_file', _write(
        tmp_path, '- {hostname: c1, driver: fake}'), group='power')
    manager = manager_mod.ConductorManager(conf, backend=BACKEND)
    manager.start()
    try:
        names = set(manager.periodic_statistics())
        assert {'manager.log_statistics',
                'power_driver.fake.sync_power_states'} <= names
        # Every part the manager built was handed its one pool.
        assert manager.drivers['fake'].pool is manager.pool
        assert manager.audits.runner.pool is manager.pool
        assert manager.pool.size == 3
    finally:
        assert manager.stop(timeout=10) == []
    with pytest.raises(pool_mod.PoolShutDown):
        manager.pool.submit(lambda: None)
