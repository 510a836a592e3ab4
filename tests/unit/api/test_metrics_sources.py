"""/metrics through the real WSGI stack (build_app), one source at a time:
the pool, periodic tasks, a failing model build, a failing power sweep, and
a source that cannot be read."""

import logging
import threading

import pytest
import webob

from decision_engine.api import server
from decision_engine.conductor import manager as manager_mod
from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from decision_engine.drivers import base
from decision_engine.drivers import fake
from decision_engine.drivers import inventory
from decision_engine.drivers import power_state
from decision_engine.collector import collector as collector_mod
from decision_engine.model.errors import ModelBuildError
from tests import BACKEND
from tests.fixtures import fakes
from tests.fixtures import metrics


class Engine:
    """The two methods the metrics read, from the parts a test gives."""

    def __init__(self, status=None, collector=None):
        self._status = status or (lambda: {})
        self.collector = collector

    def status(self):
        parts = dict(pool=None, periodics={}, power_states={},
                     power_sweeps={}, audits=None)
        parts.update(self._status())
        return manager_mod.EngineStatus(**parts)

    def collector_status(self):
        return self.collector.status() if self.collector is not None \
            else None

    def gathering_statistics(self):
        return None


def scrape(engine):
    """``({sample name: {labels: value}}, {family: type})`` of a GET
    /metrics through the WSGI stack the server runs."""
    wsgi_app, _ = server.build_app(fakes.make_conf(), engine)
    response = webob.Request.blank('/metrics').get_response(wsgi_app)
    assert response.status_code == 200, response.text
    return metrics.parse(response.text)


value = metrics.value


@pytest.fixture
def pool():
    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    yield pool
    pool.shutdown(timeout=10)


def test_every_contract_family_is_exposed_even_with_nothing_known():
    samples, types = scrape(Engine())
    for name in metrics.METRICS:
        family, kind = metrics.family_of(name, types)
        assert family, '%s is not exposed' % name
        assert (kind == 'counter') == name.endswith('_total'), (name, kind)
    # No figure yet: no sample rather than a made-up zero.
    assert 'decision_engine_model_staleness_seconds' not in samples
    assert 'decision_engine_pool_size' not in samples


def test_pool_rejections_and_load(pool):
    engine = Engine(status=lambda: {'pool': pool.statistics()})
    release = threading.Event()
    started = [threading.Event() for _ in range(3)]
    futures = [pool.submit(lambda e=e: (e.set(), release.wait(30)))
               for e in started]
    try:
        for event in started:
            assert event.wait(30)
        with pytest.raises(pool_mod.NoFreeWorker):
            pool.submit(print)
        samples, types = scrape(engine)
        assert types['decision_engine_pool_rejected'] == 'counter'
        assert value(samples, 'decision_engine_pool_rejected_total') == 1
        assert value(samples, 'decision_engine_pool_busy') == 3
        assert value(samples, 'decision_engine_pool_size') == 3
        assert value(samples, 'decision_engine_pool_queued') == 0
        assert value(samples, 'decision_engine_pool_free') == 0
    finally:
        release.set()
        pool.wait_all(futures, timeout=30)
    samples, _ = scrape(engine)
    assert value(samples, 'decision_engine_pool_busy') == 0
    assert value(samples, 'decision_engine_pool_executed_total') == 3


class Ticker:
    def __init__(self):
        self.fail = False

    @periodics.periodic(spacing=0.001)
    def tick(self):
        if self.fail:
            raise RuntimeError('tick failed')


def test_periodic_runs_failures_duration_and_lateness():
    ticker = Ticker()
    [task] = periodics.collect(ticker, prefix='t')
    engine = Engine(status=lambda: {'periodics': {
        task.name: task.statistics()}})
    samples, _ = scrape(engine)
    assert value(samples, 'decision_engine_periodic_runs_total',
                 task='t.tick') == 0
    assert value(samples, 'decision_engine_periodic_duration_seconds',
                 task='t.tick') is None
    task.callable()
    ticker.fail = True
    with pytest.raises(RuntimeError):
        task.callable()
    samples, _ = scrape(engine)
    assert value(samples, 'decision_engine_periodic_runs_total',
                 task='t.tick') == 2
    assert value(samples, 'decision_engine_periodic_failures_total',
                 task='t.tick') == 1
    assert value(samples, 'decision_engine_periodic_duration_seconds',
                 task='t.tick') >= 0
    assert value(samples, 'decision_engine_periodic_lateness_seconds',
                 task='t.tick') >= 0
    assert value(samples, 'decision_engine_periodic_spacing_seconds',
                 task='t.tick') == 0.001
    assert value(samples, 'decision_engine_periodic_running',
                 task='t.tick') == 0


def test_failed_model_builds_are_counted(pool):
    conf = fakes.make_conf()

    def unreachable(size):
        raise ConnectionError('keystone is down')

    collector = collector_mod.ModelCollector(conf, pool, unreachable)
    engine = Engine(collector=collector)
    try:
        for attempt in (1, 2):
            with pytest.raises(ModelBuildError, match='keystone is down'):
                collector.get_model(max_age=0)
            samples, _ = scrape(engine)
            assert value(samples,
                         'decision_engine_model_build_errors_total') == \
                attempt
    finally:
        collector.stop()
    assert value(samples, 'decision_engine_model_build_requests_total') == 0
    assert value(samples, 'decision_engine_model_stale') == 1
    # No model: no age, no duration.
    assert 'decision_engine_model_staleness_seconds' not in samples
    assert 'decision_engine_model_build_duration_seconds' not in samples


class BrokenListing(fake.FakePowerDriver):
    """A driver whose one-call-for-all listing fails as a whole."""

    def _sweep(self, nodes):
        raise base.PowerDriverError('the listing failed')


def test_power_sweeps_by_driver(pool):
    conf = fakes.make_conf()
    tracker = power_state.PowerStateTracker(1)
    good = fake.FakePowerDriver(conf, pool, [
        inventory.Node('c1', 'fake'),
        inventory.Node('c2', 'fake', {'fail': True})], tracker)
    broken = BrokenListing(conf, pool, [inventory.Node('c3', 'fake')],
                           tracker)
    drivers = {'fake': good, 'broken': broken}
    engine = Engine(status=lambda: {
        'power_sweeps': {n: d.sweep_statistics()
                         for n, d in drivers.items()},
        'power_states': tracker.snapshot()})
    samples, _ = scrape(engine)
    assert value(samples, 'decision_engine_power_sweep_failures_total',
                 driver='fake') == 0
    assert value(samples, 'decision_engine_power_sweep_duration_seconds',
                 driver='fake') is None
    good.sync_power_states()
    good.sync_power_states()
    with pytest.raises(base.PowerDriverError):
        broken.sync_power_states()
    samples, _ = scrape(engine)
    assert value(samples, 'decision_engine_power_sweep_failures_total',
                 driver='fake') == 2
    assert value(samples, 'decision_engine_power_sweeps_total',
                 driver='fake') == 2
    assert value(samples, 'decision_engine_power_sweep_duration_seconds',
                 driver='fake') >= 0
    assert value(samples, 'decision_engine_power_sweep_failures_total',
                 driver='broken') == 1
    assert value(samples, 'decision_engine_power_sweeps_total',
                 driver='broken') == 0
    assert value(samples, 'decision_engine_power_sweep_duration_seconds',
                 driver='broken') >= 0
    # max_retries = 1: c2 is flagged after its first failed poll.
    assert value(samples, 'decision_engine_power_failure_nodes') == 1


def test_a_source_that_fails_does_not_break_the_scrape(caplog):
    def down():
        raise RuntimeError('the store is down')

    class Collector:
        def status(self):
            return collector_mod.CollectorStatus(
                scope=None, built_at=1.0, age=12.5, stale=False,
                reason=None, building=False, build_seconds=1.5,
                requests=9, nodes=3, instances=6, builds=1, failures=0,
                last_failure_at=None, scoped=[],
                totals=collector_mod.BuildTotals(
                    builds=1, failures=0, requests=9))

    with caplog.at_level(logging.WARNING, 'decision_engine.api.metrics'):
        samples, types = scrape(Engine(status=down, collector=Collector()))
    assert 'cannot read the engine status: RuntimeError: the store is ' \
        'down' in caplog.text
    assert value(samples, 'decision_engine_model_staleness_seconds') == 12.5
    assert value(samples, 'decision_engine_model_build_requests_total') == 9
    for name in metrics.METRICS:
        assert metrics.family_of(name, types)[0], name


def test_build_cost_by_service_and_neutron_estimate():
    class Collector:
        def status(self):
            return collector_mod.CollectorStatus(
                scope=None, built_at=1.0, age=1.0, stale=False,
                reason=None, building=False, build_seconds=1.5,
                requests=30, nodes=3, instances=6, builds=2, failures=0,
                last_failure_at=None, scoped=[],
                requests_by_service={'compute': 9, 'placement': 6},
                neutron_queries_estimate=4, servers_listing='per_host',
                totals=collector_mod.BuildTotals(
                    builds=2, failures=0, requests=30,
                    requests_by_service={'compute': 18, 'placement': 12},
                    neutron_queries_estimate=8))

    samples, types = scrape(Engine(collector=Collector()))
    name = 'decision_engine_model_build_service_requests_total'
    assert value(samples, name, service='compute') == 18
    assert value(samples, name, service='placement') == 12
    assert value(samples, 'decision_engine_model_build_neutron_queries_'
                 'estimate_total') == 8
    assert types['decision_engine_model_build_service_requests'] == \
        'counter'
