"""The manager as composition root: it builds the pool and hands it to
every part, collects the periodics of itself and of the drivers, and
shuts the pool down when it stops."""

import pytest

from decision_engine.conductor import manager as manager_mod
from decision_engine.concurrency import pool as pool_mod
from tests import BACKEND
from tests import fresh_conf
from tests.fixtures.inventory_files import write_inventory


@pytest.fixture
def conf():
    return fresh_conf()


def test_manager_collects_periodics_from_itself_and_drivers(conf, tmp_path):
    conf.set_override('workers_pool_size', 3, group='conductor')
    conf.set_override('state_path', str(tmp_path))
    conf.set_override('enabled', False, group='api')
    conf.set_override('enabled', False, group='collector')
    conf.set_override('inventory_file', write_inventory(
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
