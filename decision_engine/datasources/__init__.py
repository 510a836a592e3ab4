"""Datasources: measured load of hosts and instances for the strategies.

A datasource plugin (stevedore namespace ``decision_engine.datasources``,
see :mod:`~decision_engine.datasources.base`) turns a metric and a chunk of
the scope into one query; :mod:`~decision_engine.datasources.gather` runs
those queries in parallel on the shared pool and hands the audit complete
:class:`~decision_engine.common.measurements.Measurements` or one error.
"""
