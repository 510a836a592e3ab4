"""The model the builder must produce, computed from the simulator's
ground truth (its Topology), and helpers to build against a simulator."""

import math

from decision_engine.cloud import connection
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.conf import CONF
from decision_engine.collector import builder
from decision_engine.model import elements
from decision_engine.collector import fetch
from decision_engine.collector import transport


def expected_model(topo, scope=None):
    """The ComputeModel of ``topo`` (optionally of a Scope of it)."""
    model = elements.ComputeModel()
    aggs_of = {}
    for agg in topo.aggregates:
        for host in agg.hosts:
            aggs_of.setdefault(host, []).append(agg.name)
    for h in topo.hosts:
        aggs = tuple(aggs_of.get(h.hostname, ()))
        if scope is not None and not (
                scope.host_by_name(h.hostname)
                and scope.host_by_groups(aggs, h.availability_zone)):
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
            created=i.created))
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
                 **settings):
        self.cloud = connection.from_auth(CONF, sim.auth(), pool_size)
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
