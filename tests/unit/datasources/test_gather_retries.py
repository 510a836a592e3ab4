"""The gatherer's retries, on a datasource of the test's own (no
Prometheus): counted, and never waiting into the deadline."""

import time

import pytest

from decision_engine.common import measurements as m
from decision_engine.concurrency import pool as pool_mod
from decision_engine.datasources import base
from decision_engine.datasources import gather


class Flaky(base.Datasource):
    """Fails its first ``failures`` runs with ``error``."""

    name = 'flaky'
    metrics = (m.HOST_CPU,)

    def __init__(self, failures, error):
        super().__init__(conf=None)
        self.failures = failures
        self.error = error
        self.runs = 0

    def query(self, metric, names, window, fallback=False, granularity=0):
        if fallback:
            return None
        return base.Query(metric, 'cpu{%s}' % ','.join(names), names)

    def run(self, query, timeout, at=None):
        self.runs += 1
        if self.runs <= self.failures:
            raise self.error
        return {name: 42.0 for name in query.names}


class Highest:
    """An rng whose jitter always draws the longest wait."""

    def uniform(self, low, high):
        return high


@pytest.fixture
def pool():
    p = pool_mod.WorkerPool(2)
    yield p
    p.shutdown()


def _gatherer(datasource, pool, **settings):
    values = dict(max_retries=3, retry_delay=0.0, gather_timeout=30.0,
                  cache_ttl=0)
    values.update(settings)
    return gather.MetricsGatherer(datasource, pool,
                                  lambda: gather.Settings(**values),
                                  rng=Highest())


def test_retried_errors_are_counted_and_the_values_returned(pool):
    source = Flaky(2, base.RetryableError('HTTP 503'))
    gatherer = _gatherer(source, pool)
    found = gatherer.gather({m.HOST_CPU: ['h1', 'h2']})
    assert found.get(m.HOST_CPU, 'h2') == 42.0
    stats = gatherer.statistics()
    assert (stats.queries, stats.errors, stats.retries) == (3, 2, 2)


def test_the_last_try_failing_names_the_attempts(pool):
    gatherer = _gatherer(Flaky(10, base.RetryableError('HTTP 503')), pool,
                         max_retries=2)
    with pytest.raises(gather.GatheringError) as info:
        gatherer.gather({m.HOST_CPU: ['h1']})
    assert str(info.value) == (
        'metrics query cpu{h1} failed: HTTP 503 (after 3 attempts)')


def test_a_backoff_reaching_the_deadline_fails_at_once(pool):
    gatherer = _gatherer(Flaky(10, base.RetryableError('HTTP 503')), pool,
                         retry_delay=60.0, gather_timeout=30.0)
    started = time.monotonic()
    with pytest.raises(gather.GatheringError) as info:
        gatherer.gather({m.HOST_CPU: ['h1']})
    assert time.monotonic() - started < 5
    assert str(info.value) == (
        'metrics query cpu{h1} failed: deadline of [datasource] '
        'gather_timeout (30.0 s) reached')


def test_an_error_not_worth_a_retry_fails_on_the_first_try(pool):
    source = Flaky(10, base.DatasourceError('HTTP 400 bad query'))
    gatherer = _gatherer(source, pool)
    with pytest.raises(gather.GatheringError) as info:
        gatherer.gather({m.HOST_CPU: ['h1']})
    assert source.runs == 1
    assert str(info.value) == (
        'metrics query cpu{h1} failed: HTTP 400 bad query')
