"""A mutable what-if view of which instance runs where, with capacities.

Strategies plan on a :class:`Placement`: every :meth:`Placement.move` checks
that the destination still has room, so the sequence of moves a strategy
records is valid step by step (no intermediate state overcommits a host).
Capacity follows Nova's rule: ``(total - reserved) * allocation_ratio`` per
resource (the element's ``*_capacity`` properties). Demand is what
Placement holds for the instance (``VCPU``, ``MEMORY_MB``, ``DISK_GB``:
no root disk for a volume-backed instance, no ``VCPU`` for a dedicated
one), and what other consumers hold on a node (``held``: migrations)
counts as used. Dedicated CPUs (``PCPU``) are checked on their own.

The same two methods apply the hard rules of Nova's scheduler
(:mod:`decision_engine.strategies.constraints`: server groups, pinned
availability zones) at the placement's current state, so no strategy and
no verified plan contains a move Nova's scheduler would refuse at its
step.
"""

from decision_engine.strategies import constraints as constraints_mod

RESOURCES = ('vcpus', 'memory_mb', 'disk_gb')


class CapacityError(ValueError):
    """A move would overcommit its destination or is otherwise invalid."""


class ConstraintError(CapacityError):
    """A move would break a hard rule of Nova's scheduler."""

    def __init__(self, violation):
        super().__init__(str(violation))
        self.violation = violation


def demand(inst):
    """``(vcpus, memory_mb, disk_gb)`` an instance takes on its host."""
    return (inst.used_vcpus, inst.used_memory_mb, inst.disk_gb_total)


def _held(node):
    held = getattr(node, 'held', None) or {}
    return [held.get('VCPU', 0), held.get('MEMORY_MB', 0),
            held.get('DISK_GB', 0)], held.get('PCPU', 0)


def capacity(node):
    return (node.vcpu_capacity, node.memory_mb_capacity,
            node.disk_gb_capacity)


class Placement:
    """Hosts' capacities and usage, and the host of every instance.

    :param fill: fraction of each host's capacity that :meth:`fits` lets
        instances fill (1.0: all of it; a strategy may keep headroom).
    """

    def __init__(self, context, fill=1.0):
        self.context = context
        self.capacity = {name: capacity(node)
                         for name, node in context.nodes.items()}
        # NOTE: the small epsilon absorbs float noise of ratio x fill.
        self.limit = {name: tuple(c * fill + 1e-9 for c in cap)
                      for name, cap in self.capacity.items()} \
            if fill != 1.0 else self.capacity
        self.used = {}
        self.pcpus_free = {}
        for name, node in context.nodes.items():
            self.used[name], held_pcpus = _held(node)
            self.pcpus_free[name] = getattr(node, 'pcpu_capacity', 0) \
                - held_pcpus
        self.host_of = {}
        self.on_host = {name: set() for name in context.nodes}
        #: the :class:`~decision_engine.strategies.constraints.Checker` of
        #: the context's rules
        self.constraints = constraints_mod.Checker(context)
        for name, insts in context.instances_by_host.items():
            for inst in insts:
                self._add(inst, name)

    def _add(self, inst, host):
        for i, amount in enumerate(demand(inst)):
            self.used[host][i] += amount
        self.pcpus_free[host] -= inst.used_pcpus
        self.host_of[inst.uuid] = host
        self.on_host[host].add(inst.uuid)

    def _remove(self, inst):
        host = self.host_of.pop(inst.uuid)
        for i, amount in enumerate(demand(inst)):
            self.used[host][i] -= amount
        self.pcpus_free[host] += inst.used_pcpus
        self.on_host[host].discard(inst.uuid)
        return host

    def free(self, host):
        return tuple(c - u for c, u in zip(self.capacity[host],
                                           self.used[host]))

    def has_room(self, inst, host):
        """Whether ``host`` has room for ``inst`` (within its fill limit;
        capacity only, no rule)."""
        used = self.used[host]
        limit = self.limit[host]
        vcpus, memory, disk = demand(inst)
        return (used[0] + vcpus <= limit[0]
                and used[1] + memory <= limit[1]
                and used[2] + disk <= limit[2]
                and inst.used_pcpus <= self.pcpus_free[host])

    def fits(self, inst, host):
        """Whether ``inst`` can move to ``host``: room within its fill
        limit, and no hard rule of Nova's scheduler against it."""
        if self.host_of.get(inst.uuid) == host:
            return False
        if not self.has_room(inst, host):
            return False
        constraints = self.constraints
        return not constraints.active or \
            constraints.hard(inst, host, self) is None

    def violation(self, inst, host):
        """The hard rule refusing the move, or None."""
        if not self.constraints.active:
            return None
        return self.constraints.hard(inst, host, self)

    def soft_violation(self, inst, host):
        """The soft rule advising against the move, or None."""
        if not self.constraints.active:
            return None
        return self.constraints.soft(inst, host, self)

    def move(self, inst, dest):
        """Move ``inst`` to ``dest``.

        :raises ConstraintError: if a hard rule refuses it.
        :raises CapacityError: if it is otherwise invalid.
        """
        source = self.host_of.get(inst.uuid)
        if source == dest:
            raise CapacityError('instance %s is already on %s'
                                % (inst.uuid, dest))
        if not self.has_room(inst, dest):
            raise CapacityError(
                'moving instance %s (%s) to %s would overcommit it (free %s)'
                % (inst.uuid, _fmt(demand(inst)), dest,
                   _fmt(self.free(dest))))
        violation = self.violation(inst, dest)
        if violation is not None:
            raise ConstraintError(violation)
        self._remove(inst)
        self._add(inst, dest)
        return source

    def move_back(self, inst, source):
        """Undo :meth:`move` (no capacity check: it was there before)."""
        self._remove(inst)
        self._add(inst, source)

    def is_empty(self, host):
        return not self.on_host[host]

    def load(self, host):
        """Fraction of the host's tightest resource in use (0 for no
        capacity at all)."""
        fractions = [u / c for u, c in zip(self.used[host],
                                           self.capacity[host]) if c > 0]
        return max(fractions) if fractions else 0.0

    def utilization(self, hosts):
        """Mean used/capacity, in percent, per resource over ``hosts``."""
        hosts = list(hosts)
        result = {}
        for i, res in enumerate(RESOURCES):
            shares = [self.used[h][i] / self.capacity[h][i] * 100.0
                      for h in hosts if self.capacity[h][i] > 0]
            result[res] = round(sum(shares) / len(shares), 2) \
                if shares else 0.0
        return result

    def copy(self):
        other = Placement.__new__(Placement)
        other.context = self.context
        other.capacity = self.capacity
        other.limit = self.limit
        other.used = {h: list(u) for h, u in self.used.items()}
        other.pcpus_free = dict(self.pcpus_free)
        other.constraints = self.constraints
        other.host_of = dict(self.host_of)
        other.on_host = {h: set(s) for h, s in self.on_host.items()}
        return other


def _fmt(amounts):
    return '%d vCPU, %d MB RAM, %d GB disk' % tuple(amounts)
