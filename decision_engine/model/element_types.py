"""The elements of the compute model: compute nodes and instances.

:mod:`decision_engine.model.elements` holds the model itself and the
semantics of both (snapshots, usage accounting, excluded hosts).
"""

from decision_engine.model import allocation
from decision_engine.model import traits as traits_mod

NODE_FIELDS = (
    'uuid', 'hostname', 'status', 'state', 'disabled_reason',
    'vcpus', 'vcpus_reserved', 'vcpu_allocation_ratio',
    'memory_mb', 'memory_mb_reserved', 'memory_allocation_ratio',
    'disk_gb', 'disk_gb_reserved', 'disk_allocation_ratio',
    'pcpus', 'pcpus_reserved', 'pcpu_allocation_ratio', 'held',
    'aggregates', 'availability_zone', 'power_state', 'power_failure',
    'traits',
)

INSTANCE_FIELDS = (
    'uuid', 'name', 'state', 'project_id', 'host', 'vcpus', 'memory_mb',
    'disk_gb', 'ephemeral_gb', 'swap_mb', 'metadata', 'locked', 'created',
    'volume_backed', 'resources', 'availability_zone', 'required_traits',
    'forbidden_traits',
)

SERVER_GROUP_FIELDS = ('uuid', 'name', 'policy', 'rules', 'members',
                       'project_id')

#: Nova's server group policies (microversion 2.64: one per group)
AFFINITY = 'affinity'
ANTI_AFFINITY = 'anti-affinity'
SOFT_AFFINITY = 'soft-affinity'
SOFT_ANTI_AFFINITY = 'soft-anti-affinity'
POLICIES = (AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY)


def server_group_problem(rules, members):
    """What is wrong with a server group's ``rules`` and ``members`` as
    Nova gives them (a listing or a notification), or None."""
    if not isinstance(members, list) or not all(
            isinstance(m, str) for m in members):
        return "'members' is not a list of uuids"
    if not isinstance(rules, dict):
        return "'rules' is not an object"
    limit = rules.get('max_server_per_host')
    if limit is not None:
        try:
            positive = int(limit) >= 1
        except (TypeError, ValueError):
            positive = False
        if not positive:
            return ('rule max_server_per_host %r is not a positive integer'
                    % (limit,))
    return None


#: why a hypervisor is kept out of the model (ComputeModel.excluded)
NO_RESOURCE_PROVIDER = 'no Placement resource provider'
IRONIC_HYPERVISOR = 'ironic hypervisor (a bare metal node)'

_NO_RESOURCES: dict[str, int] = {}


class _Element:
    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _values(self):
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable

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
    ``traits`` is the frozenset of its resource provider's traits (read
    from Placement), or None when not known.
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
                 power_state=None, power_failure=False, traits=None):
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
        self.traits = None if traits is None else frozenset(traits)

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
        data['traits'] = None if self.traits is None \
            else sorted(self.traits)
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
    possibly shared between instances). ``availability_zone`` is the zone
    the instance is pinned to (it never leaves it: Nova's
    AvailabilityZoneFilter), or None when it may go to any zone.
    ``required_traits`` and ``forbidden_traits`` are frozensets of the
    traits its flavor asks its host's resource provider to have or not to
    have (``trait:NAME=required|forbidden``; derived from ``extra_specs``
    when not given, see :mod:`decision_engine.model.traits`).
    """

    __slots__ = INSTANCE_FIELDS
    _fields = INSTANCE_FIELDS

    def __init__(self, uuid, name, state, project_id, host, vcpus=0,
                 memory_mb=0, disk_gb=0, ephemeral_gb=0, swap_mb=0,
                 metadata=None, locked=False, created=None,
                 volume_backed=False, resources=None, extra_specs=None,
                 availability_zone=None, required_traits=None,
                 forbidden_traits=None):
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
        self.availability_zone = availability_zone
        if required_traits is None or forbidden_traits is None:
            required, forbidden = traits_mod.flavor_traits(extra_specs)
            if required_traits is None:
                required_traits = required
            if forbidden_traits is None:
                forbidden_traits = forbidden
        self.required_traits = frozenset(required_traits)
        self.forbidden_traits = frozenset(forbidden_traits)

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
        data['required_traits'] = sorted(self.required_traits)
        data['forbidden_traits'] = sorted(self.forbidden_traits)
        return data


class ServerGroup(_Element):
    """A Nova server group (microversion 2.64 shape).

    ``policy`` is one of :data:`POLICIES`; ``rules`` is ``{name: value}``
    (Nova knows ``max_server_per_host``, for ``anti-affinity`` only);
    ``members`` a tuple of instance uuids (members Nova lists that are not
    in the model are kept: they are elsewhere, not gone).
    """

    __slots__ = SERVER_GROUP_FIELDS
    _fields = SERVER_GROUP_FIELDS

    def __init__(self, uuid, name, policy, rules=None, members=(),
                 project_id=None):
        self.uuid = uuid
        self.name = name
        self.policy = policy
        self.rules = dict(rules or {})
        self.members = tuple(members)
        self.project_id = project_id

    @property
    def max_server_per_host(self):
        """The ``max_server_per_host`` rule as an int, or None."""
        value = self.rules.get('max_server_per_host')
        return None if value is None else int(value)

    def copy(self):
        new = _Element.copy(self)
        new.rules = dict(self.rules)
        return new

    def to_dict(self):
        data = {f: getattr(self, f) for f in SERVER_GROUP_FIELDS}
        data['rules'] = dict(self.rules)
        data['members'] = list(self.members)
        return data
