"""``host_maintenance``: empty one host so it can be serviced.

The host's compute service is disabled first, then each instance migrates
to the backup host if one is named and it fits, otherwise to the fullest
enabled, up, powered-on host it fits on (hosts already running instances
before empty ones) that Nova's scheduler rules allow (server groups,
pinned zones: :mod:`~decision_engine.strategies.constraints`). If any
instance cannot be moved or placed, there is no plan: the strategy fails
with a message listing every instance that blocks the evacuation and why
(naming the rule and the hosts it refuses when a rule of Nova's
scheduler, not room, is what keeps an instance in place).
"""

from decision_engine.strategies import actions
from decision_engine.strategies import base
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import packing
from decision_engine.strategies import placement as placement_mod


class HostMaintenance(base.Strategy):
    name = 'host_maintenance'
    goal = 'cluster_maintaining'
    description = ('Migrate every instance off one host (to a backup host '
                   'first when given) and disable its compute service.')
    parameters_schema = {
        'type': 'object',
        'properties': {
            'maintenance_node': {
                'type': 'string', 'minLength': 1, 'maxLength': 255,
                'description': 'Hostname of the host to empty.'},
            'backup_node': {
                'type': 'string', 'minLength': 1, 'maxLength': 255,
                'description': 'Hostname to move instances to first.'},
        },
        'required': ['maintenance_node'],
        'additionalProperties': False,
    }
    indicators = (
        ('instances_migrated', 'instances', 'Instances moved off the host.'),
        ('destination_hosts', 'hosts', 'Hosts receiving instances.'),
    )

    def execute(self, context, params):
        host = params['maintenance_node']
        backup = params.get('backup_node')
        if host not in context.nodes:
            raise base.StrategyError(
                'cannot evacuate %s: no such compute host in the audit '
                'scope' % host)
        if backup is not None:
            if backup == host:
                raise base.StrategyError('backup_node must differ from '
                                         'maintenance_node (%s)' % host)
            if backup not in context.nodes:
                raise base.StrategyError('backup host %s is not in the '
                                         'audit scope' % backup)
            if not context.is_target(backup):
                raise base.StrategyError(
                    'backup host %s cannot take instances (it must be '
                    'enabled, up and powered on)' % backup)
        placement = placement_mod.Placement(context)
        insts = [context.instances[u] for u in sorted(placement.on_host[host])]
        blocked = [_why_not(context, i) for i in insts
                   if not context.can_move(i)]
        if blocked:
            raise base.StrategyError(
                'cannot evacuate %s: %d instance(s) cannot be moved: %s'
                % (host, len(blocked), '; '.join(blocked)))
        dests = [h for h in context.nodes
                 if h != host and context.is_target(h)]
        if insts and not dests:
            raise base.StrategyError(
                'cannot evacuate %s: no other enabled, up, powered-on host '
                'in the audit scope' % host)
        # Prefer hosts already running instances so no idle host wakes up.
        prefer = ([backup] if backup else []) + sorted(
            (h for h in dests if not placement.is_empty(h)),
            key=lambda h: (-placement.load(h), h))
        before = placement.copy()
        moves = packing.evacuate(placement, insts, dests, prefer=prefer)
        if moves is None:
            blocked = packing.blocked_by_rules(before, insts, dests)
            if blocked:
                raise base.StrategyError(
                    'cannot evacuate %s: %d instance(s) have room elsewhere '
                    'but Nova\'s scheduler rules refuse every such host: %s'
                    % (host, len(blocked), '; '.join(
                        '%s (%s): %s' % (i.uuid, i.name, why)
                        for i, why in blocked)))
            raise base.StrategyError(_no_room(host, before, insts, dests))
        plan = []
        if context.nodes[host].status == 'enabled':
            plan.append(actions.change_service(
                host, 'disabled', '%s: host maintenance'
                % actions.DISABLED_REASON_PREFIX))
        for inst, source, dest in moves:
            plan.append(actions.migrate(inst, source, dest,
                                        context_mod.migration_type(inst)))
        return base.Solution(
            actions=plan,
            indicators={'instances_migrated': len(moves),
                        'destination_hosts': len({d for _, _, d in moves})},
            message='%s can be emptied with %d migration(s)'
                    % (host, len(moves)))


def _why_not(context, inst):
    return '%s (%s): %s' % (inst.uuid, inst.name,
                            context.why_not_movable(inst))


def _no_room(host, placement, insts, dests):
    need = [sum(placement_mod.demand(i)[k] for i in insts) for k in range(3)]
    free = [sum(max(0, placement.free(d)[k]) for d in dests)
            for k in range(3)]
    biggest = max(insts, key=placement_mod.demand)
    largest_hole = max(dests, key=lambda d: placement.free(d))
    return ('cannot evacuate %s: its %d instance(s) need %s in total and '
            'the %d other usable host(s) have %s free; no placement of all '
            'of them was found (largest instance %s needs %s; most free host '
            '%s has %s)'
            % (host, len(insts), placement_mod._fmt(need), len(dests),
               placement_mod._fmt(free), biggest.uuid,
               placement_mod._fmt(placement_mod.demand(biggest)),
               largest_hole, placement_mod._fmt(placement.free(largest_hole))))
