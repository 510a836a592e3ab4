"""``workload_balance``: move load off hosts whose measured use is too high.

Hosts whose measured CPU (or RAM) use is above ``threshold`` percent are
relieved one at a time, the most loaded first. For each, the instance moved
is the smallest one whose departure alone brings the host under the
threshold (fewest migrations first; else the biggest, and again), onto the
least loaded host that has Placement room for it (capacity and allocation
ratios, as :class:`~decision_engine.strategies.placement.Placement`
checks) and stays at or under the threshold with it. Every (instance,
destination) pair is tried before a host is given up, so when one
migration can relieve an overloaded host, its plan has exactly one.

Only hosts and instances with measurements take part (see the
``missing_metrics`` parameter); instances the scope protects stay.
"""

from decision_engine.common import measurements as metrics_mod
from decision_engine.strategies import _measured_common as common
from decision_engine.strategies import actions
from decision_engine.strategies import base
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import measured as measured_mod
from decision_engine.strategies import placement as placement_mod


class WorkloadBalance(base.Strategy):
    name = 'workload_balance'
    goal = 'workload_balancing'
    description = ('Live-migrate instances off hosts whose measured CPU or '
                   'RAM use exceeds a threshold onto the least loaded hosts '
                   'with room, fewest migrations first.')
    parameters_schema = {
        'type': 'object',
        'properties': {
            'metric': measured_mod.METRIC_PARAMETER,
            'threshold': {
                'type': 'number', 'exclusiveMinimum': 0, 'maximum': 100,
                'default': 80.0,
                'description': 'Percent of measured use above which a host '
                               'is relieved, and which no destination may '
                               'pass.'},
            'max_migrations': {
                'type': 'integer', 'minimum': 1,
                'description': 'Most migrations in the plan (unset: no '
                               'limit).'},
            'missing_metrics': metrics_mod.MISSING_METRICS_PARAMETER,
        },
        'additionalProperties': False,
    }
    indicators = (
        ('hosts_over_before', 'hosts',
         'Hosts above the threshold before the plan.'),
        ('hosts_over_after', 'hosts',
         'Hosts above the threshold after the plan.'),
        ('max_load_before', 'percent', 'Highest measured host use now.'),
        ('max_load_after', 'percent',
         'Highest measured host use after the plan.'),
        ('migrations', 'migrations', 'Instance migrations in the plan.'),
    ) + common.SKIPPED_INDICATORS

    @classmethod
    def required_metrics(cls, params):
        return measured_mod.required([params['metric']])

    def execute(self, context, params):
        kind = params['metric']
        load = common.measured_view(self, context, [kind])
        placement = placement_mod.Placement(context)
        threshold = params['threshold'] / 100.0
        budget = params.get('max_migrations')
        hosts = [h for h in context.nodes if load.usable_host(h)]
        targets = [h for h in hosts if context.is_target(h)]

        def over(h):
            # NOTE: the epsilon keeps float noise from calling a host at
            # exactly the threshold overloaded.
            return load.fraction(h, kind) > threshold + 1e-9

        before = [h for h in hosts if over(h)]
        max_before = max((load.fraction(h, kind) for h in hosts),
                         default=0.0)
        moves = []
        for source in sorted(before, key=lambda h: (
                -load.fraction(h, kind), h)):
            while over(source) and (budget is None or len(moves) < budget):
                move = self._best_move(context, load, placement, kind,
                                       threshold, source, targets)
                if move is None:
                    break
                inst, dest = move
                placement.move(inst, dest)
                load.move(inst, source, dest)
                moves.append((inst, source, dest))
        after = [h for h in hosts if over(h)]
        plan = [actions.migrate(inst, s, d, context_mod.migration_type(inst))
                for inst, s, d in moves]
        indicators = {
            'hosts_over_before': len(before),
            'hosts_over_after': len(after),
            'max_load_before': load.percent(max_before),
            'max_load_after': load.percent(max(
                (load.fraction(h, kind) for h in hosts), default=0.0)),
            'migrations': len(moves),
        }
        indicators.update(common.skipped_indicators(context))
        return base.Solution(
            actions=plan, indicators=indicators,
            message='%d of %d host(s) above %s%% %s; %d after %d '
                    'migration(s)%s' % (
                        len(before), len(hosts), params['threshold'], kind,
                        len(after), len(moves),
                        common.skipped_note(context.metrics)))

    @staticmethod
    def _best_move(context, load, placement, kind, threshold, source,
                   targets):
        need = load.used[source][kind] - threshold * load.total[source][kind]
        candidates = [context.instances[u]
                      for u in sorted(placement.on_host[source])]
        candidates = [i for i in candidates if load.measured(i)
                      and load.usage[i.uuid][kind] > 0]

        def order(inst):
            usage = load.usage[inst.uuid][kind]
            if usage >= need:
                return (0, usage, inst.uuid)
            return (1, -usage, inst.uuid)
        # NOTE: a destination takes ``usage`` only if its headroom under
        # the threshold (in cores or MiB) is at least that much: checked
        # first, cheaply, and an instance bigger than every headroom is
        # not tried at all, so large clouds where little fits stay fast.
        dests = sorted(
            ((load.fraction(h, kind), threshold * load.total[h][kind]
              - load.used[h][kind] + 1e-9, h)
             for h in targets if h != source))
        widest = max((room for _, room, _ in dests), default=0.0)
        for inst in sorted(candidates, key=order):
            usage = load.usage[inst.uuid][kind]
            if usage > widest:
                continue
            for _, room, dest in dests:
                if usage <= room and placement.fits(inst, dest):
                    return inst, dest
        return None
