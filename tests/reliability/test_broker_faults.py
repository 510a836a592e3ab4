"""Broker faults: the simulated cloud churns (every change published as
Nova's notifications through RabbitMQ, a virtual host of the test's own)
while the broker closes every connection of that virtual host, the
listener's and the publisher's, several times in a row
(``rabbitmqctl close_connection``).

Each close must be seen (a gap: the model rebuild-only), healed by the
full build the reconnection asks for, and after the churn stops the
event-fed model must equal a fresh full build: events lost after the
healing rebuild = 0.

Every notification is followed by identity (tests/fixtures/deliveries.py):
the test waits until each one published was delivered to the listener,
not until as many deliveries as publications were counted. A close makes
the broker deliver again what the listener had not acknowledged, and
those copies made a count reach the number published while the last
notifications were still on their way: the model was then compared an
event early (``lost_after_heal=1`` about one run in five, though nothing
was lost).
"""

import threading
import time

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
from tests.fixtures import figures
from tests.fixtures import rabbit
from tests.fixtures import waiting


pytestmark = pytest.mark.topology(
    hosts=8, instances=80, aggregates=2, azs=1, seed=15)

CLOSES = 3
RATE = 60           # changes a second
GUARD = 60


@pytest.fixture
def vhost():
    with rabbit.own_vhost() as name:
        yield name


def _differences(event_fed, built):
    """Elements of ``built`` (a fresh build) the event-fed model lacks or
    holds otherwise, and elements it holds that ``built`` lacks."""
    count = 0
    for table in ('nodes', 'instances'):
        mine, truth = getattr(event_fed, table), getattr(built, table)
        count += len(set(mine) ^ set(truth))
        count += sum(1 for key in set(mine) & set(truth)
                     if mine[key] != truth[key])
    count += sum(1 for name in set(event_fed.aggregates) | set(
        built.aggregates) if event_fed.aggregates.get(name) !=
        built.aggregates.get(name))
    return count


def test_connections_closed_mid_stream_lose_nothing_after_the_heal(
        sim, vhost, monkeypatch):
    conf = fresh_conf(host='engine-broker')
    conf.set_override('transport_url', rabbit.url(vhost),
                      group='notifications')
    conf.set_override('retry_delay', 0.001, group='collector')
    pool = WorkerPool(8)
    listener = notifications.NotificationListener(conf, pool)
    publisher = notifier_mod.NovaNotifier(rabbit.url(vhost))
    deliveries = deliveries_mod.Deliveries(publisher)
    deliveries.attach(listener, monkeypatch)
    collector = collector_mod.ModelCollector(
        conf, pool, lambda size: connection.from_auth(conf, sim.auth(), size),
        live=listener)
    listener.start(collector.transport,
                   fetch.FetchSettings.from_conf(conf.collector),
                   collector.refresh_model)
    churn = churn_mod.Churn(sim, deliveries, rate_per_s=RATE, seed=15,
                            tick_s=0.1)
    fresh = collector_mod.ModelCollector(
        conf, pool, lambda size: connection.from_auth(conf, sim.auth(), size))
    heal_seconds = []
    closed_now = []
    try:
        waiting.until(lambda: listener.status().mode == 'event-fed',
                      'first build')
        churn.start()
        for _ in range(CLOSES):
            waiting.until(lambda: listener.status().applied > 0 and
                          churn.stats.notifications > 20, 'events flowing')
            gaps = listener.status().gaps
            builds = collector.status().builds
            # NOTE: rabbitmqctl takes seconds per call: it runs in a
            # thread while this one watches the mode change and heal.
            closing = threading.Thread(target=lambda: closed_now.append(
                rabbit.close_connections(vhost)))
            closing.start()
            waiting.until(lambda: listener.status().mode == 'rebuild-only' or
                          listener.status().gaps > gaps, 'the gap seen')
            started = time.monotonic()
            waiting.until(lambda: collector.status().builds > builds and
                          listener.status().mode == 'event-fed', 'healed')
            heal_seconds.append(time.monotonic() - started)
            closing.join(GUARD)
            # The publisher's close may come after the listener healed.
            waiting.until(lambda: listener.status().mode == 'event-fed',
                          'healed after every close')
            # Events flow again before the next close.
            applied = listener.status().applied
            waiting.until(lambda: listener.status().applied > applied,
                          'events after the heal')
        churn.stop()
        deliveries.published_all()
        # NOTE: by identity, not by count: the copies the broker delivers
        # again after a close would make a count reach the number
        # published before the last notifications are delivered.
        try:
            waiting.until(lambda: not deliveries.missing(),
                          'every published notification delivered',
                          timeout=GUARD)
        except AssertionError:
            pass        # the figures line and the assertion below name them
        assert listener.wait_idle(GUARD)
        status = listener.status()
        lost = _differences(listener.snapshot(), fresh.get_model(max_age=0))
        missing = deliveries.missing()
        counted = deliveries.figures()
        figures.record(
            'broker-faults/rabbitmq', closes=CLOSES,
            connections_closed=sum(closed_now), changes=churn.stats.changes,
            published=counted['published'], received=counted['received'],
            applied=status.applied, failed=status.failed, gaps=status.gaps,
            rebuilds=status.rebuilds_triggered,
            heal_s_max=max(heal_seconds),
            redelivered=counted['redelivered'], missing=len(missing),
            missing_ids=','.join('%s/%s' % k for k in missing[:3]) or '-',
            count_early_by=deliveries.count_early_by, lost_after_heal=lost)
        # NOTE: each close found the listener's connection (its gap is
        # asserted below); the publisher's is there too unless the close
        # came while it was between two reconnections (5 of 6 seen once
        # in a full run), so only one a close is asserted.
        assert len(closed_now) == CLOSES and min(closed_now) >= 1
        assert status.mode == 'event-fed' and status.failed == 0
        assert status.gaps >= CLOSES and status.rebuilds_triggered > CLOSES
        assert counted['published'] == churn.stats.notifications
        assert not missing, 'published, never delivered: %s' % missing[:10]
        assert counted['unknown'] == 0
        assert lost == 0
    finally:
        churn.stop()
        publisher.transport.cleanup()
        listener.stop()
        collector.stop()
        fresh.stop()
        pool.shutdown(timeout=30)
