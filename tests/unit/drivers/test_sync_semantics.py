"""Sweep semantics with the real redfish driver against the BMC farm:
failure counting, power_failure after max_retries, recovery, failed-first
ordering, no overlap, the slow-sweep warning."""

import logging
import threading
import time

import pytest

from decision_engine.drivers import power_state
from decision_engine.drivers import redfish
from tests.fixtures import bmc_farm


@pytest.fixture(params=bmc_farm.POWER_READS)
def power_read(request):
    return request.param


def _driver(conf, pool, tracker, nodes):
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=nodes,
                                        tracker=tracker)
    driver.name = 'redfish'
    for node in nodes:
        driver.validate(node.driver_info)
    return driver


def test_sweep_reads_states_and_notices_changes(conf, pool, tracker, farm):
    nodes = bmc_farm.farm_nodes(farm)
    farm.set_power(farm.system_ids[2], 'Off')
    driver = _driver(conf, pool, tracker, nodes)
    driver.sync_power_states()
    states = {h: r['state'] for h, r in tracker.snapshot().items()}
    assert states['compute-2'] == power_state.POWER_OFF
    assert states['compute-0'] == power_state.POWER_ON
    assert len(states) == len(nodes)
    farm.set_power(farm.system_ids[0], 'Off')
    farm.reset_stats()
    driver.sync_power_states()
    assert tracker.get('compute-0')['state'] == power_state.POWER_OFF
    # Steady state: one GET of the system per node and sweep.
    assert farm.stats()['GET system'] == len(nodes)
    assert farm.stats().get('GET root', 0) == 0
    # The farm's read log (what the cluster tests count polls from).
    since = time.time()
    driver.sync_power_states()
    reads = farm.reads_since(since)
    assert sorted(reads) == farm.system_ids
    assert all(len(times) == 1 and times[0] >= since
               for times in reads.values())


def test_set_power_state(conf, pool, tracker, farm):
    nodes = bmc_farm.farm_nodes(farm, count=2)
    driver = _driver(conf, pool, tracker, nodes)
    driver.set_power_state(nodes[1], power_state.POWER_OFF)
    assert farm.power_state(farm.system_ids[1]) == 'Off'
    driver.set_power_state(nodes[1], power_state.POWER_ON)
    assert farm.power_state(farm.system_ids[1]) == 'On'
    assert farm.stats()['resets'] == 2


def test_failures_counted_flagged_then_recovered(conf, pool, tracker, farm):
    conf.set_override('max_retries', 3, group='power')
    tracker.set_max_retries(3)
    nodes = bmc_farm.farm_nodes(farm, count=3)
    driver = _driver(conf, pool, tracker, nodes)
    bad = farm.system_ids[1]
    farm.set_fault(bad, 500)
    for sweep in (1, 2):
        driver.sync_power_states()
        record = tracker.get('compute-1')
        assert record['failures'] == sweep
        assert not record['power_failure']
        assert '500' in record['last_error']
    driver.sync_power_states()
    record = tracker.get('compute-1')
    assert record['failures'] == 3 and record['power_failure']
    # The others are unaffected.
    assert tracker.get('compute-0')['failures'] == 0
    driver.sync_power_states()
    assert tracker.get('compute-1')['failures'] == 4
    farm.set_fault(bad, None)
    farm.set_power(bad, 'Off')
    driver.sync_power_states()
    record = tracker.get('compute-1')
    assert record['failures'] == 0 and not record['power_failure']
    assert record['last_error'] is None
    assert record['state'] == power_state.POWER_OFF


def test_power_failure_is_logged_once_as_error(conf, pool, tracker, farm,
                                               caplog):
    conf.set_override('max_retries', 2, group='power')
    tracker.set_max_retries(2)
    nodes = bmc_farm.farm_nodes(farm, count=1)
    farm.set_fault(farm.system_ids[0], 503)
    driver = _driver(conf, pool, tracker, nodes)
    with caplog.at_level(logging.WARNING, 'decision_engine'):
        for _ in range(4):
            driver.sync_power_states()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR
              and 'flagged power_failure' in r.getMessage()]
    assert len(errors) == 1


def test_failed_nodes_go_first(conf, pool, tracker, farm):
    conf.set_override('sync_workers', 1, group='power')
    nodes = bmc_farm.farm_nodes(farm)
    driver = _driver(conf, pool, tracker, nodes)
    late = [farm.system_ids[5], farm.system_ids[7]]
    for ident in late:
        farm.set_fault(ident, 500)
    driver.sync_power_states()
    for ident in late:
        farm.set_fault(ident, None)
    farm.reset_stats()
    driver.sync_power_states()
    order = farm.request_order()
    # One worker: the two nodes that failed last time are polled first,
    # in inventory order, then the others in inventory order.
    assert order[:2] == late
    assert order[2:] == [i for i in farm.system_ids if i not in late]
    farm.reset_stats()
    driver.sync_power_states()
    assert farm.request_order() == farm.system_ids


def test_sweep_never_overlaps_itself(conf, pool, tracker, farm):
    nodes = bmc_farm.farm_nodes(farm, count=2)
    driver = _driver(conf, pool, tracker, nodes)
    farm.set_fault(farm.system_ids[0], 'hang')
    first = threading.Thread(target=driver.sync_power_states)
    first.start()
    assert farm.wait_hung(1)
    # A second sweep while the first is running is skipped, not queued.
    assert driver.sync_power_states() is False
    farm.release_hangs()
    first.join(30)
    assert not first.is_alive()
    assert driver.sweeps == 1
    assert driver.sync_power_states() is True


def test_slow_sweep_warns(conf, pool, tracker, farm, caplog):
    conf.set_override('sync_interval', 1, group='power')
    nodes = bmc_farm.farm_nodes(farm, count=1)
    driver = _driver(conf, pool, tracker, nodes)
    # NOTE: a clock that jumps 4 intervals during the sweep, instead of a
    # sweep that really lasts 3 s.
    import decision_engine.drivers.base as base_mod
    ticks = iter([100.0, 104.0])
    real = base_mod.time.monotonic
    base_mod.time.monotonic = lambda: next(ticks, real())
    try:
        with caplog.at_level(logging.WARNING, 'decision_engine'):
            driver.sync_power_states()
    finally:
        base_mod.time.monotonic = real
    assert any('more than 3 x [power] sync_interval' in r.getMessage()
               for r in caplog.records)
