"""``workload_stabilization``: even out measured host load, few moves.

The spread of load is the standard deviation of the hosts' measured CPU
(or RAM) use fractions. While it is above ``target_std_dev`` and fewer than
``max_migrations`` moves are planned, the greedy step takes the single
migration (a movable, measured instance onto a host with Placement room)
that lowers the spread the most, and stops when no migration lowers it.
So the plan has at most ``max_migrations`` moves, each strictly lowers the
spread, and with ``max_migrations`` = 1 the move is the best single move
there is (every pair is tried when the scope has at most
``_ALL_PAIRS_HOSTS`` hosts; beyond, each instance is tried on the
``_CANDIDATES`` least loaded hosts, where the best one almost always is).
"""

import math

from decision_engine.common import measurements as metrics_mod
from decision_engine.strategies import _measured_common as common
from decision_engine.strategies import actions
from decision_engine.strategies import base
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import measured as measured_mod
from decision_engine.strategies import placement as placement_mod

_ALL_PAIRS_HOSTS = 64
_CANDIDATES = 8


class WorkloadStabilization(base.Strategy):
    name = 'workload_stabilization'
    goal = 'workload_balancing'
    description = ('Live-migrate instances so that the standard deviation '
                   'of the hosts\' measured CPU or RAM use falls below a '
                   'target, greedily, with a bound on the number of moves.')
    parameters_schema = {
        'type': 'object',
        'properties': {
            'metric': measured_mod.METRIC_PARAMETER,
            'target_std_dev': {
                'type': 'number', 'minimum': 0, 'maximum': 100,
                'default': 10.0,
                'description': 'Standard deviation of host use, in percent '
                               'points, at or under which the plan stops.'},
            'max_migrations': {
                'type': 'integer', 'minimum': 1, 'maximum': 10000,
                'default': 20,
                'description': 'Most migrations in the plan.'},
            'missing_metrics': metrics_mod.MISSING_METRICS_PARAMETER,
        },
        'additionalProperties': False,
    }
    indicators = (
        ('std_dev_before', 'percent points',
         'Standard deviation of measured host use now.'),
        ('std_dev_after', 'percent points',
         'The same after the plan.'),
        ('migrations', 'migrations', 'Instance migrations in the plan.'),
    ) + common.SKIPPED_INDICATORS

    @classmethod
    def required_metrics(cls, params):
        return measured_mod.required([params['metric']])

    def execute(self, context, params):
        kind = params['metric']
        load = common.measured_view(self, context, [kind])
        placement = placement_mod.Placement(context)
        hosts = sorted(h for h in context.nodes if load.usable_host(h))
        targets = [h for h in hosts if context.is_target(h)]
        target = params['target_std_dev'] / 100.0
        before = std_dev(load, hosts, kind)
        current = before
        moves = []
        while current > target + 1e-12 and \
                len(moves) < params['max_migrations']:
            best = self._best_move(context, load, placement, hosts, targets,
                                   kind, current)
            if best is None:
                break
            spread, inst, source, dest = best
            placement.move(inst, dest)
            load.move(inst, source, dest)
            moves.append((inst, source, dest))
            current = spread
        plan = [actions.migrate(inst, s, d, context_mod.migration_type(inst))
                for inst, s, d in moves]
        indicators = {'std_dev_before': load.percent(before),
                      'std_dev_after': load.percent(current),
                      'migrations': len(moves)}
        indicators.update(common.skipped_indicators(context))
        return base.Solution(
            actions=plan, indicators=indicators,
            message='standard deviation of %s use %.2f -> %.2f percent '
                    'points with %d migration(s)%s' % (
                        kind, before * 100, current * 100, len(moves),
                        common.skipped_note(context.metrics)))

    @staticmethod
    def _best_move(context, load, placement, hosts, targets, kind, current):
        n = len(hosts)
        fractions = {h: load.fraction(h, kind) for h in hosts}
        total = sum(fractions.values())
        squares = sum(f * f for f in fractions.values())
        if len(hosts) <= _ALL_PAIRS_HOSTS:
            dests = targets
        else:
            dests = sorted(targets, key=lambda h: (fractions[h], h))[
                :_CANDIDATES]
        best = None
        for source in hosts:
            for u in sorted(placement.on_host[source]):
                inst = context.instances[u]
                if not load.measured(inst):
                    continue
                usage = load.usage[u][kind]
                if usage <= 0:
                    continue
                fs = fractions[source]
                fs2 = load.fraction_after(source, kind, -usage)
                for dest in dests:
                    if dest == source or not placement.fits(inst, dest):
                        continue
                    fd = fractions[dest]
                    fd2 = load.fraction_after(dest, kind, usage)
                    t = total - fs - fd + fs2 + fd2
                    q = squares - fs * fs - fd * fd + fs2 * fs2 + fd2 * fd2
                    spread = math.sqrt(max(0.0, q / n - (t / n) ** 2))
                    if spread < current - 1e-12 and (
                            best is None or spread < best[0] - 1e-12):
                        best = (spread, inst, source, dest)
        return best


def std_dev(load, hosts, kind):
    """Population standard deviation of the hosts' use fractions."""
    if not hosts:
        return 0.0
    values = [load.fraction(h, kind) for h in hosts]
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
