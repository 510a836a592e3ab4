"""Prometheus metrics, read from the engine when scraped.

Pool and periodic numbers, audits by state, the model's build duration and
age are gathered from :class:`~.engine_api.EngineAPI` at each scrape (no
background thread); API requests are counted as they are served.
"""

import prometheus_client
from prometheus_client import core

PREFIX = 'decision_engine'


class _EngineCollector:
    def __init__(self, engine):
        self.engine = engine

    def collect(self):
        status = self.engine.status()
        pool = status.get('pool') or {}
        for key in ('size', 'busy', 'queued', 'free', 'reserved'):
            if key in pool:
                yield core.GaugeMetricFamily(
                    '%s_pool_%s' % (PREFIX, key),
                    'Worker pool: %s workers' % key, value=pool[key])
        for key in ('submitted', 'rejected', 'caller_ran', 'executed',
                    'failed'):
            if key in pool:
                yield core.CounterMetricFamily(
                    '%s_pool_%s' % (PREFIX, key),
                    'Worker pool: tasks %s' % key.replace('_', ' '),
                    value=pool[key])
        runs = core.CounterMetricFamily(
            '%s_periodic_runs' % PREFIX, 'Runs of each periodic task',
            labels=['task'])
        failures = core.CounterMetricFamily(
            '%s_periodic_failures' % PREFIX,
            'Failed runs of each periodic task', labels=['task'])
        for name, stats in (status.get('periodics') or {}).items():
            runs.add_metric([name], stats.get('runs', 0))
            failures.add_metric([name], stats.get('failures', 0))
        yield runs
        yield failures
        audits = status.get('audits') or {}
        by_state = core.GaugeMetricFamily(
            '%s_audits' % PREFIX, 'Audits in the store by state',
            labels=['state'])
        for state, count in (audits.get('by_state') or {}).items():
            by_state.add_metric([state], count)
        yield by_state
        for key in ('queued', 'running'):
            if key in audits:
                yield core.GaugeMetricFamily(
                    '%s_audits_%s' % (PREFIX, key),
                    'Audits %s in this engine' % key, value=audits[key])
        # NOTE: the collector's status has the figures; asking for the
        # model summary would copy the whole model at every scrape.
        collector = self.engine.collector_status() or {}
        if collector.get('build_seconds') is not None:
            yield core.GaugeMetricFamily(
                '%s_model_build_seconds' % PREFIX,
                'Duration of the last whole-cloud model build',
                value=collector['build_seconds'])
        if collector.get('age') is not None:
            yield core.GaugeMetricFamily(
                '%s_model_age_seconds' % PREFIX,
                'Age of the current whole-cloud model',
                value=collector['age'])
        if 'stale' in collector:
            yield core.GaugeMetricFamily(
                '%s_model_stale' % PREFIX,
                '1 when the whole-cloud model is stale',
                value=1 if collector['stale'] else 0)
        for key in ('builds', 'failures', 'nodes', 'instances', 'requests'):
            if isinstance(collector.get(key), (int, float)):
                yield core.GaugeMetricFamily(
                    '%s_model_%s' % (PREFIX, key),
                    'Model collector: %s' % key, value=collector[key])


class Metrics:
    def __init__(self, engine):
        self.registry = prometheus_client.CollectorRegistry()
        self.registry.register(_EngineCollector(engine))
        self.requests = prometheus_client.Counter(
            '%s_api_requests' % PREFIX, 'API requests served',
            ['method', 'status'], registry=self.registry)

    def count(self, method, status):
        self.requests.labels(method, str(status)).inc()

    def render(self):
        return (prometheus_client.generate_latest(self.registry),
                prometheus_client.CONTENT_TYPE_LATEST)
