"""While a sweep fills the periodic lane, an audit still gets a worker."""

import threading

import pytest

from decision_engine.concurrency import pool as pool_mod
from decision_engine.drivers import power_state
from decision_engine.drivers import redfish
from tests import BACKEND
from tests.fixtures import bmc_farm


@pytest.mark.parametrize('reserved', [2, 0])
def test_audit_gets_a_worker_during_a_full_sweep(conf, farm, reserved):
    pool = pool_mod.WorkerPool(6, backend=BACKEND, reserved=reserved)
    conf.set_override('sync_workers', 50, group='power')
    conf.set_override('periodic_max_workers', 50, group='conductor')
    tracker = power_state.PowerStateTracker(3)
    nodes = bmc_farm.farm_nodes(farm)
    for ident in farm.system_ids:
        farm.set_fault(ident, 'hang')
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=nodes,
                                        tracker=tracker)
    driver.name = 'redfish'
    sweep = pool.periodic_executor().submit(driver.sync_power_states)
    try:
        # The sweep takes every worker its lane allows: the sweep task
        # (which polls inline once the lane is full) and the rest.
        lane = pool.size - pool.reserved
        assert farm.wait_hung(lane)
        started = threading.Event()
        if reserved:
            audit = pool.submit(started.set)
            audit.result(timeout=30)
            assert started.is_set()
            # ... and the sweep was still holding its whole lane then.
            assert farm.stats()['hung'] == lane
        else:
            # Without a reserve the pool is full: the control case.
            with pytest.raises(pool_mod.NoFreeWorker):
                pool.submit(started.set)
    finally:
        for ident in farm.system_ids:
            farm.set_fault(ident, None)
        farm.release_hangs()
        sweep.result(timeout=60)
        pool.shutdown(timeout=30)
    assert driver.sweeps == 1
