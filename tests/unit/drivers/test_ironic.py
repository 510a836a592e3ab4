"""The ironic driver against the simulated cloud (Keystone + Ironic v1 on
one loopback port): one listing per sweep, power changes through Ironic."""

import pytest

from decision_engine.drivers import inventory
from decision_engine.drivers import ironic
from decision_engine.drivers import power_state
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology


@pytest.fixture
def sim():
    topology = Topology.generate(hosts=25, instances=20, seed=3)
    server = Simulator(topology, max_limit=10).start()
    yield server
    server.stop()


def _driver(conf, pool, tracker, sim, nodes):
    driver = ironic.IronicPowerDriver(conf=conf, pool=pool, nodes=nodes,
                                      tracker=tracker,
                                      cloud=sim.connection())
    driver.name = 'ironic'
    for node in nodes:
        driver.validate(node.driver_info)
    return driver


def _listings(sim):
    return sim.stats()['by_endpoint'].get('GET /baremetal/v1/nodes', 0)


def test_one_listing_per_sweep(conf, pool, tracker, sim):
    hosts = {h.hostname: h for h in sim.topology.hosts}
    nodes = [inventory.Node(name, 'ironic') for name in sorted(hosts)]
    nodes.append(inventory.Node('by-uuid', 'ironic', {
        'node': hosts['compute-3'].node_uuid}))
    driver = _driver(conf, pool, tracker, sim, nodes)
    sim.reset_stats()
    driver.sync_power_states()
    for name, host in hosts.items():
        assert tracker.get(name)['state'] == host.power_state, name
    assert tracker.get('by-uuid')['state'] == hosts['compute-3'].power_state
    # 25 nodes, Ironic's page cap 10: three requests, not 26.
    assert _listings(sim) == 3 == driver.listings
    assert sim.stats()['by_endpoint'].get('GET /baremetal/v1/nodes/{id}',
                                          0) == 0
    # A change made in Ironic is seen by the next sweep.
    target = hosts['compute-7']
    flipped = (power_state.POWER_OFF if target.power_state ==
               power_state.POWER_ON else power_state.POWER_ON)
    target.power_state = flipped
    driver.sync_power_states()
    assert tracker.get('compute-7')['state'] == flipped
    assert _listings(sim) == 6


def test_set_power_through_ironic(conf, pool, tracker, sim):
    host = sim.topology.hosts[0]
    node = inventory.Node(host.hostname, 'ironic')
    driver = _driver(conf, pool, tracker, sim, [node])
    driver.set_power_state(node, power_state.POWER_OFF)
    assert host.power_state == power_state.POWER_OFF
    assert driver.get_power_state(node) == power_state.POWER_OFF
    driver.set_power_state(node, power_state.POWER_ON)
    assert host.power_state == power_state.POWER_ON


def test_unknown_node_and_failed_listing_are_counted(conf, pool, tracker,
                                                     sim):
    conf.set_override('max_retries', 2, group='power')
    tracker.set_max_retries(2)
    nodes = [inventory.Node('compute-1', 'ironic'),
             inventory.Node('no-such-host', 'ironic')]
    driver = _driver(conf, pool, tracker, sim, nodes)
    driver.sync_power_states()
    assert tracker.get('compute-1')['failures'] == 0
    assert 'no Ironic node named no-such-host' in \
        tracker.get('no-such-host')['last_error']
    # Ironic fails: every node of the sweep counts one failure.
    sim.add_fault('error', status=500, path='/baremetal')
    driver.sync_power_states()
    assert tracker.get('compute-1')['failures'] == 1
    assert tracker.get('no-such-host')['power_failure']
    sim.clear_faults()
    driver.sync_power_states()
    assert tracker.get('compute-1')['failures'] == 0


def test_discovers_nodes(conf, pool, tracker, sim):
    conf.set_override('discover_nodes', True, group='ironic_power')
    driver = _driver(conf, pool, tracker, sim, [])
    driver.sync_power_states()
    assert len(tracker.snapshot()) == len(sim.topology.hosts)
    assert {n.hostname for n in driver.nodes} == {
        h.hostname for h in sim.topology.hosts}
