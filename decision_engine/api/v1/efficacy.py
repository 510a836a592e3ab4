"""Watcher's ``efficacy_indicators`` and ``global_efficacy`` of a plan,
from the indicators the engine's strategies compute.

Each indicator the strategy stored is shown with the name, unit and
description its strategy class declares. The global efficacy is one
summary per goal, in Watcher's shape (``name``, ``description``, ``unit``,
``value``); a rule applies when the plan holds every indicator it reads,
so any strategy of the goal that computes them gets it. A plan whose
strategy computes none of them (``dummy``, ``host_maintenance``) has an
empty list, as Watcher's unclassified goals do.
"""

import dataclasses
from typing import Callable


def _ratio(part, whole, empty=0.0):
    """``part / whole`` in percent, rounded to 0.01; ``empty`` for a
    whole of 0."""
    if not whole:
        return empty
    return round(100.0 * part / whole, 2)


@dataclasses.dataclass(frozen=True)
class GlobalRule:
    name: str
    description: str
    unit: str
    reads: tuple
    value: Callable[..., float]


GLOBAL_RULES = (
    # server_consolidation (both strategies)
    GlobalRule('released_nodes_ratio',
               'Hosts the plan releases, out of the hosts running '
               'instances before it.', '%',
               ('hosts_released', 'hosts_used_before'), _ratio),
    # saving_energy
    GlobalRule('spare_hosts_ratio',
               'Powered-on empty hosts after the plan, out of the spare '
               'hosts it aims for.', '%',
               ('spare_hosts_after', 'spare_hosts_target'),
               lambda after, target: min(_ratio(after, target, 100.0),
                                         100.0)),
    # workload_balancing: workload_balance
    GlobalRule('relieved_hosts_ratio',
               'Hosts above the threshold that the plan brings under it, '
               'out of those above it before.', '%',
               ('hosts_over_before', 'hosts_over_after'),
               lambda before, after: _ratio(before - after, before)),
    # workload_balancing: workload_stabilization
    GlobalRule('std_dev_reduction',
               'How much the plan lowers the standard deviation of the '
               'measured host use.', '%',
               ('std_dev_before', 'std_dev_after'),
               lambda before, after: _ratio(before - after, before)),
)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def global_efficacy(indicators):
    """``[{'name', 'description', 'unit', 'value'}]`` for a plan's stored
    ``indicators`` (a dict)."""
    indicators = indicators or {}
    result = []
    for rule in GLOBAL_RULES:
        values = [indicators.get(name) for name in rule.reads]
        if all(_number(v) for v in values):
            result.append({'name': rule.name,
                           'description': rule.description,
                           'unit': rule.unit, 'value': rule.value(*values)})
    return result


def indicators_of(strategy_cls, indicators):
    """Watcher's ``efficacy_indicators``: each stored indicator, with the
    unit and description ``strategy_cls`` (None if unknown) declares."""
    described = {}
    if strategy_cls is not None:
        described = {name: (unit, description)
                     for name, unit, description in strategy_cls.indicators}
    result = []
    for name, value in sorted((indicators or {}).items()):
        unit, description = described.get(name, (None, ''))
        result.append({'name': name, 'description': description,
                       'unit': unit or None, 'value': value})
    return result
