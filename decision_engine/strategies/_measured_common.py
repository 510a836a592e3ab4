"""What the workload strategies share: the measured view and its checks."""

from decision_engine.common import measurements as metrics_mod
from decision_engine.strategies import base
from decision_engine.strategies import measured as measured_mod


def measured_view(strategy, context, kinds):
    """The :class:`MeasuredLoad` of ``context`` for ``kinds``.

    :raises StrategyError: when the audit gave no measurements.
    """
    if context.metrics is None:
        raise base.StrategyError(
            'strategy %s needs measured load (%s) and the audit has none'
            % (strategy.name, ', '.join(measured_mod.required(kinds))))
    return measured_mod.MeasuredLoad(context, context.metrics, kinds)


def skipped_indicators(context):
    ms = context.metrics
    return {'hosts_skipped': len(ms.skipped_hosts),
            'instances_skipped': len(ms.skipped_instances)}


SKIPPED_INDICATORS = (
    ('hosts_skipped', 'hosts',
     'Hosts without metrics, left out (missing_metrics=skip).'),
    ('instances_skipped', 'instances',
     'Instances without metrics, not moved (missing_metrics=skip).'),
)

skipped_note = metrics_mod.skipped_note
