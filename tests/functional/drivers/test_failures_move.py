"""Failure counts and ``power_failure`` flags of nodes shared through the
store: engine B, taking a node over from engine A (a ring change), goes
on counting from A's count and keeps A's flag; a success on B clears them
for everyone. Real redfish driver, real BMC farm, real store (SQLite and
PostgreSQL)."""

from decision_engine.drivers import power_state
from decision_engine.drivers import redfish
from tests.fixtures import bmc_farm
from tests.fixtures import dbfixtures


def _engine(conf, pool, store, host, nodes, owner):
    tracker = power_state.PowerStateTracker(3, ledger=store, engine=host)
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=nodes,
                                        tracker=tracker)
    driver.name = 'redfish'
    driver.owns = lambda hostname: owner[hostname] == host
    return driver, tracker


def test_counts_and_flags_survive_a_move(conf, pool, farm, url):
    store = dbfixtures.open_store(url)
    try:
        nodes = bmc_farm.farm_nodes(farm, count=3)
        owner = {n.hostname: 'engine-a' for n in nodes}
        a, a_records = _engine(conf, pool, store, 'engine-a', nodes, owner)
        b, b_records = _engine(conf, pool, store, 'engine-b', nodes, owner)
        flagged, failing = farm.system_ids[0], farm.system_ids[1]
        farm.set_fault(flagged, 500)
        farm.set_fault(failing, 500)
        for _ in range(3):
            a.sync_power_states()
        assert a_records.get('compute-0')['power_failure'] is True
        b.sync_power_states()           # owns nothing yet
        assert b_records.snapshot() == {}
        # The ring moves every node to B; A's next poll skips them.
        owner.update({n.hostname: 'engine-b' for n in nodes})
        farm.set_fault(failing, None)
        assert b.poll_gained_nodes() == 3
        moved = b_records.get('compute-0')
        assert (moved['failures'], moved['power_failure']) == (4, True)
        assert 'returned code 500' in moved['last_error']
        # compute-1 answered on B: its failures are gone from the store.
        assert b_records.get('compute-1')['failures'] == 0
        assert store.load_power_failures(['compute-1']) == {}
        row = store.load_power_failures(['compute-0'])['compute-0']
        assert (row['failures'], row['power_failure']) == (4, True)
        # And back to A: it reads B's count, not its own stale one.
        farm.set_fault(flagged, None)
        b.sync_power_states()
        a.sync_power_states()           # owns nothing now
        assert a_records.get('compute-0')['power_failure'] is True  # stale
        owner.update({n.hostname: 'engine-a' for n in nodes})
        farm.set_fault(flagged, 500)
        a.poll_gained_nodes()
        # From the store (cleared by B's success), not from its memory.
        assert a_records.get('compute-0')['failures'] == 1
        farm.set_fault(flagged, None)
        a.sync_power_states()
        assert a_records.get('compute-0')['power_failure'] is False
        assert store.load_power_failures(['compute-0', 'compute-2']) == {}
    finally:
        store.dispose()


def test_a_store_outage_does_not_stop_the_sync(conf, pool, farm, tmp_path):
    store = dbfixtures.open_store('sqlite:///%s' % (tmp_path / 's.sqlite'))
    nodes = bmc_farm.farm_nodes(farm, count=2)
    owner = {n.hostname: 'engine-a' for n in nodes}
    driver, records = _engine(conf, pool, store, 'engine-a', nodes, owner)
    (tmp_path / 's.sqlite').unlink()
    store.dispose()
    farm.set_fault(farm.system_ids[0], 500)
    driver.sync_power_states()
    assert records.get('compute-0')['failures'] == 1
    assert records.get('compute-1')['state'] == power_state.POWER_ON
