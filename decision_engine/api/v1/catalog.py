"""Goals and strategies, as Watcher's API shows them, from the engine's
strategy plugins.

A goal is the ``goal`` of one or more strategies. Goals and strategies
are not stored: their uuids are derived from their names (uuid5, in
:mod:`decision_engine.strategies.identity`), so every engine of a
cluster, and every restart, gives the same ones.
"""

from decision_engine.strategies import identity
from decision_engine.strategies import loader

GOAL_NAMES = identity.GOAL_NAMES
goal_uuid = identity.goal_uuid
strategy_uuid = identity.strategy_uuid
_display = identity.display
_strategy_display = identity.strategy_display


def strategies():
    """``[strategy dict]`` in name order: uuid, name, display_name,
    goal_uuid, goal_name, parameters_spec, and the class."""
    result = []
    for name, cls in sorted(loader.available().items()):
        result.append({
            'uuid': strategy_uuid(name), 'name': name,
            'display_name': _strategy_display(cls, name),
            'goal_uuid': goal_uuid(cls.goal), 'goal_name': cls.goal,
            'parameters_spec': cls.parameters_schema, 'cls': cls})
    return result


def goals(of=None):
    """``[goal dict]`` in name order: uuid, name, display_name,
    efficacy_specification (the indicators of its strategies); ``of``:
    the :func:`strategies` already read."""
    found = {}
    for strategy in strategies() if of is None else of:
        goal = found.setdefault(strategy['goal_name'], {
            'uuid': strategy['goal_uuid'], 'name': strategy['goal_name'],
            'display_name': GOAL_NAMES.get(strategy['goal_name'],
                                           _display(strategy['goal_name'])),
            'efficacy_specification': []})
        known = {spec['name'] for spec in goal['efficacy_specification']}
        for name, unit, description in strategy['cls'].indicators:
            if name not in known:
                known.add(name)
                goal['efficacy_specification'].append({
                    'name': name, 'description': description,
                    'unit': unit or None, 'schema': 'number'})
    return [found[name] for name in sorted(found)]


def find(items, ident, kind):
    """The item whose uuid or name is ``ident``.

    :raises LookupError: ``<Kind> <ident> could not be found``.
    """
    for item in items:
        if ident in (item['uuid'], item['name']):
            return item
    raise LookupError('%s %s could not be found' % (kind, ident))


class Catalog:
    """The goals and strategies read once (a request's view): finding
    one among them is a dict lookup."""

    def __init__(self):
        self._strategies = strategies()
        self._goals = None
        self._index = {}
        for strategy in self._strategies:
            self._index[strategy['uuid']] = strategy
            self._index[strategy['name']] = strategy

    def strategies(self):
        return list(self._strategies)

    def goals(self):
        if self._goals is None:
            self._goals = goals(self._strategies)
        return list(self._goals)

    def find_strategy(self, ident):
        try:
            return self._index[ident]
        except (KeyError, TypeError):
            raise LookupError('Strategy %s could not be found' % ident)

    def find_goal(self, ident):
        return find(self.goals(), ident, 'Goal')

    def strategies_of(self, goal_name):
        return [s for s in self._strategies if s['goal_name'] == goal_name]
