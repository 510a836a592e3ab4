"""Completeness on messy clouds: volume-backed and dedicated-CPU servers,
migrations holding allocations, hosts without a resource provider and
Ironic hypervisors, mixed and seeded.  The model must hold exactly what
Placement holds, the same at any parallelism, and keep the odd hosts out
of the decisions explicitly instead of failing."""

import pytest

from decision_engine.model import elements
from decision_engine.model import scope as scope_mod
from decision_engine.model.errors import ModelBuildError
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import truth


pytestmark = pytest.mark.topology(hosts=23, instances=300, aggregates=3, azs=2,
                                  seed=7)


def _messy(seed, hosts=25, instances=400):
    return Topology.generate(hosts=hosts, instances=instances,
                             aggregates=2, azs=seed % 3, seed=seed,
                             volume_backed=0.25, providerless=2, ironic=11)


def _migration_holds(topo):
    """``{hostname: {class: amount}}`` migrations hold on their source."""
    from decision_engine.simulator import nova_allocations
    holds = {}
    for inst in topo.instances:
        if inst.migration_source:
            total = holds.setdefault(inst.migration_source, {})
            for rc, amount in nova_allocations.flavor_resources(
                    inst.flavor, inst.volume_backed).items():
                total[rc] = total.get(rc, 0) + amount
    return holds


def test_the_messy_generator_is_messy():
    topo = _messy(5)
    assert sum(1 for i in topo.instances if i.volume_backed) > 50
    assert any(i.flavor.extra_specs.get('hw:cpu_policy') == 'dedicated'
               for i in topo.instances)
    assert any(i.migration_source for i in topo.instances)
    assert sum(1 for h in topo.hosts if not h.resource_provider) == 2
    assert sum(1 for h in topo.hosts if h.is_ironic) == 11
    assert len({h.compute_host for h in topo.hosts if h.is_ironic}) == 2
    assert any(h.pcpus for h in topo.hosts)
    assert len({(h.vcpus, h.cpu_allocation_ratio, h.memory_mb_reserved)
                for h in topo.hosts}) > 3


@pytest.mark.parametrize('usage_source', ['flavors', 'placement'])
@pytest.mark.parametrize('seed', [1, 2, 3])
def test_usage_is_what_placement_holds(harnesses, seed, usage_source):
    topo = _messy(seed)
    placement = truth.placement_usage(topo)
    holds = _migration_holds(topo)
    with Simulator(topo, max_limit=50) as sim:
        parallel = harnesses(sim, pool_size=16, usage_source=usage_source,
                             hypervisors_page_size=10).build()
        sequential = harnesses(sim, pool_size=1, usage_source=usage_source,
                               hypervisors_page_size=10).build()
    expected = truth.expected_model(topo, usage_source=usage_source)
    truth.assert_same(parallel, expected)
    truth.assert_same(sequential, expected)
    assert parallel.requests == sequential.requests
    assert parallel.nodes, 'no node at all'
    for node in parallel.nodes.values():
        want = dict(placement[node.hostname])
        if usage_source == 'flavors':
            # Flavors cannot show what a migration holds on its source.
            for rc, amount in holds.get(node.hostname, {}).items():
                want[rc] -= amount
                if not want[rc]:
                    del want[rc]
        assert parallel.usage(node.hostname) == want, node.hostname
    if usage_source == 'placement':
        assert any(n.held for n in parallel.nodes.values())


@pytest.mark.parametrize('slow', ['compute', 'placement'])
def test_allocations_before_or_after_a_hosts_last_page(harnesses, slow):
    # A host's allocations are applied once they and its last page of
    # servers are in, whichever comes first; several pages per host.
    topo = _messy(6, hosts=8, instances=120)
    with Simulator(topo) as sim:
        sim.set_latency(0, **{slow: 20})
        model = harnesses(sim, usage_source='placement',
                          servers_page_size=3).build()
    truth.assert_same(model, truth.expected_model(
        topo, usage_source='placement'))
    assert any(n.held for n in model.nodes.values())


def test_odd_hosts_are_counted_listed_and_never_nodes(harnesses):
    topo = _messy(4)
    with Simulator(topo) as sim:
        model = harnesses(sim).build()
    summary = model.summary()
    assert summary['excluded_nodes'] == 13
    assert summary['excluded_by_reason'] == {
        elements.IRONIC_HYPERVISOR: 11, elements.NO_RESOURCE_PROVIDER: 2}
    listed = {(e['hostname'], e['reason']) for e in summary['excluded']}
    assert ('compute-new-1', elements.NO_RESOURCE_PROVIDER) in listed
    assert ('ironic-compute-1', elements.IRONIC_HYPERVISOR) in listed
    hostnames = {n.hostname for n in model.nodes.values()}
    assert not hostnames & {'compute-new-1', 'compute-new-2',
                            'ironic-compute-1', 'ironic-compute-2'}
    assert len(model.nodes) == 25
    # A snapshot for an audit, and a scoped one, keep the list.
    assert model.copy().excluded == model.excluded
    scoped = scope_mod.select(model, scope_mod.Scope(
        include_hosts=['compute-new-1', 'compute-2']))
    assert [e['hostname'] for e in scoped.excluded.values()] == \
        ['compute-new-1']


def test_placement_source_costs_one_request_per_host(harnesses):
    topo = _messy(6)
    counts = {}
    for source in ('flavors', 'placement'):
        with Simulator(topo) as sim:
            harness = harnesses(sim, usage_source=source)
            harness.build()
            sim.reset_stats()
            counts[source] = (harness.build().requests,
                              sim.stats()['by_endpoint'].get(
                                  'GET /placement/resource_providers/'
                                  '{uuid}/allocations', 0))
    with_provider = sum(1 for h in topo.hosts
                        if h.resource_provider and not h.is_ironic)
    assert counts['flavors'][1] == 0
    assert counts['placement'][1] == with_provider
    assert counts['placement'][0] == counts['flavors'][0] + with_provider


@pytest.mark.parametrize('path', ['inventories', 'allocations'])
def test_a_failed_needed_request_still_fails_the_build(harnesses, path):
    topo = _messy(7)
    host = next(h for h in topo.hosts if h.resource_provider
                and not h.is_ironic)
    with Simulator(topo) as sim:
        harness = harnesses(sim, usage_source='placement', max_retries=1)
        sim.add_fault('error', status=500, retry_after=None,
                      path='%s/%s' % (host.uuid, path))
        with pytest.raises(ModelBuildError) as info:
            harness.build()
    assert 'HTTP 500' in str(info.value)
    assert host.hostname in str(info.value)


@pytest.mark.parametrize('usage_source', ['flavors', 'placement'])
def test_scoped_build_equals_selection_equals_truth(harnesses, usage_source):
    topo = _messy(8)
    projects = sorted({i.project_id for i in topo.instances})
    scope = scope_mod.Scope(exclude_projects=projects[:2],
                            exclude_hosts=['compute-3', 'ironic-compute-1'])
    with Simulator(topo) as sim:
        harness = harnesses(sim, usage_source=usage_source)
        whole = harness.build()
        scoped = harness.build(scope)
    expected = truth.expected_model(topo, scope, usage_source)
    truth.assert_same(scoped, expected)
    truth.assert_same(scope_mod.select(whole, scope), expected)


def test_no_provider_at_all_fails_the_build(harnesses):
    topo = _messy(9, hosts=4, instances=10)
    with Simulator(topo) as sim:
        harness = harnesses(sim)
        sim.add_fault('error', status=404, path='inventories')
        with pytest.raises(ModelBuildError) as info:
            harness.build()
    assert 'Placement has no resource provider for any of the 6 ' \
        'hypervisor(s)' in str(info.value)
