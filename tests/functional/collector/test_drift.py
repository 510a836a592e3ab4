"""Drift: after a churn run in the simulator (every change published as
Nova's notifications through RabbitMQ), the event-fed model equals a fresh
full build, element by element."""


import pytest

from decision_engine.cloud import connection
from decision_engine.collector import collector as collector_mod
from decision_engine.collector import fetch
from decision_engine.collector import notifications
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.simulator import churn as churn_mod
from decision_engine.simulator import notifier as notifier_mod
from tests import fresh_conf
from tests.fixtures import deliveries as deliveries_mod
from tests.fixtures import waiting


pytestmark = pytest.mark.topology(
    hosts=12, instances=150, aggregates=3, azs=2, seed=11)


def _conf(url):
    conf = fresh_conf()
    conf.set_override('transport_url', url, group='notifications')
    conf.set_override('retry_delay', 0.001, group='collector')
    return conf


def _collector(conf, sim, pool, live=None):
    return collector_mod.ModelCollector(
        conf, pool, lambda size: connection.from_auth(conf, sim.auth(),
                                                      size), live=live)


def test_event_fed_model_equals_a_fresh_build_after_churn(
        sim, vhost, monkeypatch):
    url = 'rabbit://guest:guest@127.0.0.1:5672/%s' % vhost
    conf = _conf(url)
    pool = WorkerPool(8)
    listener = notifications.NotificationListener(conf, pool)
    publisher = notifier_mod.NovaNotifier(url)
    deliveries = deliveries_mod.Deliveries(publisher)
    deliveries.attach(listener, monkeypatch)
    live_collector = _collector(conf, sim, pool, live=listener)
    listener.start(live_collector.transport,
                   fetch.FetchSettings.from_conf(conf.collector),
                   live_collector.refresh_model)
    fresh = _collector(conf, sim, pool)
    try:
        waiting.until(lambda: listener.status().mode == 'event-fed')
        churn = churn_mod.Churn(sim, deliveries, rate_per_s=200, seed=5,
                                tick_s=0.1)
        for _ in range(15):
            churn.step(20)
        assert churn.stats.changes >= 250
        # By identity: a copy the broker delivers again is no stand-in for
        # a notification still on its way.
        waiting.until(lambda: not deliveries.missing(),
                      'every published notification delivered')
        assert listener.wait_idle(30)
        status = listener.status()
        assert status.failed == 0 and status.mode == 'event-fed'
        event_fed = listener.snapshot()
        built = fresh.get_model(max_age=0)
        assert set(event_fed.nodes) == set(built.nodes)
        for uuid, node in built.nodes.items():
            assert event_fed.nodes[uuid] == node
        assert set(event_fed.instances) == set(built.instances)
        for uuid, inst in built.instances.items():
            assert event_fed.instances[uuid] == inst
        assert event_fed.aggregates == built.aggregates
        assert event_fed.availability_zones == built.availability_zones
        assert event_fed == built
        # ... and the simulator's ground truth.
        truth = {i.uuid: (i.host, i.vm_state, i.flavor.vcpus)
                 for i in sim.topology.instances if i.host is not None}
        assert {u: (i.host, i.state, i.vcpus)
                for u, i in event_fed.instances.items()} == truth
        assert {h.hostname: (h.status, h.disabled_reason)
                for h in sim.topology.hosts} == {
            n.hostname: (n.status, n.disabled_reason)
            for n in event_fed.nodes.values()}
        assert status.applied >= churn.stats.changes
        # The churn really changed the cloud, and every kind happened.
        assert set(churn.stats.by_kind) == {k for k, _ in churn_mod.MIX}
    finally:
        publisher.close()
        listener.stop()
        live_collector.stop()
        fresh.stop()
        pool.shutdown(timeout=30)
