"""The light elements of the compute data model and the model itself.

Elements use ``__slots__``: the memory target is a model of 5,000 compute
nodes and 100,000 instances in well under 400 MB of resident memory.

Snapshot semantics
------------------
The collector keeps the current :class:`ComputeModel` and treats it as
immutable: nobody mutates it once it is published. Callers (audits) get
:meth:`ComputeModel.copy`, a copy whose elements are copies too, so an audit
may change nodes and move instances (:meth:`ComputeModel.move_instance`)
without anyone else seeing it.

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

NODE_FIELDS = (
    'uuid', 'hostname', 'status', 'state', 'disabled_reason',
    'vcpus', 'vcpus_reserved', 'vcpu_allocation_ratio',
    'memory_mb', 'memory_mb_reserved', 'memory_allocation_ratio',
    'disk_gb', 'disk_gb_reserved', 'disk_allocation_ratio',
    'pcpus', 'pcpus_reserved', 'pcpu_allocation_ratio', 'held',
    'aggregates', 'availability_zone', 'power_state', 'power_failure',
)

INSTANCE_FIELDS = (
    'uuid', 'name', 'state', 'project_id', 'host', 'vcpus', 'memory_mb',
    'disk_gb', 'ephemeral_gb', 'swap_mb', 'metadata', 'locked', 'created',
    'volume_backed', 'resources',
)

#: why a hypervisor is kept out of the model (ComputeModel.excluded)
NO_RESOURCE_PROVIDER = 'no Placement resource provider'
IRONIC_HYPERVISOR = 'ironic hypervisor (a bare metal node)'

_NO_RESOURCES = {}


class _Element:
    __slots__ = ()
    _fields = ()

    def _values(self):
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__, ', '.join(
            '%s=%r' % (f, getattr(self, f)) for f in self._fields))

    def copy(self):
        """A copy of the element (mutable containers copied too)."""
        new = object.__new__(type(self))
        for f in self._fields:
            setattr(new, f, getattr(self, f))
        return new


class ComputeNode(_Element):
    """A compute node (hypervisor) with its Placement capacity.

    ``status`` is ``'enabled'`` or ``'disabled'`` (the nova-compute
    service), ``state`` is ``'up'`` or ``'down'``; ``aggregates`` is a tuple
    of aggregate names; ``power_state`` is None (unknown), ``'power on'`` or
    ``'power off'``. Amounts come from the node's Placement inventories
    (VCPU, MEMORY_MB, DISK_GB, PCPU): total, reserved and allocation
    ratio. ``held`` is ``{resource class: amount}`` other consumers than
    the node's instances hold on it (migrations; read from Placement).
    """

    __slots__ = NODE_FIELDS
    _fields = NODE_FIELDS

    def __init__(self, uuid, hostname, status='enabled', state='up',
                 disabled_reason=None, vcpus=0, vcpus_reserved=0,
                 vcpu_allocation_ratio=1.0, memory_mb=0,
                 memory_mb_reserved=0, memory_allocation_ratio=1.0,
                 disk_gb=0, disk_gb_reserved=0, disk_allocation_ratio=1.0,
                 pcpus=0, pcpus_reserved=0, pcpu_allocation_ratio=1.0,
                 held=None, aggregates=(), availability_zone=None,
                 power_state=None, power_failure=False):
        self.uuid = uuid
        self.hostname = hostname
        self.status = status
        self.state = state
        self.disabled_reason = disabled_reason
        self.vcpus = vcpus
        self.vcpus_reserved = vcpus_reserved
        self.vcpu_allocation_ratio = vcpu_allocation_ratio
        self.memory_mb = memory_mb
        self.memory_mb_reserved = memory_mb_reserved
        self.memory_allocation_ratio = memory_allocation_ratio
        self.disk_gb = disk_gb
        self.disk_gb_reserved = disk_gb_reserved
        self.disk_allocation_ratio = disk_allocation_ratio
        self.pcpus = pcpus
        self.pcpus_reserved = pcpus_reserved
        self.pcpu_allocation_ratio = pcpu_allocation_ratio
        self.held = _NO_RESOURCES if not held else held
        self.aggregates = tuple(aggregates)
        self.availability_zone = availability_zone
        self.power_state = power_state
        self.power_failure = power_failure

    @property
    def vcpu_capacity(self):
        """Schedulable VCPUs: (total - reserved) * allocation ratio."""
        return (self.vcpus - self.vcpus_reserved) * self.vcpu_allocation_ratio

    @property
    def memory_mb_capacity(self):
        return ((self.memory_mb - self.memory_mb_reserved)
                * self.memory_allocation_ratio)

    @property
    def disk_gb_capacity(self):
        return ((self.disk_gb - self.disk_gb_reserved)
                * self.disk_allocation_ratio)

    @property
    def pcpu_capacity(self):
        """Dedicated CPUs: (total - reserved) * ratio (Nova keeps 1.0)."""
        return (self.pcpus - self.pcpus_reserved) * self.pcpu_allocation_ratio

    def to_dict(self):
        data = {f: getattr(self, f) for f in NODE_FIELDS}
        data['aggregates'] = list(self.aggregates)
        data['held'] = dict(self.held)
        return data


class Instance(_Element):
    """A server, with its flavor's amounts and what Placement holds for it.

    ``state`` is Nova's vm_state (``'active'``, ``'stopped'``, ...),
    ``host`` the hostname of its compute node (None when unscheduled),
    ``created`` Nova's ISO 8601 creation time as given by the API.
    ``vcpus`` .. ``swap_mb`` are the flavor's; ``volume_backed`` is True
    when the server boots from a volume (the API shows ``image: ""``);
    ``resources`` is ``{resource class: amount}`` allocated on the host
    (derived from the flavor by Nova's rules when not given; read-only,
    possibly shared between instances).
    """

    __slots__ = INSTANCE_FIELDS
    _fields = INSTANCE_FIELDS

    def __init__(self, uuid, name, state, project_id, host, vcpus=0,
                 memory_mb=0, disk_gb=0, ephemeral_gb=0, swap_mb=0,
                 metadata=None, locked=False, created=None,
                 volume_backed=False, resources=None, extra_specs=None):
        self.uuid = uuid
        self.name = name
        self.state = state
        self.project_id = project_id
        self.host = host
        self.vcpus = vcpus
        self.memory_mb = memory_mb
        self.disk_gb = disk_gb
        self.ephemeral_gb = ephemeral_gb
        self.swap_mb = swap_mb
        self.metadata = {} if metadata is None else metadata
        self.locked = locked
        self.created = created
        self.volume_backed = volume_backed
        if resources is None:
            resources = allocation.flavor_resources(
                vcpus, memory_mb, disk_gb, ephemeral_gb, swap_mb,
                extra_specs, volume_backed)
        self.resources = resources

    @property
    def used_vcpus(self):
        """Shared CPUs (``VCPU``) Placement holds for the instance."""
        return self.resources.get(allocation.VCPU, 0)

    @property
    def used_pcpus(self):
        """Dedicated CPUs (``PCPU``) Placement holds for the instance."""
        return self.resources.get(allocation.PCPU, 0)

    @property
    def used_memory_mb(self):
        return self.resources.get(allocation.MEMORY_MB, 0)

    @property
    def disk_gb_total(self):
        """Local disk (``DISK_GB``) Placement holds: ephemeral + swap
        rounded up to whole GiB + root unless volume-backed."""
        return self.resources.get(allocation.DISK_GB, 0)

    def copy(self):
        new = _Element.copy(self)
        new.metadata = dict(self.metadata)
        return new

    def to_dict(self):
        data = {f: getattr(self, f) for f in INSTANCE_FIELDS}
        data['metadata'] = dict(self.metadata)
        data['resources'] = dict(self.resources)
        return data


class ComputeModel:
    """Compute nodes and instances, indexed by uuid and by hostname.

    :attr nodes: ``{uuid: ComputeNode}``
    :attr instances: ``{uuid: Instance}``
    :attr aggregates: ``{aggregate name: tuple of hostnames}``
    :attr availability_zones: ``{zone name: tuple of hostnames}``
    :attr built_at: epoch seconds when the build finished (None if the
        model was not built by the builder)
    :attr build_seconds: wall time of the build
    :attr requests: HTTP requests the build made (retries included)
    :attr scope: the :class:`~decision_engine.model.scope.Scope` (or None
        for the whole cloud) the model was built for
    :attr excluded: ``{hypervisor uuid: {'uuid', 'hostname', 'reason',
        'hypervisor_type'}}`` of the hypervisors kept out of the model
    :attr usage_source: ``'flavors'`` or ``'placement'``: where the
        instances' ``resources`` came from
    """

    def __init__(self):
        self.nodes = {}
        self.instances = {}
        self.aggregates = {}
        self.availability_zones = {}
        self._by_hostname = {}
        self._on_host = {}
        self.built_at = None
        self.build_seconds = None
        self.requests = 0
        self.scope = None
        self.excluded = {}
        self.usage_source = 'flavors'

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

    def add_instance(self, instance):
        """Add (or replace) an instance and index it by its host."""
        old = self.instances.get(instance.uuid)
        if old is not None:
            self._unindex(old)
        self.instances[instance.uuid] = instance
        self._on_host.setdefault(instance.host, {})[instance.uuid] = \
            instance

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
        instance.host = hostname
        self._on_host.setdefault(hostname, {})[uuid] = instance

    def _unindex(self, instance):
        on_host = self._on_host.get(instance.host)
        if on_host is not None:
            on_host.pop(instance.uuid, None)
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

    def __eq__(self, other):
        """Same nodes, instances, aggregates and zones (metadata ignored)."""
        if not isinstance(other, ComputeModel):
            return NotImplemented
        return (self.nodes == other.nodes
                and self.instances == other.instances
                and self.aggregates == other.aggregates
                and self.availability_zones == other.availability_zones
                and self.excluded == other.excluded)

    __hash__ = None

    # -- snapshots -----------------------------------------------------------

    def copy(self):
        """A copy an audit may mutate: every element is copied."""
        new = ComputeModel()
        new.aggregates = dict(self.aggregates)
        new.availability_zones = dict(self.availability_zones)
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
        new.built_at = self.built_at
        new.build_seconds = self.build_seconds
        new.requests = self.requests
        new.scope = self.scope
        new.excluded = dict(self.excluded)
        new.usage_source = self.usage_source
        return new

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
            'scope': self.scope.to_dict() if self.scope is not None
            else None,
        }
