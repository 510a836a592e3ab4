"""A bus connection closed under load heals (issue 23, part 2): while
Nova sends notifications (compute services disabled and enabled, hosts
moved between aggregates, through Nova's API), the broker closes the
engine's RabbitMQ connections, and only the engine's (Nova's services keep
theirs). The engine must see the gap (rebuild-only), heal with the full
build the reconnection asks for, keep applying the events sent after the
heal, and end equal to what Nova shows with no further build: nothing
lost.
"""

import os
import threading

import pytest

from tests.fixtures import figures
from tests.fixtures import rabbit
from tests.fixtures import realcloud_live as live
from tests.fixtures.waiting import until

HOSTS = ('compute-1', 'compute-2', 'compute-3', 'compute-4')


@pytest.fixture
def aggregates(cloud):
    made = live.Aggregates(cloud)
    yield made
    made.cleanup()


class Load:
    """Changes through Nova's API, one after the other, in a thread,
    until stopped: each sends a notification."""

    def __init__(self, cloud, aggregates):
        self.cloud = cloud
        self.aggregates = aggregates
        self.agg = aggregates.new('rc-bus-load')
        self.changes = 0
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            step = 0
            while not self._stop.is_set():
                host = HOSTS[step % len(HOSTS)]
                if step % 2:
                    live.put_service(self.cloud, host, {
                        'status': 'disabled',
                        'disabled_reason': 'bus-load-%d' % step})
                else:
                    live.put_service(self.cloud, host,
                                     {'status': 'enabled'})
                verb = 'add_host' if step % 8 < 4 else 'remove_host'
                self.aggregates.action(self.agg, verb, host)
                self.changes += 2
                step += 1
        except Exception as exc:    # the test fails on it
            self.error = exc

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(120)
        assert not self._thread.is_alive()
        assert self.error is None, self.error


def test_a_bus_connection_closed_under_load_heals(
        tmp_path, testbed, cloud, aggregates):
    cloud.delete_all_servers()
    live.restore_services(cloud)
    engine = live.LiveEngine(tmp_path, testbed)
    engine.start()
    load = Load(cloud, aggregates)
    try:
        load.start()
        until(lambda: engine.status().applied >= 6, 'events flowing',
              timeout=60, interval=0.1)
        gaps, builds = engine.status().gaps, engine.builds()
        closed = rabbit.close_connections(testbed.state['vhost'],
                                          pid=os.getpid())
        assert closed >= 1
        until(lambda: engine.status().gaps > gaps, 'the gap seen',
              timeout=60, interval=0.1)
        until(lambda: engine.builds() > builds and
              engine.status().mode == 'event-fed', 'healed by a build',
              timeout=120, interval=0.1)
        healed = engine.builds()
        applied = engine.status().applied
        until(lambda: engine.status().applied >= applied + 6,
              'events applied after the heal', timeout=60, interval=0.1)
        load.stop()
        # Nova is done: the model shows it from the events alone.
        want = live.settled(engine, cloud, 'the model caught up with Nova',
                            timeout=60)
        model = engine.model()
        for host in HOSTS:
            assert model.get_node_by_hostname(host).disabled_reason == \
                live.service(cloud, host)['disabled_reason'], host
        assert want['aggregates']['rc-bus-load'] == sorted(
            model.aggregates['rc-bus-load'])
        status = engine.status()
        figures.record('realcloud/bus-heal', changes=load.changes,
                       connections_closed=closed, applied=status.applied,
                       stale=status.stale, gaps=status.gaps,
                       builds_after_heal=engine.builds() - healed)
        assert engine.builds() == healed
        assert (status.mode, status.failed) == ('event-fed', 0)
    finally:
        load.stop()
        assert engine.stop() == []
        live.restore_services(cloud)
