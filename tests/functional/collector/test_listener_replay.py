"""A restarted engine and its listener pool's queue (the real RabbitMQ, the
simulated cloud sending Nova's notifications): what Nova sent while the
engine was down waits in the queue and reaches the new engine during its
first full build. The build already reflects those events; replayed onto
it they must not roll it back (a service event saying the host is up,
replayed onto a build that saw the host down since: Nova sends nothing
when a compute stops reporting, so no later event would correct it)."""

import threading

import pytest
import requests

from decision_engine.simulator import notifier as notifier_mod
from tests import fresh_conf
from tests.fixtures import rabbit
from tests.fixtures.listener_engine import Engine
from tests.fixtures import waiting


def _all_up(topology):
    for host in topology.hosts:
        host.status, host.state, host.disabled_reason = 'enabled', 'up', None


pytestmark = pytest.mark.topology(hosts=4, instances=8, aggregates=1, azs=0,
                                  seed=13, edit=_all_up)


@pytest.fixture
def cloud(sim, vhost):
    sim.notifier = notifier_mod.NovaNotifier(rabbit.url(vhost))
    yield sim
    sim.notifier.close()
    sim.notifier = None


def _conf(vhost):
    # NOTE: one [DEFAULT] host, so one listener pool (one queue) for both
    # engines; Nova's clocks are the test's own (clock_skew 0).
    conf = fresh_conf(host='engine-replay')
    conf.set_override('transport_url', rabbit.url(vhost),
                      group='notifications')
    conf.set_override('clock_skew', 0.0, group='notifications')
    return conf


def _disable(sim, host):
    resp = requests.put(
        '%s/compute/v2.1/os-services/%s' % (sim.url, host.service_uuid),
        json={'status': 'disabled', 'disabled_reason': 'maintenance'},
        headers={'X-Auth-Token': sim.token_for(),
                 'X-OpenStack-Nova-API-Version': '2.53'}, timeout=30)
    assert resp.status_code == 200, resp.text


def test_events_queued_while_down_do_not_roll_the_first_build_back(
        cloud, vhost):
    host = cloud.topology.hosts[0]
    first = Engine(_conf(vhost), cloud)
    try:
        assert first.builds.acquire(timeout=60)
        waiting.until(lambda: first.listener.status().mode == 'event-fed')
    finally:
        first.stop()
    # While no engine listens: the host is disabled (service.update, the
    # host reporting: up) and then its compute stops reporting (down in
    # Nova's API, no notification).
    _disable(cloud, host)
    host.state = 'down'
    cloud.services[1].host_changed(host.hostname)
    # The new engine's first build begins before its listener connects
    # (as the manager's first periodic build may): the queued event
    # arrives during the build.
    second = Engine(_conf(vhost), cloud, listen=False)
    try:
        cloud.add_fault('stall', service='compute',
                        path='/os-hypervisors/detail')
        build = threading.Thread(target=second.collector.refresh_model)
        build.start()
        cloud.wait_in_flight(1)
        second.listen()
        waiting.until(lambda: second.listener.status().by_type.get(
            'service.update') == {'stale': 1},
            'the queued service.update received (no model yet)')
        cloud.clear_faults()
        cloud.release_stalls()
        build.join(60)
        assert not build.is_alive()
        node = second.listener.snapshot().get_node_by_hostname(
            host.hostname)
        # As the build read it, not as the older event said.
        assert (node.status, node.state) == ('disabled', 'down')
        assert second.listener.wait_idle(30)
        node = second.listener.snapshot().get_node_by_hostname(
            host.hostname)
        assert (node.status, node.state) == ('disabled', 'down')
    finally:
        second.stop()
