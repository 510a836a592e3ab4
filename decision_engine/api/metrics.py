"""Prometheus metrics, read from the engine when scraped.

Everything but the API request counter is read at scrape time from the
:class:`~.engine_api.EngineAPI` (no background thread, no second copy of
the engine's state): the manager's status (pool, periodic tasks, power
sweeps), the audit statistics and the model collector's status. API
requests are counted as they are served.

The contract (``etc/grafana/decision-engine.json`` queries these; see the
operator guide's Metrics section)::

    decision_engine_pool_size / _busy / _queued          gauges
    decision_engine_pool_rejected_total                  counter
    decision_engine_periodic_runs_total{task}            counter
    decision_engine_periodic_failures_total{task}        counter
    decision_engine_periodic_duration_seconds{task}      gauge, last run
    decision_engine_periodic_lateness_seconds{task}      gauge, last start
    decision_engine_model_build_duration_seconds         gauge, last build
    decision_engine_model_build_requests_total           counter
    decision_engine_model_build_errors_total             counter
    decision_engine_model_staleness_seconds              gauge
    decision_engine_power_sweep_duration_seconds{driver} gauge, last sweep
    decision_engine_power_sweep_failures_total{driver}   counter
    decision_engine_audits{state}                        gauge
    decision_engine_metrics_gatherings_total             counter
    decision_engine_metrics_gathering_failures_total     counter
    decision_engine_metrics_queries_total                counter
    decision_engine_metrics_query_retries_total          counter
    decision_engine_metrics_query_errors_total           counter
    decision_engine_metrics_cache_hits_total             counter
    decision_engine_metrics_gathering_duration_seconds   gauge, last one
    decision_engine_api_requests_total{method,status}    counter
    decision_engine_actions{type,state}                  gauge, in the store
    decision_engine_applier_actions_ended_total{type,state}  counter
    decision_engine_applier_plans_ended_total{state}     counter
    decision_engine_applier_plans_running                gauge
    decision_engine_applier_actions_ongoing              gauge
    decision_engine_applier_migrations_in_flight         gauge
    decision_engine_applier_plan_duration_seconds        gauge, last plan

Every family of the contract is always exposed (with no sample while its
source has no figure yet, e.g. no model built), so a missing name always
means a broken engine, not an idle one.
"""

import logging

import prometheus_client
from prometheus_client import core

LOG = logging.getLogger(__name__)

PREFIX = 'decision_engine'

_POOL_GAUGES = (('size', 'workers in the pool'),
                ('busy', 'workers running a task'),
                ('queued', 'tasks accepted, not yet on a worker'),
                ('free', 'workers neither busy nor promised to a task'),
                ('reserved', 'workers kept from periodic tasks'))
_POOL_COUNTERS = (('submitted', 'tasks submitted'),
                  ('rejected', 'submissions refused because the pool was '
                               'full (NoFreeWorker)'),
                  ('caller_ran', 'tasks run inline by a pool worker that '
                                 'found the pool full'),
                  ('executed', 'tasks finished'),
                  ('failed', 'tasks that raised'),
                  ('cancelled', 'tasks cancelled before they started'))


def _name(suffix):
    return '%s_%s' % (PREFIX, suffix)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _gauge(suffix, doc, value=None, labels=None):
    family = core.GaugeMetricFamily(_name(suffix), doc, labels=labels)
    if _number(value):
        family.add_metric([], value)
    return family


def _counter(suffix, doc, value=None, labels=None):
    # NOTE: CounterMetricFamily appends _total to the sample name.
    family = core.CounterMetricFamily(_name(suffix), doc, labels=labels)
    if _number(value):
        family.add_metric([], value)
    return family


def _add(family, labels, value):
    if _number(value):
        family.add_metric(labels, value)


class EngineCollector:
    """A prometheus_client collector reading ``engine`` at each scrape.

    :param engine: an :class:`~.engine_api.EngineAPI` (``status()`` and
        ``collector_status()``).
    """

    def __init__(self, engine):
        self.engine = engine

    def _read(self, what, method):
        # NOTE: one source failing (e.g. the store is down for the audit
        # counts) must not take the other metrics with it.
        try:
            return method()
        except Exception as exc:
            LOG.warning('Metrics: cannot read the %s: %s: %s', what,
                        type(exc).__name__, exc)
            return None

    def collect(self):
        # NOTE: the sources are typed (dataclasses defined next to their
        # producers) and read by attribute, never by key with a default:
        # a renamed field fails the metrics tests instead of silently
        # dropping a sample. A source that is absent (not started, read
        # failed) still exposes every family, with no sample.
        status = self._read('engine status', self.engine.status)
        yield from self._pool(status.pool if status else None)
        yield from self._periodics(status.periodics if status else {})
        yield from self._model(self._read('model collector status',
                                          self.engine.collector_status))
        yield from self._power(status.power_sweeps if status else {},
                               status.power_states if status else {})
        yield from self._audits(status.audits if status else None)
        yield from self._cluster(status.cluster if status else None,
                                 status.node_share if status else {})
        yield from self._gathering(self._read(
            'metrics gathering statistics', self.engine.gathering_statistics))
        yield from self._applier(status.applier if status else None)

    def _pool(self, pool):
        for key, doc in _POOL_GAUGES:
            yield _gauge('pool_' + key, 'Worker pool: %s' % doc,
                         getattr(pool, key) if pool else None)
        for key, doc in _POOL_COUNTERS:
            yield _counter('pool_' + key, 'Worker pool: %s' % doc,
                           getattr(pool, key) if pool else None)

    def _periodics(self, periodics):
        label = ['task']
        families = {
            'runs': core.CounterMetricFamily(
                _name('periodic_runs'), 'Finished runs of each periodic '
                'task', labels=label),
            'failures': core.CounterMetricFamily(
                _name('periodic_failures'), 'Runs of each periodic task '
                'that raised', labels=label),
            'skipped': core.CounterMetricFamily(
                _name('periodic_skipped'), 'Runs of each periodic task '
                'skipped because its previous run was still going',
                labels=label),
            'last_duration': core.GaugeMetricFamily(
                _name('periodic_duration_seconds'), 'Duration of the last '
                'run of each periodic task', labels=label),
            'last_lateness': core.GaugeMetricFamily(
                _name('periodic_lateness_seconds'), 'How late past its '
                'spacing the last run of each periodic task started',
                labels=label),
            'spacing': core.GaugeMetricFamily(
                _name('periodic_spacing_seconds'), 'Configured seconds '
                'between two starts of each periodic task', labels=label),
            'running': core.GaugeMetricFamily(
                _name('periodic_running'), '1 while the periodic task runs',
                labels=label),
        }
        for task, stats in sorted(periodics.items()):
            for key, family in families.items():
                value = getattr(stats, key)
                if isinstance(value, bool):
                    value = int(value)
                _add(family, [task], value)
        yield from families.values()

    def _model(self, model):
        def field(name):
            return getattr(model, name) if model else None

        totals = field('totals')
        yield _gauge('model_build_duration_seconds', 'Duration of the build '
                     'of the current whole-cloud model',
                     field('build_seconds'))
        yield _counter('model_build_requests', 'HTTP requests (retries '
                       'included) sent by the successful model builds',
                       totals.requests if totals else None)
        by_service = core.CounterMetricFamily(
            _name('model_build_service_requests'), 'HTTP requests (retries '
            'included) sent by the successful model builds, by service',
            labels=['service'])
        if totals:
            for service, count in sorted(totals.requests_by_service.items()):
                by_service.add_metric([service], count)
        yield by_service
        yield _counter('model_build_neutron_queries_estimate', 'Neutron '
                       'queries nova-api made to answer the server listings '
                       'of the successful model builds (an estimate from '
                       'the pages listed: not seen by the engine)',
                       totals.neutron_queries_estimate if totals else None)
        yield _counter('model_build_errors', 'Failed model builds (any '
                       'scope)', totals.failures if totals else None)
        yield _gauge('model_staleness_seconds', 'Age of the current '
                     'whole-cloud model (no sample before the first build)',
                     field('age'))
        stale = field('stale')
        yield _gauge('model_stale', '1 when the whole-cloud model is stale '
                     '(too old, last build failed, or none built)',
                     None if stale is None else int(bool(stale)))
        yield _gauge('model_nodes', 'Compute nodes in the current '
                     'whole-cloud model', field('nodes'))
        yield _gauge('model_instances', 'Instances in the current '
                     'whole-cloud model', field('instances'))
        # Deprecated: the names before the dashboard contract; kept for
        # existing scrapers and the API tests.
        yield _gauge('model_builds', 'Deprecated: builds of the whole-cloud '
                     'model since start', field('builds'))
        yield _gauge('model_age_seconds', 'Deprecated: use '
                     'decision_engine_model_staleness_seconds',
                     field('age'))
        yield from self._notifications(field('notifications'))

    def _notifications(self, feed):
        """The ``[notifications]`` listener (no samples without one)."""
        events = core.CounterMetricFamily(
            _name('notification_events'), 'Nova notifications received, by '
            'event type and outcome (applied, stale, ignored, failed)',
            labels=['event_type', 'outcome'])
        if feed is not None:
            for event_type, outcomes in sorted(feed.by_type.items()):
                for outcome, count in sorted(outcomes.items()):
                    events.add_metric([event_type, outcome], count)
        yield events
        yield _gauge('notification_lag_seconds', 'Seconds from Nova\'s '
                     'timestamp to applied, of the last applied event',
                     None if feed is None or feed.lag_ms is None
                     else feed.lag_ms / 1000.0)
        yield _gauge('notification_pending', 'Received events waiting to '
                     'be applied', feed.pending if feed else None)
        yield _gauge('notification_event_fed', '1 while the model is '
                     'event-fed, 0 while rebuild-only',
                     None if feed is None
                     else int(feed.mode == 'event-fed'))
        yield _gauge('notification_connected', '1 while the listener is '
                     'connected to the message bus',
                     None if feed is None else int(feed.connected))
        yield _counter('notification_gaps', 'Gaps (disconnects, refused '
                       'or unappliable events) that made the model '
                       'rebuild-only', feed.gaps if feed else None)
        yield _counter('notification_rebuilds', 'Full builds asked for by '
                       'the listener (at connect and after a gap)',
                       feed.rebuilds_triggered if feed else None)

    def _power(self, sweeps, states):
        label = ['driver']
        duration = core.GaugeMetricFamily(
            _name('power_sweep_duration_seconds'), 'Duration of the last '
            'power-state sweep of each driver', labels=label)
        failures = core.CounterMetricFamily(
            _name('power_sweep_failures'), 'Failed power-state polls of each '
            'driver (a sweep failing as a whole counts one)', labels=label)
        runs = core.CounterMetricFamily(
            _name('power_sweeps'), 'Finished power-state sweeps of each '
            'driver', labels=label)
        for driver, stats in sorted(sweeps.items()):
            _add(duration, [driver], stats.last_duration)
            _add(failures, [driver], stats.failures)
            _add(runs, [driver], stats.sweeps)
        yield duration
        yield failures
        yield runs
        yield _gauge('power_failure_nodes', 'Nodes flagged power_failure '
                     '(too many failed polls in a row)',
                     sum(1 for record in states.values()
                         if record['power_failure']))

    def _audits(self, audits):
        by_state = core.GaugeMetricFamily(
            _name('audits'), 'Audits in the store, by state',
            labels=['state'])
        for state, count in sorted((audits.by_state if audits
                                    else {}).items()):
            _add(by_state, [state], count)
        yield by_state
        for key in ('queued', 'running'):
            yield _gauge('audits_%s' % key, 'Audits %s in this engine' % key,
                         getattr(audits, key) if audits else None)

    def _applier(self, applier):
        stored = core.GaugeMetricFamily(
            _name('actions'), 'Actions in the store, by type and state',
            labels=['type', 'state'])
        ended = core.CounterMetricFamily(
            _name('applier_actions_ended'), 'Actions this engine ended '
            'since it started, by type and state', labels=['type', 'state'])
        plans = core.CounterMetricFamily(
            _name('applier_plans_ended'), 'Action plans this engine ended '
            'since it started, by state', labels=['state'])
        if applier is not None:
            for key, count in sorted(applier.actions_in_store.items()):
                _add(stored, key.split('/', 1), count)
            for key, count in sorted(applier.actions_ended.items()):
                _add(ended, key.split('/', 1), count)
            for state, count in sorted(applier.plans_ended.items()):
                _add(plans, [state], count)
        yield stored
        yield ended
        yield plans
        for key, doc in (('plans_running', 'Action plans running'),
                         ('actions_ongoing', 'Actions ONGOING'),
                         ('migrations_in_flight', 'Migrations ONGOING')):
            yield _gauge('applier_' + key, '%s in this engine' % doc,
                         getattr(applier, key) if applier else None)
        yield _gauge('applier_plan_duration_seconds', 'Wall time of the '
                     'last action plan this engine ended',
                     applier.last_plan_seconds if applier else None)

    def _cluster(self, cluster, node_share):
        yield _gauge('cluster_members', 'Live engines in this engine\'s '
                     'cluster (1 without coordination)',
                     len(cluster.members) if cluster else None)
        yield _gauge('cluster_leader', '1 when this engine runs the '
                     'cluster-wide chores',
                     int(cluster.leader == cluster.member)
                     if cluster else None)
        yield _counter('cluster_ring_changes', 'Hash ring rebuilds after a '
                       'membership change',
                       cluster.ring_changes if cluster else None)
        takeovers = core.CounterMetricFamily(
            _name('cluster_takeovers'), 'Work taken over from engines that '
            'left the cluster, by kind', labels=['kind'])
        for kind, count in sorted((cluster.takeovers if cluster
                                   else {}).items()):
            _add(takeovers, [kind], count)
        yield takeovers
        share = core.GaugeMetricFamily(
            _name('cluster_node_share'), 'Nodes this engine polls (its share '
            'of the ring), by driver', labels=['driver'])
        for driver, count in sorted(node_share.items()):
            _add(share, [driver], count)
        yield share

    def _gathering(self, stats):
        for family, key, doc in (
                ('metrics_gatherings', 'gatherings',
                 'Metrics gatherings of audits'),
                ('metrics_gathering_failures', 'failed',
                 'Metrics gatherings that failed as a whole'),
                ('metrics_queries', 'queries',
                 'Datasource queries sent (retries included)'),
                ('metrics_query_retries', 'retries',
                 'Datasource queries sent again after a failure'),
                ('metrics_query_errors', 'errors',
                 'Datasource queries that failed'),
                ('metrics_cache_hits', 'cache_hits',
                 'Queries answered from the metrics cache')):
            yield _counter(family, doc, getattr(stats, key) if stats
                           else None)
        yield _gauge('metrics_gathering_duration_seconds',
                     'Duration of the last metrics gathering',
                     stats.last_seconds if stats else None)


class Metrics:
    """The registry behind ``/metrics`` of one API application."""

    def __init__(self, engine):
        self.registry = prometheus_client.CollectorRegistry()
        self.registry.register(EngineCollector(engine))
        self.requests = prometheus_client.Counter(
            _name('api_requests'), 'API requests served, by method and '
            'HTTP status', ['method', 'status'], registry=self.registry)

    def count(self, method, status):
        """Count one served request (``status``: the HTTP status code)."""
        self.requests.labels(method, str(status)).inc()

    def render(self):
        """``(body, content type)`` of the text exposition format."""
        return (prometheus_client.generate_latest(self.registry),
                prometheus_client.CONTENT_TYPE_LATEST)
