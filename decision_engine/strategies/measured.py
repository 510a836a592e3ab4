"""Measured load of hosts as a strategy plans moves on it.

:class:`MeasuredLoad` starts from the hosts' measured use (metrics
``host_cpu_usage`` / ``host_ram_usage``) and moves the instances' measured
use (``instance_cpu_usage`` / ``instance_ram_usage``) with every planned
migration, so a strategy sees the load each host would have after its
plan. CPU is counted in cores (a host's ``vcpus`` are its physical
cores), RAM in MiB (a host's ``memory_mb``). Hosts and instances the
missing-metrics policy skipped are not usable (see :meth:`usable_host`,
:meth:`measured`).
"""

from decision_engine.common import measurements as m

CPU = 'cpu'
RAM = 'ram'
KINDS = (CPU, RAM)
HOST_METRIC = {CPU: m.HOST_CPU, RAM: m.HOST_RAM}
INSTANCE_METRIC = {CPU: m.INSTANCE_CPU, RAM: m.INSTANCE_RAM}

#: The ``metric`` parameter of strategies balancing one kind of load.
METRIC_PARAMETER = {
    'enum': list(KINDS), 'default': CPU,
    'description': 'Which measured load to act on: "cpu" (busy physical '
                   'cores) or "ram" (RAM in use).'}


def required(kinds):
    return tuple(HOST_METRIC[k] for k in kinds) + tuple(
        INSTANCE_METRIC[k] for k in kinds)


class MeasuredLoad:
    """Per host and kind: used and total amounts, updated by :meth:`move`.

    :param measurements: the audit's
        :class:`~decision_engine.common.measurements.Measurements`, already
        checked by :func:`~decision_engine.common.measurements.apply_policy`.
    """

    def __init__(self, context, measurements, kinds=KINDS):
        self.context = context
        self.measurements = measurements
        self.kinds = tuple(kinds)
        self.total = {}
        self.used = {}
        self.usage = {}
        skipped_hosts = measurements.skipped_hosts
        for h, node in context.nodes.items():
            if h in skipped_hosts:
                continue
            total = {CPU: float(node.vcpus), RAM: float(node.memory_mb)}
            used = {}
            for k in self.kinds:
                value = measurements.host(HOST_METRIC[k], h)
                used[k] = value / 100.0 * total[k] if k == CPU else value
            self.total[h] = total
            self.used[h] = used
        skipped = measurements.skipped_instances
        for u, inst in context.instances.items():
            if u in skipped or not m.measurable(context, inst):
                continue
            self.usage[u] = {k: measurements.instance(INSTANCE_METRIC[k], u)
                             for k in self.kinds}

    def usable_host(self, hostname):
        return hostname in self.used

    def measured(self, inst):
        """Whether ``inst`` may be moved: movable, running, measured."""
        return inst.uuid in self.usage

    def fraction(self, host, kind):
        total = self.total[host][kind]
        return self.used[host][kind] / total if total > 0 else 0.0

    def fraction_after(self, host, kind, delta):
        total = self.total[host][kind]
        return (self.used[host][kind] + delta) / total if total > 0 \
            else 0.0

    def load(self, host):
        """The tightest measured fraction of the host."""
        return max(self.fraction(host, k) for k in self.kinds)

    def move(self, inst, source, dest):
        for k in self.kinds:
            amount = self.usage[inst.uuid][k]
            self.used[source][k] -= amount
            self.used[dest][k] += amount

    def percent(self, value):
        return round(value * 100.0, 2)
