"""D2 against the simulator: with ``usage_source = placement`` the
event-fed model's usage per host equals Placement's (a fresh full build's)
at every step of a cold and a live migration the simulator makes as Nova
does, fed by the notifications Nova sends for them (Nova's payloads from
the simulator's records, Nova's publishers), with no full build between,
and after a full build that saw a migration waiting for its confirmation.
"""

import datetime

import pytest

from decision_engine.cloud import connection
from decision_engine.collector import collector as collector_mod
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.simulator import notifier as notifier_mod
from tests import fresh_conf
from tests.fixtures import rabbit
from tests.fixtures import waiting
from tests.fixtures.listener_engine import Engine
from tests.fixtures.listener_engine import Publisher


def _all_movable(topo):
    for host in topo.hosts:
        host.status, host.state, host.disabled_reason = 'enabled', 'up', None
        host.power_state = 'power on'
    for inst in topo.instances:
        inst.vm_state, inst.locked = 'active', False


pytestmark = pytest.mark.topology(hosts=6, instances=30, aggregates=1,
                                  azs=1, seed=9, edit=_all_movable)


class Clock:
    """The simulator's migration clock, moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _conf(vhost):
    conf = fresh_conf(host='engine-holds')
    conf.set_override('transport_url', rabbit.url(vhost),
                      group='notifications')
    conf.set_override('retry_delay', 0.001, group='collector')
    conf.set_override('usage_source', 'placement', group='collector')
    return conf


@pytest.fixture
def cloud(vhost, sim, conn):
    clock = Clock()
    sim.writes.clock = clock
    conf = _conf(vhost)
    engine = Engine(conf, sim)
    pool = WorkerPool(4)
    fresh = collector_mod.ModelCollector(
        conf, pool, lambda size: connection.from_auth(conf, sim.auth(),
                                                      size))
    publisher = Publisher(vhost)
    assert engine.builds.acquire(timeout=60)
    waiting.until(lambda: engine.listener.status().mode == 'event-fed')
    yield Cloud(sim, conn, clock, engine, fresh, publisher)
    publisher.close()
    engine.stop()
    fresh.stop()
    pool.shutdown(timeout=30)


class Cloud:
    def __init__(self, sim, conn, clock, engine, fresh, publisher):
        self.sim, self.conn, self.clock = sim, conn, clock
        self.engine, self.fresh, self.publisher = engine, fresh, publisher
        self.sent = 0

    def record(self, uuid):
        return next(i for i in self.sim.topology.instances
                    if i.uuid == uuid)

    def move(self, inst, action):
        """POST the action to the first other host that takes it."""
        for host in self.sim.topology.hosts:
            if host.hostname == inst.host or host.is_ironic:
                continue
            if action == 'migrate':
                body = {'migrate': {'host': host.hostname}}
            else:
                body = {'os-migrateLive': {'host': host.hostname,
                                           'block_migration': 'auto'}}
            answer = self.conn.compute.post(
                '/servers/%s/action' % inst.uuid, json=body,
                microversion='2.56')
            if answer.status_code == 202:
                return host.hostname
        raise AssertionError('no host takes %s' % inst.uuid)

    def tick(self):
        """The running moves end (the simulator settles them)."""
        self.clock.now += 10
        self.sim.writes.settle()

    def confirm(self, inst):
        assert self.conn.compute.post(
            '/servers/%s/action' % inst.uuid, json={'confirmResize': None},
            microversion='2.56').status_code == 202

    def notify(self, event_type, inst, publisher, host, **extra):
        """What Nova sends: the instance as the sending compute's object
        has it, published as ``nova-compute:<publisher>``."""
        now = datetime.datetime.now(datetime.timezone.utc)
        payload = notifier_mod.instance_payload(inst, host, now)
        payload['nova_object.data'].update(extra)
        self.publisher.send((event_type, payload, None),
                            'nova-compute:%s' % publisher)
        self.sent += 1
        status = self.engine.listener.status
        waiting.until(lambda: status().applied + status().stale >=
                      self.sent, 'event %s applied' % event_type)

    def usages(self, *hostnames):
        """``(event-fed, Placement's)`` usage of each host."""
        live = self.engine.listener.snapshot()
        built = self.fresh.get_model(max_age=0)
        return ({h: live.usage(h) for h in hostnames},
                {h: built.usage(h) for h in hostnames})


def _movable(cloud, exclude=()):
    hosts = {h.hostname: h for h in cloud.sim.topology.hosts}
    model = cloud.engine.listener.snapshot()
    return next(
        cloud.record(i.uuid) for i in sorted(model.instances.values(),
                                             key=lambda i: i.uuid)
        if i.uuid not in exclude and not hosts[i.host].is_ironic
        and not cloud.record(i.uuid).migration_source)


def test_cold_migration_window_follows_placement(cloud):
    inst = _movable(cloud)
    source = inst.host
    requests = cloud.engine.listener.fetcher.requests
    dest = cloud.move(inst, 'migrate')
    # Scheduled: the destination claims, the source's allocation is the
    # migration's (the too-low model of D2 put servers on such hosts).
    cloud.notify('instance.resize_prep.end', inst, dest, source,
                 new_flavor=notifier_mod.flavor_payload(inst.flavor),
                 task_state='resize_prep')
    live, placement = cloud.usages(source, dest)
    assert live == placement
    cloud.tick()
    assert inst.host == dest and inst.vm_state == 'resized'
    cloud.notify('instance.resize_finish.end', inst, dest, dest)
    live, placement = cloud.usages(source, dest)
    assert live == placement
    cloud.confirm(inst)
    cloud.notify('instance.resize_confirm.end', inst, source, dest)
    live, placement = cloud.usages(source, dest)
    assert live == placement
    assert cloud.engine.collector.status().notifications.failed == 0
    # Followed from the events alone: no request to the cloud.
    assert cloud.engine.listener.fetcher.requests == requests


def test_confirm_after_a_full_build_saw_the_migration(cloud):
    """The too-high half of D2: a full build during the window reads the
    migration's allocation; the confirm must drop it."""
    inst = _movable(cloud)
    source = inst.host
    dest = cloud.move(inst, 'migrate')
    cloud.tick()
    cloud.notify('instance.resize_finish.end', inst, dest, dest)
    cloud.engine.collector.refresh_model()
    builds = cloud.engine.collector.status().builds
    live, placement = cloud.usages(source, dest)
    assert live == placement
    cloud.confirm(inst)
    cloud.notify('instance.resize_confirm.end', inst, source, dest)
    live, placement = cloud.usages(source, dest)
    assert live == placement
    assert cloud.engine.collector.status().builds == builds


def test_live_migration_window_follows_placement(cloud):
    inst = _movable(cloud)
    source = inst.host
    dest = cloud.move(inst, 'live')
    cloud.notify('instance.live_migration_pre.end', inst, dest, source,
                 task_state='migrating')
    live, placement = cloud.usages(source, dest)
    assert live == placement
    cloud.tick()
    assert inst.host == dest
    # The destination's post_dest.end, then the source's post.end (its
    # object still names the source), then Nova deletes the migration's
    # allocation.
    cloud.notify('instance.live_migration_post_dest.end', inst, dest, dest)
    cloud.notify('instance.live_migration_post.end', inst, source, source,
                 task_state='migrating')
    live, placement = cloud.usages(source, dest)
    assert live == placement
