"""``server_consolidation``: pack instances onto as few hosts as possible.

Hosts are emptied one at a time, least loaded first: a host is released only
if all of its instances fit, together, on the hosts that stay (first fit
decreasing onto the fullest hosts, with an exhaustive search for small
cases; see :mod:`~decision_engine.strategies.packing`). A host whose
instances cannot all move stays as it is; nothing is moved for nothing.

Plan, per released host: disable its compute service (so Nova schedules
nothing new there), migrate its instances away, then power it off when its
power state is managed and ``power_off`` is set. Destinations are only
hosts that are enabled, up, powered on and already running instances, and
never a released host, so every step of the plan is valid in order.
"""

from decision_engine.strategies import actions
from decision_engine.strategies import base
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import packing
from decision_engine.strategies import placement as placement_mod


class _State:
    """The plan being built: placement, released hosts and their moves."""

    def __init__(self, placement):
        self.placement = placement
        self.released = []
        self.moves_of = {}
        self.migrations = 0

    def release(self, host, placement, moves):
        self.placement = placement
        self.released.append(host)
        self.moves_of[host] = moves
        self.migrations += len(moves)


def _drainable(context, placement, host, state, max_migrations):
    """The instances of ``host`` if it may be emptied, else None."""
    node = context.nodes[host]
    if placement.is_empty(host) or node.state != 'up' \
            or node.power_state == 'power off' or host in state.released:
        return None
    insts = [context.instances[u] for u in sorted(placement.on_host[host])]
    if not all(context.can_move(i) for i in insts):
        return None
    if max_migrations is not None \
            and state.migrations + len(insts) > max_migrations:
        return None
    return insts


class ServerConsolidation(base.Strategy):
    name = 'server_consolidation'
    goal = 'server_consolidation'
    description = ('Live-migrate instances so that as few compute hosts as '
                   'capacity allows run them; disable and power off the '
                   'hosts this releases.')
    parameters_schema = {
        'type': 'object',
        'properties': {
            'max_migrations': {
                'type': 'integer', 'minimum': 1,
                'description': 'Most migrations the plan may contain '
                               '(unset: no limit). A host is released '
                               'only if all its migrations fit in it.'},
            'target_utilization': {
                'type': 'number', 'exclusiveMinimum': 0, 'maximum': 100,
                'default': 100,
                'description': 'Fill destination hosts up to this percent '
                               'of their capacity (per resource), leaving '
                               'headroom.'},
            'power_off': {
                'type': 'boolean', 'default': True,
                'description': 'Power off released hosts whose power state '
                               'the engine manages.'},
        },
        'additionalProperties': False,
    }
    indicators = (
        ('hosts_released', 'hosts', 'Hosts left empty by the plan.'),
        ('migrations', 'migrations', 'Instance migrations in the plan.'),
        ('hosts_used_before', 'hosts', 'Hosts running instances now.'),
        ('hosts_used_after', 'hosts',
         'Hosts running instances after the plan.'),
        ('utilization_before', 'percent',
         'Mean vCPU, RAM and disk use of the hosts running instances now.'),
        ('utilization_after', 'percent',
         'The same after the plan.'),
        ('hosts_powered_off', 'hosts', 'Released hosts powered off.'),
    )

    def execute(self, context, params):
        target = params['target_utilization'] / 100.0
        max_migrations = params.get('max_migrations')

        def fits(p, inst, host):
            if not p.fits(inst, host):
                return False
            return all(u + d <= c * target + 1e-9 for u, d, c in zip(
                p.used[host], placement_mod.demand(inst), p.capacity[host]))

        placement = placement_mod.Placement(context)
        used_before = [h for h in context.nodes if not placement.is_empty(h)]
        util_before = placement.utilization(used_before)
        state = _State(placement)
        self._drain(context, state, fits, max_migrations)
        if self._wake_bigger_host(context, state, fits, max_migrations):
            self._drain(context, state, fits, max_migrations)
        placement, released = state.placement, state.released
        moves_of, migrations = state.moves_of, state.migrations

        plan = []
        powered_off = 0
        for host in released:
            node = context.nodes[host]
            if node.status == 'enabled':
                plan.append(actions.change_service(
                    host, 'disabled', '%s: released by server consolidation'
                    % actions.DISABLED_REASON_PREFIX))
            for inst, source, dest in moves_of[host]:
                plan.append(actions.migrate(
                    inst, source, dest, context_mod.migration_type(inst)))
            if params['power_off'] and node.power_state == 'power on':
                plan.append(actions.change_power(host, 'off'))
                powered_off += 1
        used_after = [h for h in context.nodes if not placement.is_empty(h)]
        return base.Solution(
            actions=plan,
            indicators={
                'hosts_released': len(released),
                'migrations': migrations,
                'hosts_used_before': len(used_before),
                'hosts_used_after': len(used_after),
                'utilization_before': util_before,
                'utilization_after': placement.utilization(used_after),
                'hosts_powered_off': powered_off,
            },
            message=('released %d of %d used host(s) with %d migration(s)'
                     % (len(released), len(used_before), migrations)))

    @staticmethod
    def _drain(context, state, fits, max_migrations):
        """Empty hosts one by one, least loaded first, onto hosts that
        already run instances."""
        tried = set()
        while True:
            placement = state.placement
            candidates = [h for h in context.nodes if h not in tried
                          and _drainable(context, placement, h, state,
                                         max_migrations)]
            if not candidates:
                return
            host = min(candidates, key=lambda h: (
                placement.load(h), len(placement.on_host[h]), h))
            tried.add(host)
            insts = _drainable(context, placement, host, state,
                               max_migrations)
            dests = [h for h in context.nodes
                     if h != host and h not in state.released
                     and context.is_target(h) and not placement.is_empty(h)]
            new_placement, moves = packing.evacuate(placement, insts, dests,
                                                    fits=fits)
            if new_placement is not None:
                state.release(host, new_placement, moves)

    @staticmethod
    def _wake_bigger_host(context, state, fits, max_migrations):
        """Move the whole content of two or more used hosts onto one empty
        host (the biggest first) when it can take them: one host more in
        use, at least two fewer.

        :returns: whether anything changed.
        """
        changed = False
        placement = state.placement
        empties = sorted((h for h in context.nodes
                          if placement.is_empty(h) and context.is_target(h)
                          and h not in state.released),
                         key=lambda h: (placement.capacity[h], h),
                         reverse=True)
        for empty in empties:
            placement = state.placement
            trial = placement
            taken = []
            for host in sorted(context.nodes, key=lambda h: (
                    placement.load(h), h)):
                insts = _drainable(context, trial, host, state,
                                   max_migrations)
                if not insts or host == empty:
                    continue
                if max_migrations is not None and state.migrations + sum(
                        len(m) for _, m in taken) + len(insts) \
                        > max_migrations:
                    continue
                new_trial, moves = packing.evacuate(trial, insts, [empty],
                                                    fits=fits)
                if new_trial is not None:
                    trial = new_trial
                    taken.append((host, moves))
            if len(taken) >= 2:
                for host, moves in taken:
                    state.release(host, trial, moves)
                changed = True
        return changed
