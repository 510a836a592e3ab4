"""``vm_workload_consolidation``: pack by measured use, within Placement.

Like ``server_consolidation``, hosts are emptied one at a time (the
smallest first, the least loaded first among equals), and a host is
released only if all its instances move, together, onto hosts that stay.
The difference is what "fits" means: a destination must keep its
*measured* CPU and RAM use at or under ``target_utilization`` percent
**and** have Placement room for the instance's flavor: ``(total -
reserved) * allocation_ratio`` per resource, checked by
:class:`~decision_engine.strategies.placement.Placement`, so the plan never
packs beyond what Nova's scheduler would allow (Watcher's version was found
to). Instances go biggest measured CPU first onto the fullest destination
with room (first fit decreasing). On small random clouds checked against
brute force (tests/unit/strategies/test_workload.py) it uses at most one host
more than the optimum, and the optimum in most cases.

A host is a candidate to empty only if every instance on it may be moved
and is measured; destinations are usable hosts already running instances.
Plan, per released host: disable its compute service, then migrate its
instances away.
"""

from decision_engine.common import measurements as metrics_mod
from decision_engine.strategies import _measured_common as common
from decision_engine.strategies import actions
from decision_engine.strategies import base
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import measured as measured_mod
from decision_engine.strategies import placement as placement_mod


class VMWorkloadConsolidation(base.Strategy):
    name = 'vm_workload_consolidation'
    goal = 'server_consolidation'
    description = ('Live-migrate instances, packed by their measured CPU '
                   'and RAM use but never beyond Placement capacity and '
                   'allocation ratios, so that fewer hosts run them; '
                   'disable the hosts this releases.')
    parameters_schema = {
        'type': 'object',
        'properties': {
            'target_utilization': {
                'type': 'number', 'exclusiveMinimum': 0, 'maximum': 100,
                'default': 80.0,
                'description': 'Fill destinations up to this percent of '
                               'their measured CPU and RAM.'},
            'max_migrations': {
                'type': 'integer', 'minimum': 1,
                'description': 'Most migrations in the plan (unset: no '
                               'limit). A host is released only if all its '
                               'migrations fit in it.'},
            'missing_metrics': metrics_mod.MISSING_METRICS_PARAMETER,
        },
        'additionalProperties': False,
    }
    indicators = (
        ('hosts_released', 'hosts', 'Hosts left empty by the plan.'),
        ('migrations', 'migrations', 'Instance migrations in the plan.'),
        ('hosts_used_before', 'hosts', 'Hosts running instances now.'),
        ('hosts_used_after', 'hosts',
         'Hosts running instances after the plan.'),
    ) + common.SKIPPED_INDICATORS

    @classmethod
    def required_metrics(cls, params):
        return measured_mod.required(measured_mod.KINDS)

    def execute(self, context, params):
        load = common.measured_view(self, context, measured_mod.KINDS)
        placement = placement_mod.Placement(context)
        target = params['target_utilization'] / 100.0
        budget = params.get('max_migrations')
        used_before = [h for h in context.nodes if not placement.is_empty(h)]
        released, moves_of, migrations = [], {}, 0

        def drainable(h):
            node = context.nodes[h]
            return (load.usable_host(h) and node.state == 'up'
                    and node.power_state != 'power off'
                    and not placement.is_empty(h)
                    and all(load.measured(context.instances[u])
                            for u in placement.on_host[h]))
        # NOTE: the smallest hosts (Placement capacity) are emptied first,
        # the least loaded first among equals: keeping the big hosts keeps
        # the big holes the others' instances need.
        candidates = sorted((h for h in context.nodes if drainable(h)),
                            key=lambda h: (placement.capacity[h],
                                           load.load(h), h))
        for host in candidates:
            insts = [context.instances[u]
                     for u in sorted(placement.on_host[host])]
            if budget is not None and migrations + len(insts) > budget:
                continue
            dests = [h for h in context.nodes
                     if h != host and h not in moves_of
                     and load.usable_host(h) and context.is_target(h)
                     and not placement.is_empty(h)]
            moves = self._evacuate(load, placement, insts, host, dests,
                                   target)
            if moves is not None:
                released.append(host)
                moves_of[host] = moves
                migrations += len(moves)
        plan = []
        for host in released:
            if context.nodes[host].status == 'enabled':
                plan.append(actions.change_service(
                    host, 'disabled', '%s: released by vm workload '
                    'consolidation' % actions.DISABLED_REASON_PREFIX))
            for inst, source, dest in moves_of[host]:
                plan.append(actions.migrate(
                    inst, source, dest, context_mod.migration_type(inst)))
        used_after = [h for h in context.nodes if not placement.is_empty(h)]
        indicators = {'hosts_released': len(released),
                      'migrations': migrations,
                      'hosts_used_before': len(used_before),
                      'hosts_used_after': len(used_after)}
        indicators.update(common.skipped_indicators(context))
        return base.Solution(
            actions=plan, indicators=indicators,
            message='released %d of %d used host(s) with %d migration(s)%s'
                    % (len(released), len(used_before), migrations,
                       common.skipped_note(context.metrics)))

    @staticmethod
    def _evacuate(load, placement, insts, source, dests, target):
        """All of ``insts`` onto ``dests`` or none; :returns: the moves.

        Destinations are tried fullest first (measured load when this
        host's evacuation starts: a destination only gets fuller as it
        receives, so it keeps its place or deserves an earlier one).
        """
        cpu, ram = measured_mod.CPU, measured_mod.RAM
        ordered = sorted(insts, key=lambda i: (
            -load.usage[i.uuid][cpu], -load.usage[i.uuid][ram], i.uuid))
        # NOTE: the headroom test first: cheap, and it rules out most
        # destinations of a large, busy cloud before placement.fits.
        dests = sorted(dests, key=lambda d: (load.load(d), d), reverse=True)
        moves = []
        for inst in ordered:
            usage = load.usage[inst.uuid]
            dest = None
            for d in dests:
                if usage[cpu] <= target * load.total[d][cpu] \
                        - load.used[d][cpu] + 1e-9 \
                        and usage[ram] <= target * load.total[d][ram] \
                        - load.used[d][ram] + 1e-9 \
                        and placement.fits(inst, d):
                    dest = d
                    break
            if dest is None:
                for moved, src, dst in reversed(moves):
                    placement.move_back(moved, src)
                    load.move(moved, dst, src)
                return None
            placement.move(inst, dest)
            load.move(inst, source, dest)
            moves.append((inst, source, dest))
        return moves
