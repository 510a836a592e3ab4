"""Finding strategies by name in the ``decision_engine.strategies``
namespace."""

import stevedore

NAMESPACE = 'decision_engine.strategies'


class UnknownStrategy(LookupError):
    pass


def _manager():
    return stevedore.ExtensionManager(NAMESPACE, invoke_on_load=False)


def available():
    """``{name: strategy class}`` of every installed strategy."""
    return {ext.name: ext.plugin for ext in _manager()}


def get(name):
    """The strategy class registered as ``name``.

    :raises UnknownStrategy: naming the strategies that do exist.
    """
    strategies = available()
    try:
        return strategies[name]
    except KeyError:
        raise UnknownStrategy('unknown strategy %r; available: %s'
                              % (name, ', '.join(sorted(strategies))))
