"""A hung BMC holds one worker for one timeout; everything else goes on.

Counts, not clocks: the sweep runs on a real futurist PeriodicWorker on the
shared pool (as the manager runs it) next to another periodic, against the
BMC farm and a BMC that accepts connections and never answers.
"""

import threading

from futurist import periodics as futurist_periodics
import pytest

from decision_engine.concurrency import periodics
from decision_engine.drivers import inventory
from decision_engine.drivers import power_state
from decision_engine.drivers import redfish
from decision_engine.simulator import silent_bmc
from tests.fixtures import bmc_farm


@pytest.fixture(params=bmc_farm.POWER_READS)
def power_read(request):
    return request.param


class _WatchedTracker(power_state.PowerStateTracker):
    """A tracker that lets a test wait for results (no polling)."""

    def __init__(self, max_retries):
        super().__init__(max_retries)
        self.changed = threading.Condition()
        self.on_failure = None

    def record_success(self, hostname, state):
        result = super().record_success(hostname, state)
        with self.changed:
            self.changed.notify_all()
        return result

    def record_failure(self, hostname, error):
        if self.on_failure:
            self.on_failure(hostname)
        result = super().record_failure(hostname, error)
        with self.changed:
            self.changed.notify_all()
        return result

    def wait_for(self, predicate, timeout=30):
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)


class _Ticker:
    """Another periodic on the same worker, counting its runs."""

    def __init__(self):
        self.runs = 0
        self.lock = threading.Lock()

    @periodics.periodic(spacing=0.02, run_immediately=True)
    def tick(self):
        with self.lock:
            self.runs += 1


def _start(pool, tasks):
    worker = futurist_periodics.PeriodicWorker(
        [(t.callable, None, None) for t in tasks],
        executor_factory=futurist_periodics.ExistingExecutor(
            pool.periodic_executor()),
        schedule_strategy='last_started')
    thread = threading.Thread(target=worker.start, daemon=True)
    thread.start()
    return worker, thread


def test_hung_bmc_holds_one_worker_for_one_timeout(conf, pool, farm):
    conf.set_override('read_timeout', 1.0, group='redfish')
    conf.set_override('connect_timeout', 1.0, group='redfish')
    conf.set_override('sync_interval', 1, group='power')
    tracker = _WatchedTracker(conf.power.max_retries)
    silent = silent_bmc.SilentBMC().start()
    hung = inventory.Node('hung-host', 'redfish', {
        'address': silent.url, 'system_id': '/redfish/v1/Systems/1',
        'username': 'admin', 'password': bmc_farm.PASSWORD,
        'auth_type': 'basic'})
    healthy = bmc_farm.farm_nodes(farm, count=4)
    # The hung node first in the inventory: it takes a worker at once.
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool,
                                        nodes=[hung] + healthy,
                                        tracker=tracker)
    driver.name = 'redfish'
    ticker = _Ticker()
    seen = {}

    def at_failure(hostname):
        if hostname == 'hung-host' and 'accepted' not in seen:
            seen['accepted'] = silent.accepted
            seen['ticks'] = ticker.runs - seen['ticks_at_hang']
    tracker.on_failure = at_failure

    tasks = (periodics.collect(driver, prefix='redfish')
             + periodics.collect(ticker, prefix='ticker'))
    assert tasks[0].spacing == 1
    assert silent.wait_accepted(0)
    worker, thread = _start(pool, tasks)
    try:
        assert silent.wait_accepted(1)
        seen['ticks_at_hang'] = ticker.runs
        # While the hung BMC holds its worker, the other nodes are read.
        assert tracker.wait_for(lambda t: all(
            (t.get(n.hostname) or {}).get('state') for n in healthy))
        # NOTE: that it holds one worker, not more, is checked below as
        # one connection per poll (seen['accepted']); a count of busy
        # workers here would race with the healthy polls returning.
        # The client gives up on it (the worker is freed) ...
        assert silent.wait_closed_by_peer(1)
        assert tracker.wait_for(
            lambda t: (t.get('hung-host') or {}).get('failures'))
        error = tracker.get('hung-host')['last_error']
        assert 'Read timed out' in error and 'read timeout=1.0' in error
        # ... after ONE attempt: no transport retries behind our back, so
        # the worker was held for one read timeout, not three.
        assert seen['accepted'] == 1
        # The other periodic kept running while the BMC hung.
        assert seen['ticks'] >= 3
        # And the next sweep polls the hung node again (first, as it
        # failed), while the healthy ones keep their state.
        assert silent.wait_accepted(2)
    finally:
        worker.stop()
        silent.stop()
        worker.wait(30)
        thread.join(30)
    assert driver.sweeps >= 1
    assert all(tracker.get(n.hostname)['failures'] == 0 for n in healthy)
