"""Measured load a strategy may need, and what happens when it is missing.

A strategy declares the metrics it needs in ``required_metrics`` (keys of
:data:`HOST_METRICS` and :data:`INSTANCE_METRICS`). Before the strategy
runs, the audit has them gathered for the whole scope (by a datasource, see
:mod:`decision_engine.datasources`) into a :class:`Measurements`, and
:func:`apply_policy` decides what a missing value means:

``fail`` (the default of every strategy's ``missing_metrics`` parameter)
    :class:`MissingMetrics`, naming each metric and the hosts or instances
    that lack it: a strategy never reads a missing value as 0.
``skip``
    a host without its values is neither a source nor a destination; an
    instance without its values is not moved. The plan's message and the
    ``hosts_skipped`` / ``instances_skipped`` indicators say how many.

Which elements need values: every node in scope, and every running
(``active``) instance the strategy may move
(:meth:`StrategyContext.can_move`). Instances that are not running have no
CPU use to measure (Ceilometer polls running domains only); the workload
strategies leave them where they are. Units are those of
the metric keys below; values are averages over the datasource's window.
"""

# NOTE: in common, below both the datasources that measure these metrics
# and the strategies that read them: a datasource needs the keys and
# Measurements without importing the strategies.

#: Host metrics: percent of the host's physical CPUs busy (0-100), and RAM
#: in use in MiB.
HOST_CPU = 'host_cpu_usage'
HOST_RAM = 'host_ram_usage'
#: Instance metrics: CPU cores in use (1.0 = one core busy), and RAM in use
#: in MiB.
INSTANCE_CPU = 'instance_cpu_usage'
INSTANCE_RAM = 'instance_ram_usage'

HOST_METRICS = {
    HOST_CPU: 'percent of the physical CPUs busy',
    HOST_RAM: 'MiB of RAM in use',
}
INSTANCE_METRICS = {
    INSTANCE_CPU: 'CPU cores in use',
    INSTANCE_RAM: 'MiB of RAM in use',
}
ALL_METRICS = dict(HOST_METRICS, **INSTANCE_METRICS)

#: Instance states whose load is measured.
MEASURED_STATES = frozenset(['active'])

FAIL = 'fail'
SKIP = 'skip'

#: The ``missing_metrics`` parameter, shared by every strategy that needs
#: metrics.
MISSING_METRICS_PARAMETER = {
    'enum': [FAIL, SKIP], 'default': FAIL,
    'description': 'What to do when the datasource has no value of a '
                   'required metric for some hosts or instances of the '
                   'scope: "fail" the audit naming them, or "skip" those '
                   'hosts (no source, no destination) and instances (not '
                   'moved); the plan then says how many were skipped.'}

# NOTE: an error names at most this many elements per metric, then counts.
_NAMED = 10


class MissingMetrics(Exception):
    """Required metrics lack values for some elements of the scope.

    :param missing: ``{metric: sorted names lacking it}``.
    """

    def __init__(self, missing, every=None):
        self.missing = missing
        parts = []
        for metric, names in sorted(missing.items()):
            kind = 'host' if metric in HOST_METRICS else 'instance'
            shown = ', '.join(names[:_NAMED])
            more = len(names) - _NAMED
            parts.append('%s for %d %s(s): %s%s' % (
                metric, len(names), kind, shown,
                ' and %d more' % more if more > 0 else ''))
        super().__init__('metrics missing%s: %s' % (
            ' for %s, nothing measured to decide on' % every if every
            else '', '; '.join(parts)))


class Measurements:
    """Values of metrics, by metric then host name or instance uuid.

    :param values: ``{metric: {name: float}}``; a name absent from a metric's
        dict has no value (never 0).
    :param window: the averaging window in seconds, for messages.
    :param source: what produced them (e.g. ``prometheus``).
    :param at: the time (UNIX seconds) the window ends at.
    """

    def __init__(self, values=None, window=None, source=None, at=None):
        self.values = {m: dict(v) for m, v in (values or {}).items()}
        self.window = window
        self.source = source
        self.at = at
        self.skipped_hosts = frozenset()
        self.skipped_instances = frozenset()

    def get(self, metric, name):
        """The value, or None when there is none (it never defaults)."""
        return self.values.get(metric, {}).get(name)

    def host(self, metric, hostname):
        value = self.get(metric, hostname)
        if value is None or hostname in self.skipped_hosts:
            raise KeyError('no %s for host %s' % (metric, hostname))
        return value

    def instance(self, metric, uuid):
        value = self.get(metric, uuid)
        if value is None or uuid in self.skipped_instances:
            raise KeyError('no %s for instance %s' % (metric, uuid))
        return value


def measurable(context, inst):
    """Whether ``inst`` needs (and may be moved on) measured values."""
    return (inst.state or '').lower() in MEASURED_STATES and \
        context.can_move(inst)


def needed(context, required):
    """``{metric: [names]}``: who needs each of ``required`` in scope."""
    hosts = sorted(context.nodes)
    instances = sorted(u for u, inst in context.instances.items()
                       if measurable(context, inst))
    return {m: hosts if m in HOST_METRICS else instances
            for m in required}


def missing(measurements, wanted):
    """``{metric: sorted names without a value}`` (only non-empty ones)."""
    result = {}
    for metric, names in wanted.items():
        have = measurements.values.get(metric, {})
        absent = sorted(n for n in names if have.get(n) is None)
        if absent:
            result[metric] = absent
    return result


def apply_policy(context, measurements, required, policy):
    """Check ``measurements`` cover what ``required`` needs in ``context``.

    With ``skip``, the hosts and instances lacking a value are recorded in
    ``measurements.skipped_hosts`` / ``skipped_instances``.

    :raises MissingMetrics: with ``fail``, when anything lacks a value; with
        either policy, when no movable instance at all has its values (a
        plan over zero measured instances would look like a success).
    """
    wanted = needed(context, required)
    absent = missing(measurements, wanted)
    if absent and policy != SKIP:
        raise MissingMetrics(absent)
    hosts, instances = set(), set()
    for metric, names in absent.items():
        (hosts if metric in HOST_METRICS else instances).update(names)
    measurements.skipped_hosts = frozenset(hosts)
    measurements.skipped_instances = frozenset(instances)
    movable = [u for u, inst in context.instances.items()
               if measurable(context, inst)]
    if any(m in INSTANCE_METRICS for m in required) and movable and \
            len(instances) == len(movable):
        raise MissingMetrics(absent, 'every movable instance')
    if len(hosts) == len(context.nodes) and context.nodes:
        raise MissingMetrics(absent, 'every host')
    return measurements


def skipped_note(measurements):
    """``'; skipped N host(s) and M instance(s) without metrics'`` or ''."""
    h = len(measurements.skipped_hosts)
    i = len(measurements.skipped_instances)
    if not h and not i:
        return ''
    return '; skipped %d host(s) and %d instance(s) without metrics' % (h, i)
