"""The one check of what an audit asks a strategy to do: its name, its
parameters and its scope.

The audit service checks a create request with it, the runner checks a
stored audit again before it runs (a strategy may have been removed or its
schema changed since), and the API checks the parameters and scope of
``GET /v1/strategies/{name}`` with it.
"""

import dataclasses

from decision_engine.audit import scope as scope_mod
from decision_engine.strategies import base as strategy_base
from decision_engine.strategies import loader


class InvalidCall(ValueError):
    """The parameters or the scope are invalid; the message is one line."""


@dataclasses.dataclass(frozen=True)
class StrategyCall:
    #: the strategy class.
    strategy: type
    #: the parameters, checked, with every default filled in.
    parameters: dict
    #: the scope, checked, without empty lists.
    scope: dict


def check(name, parameters, scope, strategies=loader.get,
          unchecked_defaults=False):
    """The strategy named ``name`` with ``parameters`` and ``scope``
    checked.

    :param strategies: finds a strategy class by name.
    :param unchecked_defaults: with ``parameters`` None, take the
        strategy's defaults as they are (a description of the strategy
        needs no complete set of parameters) instead of checking ``{}``.
    :raises LookupError: the unknown strategy (from ``strategies``),
        unchanged, so that a caller can tell it from bad values.
    :raises InvalidCall: the first bad parameter, else the bad scope
        field, as one line.
    """
    strategy = strategies(name)
    try:
        if parameters is None and unchecked_defaults:
            params = strategy.default_parameters()
        else:
            params = strategy.validate_parameters(parameters)
        scope = scope_mod.validate(scope)
    except (strategy_base.InvalidParameters, scope_mod.InvalidScope) as exc:
        raise InvalidCall(one_line(exc))
    return StrategyCall(strategy, params, scope)


def one_line(exc):
    """The message of ``exc``, an :class:`InvalidCall` or a
    :class:`LookupError` of an unknown strategy."""
    # NOTE: args[0], not str(): str() of a KeyError adds quotes.
    return exc.args[0] if exc.args else str(exc)
