"""The embedded simulator's load exporter (``[simulator] exporter_port``)
scraped by a real Prometheus: after the real applier migrates an instance,
what Prometheus holds moves with it, and each host's measured use is its
overhead plus that of the instances on it at the time."""

import pytest

from decision_engine.cloud import embedded
from decision_engine.common import measurements as m
from decision_engine.simulator import exporter as exporter_mod
from decision_engine.simulator.topology import Topology
from decision_engine.strategies import actions as act
from tests.fixtures import applier_harness
from tests.fixtures import dbfixtures
from tests.fixtures import load_env
from tests.fixtures import prometheus as prometheus_fixture

CLOUD = dict(hosts=4, instances=16, aggregates=1, azs=1, seed=5)


@pytest.fixture
def cloud(tmp_path, pool):
    sim = embedded.EmbeddedSimulator(
        exporter_port=0, load_seed=2,
        extra_args=['--migration-s', '0.2', '--migration-jitter', '0'],
        **CLOUD).start()
    prom = prometheus_fixture.Prometheus(sim.exporter_address)
    store = dbfixtures.open_store('sqlite:///%s' % (tmp_path / 's.sqlite'))
    harness = applier_harness.Harness(store, pool, sim)
    try:
        prom.start()
        yield sim, prom, harness
    finally:
        harness.close()
        store.dispose()
        prom.stop()
        sim.stop()


def measure(prom, pool, hosts, instances):
    prom.wait_for_samples(prom.scrapes() + load_env.WINDOW + 2)
    g = load_env.make_gatherer(pool, prom.url, cache_ttl=0)
    return g.gather({m.HOST_CPU: hosts, m.HOST_RAM: hosts,
                     m.INSTANCE_CPU: instances, m.INSTANCE_RAM: instances})


def assert_hosts_add_up(ms, topo, where):
    """Each host's RAM in use is its overhead plus its instances' (the
    exporter's own sum); its CPU likewise, within a percent point (rate()
    extrapolates each series on its own)."""
    for host in topo.hosts:
        on = [u for u, h in where.items() if h == host.hostname]
        ram = exporter_mod.HOST_OVERHEAD_MB + sum(
            ms.get(m.INSTANCE_RAM, u) for u in on)
        assert ms.get(m.HOST_RAM, host.hostname) == pytest.approx(
            min(ram, host.memory_mb), rel=0.02), host.hostname
        cores = exporter_mod.HOST_OVERHEAD_CORES + sum(
            ms.get(m.INSTANCE_CPU, u) for u in on)
        assert ms.get(m.HOST_CPU, host.hostname) == pytest.approx(
            min(cores, host.vcpus) / host.vcpus * 100, rel=0.1,
            abs=1.0), host.hostname


def test_migration_moves_the_load_prometheus_scrapes(cloud, pool):
    sim, prom, harness = cloud
    topo = Topology.generate(**CLOUD)
    running = {i.uuid: i.host for i in topo.instances
               if i.host and i.vm_state in exporter_mod.RUNNING}
    hosts = sorted(h.hostname for h in topo.hosts)
    usable = [h for h in topo.hosts if h.status == 'enabled'
              and h.state == 'up' and h.power_state == 'power on'
              and not h.is_ironic]
    # The largest plain running server of a usable host, to the other
    # usable host with the most room.
    inst = max((i for i in topo.instances if i.uuid in running
                and i.host in {h.hostname for h in usable}
                and not i.locked and not (i.flavor.extra_specs or {})),
               key=lambda i: (i.flavor.ram, i.uuid))
    dest = max((h for h in usable if h.hostname != inst.host),
               key=lambda h: h.memory_mb - sum(
                   i.flavor.ram for i in topo.instances
                   if i.host == h.hostname)).hostname
    before = measure(prom, pool, hosts, sorted(running))
    assert_hosts_add_up(before, topo, running)

    applier = harness.applier()
    plan = applier_harness.store_plan(harness.store, [
        act.migrate(inst, inst.host, dest, 'live')])
    applier.start_plan(plan)
    assert applier.wait(plan, applier_harness.GUARD)
    assert harness.store.get_action_plan(plan)['state'] == 'SUCCEEDED'

    after = measure(prom, pool, hosts, sorted(running))
    moved = dict(running, **{inst.uuid: dest})
    assert_hosts_add_up(after, topo, moved)
    # Counted on the destination, no longer on the source: the sums with
    # the old placement are off by the instance's memory.
    mem = after.get(m.INSTANCE_RAM, inst.uuid)
    assert mem > 0
    for host, sign in ((inst.host, 1), (dest, -1)):
        old = exporter_mod.HOST_OVERHEAD_MB + sum(
            after.get(m.INSTANCE_RAM, u) for u, h in running.items()
            if h == host)
        assert old - after.get(m.HOST_RAM, host) == pytest.approx(
            sign * mem, rel=0.1), host
