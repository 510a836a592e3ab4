"""The manager hands one cloud connection to every part that talks to the
cloud: the ironic driver reads power states over the same connection the
collector builds its model with, and so follows ``[simulator] embedded``.
"""

from decision_engine.conductor import manager as manager_mod
from tests import BACKEND
from tests import fresh_conf
from tests.fixtures.waiting import until


def test_ironic_driver_shares_the_collector_s_connection(tmp_path):
    inventory = tmp_path / 'inventory.yaml'
    inventory.write_text('- {hostname: compute-1, driver: ironic}\n'
                         '- {hostname: compute-2, driver: ironic}\n')
    conf = fresh_conf(state_path=str(tmp_path),
                      enabled_power_drivers=['ironic'])
    for group, values in {
            'conductor': {'workers_pool_size': 4, 'stats_interval': 3600},
            'api': {'enabled': False},
            'power': {'inventory_file': str(inventory),
                      'sync_interval': 3600},
            'collector': {'period': 3600},
            'simulator': {'embedded': True, 'hosts': 3, 'instances': 4,
                          'seed': 5}}.items():
        for name, value in values.items():
            conf.set_override(name, value, group=group)
    manager = manager_mod.ConductorManager(conf, backend=BACKEND)
    manager.start()
    try:
        driver = manager.drivers['ironic']
        model = manager.collector.get_model()
        assert sorted(n.hostname for n in model.nodes.values()) == [
            'compute-1', 'compute-2', 'compute-3']
        # The sweep reads Ironic through the manager's one connection,
        # which reaches the embedded simulator the model came from. (The
        # periodic task's first sweep may still run: this one is skipped,
        # False, until it has ended.)
        until(driver.sync_power_states, 'a sweep of our own', timeout=60)
        states = manager.tracker.snapshot()
        assert {states[h]['state'] for h in ('compute-1', 'compute-2')} \
            <= {'power on', 'power off'}
        assert states['compute-1']['failures'] == 0
        assert driver.baremetal is manager.cloud().baremetal
        assert manager.collector._cloud is manager.cloud()
        process = manager.cloud._connector.simulator.process
        assert process.poll() is None
    finally:
        assert manager.stop(timeout=30) == []
    # The manager, which owns the connection, stopped the simulator.
    assert process.poll() is not None
