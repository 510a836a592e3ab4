"""What a strategy sees: the scoped part of a model, as plain lists.

The audit resolves its scope against a model snapshot into a
:class:`StrategyContext` (see :func:`decision_engine.audit.scope.resolve`).
Strategies read nodes and instances only through it, so they depend on the
element attributes documented in :mod:`decision_engine.model.elements` and
on nothing else of the model.
"""

from decision_engine.strategies import constraints

# Instance states a live migration can move, and those a cold migration can:
# Nova's compute API allows os-migrateLive from the ACTIVE and PAUSED
# vm_states, and migrate (a resize to the same flavor) from ACTIVE and
# STOPPED (shown as SHUTOFF) only; a SUSPENDED server cannot move at all.
LIVE_MIGRATABLE_STATES = frozenset(['active', 'paused'])
COLD_MIGRATABLE_STATES = frozenset(['shutoff', 'stopped'])


class StrategyContext:
    """The scoped problem handed to a strategy.

    :param nodes: the compute nodes in scope (elements with ``hostname``,
        ``status``, ``state``, capacities, ``power_state``...).
    :param instances: every instance hosted on those nodes (instances out of
        scope still use capacity, so they are all here).
    :param movable: predicate telling whether the audit's scope lets an
        instance be moved (project filter, exclusions).
    :param server_groups: ``{uuid: group}`` of Nova's server groups
        (``uuid``, ``name``, ``policy``, ``rules``, ``members``), for the
        rules of :mod:`decision_engine.strategies.constraints`.
    :param opt_out_key: the metadata key by which an operator opts an
        instance out of every move (``[audit] opt_out_metadata_key``;
        None: the default key, empty: no opt-out).
    """

    def __init__(self, nodes, instances, movable=None, server_groups=None,
                 opt_out_key=None):
        self.nodes = {node.hostname: node for node in nodes}
        self.instances = {}
        self.instances_by_host = {name: [] for name in self.nodes}
        for inst in instances:
            if inst.host in self.nodes:
                self.instances[inst.uuid] = inst
                self.instances_by_host[inst.host].append(inst)
        for listed in self.instances_by_host.values():
            listed.sort(key=lambda i: i.uuid)
        self._scope_allows = movable or (lambda inst: True)
        self.server_groups = dict(server_groups or {})
        self.opt_out_key = constraints.DEFAULT_OPT_OUT_KEY \
            if opt_out_key is None else opt_out_key
        #: :class:`~decision_engine.common.measurements.Measurements` the
        #: audit gathered for a strategy that needs metrics, else None.
        self.metrics = None

    def can_move(self, inst):
        """Whether the strategy may migrate ``inst`` at all."""
        return self.why_not_movable(inst) is None

    def why_not_movable(self, inst):
        """Why ``inst`` may not be migrated at all (one line), or None
        when it may."""
        if getattr(inst, 'locked', False):
            return 'locked'
        if constraints.opted_out(inst, self.opt_out_key):
            return ('opted out by its metadata %s=%s'
                    % (self.opt_out_key, inst.metadata[self.opt_out_key]))
        if migration_type(inst) is None:
            return 'state %s cannot be migrated' % inst.state
        if not self._scope_allows(inst):
            return 'excluded by the audit scope'
        return None

    def is_target(self, hostname):
        """Whether new instances may land on ``hostname``."""
        node = self.nodes[hostname]
        return (node.status == 'enabled' and node.state == 'up'
                and node.power_state != 'power off'
                and not getattr(node, 'power_failure', False))


def migration_type(inst):
    """``'live'``, ``'cold'``, or None when the state allows no move."""
    state = (inst.state or '').lower()
    if state in LIVE_MIGRATABLE_STATES:
        return 'live'
    if state in COLD_MIGRATABLE_STATES:
        return 'cold'
    return None
