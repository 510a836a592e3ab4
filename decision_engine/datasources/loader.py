"""Loading the configured datasource (stevedore) and its gatherer."""

import stevedore

from decision_engine.datasources import base
from decision_engine.datasources import gather

NAMESPACE = 'decision_engine.datasources'


def available():
    """Names of the installed datasource plugins."""
    return sorted(stevedore.ExtensionManager(NAMESPACE).names())


def load(conf, pool):
    """The :class:`~.gather.MetricsGatherer` of ``[datasource] name``, or
    None when no datasource is configured (no ``prometheus_url``).

    :raises DatasourceError: unknown plugin, or a plugin that cannot start
        with this configuration (e.g. a bad metric map file).
    """
    group = conf.datasource
    if group.name == 'prometheus' and not group.prometheus_url:
        return None
    # NOTE: checked first: stevedore logs a failed load at WARNING, which
    # before logging is set up is a second line on stderr.
    if group.name not in available():
        raise base.DatasourceError(
            'unknown [datasource] name %r (available: %s)'
            % (group.name, ', '.join(available())))
    try:
        ext = stevedore.DriverManager(NAMESPACE, group.name,
                                      invoke_on_load=False)
    except (RuntimeError, LookupError) as exc:
        raise base.DatasourceError(
            'unknown [datasource] name %r (available: %s): %s'
            % (group.name, ', '.join(available()), exc))
    try:
        gather.Settings.from_conf(conf)
    except gather.GatheringError as exc:
        raise base.DatasourceError(str(exc))
    try:
        datasource = ext.driver(conf)
    except ValueError as exc:
        raise base.DatasourceError(str(exc))
    return gather.MetricsGatherer(datasource, pool,
                                  lambda: gather.Settings.from_conf(conf))
