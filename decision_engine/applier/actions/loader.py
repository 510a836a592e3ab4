"""Action classes by name, from the ``decision_engine.actions`` stevedore
namespace."""

from stevedore import extension

NAMESPACE = 'decision_engine.actions'


class ActionLoader:
    """Loads the namespace once; ``get(name)`` is the class."""

    def __init__(self):
        manager = extension.ExtensionManager(NAMESPACE,
                                             invoke_on_load=False)
        self._classes = {ext.name: ext.plugin for ext in manager}

    def get(self, name):
        try:
            return self._classes[name]
        except KeyError:
            raise LookupError('unknown action type %r (installed: %s)' % (
                name, ', '.join(sorted(self._classes)) or 'none'))

    def names(self):
        return sorted(self._classes)
