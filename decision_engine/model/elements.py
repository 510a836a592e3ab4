"""The light elements of the compute data model and the model itself.

Elements use ``__slots__``: the memory target is a model of 5,000 compute
nodes and 100,000 instances in well under 400 MB of resident memory.

Snapshot semantics
------------------
The collector keeps the current :class:`ComputeModel` and treats it as
immutable: nobody mutates it once it is published. :meth:`ComputeModel.copy`
is a copy whose elements are copies too, so its owner may change nodes and
move instances (:meth:`ComputeModel.move_instance`) without anyone else
seeing it.

:meth:`ComputeModel.snapshot` costs O(changes) instead (what audits get,
and what the notification-fed model hands out): the snapshot shares the
elements and, through :class:`~decision_engine.model.cow.ShardedMap` and
per-host member dicts copied on first write, the indexes. Elements are then
*replaced* on change, never changed in place: the model's own methods
(``add_*``, ``remove_*``, ``move_instance``) do that, and a holder of a
snapshot must not assign to its elements' attributes (take :meth:`copy`
for that).

Usage accounting
----------------
:attr:`Instance.resources` is what Placement holds for the instance on its
host, ``{resource class: amount}``: read from Placement (``[collector]
usage_source = placement``) or derived from the flavor by Nova's rules
(:mod:`decision_engine.model.allocation`: no root disk for a volume-backed
instance, swap rounded up to whole GiB, ``PCPU`` instead of ``VCPU`` for
``hw:cpu_policy=dedicated``).  :attr:`ComputeNode.held` is what other
consumers hold on the node (a migration's allocation on its source, known
only from Placement).  Used and free amounts therefore match Placement's
view.

Excluded hosts
--------------
Hypervisors that decisions must not use (no Placement resource provider
yet, Ironic nodes) are not nodes of the model: they are listed in
:attr:`ComputeModel.excluded` with the reason, so they are counted and
shown, and never chosen as a destination.
"""

import time

from decision_engine.model import allocation
from decision_engine.model import cow
from decision_engine.model.element_types import ComputeNode
from decision_engine.model.element_types import INSTANCE_FIELDS
from decision_engine.model.element_types import Instance
from decision_engine.model.element_types import IRONIC_HYPERVISOR
from decision_engine.model.element_types import NO_RESOURCE_PROVIDER
from decision_engine.model.element_types import NODE_FIELDS
from decision_engine.model.element_types import POLICIES
from decision_engine.model.element_types import server_group_problem
from decision_engine.model.element_types import ServerGroup

#: the elements are defined in element_types and named here too, where
#: every user of the model finds them.
#: Nova's default ``[DEFAULT] default_availability_zone``.
DEFAULT_ZONE = 'nova'

__all__ = ['ComputeModel', 'ComputeNode', 'Instance', 'INSTANCE_FIELDS',
           'IRONIC_HYPERVISOR', 'NO_RESOURCE_PROVIDER', 'NODE_FIELDS',
           'POLICIES', 'server_group_problem', 'ServerGroup']


class ComputeModel:
    """Compute nodes and instances, indexed by uuid and by hostname.

    :attr nodes: ``{uuid: ComputeNode}``
    :attr instances: ``{uuid: Instance}`` (a :class:`~decision_engine.
        model.cow.ShardedMap`)
    :attr aggregates: ``{aggregate name: tuple of hostnames}``
    :attr availability_zones: ``{zone name: tuple of hostnames}``
    :attr aggregate_zones: ``{aggregate name: zone}`` of the aggregates
        that define a zone (their ``availability_zone`` metadata), for the
        event-fed model to give a host the zone Nova then shows
    :attr aggregate_uuids: ``{aggregate name: uuid}`` (an aggregate
        renamed by an event is found by its uuid)
    :attr default_zone: the zone Nova gives a host in no zone aggregate
        (Nova's ``[DEFAULT] default_availability_zone``)
    :attr server_groups: ``{group uuid: ServerGroup}`` (Nova's server
        groups, every project's; elements replaced on change, never
        changed in place)
    :attr built_at: epoch seconds when the build finished (None if the
        model was not built by the builder)
    :attr build_seconds: wall time of the build
    :attr requests: HTTP requests the build made (retries included),
        as the services received them
    :attr requests_by_service: the same by service, ``{'compute': n,
        'placement': m}``
    :attr neutron_queries_estimate: the Neutron queries Nova made to
        answer the build's server listings, estimated from the pages
        listed (see ``decision_engine.collector.downstream``)
    :attr servers_listing: how the build listed the servers
        (``'per_host'`` or ``'all_servers'``; None if not built)
    :attr scope: the :class:`~decision_engine.model.scope.Scope` (or None
        for the whole cloud) the model was built for
    :attr excluded: ``{hypervisor uuid: {'uuid', 'hostname', 'reason',
        'hypervisor_type'}}`` of the hypervisors kept out of the model
    :attr usage_source: ``'flavors'`` or ``'placement'``: where the
        instances' ``resources`` came from
    :attr traits_asked: the frozenset of traits the build asked Placement
        about (those the instances' flavors require or forbid): a node's
        ``traits`` are the asked ones its provider has, and any other
        trait is unknown. None: the nodes' ``traits`` are their providers'
        full lists (a model not made by the builder).
    """

    def __init__(self):
        self.nodes = {}
        self.instances = cow.ShardedMap()
        self.aggregates = {}
        self.availability_zones = {}
        self.aggregate_zones = {}
        self.aggregate_uuids = {}
        self.default_zone = DEFAULT_ZONE
        self.server_groups = {}
        self._by_hostname = {}
        self._on_host = {}
        # Hosts whose member dict this model may change in place; None: all
        # of them (nothing is shared with a snapshot).
        self._owned_hosts = None
        # Elements may be shared with a snapshot: replace, never mutate.
        self._shared = False
        self.built_at = None
        self.build_seconds = None
        self.requests = 0
        self.requests_by_service = {}
        self.neutron_queries_estimate = 0
        self.servers_listing = None
        self.scope = None
        self.excluded = {}
        self.usage_source = 'flavors'
        #: ``{hostname: {consumer: {resource class: amount}}}``: what
        #: makes up each node's ``held`` (placement usage only), for the
        #: event-fed model to add and drop migration allocations one by
        #: one. Inner dicts are replaced on change, never changed in place.
        self.held_by = {}
        self.traits_asked = None

    # -- building ----------------------------------------------------------

    def add_node(self, node):
        """Add (or replace) a node.

        :raises ValueError: when another node already has its hostname.
        """
        other = self._by_hostname.get(node.hostname)
        if other is not None and other.uuid != node.uuid:
            raise ValueError('two compute nodes have hostname %r: %s and %s'
                             % (node.hostname, other.uuid, node.uuid))
        old = self.nodes.get(node.uuid)
        if old is not None and old.hostname != node.hostname:
            del self._by_hostname[old.hostname]
        self.nodes[node.uuid] = node
        self._by_hostname[node.hostname] = node

    def remove_node(self, uuid):
        """Remove a node (its instances stay: remove them first)."""
        node = self.nodes.pop(uuid)
        if self._by_hostname.get(node.hostname) is node:
            del self._by_hostname[node.hostname]
        return node

    def add_instance(self, instance):
        """Add (or replace) an instance and index it by its host."""
        old = self.instances.get(instance.uuid)
        if old is not None:
            self._unindex(old)
        self.instances[instance.uuid] = instance
        self._members(instance.host)[instance.uuid] = instance

    def add_instances(self, instances):
        """Add many new instances (faster than :meth:`add_instance`)."""
        for instance in instances:
            self.add_instance(instance)

    def remove_instance(self, uuid):
        instance = self.instances.pop(uuid)
        self._unindex(instance)
        return instance

    def move_instance(self, uuid, hostname):
        """Place an instance on another host (for an audit's what-if)."""
        instance = self.instances[uuid]
        self._unindex(instance)
        if self._shared:
            instance = instance.copy()
            self.instances[uuid] = instance
        instance.host = hostname
        self._members(hostname)[uuid] = instance

    def _members(self, host):
        """The member dict of ``host``, this model's own (copy on write)."""
        members = self._on_host.get(host)
        owned = self._owned_hosts
        if members is None:
            members = self._on_host[host] = {}
            if owned is not None:
                owned.add(host)
        elif owned is not None and host not in owned:
            members = self._on_host[host] = dict(members)
            owned.add(host)
        return members

    def _unindex(self, instance):
        if instance.uuid not in self._on_host.get(instance.host, ()):
            return
        on_host = self._members(instance.host)
        del on_host[instance.uuid]
        if not on_host:
            del self._on_host[instance.host]

    # -- queries -------------------------------------------------------------

    def get_node(self, uuid):
        """The node with that uuid, or None."""
        return self.nodes.get(uuid)

    def get_node_by_hostname(self, hostname):
        """The node with exactly that hostname, or None."""
        return self._by_hostname.get(hostname)

    def get_instance(self, uuid):
        return self.instances.get(uuid)

    def instances_on(self, hostname):
        """The instances whose host is exactly ``hostname`` (a list)."""
        return list(self._on_host.get(hostname, {}).values())

    def used(self, hostname):
        """``(VCPU, MEMORY_MB, DISK_GB)`` allocated on the host: by its
        instances, plus what other consumers (migrations) hold there."""
        vcpus = memory = disk = 0
        for inst in self._on_host.get(hostname, {}).values():
            vcpus += inst.used_vcpus
            memory += inst.used_memory_mb
            disk += inst.disk_gb_total
        node = self._by_hostname.get(hostname)
        if node is not None and node.held:
            held = node.held
            vcpus += held.get(allocation.VCPU, 0)
            memory += held.get(allocation.MEMORY_MB, 0)
            disk += held.get(allocation.DISK_GB, 0)
        return vcpus, memory, disk

    def usage(self, hostname):
        """``{resource class: amount}`` allocated on the host, every class
        (PCPU and custom ones too), held amounts included."""
        total = {}
        node = self._by_hostname.get(hostname)
        sources = [inst.resources
                   for inst in self._on_host.get(hostname, {}).values()]
        if node is not None and node.held:
            sources.append(node.held)
        for resources in sources:
            for rc, amount in resources.items():
                total[rc] = total.get(rc, 0) + amount
        return total

    def free(self, hostname):
        """``(vcpus, memory_mb, disk_gb)`` left: capacity minus used.

        :raises KeyError: when no node has that hostname.
        """
        node = self._by_hostname.get(hostname)
        if node is None:
            raise KeyError('no compute node with hostname %r' % hostname)
        vcpus, memory, disk = self.used(hostname)
        return (node.vcpu_capacity - vcpus,
                node.memory_mb_capacity - memory,
                node.disk_gb_capacity - disk)

    def index_groups(self, aggregates):
        """Set :attr:`aggregates` and :attr:`availability_zones` from the
        nodes' own ``aggregates`` and ``availability_zone``.

        :param aggregates: ``{name: hostnames}`` (or pairs) as Nova lists
            them; hosts the model does not hold are left out.
        """
        items = aggregates.items() if isinstance(aggregates, dict) \
            else aggregates
        self.aggregates = {
            name: tuple(h for h in hosts if h in self._by_hostname)
            for name, hosts in items}
        zones = {}
        for node in self.nodes.values():
            if node.availability_zone is not None:
                zones.setdefault(node.availability_zone, []).append(
                    node.hostname)
        self.availability_zones = {zone: tuple(sorted(hosts))
                                   for zone, hosts in zones.items()}

    def set_server_groups(self, groups):
        """Replace :attr:`server_groups` by ``groups`` (an iterable of
        :class:`ServerGroup`)."""
        self.server_groups = {g.uuid: g for g in groups}

    def add_server_group(self, group):
        """Add or replace one server group."""
        self.server_groups = dict(self.server_groups)
        self.server_groups[group.uuid] = group

    def remove_server_group(self, uuid):
        """Drop a server group (None if unknown)."""
        if uuid not in self.server_groups:
            return None
        self.server_groups = dict(self.server_groups)
        return self.server_groups.pop(uuid)

    def __eq__(self, other):
        """Same nodes, instances, aggregates and zones (metadata ignored)."""
        if not isinstance(other, ComputeModel):
            return NotImplemented
        return (self.nodes == other.nodes
                and self.instances == other.instances
                and self.aggregates == other.aggregates
                and self.availability_zones == other.availability_zones
                and self.server_groups == other.server_groups
                and self.excluded == other.excluded)

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable

    # -- snapshots -----------------------------------------------------------

    def copy(self):
        """A copy an audit may mutate: every element is copied."""
        new = ComputeModel()
        new.aggregates = dict(self.aggregates)
        new.availability_zones = dict(self.availability_zones)
        new.server_groups = {u: g.copy()
                             for u, g in self.server_groups.items()}
        nodes = new.nodes
        by_hostname = new._by_hostname
        for uuid, node in self.nodes.items():
            node = node.copy()
            nodes[uuid] = node
            by_hostname[node.hostname] = node
        instances = new.instances
        on_host = new._on_host
        for host, members in self._on_host.items():
            copied = {}
            for uuid, inst in members.items():
                inst = inst.copy()
                copied[uuid] = inst
                instances[uuid] = inst
            on_host[host] = copied
        return self._with_build_facts(new)

    def _with_build_facts(self, new):
        """``new`` with this model's build time, cost, scope and excluded
        hosts (what :meth:`copy` and :meth:`snapshot` both keep)."""
        new.built_at = self.built_at
        new.build_seconds = self.build_seconds
        new.requests = self.requests
        new.requests_by_service = dict(self.requests_by_service)
        new.neutron_queries_estimate = self.neutron_queries_estimate
        new.servers_listing = self.servers_listing
        new.scope = self.scope
        new.excluded = dict(self.excluded)
        new.usage_source = self.usage_source
        new.held_by = dict(self.held_by)
        new.aggregate_zones = dict(self.aggregate_zones)
        new.aggregate_uuids = dict(self.aggregate_uuids)
        new.default_zone = self.default_zone
        new.traits_asked = self.traits_asked
        return new

    def snapshot(self):
        """A model equal to this one that shares its elements and indexes
        (see the module): O(hosts + shards), not O(instances). Neither
        model's later changes show in the other."""
        new = ComputeModel()
        new.nodes = dict(self.nodes)
        new._by_hostname = dict(self._by_hostname)
        new.instances = self.instances.snapshot()
        new._on_host = dict(self._on_host)
        new._owned_hosts = set()
        self._owned_hosts = set()
        new._shared = self._shared = True
        new.aggregates = dict(self.aggregates)
        new.availability_zones = dict(self.availability_zones)
        new.server_groups = dict(self.server_groups)
        return self._with_build_facts(new)

    def age(self, now=None):
        """Seconds since the model was built (None if never built)."""
        if self.built_at is None:
            return None
        return (time.time() if now is None else now) - self.built_at

    def summary(self):
        """Counts, totals and build metadata, as a JSON-friendly dict."""
        vcpus = memory = disk = 0
        for hostname in self._by_hostname:
            used = self.used(hostname)
            vcpus += used[0]
            memory += used[1]
            disk += used[2]
        pcpus = sum(inst.used_pcpus for inst in self.instances.values()) \
            + sum(n.held.get(allocation.PCPU, 0) for n in self.nodes.values())
        reasons = {}
        for entry in self.excluded.values():
            reasons[entry['reason']] = reasons.get(entry['reason'], 0) + 1
        return {
            'nodes': len(self.nodes),
            'instances': len(self.instances),
            'aggregates': len(self.aggregates),
            'availability_zones': len(self.availability_zones),
            'server_groups': len(self.server_groups),
            'nodes_enabled': sum(1 for n in self.nodes.values()
                                 if n.status == 'enabled'),
            'nodes_up': sum(1 for n in self.nodes.values()
                            if n.state == 'up'),
            'vcpu_capacity': sum(n.vcpu_capacity
                                 for n in self.nodes.values()),
            'memory_mb_capacity': sum(n.memory_mb_capacity
                                      for n in self.nodes.values()),
            'disk_gb_capacity': sum(n.disk_gb_capacity
                                    for n in self.nodes.values()),
            'vcpus_used': vcpus,
            'memory_mb_used': memory,
            'disk_gb_used': disk,
            'pcpu_capacity': sum(n.pcpu_capacity
                                 for n in self.nodes.values()),
            'pcpus_used': pcpus,
            'usage_source': self.usage_source,
            'excluded_nodes': len(self.excluded),
            'excluded_by_reason': reasons,
            'excluded': sorted(
                (dict(e) for e in self.excluded.values()),
                key=lambda e: (e['hostname'], e['uuid'])),
            'built_at': self.built_at,
            'build_seconds': self.build_seconds,
            'requests': self.requests,
            'requests_by_service': dict(self.requests_by_service),
            'neutron_queries_estimate': self.neutron_queries_estimate,
            'servers_listing': self.servers_listing,
            'traits_asked': None if self.traits_asked is None
            else sorted(self.traits_asked),
            'scope': self.scope.to_dict() if self.scope is not None
            else None,
        }
