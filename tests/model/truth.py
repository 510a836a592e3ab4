"""The model the builder must produce, computed from the simulator's
ground truth (its Topology), and helpers to build against a simulator."""

import math

from decision_engine.cloud import connection
from decision_engine.collector import builder
from decision_engine.collector import fetch
from decision_engine.collector import transport
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.conf import CONF
from decision_engine.model import elements
from decision_engine.simulator import nova_allocations


def expected_model(topo, scope=None, usage_source='flavors'):
    """The ComputeModel of ``topo`` (optionally of a Scope of it).

    Usage is what the simulator's Placement holds (Nova's rules): with
    ``usage_source='placement'`` nodes also get what migrations and
    out-of-scope instances hold on them.
    """
    model = elements.ComputeModel()
    model.usage_source = usage_source
    allocations = nova_allocations.provider_allocations(topo)
    aggs_of = {}
    for agg in topo.aggregates:
        for host in agg.hosts:
            aggs_of.setdefault(host, []).append(agg.name)
    for h in topo.hosts:
        aggs = tuple(aggs_of.get(h.hostname, ()))
        if scope is not None and not (
                scope.host_by_name(h.compute_host)
                and scope.host_by_groups(aggs, h.availability_zone)):
            continue
        if h.is_ironic or not h.resource_provider:
            model.excluded[h.uuid] = {
                'uuid': h.uuid, 'hostname': h.compute_host,
                'reason': (elements.IRONIC_HYPERVISOR if h.is_ironic
                           else elements.NO_RESOURCE_PROVIDER),
                'hypervisor_type': h.hypervisor_type,
                'aggregates': list(aggs_of.get(h.compute_host, ())),
                'availability_zone': h.availability_zone}
            continue
        model.add_node(elements.ComputeNode(
            uuid=h.uuid, hostname=h.hostname, status=h.status,
            state=h.state, disabled_reason=h.disabled_reason,
            vcpus=h.vcpus, vcpus_reserved=h.vcpus_reserved,
            vcpu_allocation_ratio=h.cpu_allocation_ratio,
            memory_mb=h.memory_mb, memory_mb_reserved=h.memory_mb_reserved,
            memory_allocation_ratio=h.ram_allocation_ratio,
            disk_gb=h.disk_gb, disk_gb_reserved=h.disk_gb_reserved,
            disk_allocation_ratio=h.disk_allocation_ratio,
            pcpus=h.pcpus, pcpus_reserved=h.pcpus_reserved,
            pcpu_allocation_ratio=1.0,
            aggregates=aggs, availability_zone=h.availability_zone))
    for i in topo.instances:
        if model.get_node_by_hostname(i.host) is None:
            continue
        if scope is not None and not scope.project(i.project_id):
            continue
        f = i.flavor
        model.add_instance(elements.Instance(
            uuid=i.uuid, name=i.name, state=i.vm_state,
            project_id=i.project_id, host=i.host, vcpus=f.vcpus,
            memory_mb=f.ram, disk_gb=f.disk, ephemeral_gb=f.ephemeral,
            swap_mb=f.swap, metadata=dict(i.metadata), locked=i.locked,
            created=i.created, volume_backed=i.volume_backed,
            resources=nova_allocations.flavor_resources(
                f, i.volume_backed)))
    if usage_source == 'placement':
        for node in model.nodes.values():
            held = {}
            for consumer, resources in allocations[node.uuid].items():
                if consumer in model.instances:
                    continue
                for rc, amount in resources.items():
                    held[rc] = held.get(rc, 0) + amount
            node.held = held
    model.aggregates = {
        a.name: tuple(h for h in a.hosts
                      if model.get_node_by_hostname(h) is not None)
        for a in topo.aggregates}
    zones = {}
    for node in model.nodes.values():
        zones.setdefault(node.availability_zone, []).append(node.hostname)
    model.availability_zones = {z: tuple(sorted(h))
                                for z, h in zones.items()}
    return model


def placement_usage(topo):
    """``{hostname: {class: amount}}``: the sum of Placement's
    allocations on each host's provider (the simulator's ground truth)."""
    allocations = nova_allocations.provider_allocations(topo)
    result = {}
    for h in topo.hosts:
        total = {}
        for resources in allocations.get(h.uuid, {}).values():
            for rc, amount in resources.items():
                total[rc] = total.get(rc, 0) + amount
        result[h.hostname] = total
    return result


def assert_same(model, truth):
    """Element by element, with a readable first difference."""
    assert set(model.nodes) == set(truth.nodes)
    for uuid, node in truth.nodes.items():
        assert model.nodes[uuid] == node, (model.nodes[uuid], node)
    missing = set(truth.instances) - set(model.instances)
    extra = set(model.instances) - set(truth.instances)
    assert not missing and not extra, (sorted(missing)[:5],
                                       sorted(extra)[:5])
    for uuid, inst in truth.instances.items():
        assert model.instances[uuid] == inst, (model.instances[uuid], inst)
    for node in truth.nodes.values():
        assert sorted(i.uuid for i in model.instances_on(node.hostname)) \
            == sorted(i.uuid for i in truth.instances_on(node.hostname))
    assert model.aggregates == truth.aggregates
    assert model.availability_zones == truth.availability_zones
    assert model.excluded == truth.excluded
    assert model.usage_source == truth.usage_source
    assert model == truth


def servers_requests(topo, hostnames, page):
    """servers/detail requests for these hosts at this page size (Nova adds
    a next link to every full page, so a full last page costs one more)."""
    counts = {h: 0 for h in hostnames}
    for inst in topo.instances:
        if inst.host in counts:
            counts[inst.host] += 1
    return sum(n // page + 1 for n in counts.values())


def hypervisor_requests(hosts, page):
    return hosts // page + 1 if hosts else 1


class Harness:
    """A cloud connection, a pool and a builder against one simulator."""

    def __init__(self, sim, pool_size=16, transport_name='direct',
                 cloud=None, **settings):
        self.cloud = cloud if cloud is not None else connection.from_auth(
            CONF, sim.auth(), pool_size)
        # As the collector does: the proxies (and their version discovery)
        # are made before the first build, not under its faults.
        for service_type in connection.MODEL_SERVICES:
            getattr(self.cloud, service_type)
        self.pool = WorkerPool(pool_size)
        self.transport = transport.make_transport(self.cloud,
                                                  transport_name)
        fetch_settings = fetch.FetchSettings(
            max_retries=settings.pop('max_retries', 6),
            retry_delay=settings.pop('retry_delay', 0.001),
            max_retry_delay=settings.pop('max_retry_delay', 0.01),
            request_timeout=settings.pop('request_timeout', 30))
        settings.setdefault('build_workers', pool_size)
        self.settings = builder.BuildSettings(fetch_settings=fetch_settings,
                                              **settings)
        self.builder = builder.ModelBuilder(self.transport, self.pool,
                                            self.settings)

    def build(self, scope=None):
        return self.builder.build(scope)

    def close(self):
        self.transport.close()
        self.pool.shutdown(timeout=30)
        self.cloud.close()


def ceil_div(a, b):
    return math.ceil(a / b)
