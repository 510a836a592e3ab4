"""strategy_call.check: the one check of a strategy, its parameters and
its scope, shared by the audit service, the runner and the API."""

import pytest

from decision_engine.audit import strategy_call
from decision_engine.strategies import base


class _Needy(base.Strategy):
    name = 'needy'
    parameters_schema = {
        'type': 'object',
        'properties': {'threshold': {'type': 'number', 'default': 0.5},
                       'target': {'type': 'string'}},
        'required': ['target'],
        'additionalProperties': False}


def _strategies(name):
    if name != 'needy':
        # NOTE: a plain KeyError: its str() would add quotes.
        raise KeyError('unknown strategy %r' % name)
    return _Needy


def test_valid_call_fills_defaults_and_drops_empty_scope_lists():
    call = strategy_call.check(
        'needy', {'target': 'x'}, {'include_hosts': ['h1'],
                                   'exclude_hosts': []},
        strategies=_strategies)
    assert call.strategy is _Needy
    assert call.parameters == {'target': 'x', 'threshold': 0.5}
    assert call.scope == {'include_hosts': ['h1']}


def test_unknown_strategy_is_the_lookup_error_unchanged():
    with pytest.raises(KeyError) as info:
        strategy_call.check('nope', None, None, strategies=_strategies)
    assert strategy_call.one_line(info.value) == "unknown strategy 'nope'"


def test_bad_parameters_come_before_a_bad_scope():
    with pytest.raises(strategy_call.InvalidCall) as info:
        strategy_call.check('needy', {'target': 1}, {'include_hosts': 'h'},
                            strategies=_strategies)
    assert str(info.value).startswith(
        "invalid parameter 'target' for strategy needy: ")


def test_bad_scope_is_one_line():
    with pytest.raises(strategy_call.InvalidCall) as info:
        strategy_call.check('needy', {'target': 'x'}, {'include_hosts': 'h'},
                            strategies=_strategies)
    assert '\n' not in str(info.value)
    assert 'include_hosts' in str(info.value)


def test_missing_parameters_are_checked_unless_defaults_are_enough():
    with pytest.raises(strategy_call.InvalidCall):
        strategy_call.check('needy', None, None, strategies=_strategies)
    call = strategy_call.check('needy', None, None, strategies=_strategies,
                               unchecked_defaults=True)
    assert call.parameters == {'threshold': 0.5}
    assert call.scope == {}
