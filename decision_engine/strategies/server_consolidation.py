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
never a released host, so every step of the plan is valid in order, and
allowed by Nova's scheduler rules at its step (server groups, pinned zones:
:mod:`~decision_engine.strategies.constraints`). A host that stays only
because such a rule keeps one of its instances in place is named, with the
rule, in the plan's message and counted in ``hosts_kept_by_rules``.

Instances the operator opted out (metadata ``optimize=false``, see
:func:`~decision_engine.strategies.constraints.opted_out`) never move, so
their hosts are never emptied; a host that could have been emptied but for
them is named in the message and counted in ``hosts_kept_by_opt_out``.
"""

import heapq

from decision_engine.strategies import actions
from decision_engine.strategies import base
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import packing
from decision_engine.strategies import placement as placement_mod


class _State:
    """The plan being built: placement, released hosts and their moves."""

    def __init__(self, context, placement, max_migrations):
        self.context = context
        self.placement = placement
        self.max_migrations = max_migrations
        self.released = []
        self.moves_of = {}
        self.migrations = 0
        #: ``{host: 'instance: why'}`` of hosts a hard rule keeps in use
        self.kept_by_rules = {}
        # NOTE: a host keeps or lacks an unmovable instance for the whole
        # run (hosts only ever receive movable instances), so which hosts
        # may be emptied is decided once.
        self.drainable = {
            h for h, node in context.nodes.items()
            if node.state == 'up' and node.power_state != 'power off'
            and all(context.can_move(i)
                    for i in context.instances_by_host[h])}

    def instances_to_drain(self, host, extra=0):
        """The instances of ``host`` if it may be emptied now, else None."""
        p = self.placement
        if host not in self.drainable or p.is_empty(host) \
                or host in self.moves_of:
            return None
        if self.max_migrations is not None and self.migrations + extra \
                + len(p.on_host[host]) > self.max_migrations:
            return None
        return [self.context.instances[u] for u in sorted(p.on_host[host])]

    def release(self, host, moves):
        self.released.append(host)
        self.moves_of[host] = moves
        self.migrations += len(moves)


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
        ('hosts_kept_by_rules', 'hosts',
         'Hosts that stay in use only because a rule of Nova\'s scheduler '
         '(server group, pinned zone, traits) keeps an instance of '
         'theirs.'),
        ('hosts_kept_by_opt_out', 'hosts',
         'Hosts that stay in use only because an instance of theirs is '
         'opted out of optimization by its metadata.'),
    )

    def execute(self, context, params):
        placement = placement_mod.Placement(
            context, fill=params['target_utilization'] / 100.0)
        used_before = [h for h in context.nodes if not placement.is_empty(h)]
        util_before = placement.utilization(used_before)
        state = _State(context, placement, params.get('max_migrations'))
        self._drain(state)
        if self._wake_bigger_host(state):
            self._drain(state)
        kept_by_opt_out = _kept_by_opt_out(state)
        released = state.released
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
                'hosts_kept_by_rules': len(state.kept_by_rules),
                'hosts_kept_by_opt_out': len(kept_by_opt_out),
            },
            message=('released %d of %d used host(s) with %d migration(s)'
                     % (len(released), len(used_before), migrations))
            + _kept_message(state.kept_by_rules)
            + _opt_out_message(kept_by_opt_out, context.opt_out_key))

    @staticmethod
    def _drain(state):
        """Empty hosts one by one, least loaded first, onto hosts that
        already run instances."""
        context, placement = state.context, state.placement
        # Loads only grow (emptied hosts leave the heap), so a lazy heap
        # gives the least loaded untried host: re-push stale entries.
        heap = [(placement.load(h), len(placement.on_host[h]), h)
                for h in state.drainable if not placement.is_empty(h)
                and h not in state.moves_of]
        heapq.heapify(heap)
        targets = [h for h in context.nodes if context.is_target(h)]
        while heap:
            load, count, host = heapq.heappop(heap)
            now = (placement.load(host), len(placement.on_host[host]), host)
            if now != (load, count, host):
                heapq.heappush(heap, now)
                continue
            insts = state.instances_to_drain(host)
            if not insts:
                continue
            dests = [h for h in targets
                     if h != host and h not in state.moves_of
                     and not placement.is_empty(h)]
            moves = packing.evacuate(placement, insts, dests)
            if moves is not None:
                state.release(host, moves)
                state.kept_by_rules.pop(host, None)
            else:
                blocked = packing.blocked_by_rules(placement, insts, dests)
                if blocked:
                    inst, why = blocked[0]
                    state.kept_by_rules[host] = '%s (%s): %s' % (
                        inst.uuid, inst.name, why)

    @staticmethod
    def _wake_bigger_host(state):
        """Move the whole content of two or more used hosts onto one empty
        host (the biggest first) when it can take them: one host more in
        use, at least two fewer.

        :returns: whether anything changed.
        """
        context, placement = state.context, state.placement
        changed = False
        empties = sorted((h for h in context.nodes
                          if placement.is_empty(h) and context.is_target(h)
                          and h not in state.moves_of),
                         key=lambda h: (placement.capacity[h], h),
                         reverse=True)
        for empty in empties:
            if not placement.is_empty(empty):
                continue
            taken = []
            extra = 0
            for host in sorted(state.drainable, key=lambda h: (
                    placement.load(h), h)):
                if host == empty:
                    continue
                insts = state.instances_to_drain(host, extra)
                if not insts:
                    continue
                moves = packing.evacuate(placement, insts, [empty])
                if moves is not None:
                    taken.append((host, moves))
                    extra += len(moves)
            if len(taken) >= 2:
                for host, moves in taken:
                    state.release(host, moves)
                changed = True
            else:
                for _, moves in reversed(taken):
                    packing.undo(placement, moves)
        return changed


#: hosts named in the message at most (the indicator counts them all)
_KEPT_SHOWN = 5


def _kept_by_opt_out(state):
    """``{host: 'instance (name)'}`` of the used hosts the plan keeps
    only because of opted-out instances: every other instance of theirs
    may move, and all of them would fit, at the plan's end, on the other
    hosts in use if the opted-out ones could move too."""
    context, placement = state.context, state.placement
    checker = placement.constraints
    if not checker.opted_out:
        return {}
    targets = [h for h in context.nodes if context.is_target(h)
               and h not in state.moves_of and not placement.is_empty(h)]
    kept = {}
    for host in sorted(context.nodes):
        node = context.nodes[host]
        on_host = placement.on_host[host]
        if host in state.drainable or host in state.moves_of \
                or not on_host or node.state != 'up' \
                or node.power_state == 'power off':
            continue
        insts = [context.instances[u] for u in sorted(on_host)]
        if state.max_migrations is not None and \
                state.migrations + len(insts) > state.max_migrations:
            continue        # the budget keeps it, not the opt-out
        held = [i for i in insts if i.uuid in checker.opted_out]
        if not held or any(not context.can_move(i) for i in insts
                           if i.uuid not in checker.opted_out):
            continue
        # NOTE: the same placement and rules, but for the opt-out
        # (a what-if on a copy: the plan itself is not changed).
        trial = placement.copy()
        trial.constraints = checker.without_opt_out()
        dests = [h for h in targets if h != host]
        if packing.evacuate(trial, insts, dests) is not None:
            kept[host] = ', '.join('%s (%s)' % (i.uuid, i.name)
                                   for i in held)
    return kept


def _opt_out_message(kept, key):
    if not kept:
        return ''
    return ("; %d host(s) kept in use by the operator's opt-out (metadata "
            'key %s) of: %s' % (len(kept), key, _listed(kept)))


def _kept_message(kept):
    if not kept:
        return ''
    return ('; %d host(s) kept in use by Nova scheduler rules: %s'
            % (len(kept), _listed(kept)))


def _listed(kept):
    """``host: why; ...`` for the first hosts of ``kept``, in name
    order, and how many more there are."""
    hosts = sorted(kept)
    shown = '; '.join('%s: %s' % (h, kept[h]) for h in hosts[:_KEPT_SHOWN])
    more = len(hosts) - _KEPT_SHOWN
    return shown + (' (and %d more)' % more if more > 0 else '')
