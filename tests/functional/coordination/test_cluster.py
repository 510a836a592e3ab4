"""The Cluster against a real coordination service, Redis and etcd3 alike:
membership, one ring on every engine, a dead engine noticed, a clean leave
seen at once, one leader."""

import os
import signal
import time

import pytest

from decision_engine.coordination import cluster as cluster_mod
from tests import fresh_conf
from tests.fixtures import coordination


# NOTE: the tests that start several engines as a cluster run one after
# another, after the rest of the functional layer (tools/run-tests.sh):
# side by side, a dozen engine processes on two cores missed their
# membership timeouts.
pytestmark = pytest.mark.cluster

GUARD = 30


@pytest.fixture(params=coordination.BACKENDS)
def url(request, tmp_path):
    with coordination.backend_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def make(url):
    prefix = coordination.unique_prefix()
    made = []

    def make(host, membership_timeout=3):
        conf = fresh_conf(host=host)
        conf.set_override('backend_url', url, 'coordination')
        conf.set_override('group_prefix', prefix, 'coordination')
        conf.set_override('membership_timeout', membership_timeout,
                          'coordination')
        conf.set_override('heartbeat_interval', 0.3, 'coordination')
        member = cluster_mod.Cluster(conf, {'api_url': 'http://%s' % host},
                                     version='test')
        member.start()
        made.append(member)
        return member

    yield make
    for member in made:
        member.stop()


def settle(members, expected, timeout=GUARD):
    """Run every member's watcher until each sees ``expected``."""
    deadline = time.monotonic() + timeout
    while True:
        for member in members:
            member.watch()
        if all(m.live_members() == set(expected) for m in members):
            return
        assert time.monotonic() < deadline, [
            m.live_members() for m in members]
        time.sleep(0.1)


def test_members_share_one_ring_and_every_key_has_one_owner(make):
    engines = [make('engine-%d' % i) for i in range(3)]
    settle(engines, {'engine-0', 'engine-1', 'engine-2'})
    keys = ['compute-%d' % i for i in range(300)]
    for key in keys:
        assert sum(e.owns(key) for e in engines) == 1, key
    shares = [sum(e.owns(k) for k in keys) for e in engines]
    assert min(shares) > 0
    status = engines[0].status()
    assert status.members['engine-1']['api_url'] == 'http://engine-1'
    assert status.members['engine-1']['version'] == 'test'


def test_a_dead_engine_leaves_after_membership_timeout(make):
    a, b = make('engine-a'), make('engine-b')
    settle([a, b], {'engine-a', 'engine-b'})
    changes = []
    a.add_listener(lambda joined, left: changes.append(left))
    # NOTE: what SIGKILL does to the member: no heartbeat, no leave.
    b._stopping.set()
    b._heart.join()
    settle([a], {'engine-a'})
    assert changes == [{'engine-b'}]
    assert all(a.owns('compute-%d' % i) for i in range(50))
    b._coordinator.stop()
    b._coordinator = None


def test_a_clean_stop_is_seen_at_the_next_watch(make):
    a = make('engine-a', membership_timeout=600)
    b = make('engine-b', membership_timeout=600)
    settle([a, b], {'engine-a', 'engine-b'})
    b.stop()
    # NOTE: with a membership timeout of 600 s, only the leave explains
    # b being gone now.
    a.watch()
    assert a.live_members() == {'engine-a'}


def test_exactly_one_leader_and_a_new_one_when_it_dies(make):
    engines = [make('engine-%d' % i) for i in range(3)]
    settle(engines, {'engine-0', 'engine-1', 'engine-2'})
    deadline = time.monotonic() + GUARD
    while sum(e.is_leader() for e in engines) != 1:
        assert time.monotonic() < deadline
        for e in engines:
            e.watch()
        time.sleep(0.1)
    [leader] = [e for e in engines if e.is_leader()]
    others = [e for e in engines if e is not leader]
    leader.stop()
    deadline = time.monotonic() + GUARD
    while sum(e.is_leader() for e in others) != 1 or None in {
            e.status().leader for e in others}:
        assert time.monotonic() < deadline, [e.leader for e in others]
        for e in others:
            e.watch()
        time.sleep(0.1)
    assert {e.status().leader for e in others} == {
        next(e.member for e in others if e.is_leader())}


def test_leader_chores_run_only_on_the_leader(make):
    a, b = make('engine-a'), make('engine-b')
    ran = []
    for member in (a, b):
        member.add_leader_chore(lambda m=member: ran.append(m.member))
    deadline = time.monotonic() + GUARD
    while not (a.is_leader() or b.is_leader()):
        assert time.monotonic() < deadline
        a.watch()
        b.watch()
        time.sleep(0.1)
    a.run_leader_chores()
    b.run_leader_chores()
    assert ran == [a.member if a.is_leader() else b.member]


def test_unreachable_backend_is_one_line_without_the_password():
    conf = fresh_conf(host='engine-a')
    port = coordination.free_port()
    conf.set_override('backend_url',
                      'redis://:s3cret-pw@127.0.0.1:%d' % port,
                      'coordination')
    conf.set_override('membership_timeout', 2, 'coordination')
    member = cluster_mod.Cluster(conf, {})
    with pytest.raises(cluster_mod.CoordinationUnavailable) as info:
        member.start()
    message = str(info.value)
    assert 's3cret-pw' not in message and '\n' not in message
    assert message.startswith('cannot join the coordination service redis'
                              '://:***@127.0.0.1:%d' % port)


@pytest.fixture
def own_redis(tmp_path):
    server = coordination.own_server('redis', tmp_path).start()
    yield server
    server.stop()


def _own_members(server, hosts, membership_timeout=3):
    members = []
    prefix = coordination.unique_prefix()
    for host in hosts:
        conf = fresh_conf(host=host)
        for name, value in (('backend_url', server.url),
                            ('group_prefix', prefix),
                            ('membership_timeout', membership_timeout),
                            ('heartbeat_interval', 0.3)):
            conf.set_override(name, value, 'coordination')
        members.append(cluster_mod.Cluster(conf, {}, version='test'))
    return members


def _wait_one_leader(members):
    deadline = time.monotonic() + GUARD
    while sum(m.is_leader() for m in members) != 1:
        assert time.monotonic() < deadline, [m.leader for m in members]
        for m in members:
            m.watch()
        time.sleep(0.1)
    return next(m for m in members if m.is_leader())


@pytest.fixture
def pair(own_redis):
    """Two started members on the test's own Redis, once one leads:
    ``(leader, other)``."""
    members = _own_members(own_redis, ('engine-a', 'engine-b'),
                           membership_timeout=2)
    try:
        for member in members:
            member.start()
        settle(members, {'engine-a', 'engine-b'})
        leader = _wait_one_leader(members)
        yield leader, next(m for m in members if m is not leader)
    finally:
        for member in members:
            member.stop()


def _never_two_leaders(leader, other):
    """Watch rounds, the follower first (it can win the new election):
    never two leaders, and one in the end that both name."""
    members = (other, leader)
    for _ in range(20):
        for member in members:
            member.watch()
        assert sum(m.is_leader() for m in members) <= 1, [
            m.member for m in members if m.is_leader()]
        time.sleep(0.1)
    new_leader = _wait_one_leader(members)
    assert {m.status().leader for m in members} == {new_leader.member}


def test_a_backend_that_lost_every_key_ends_with_one_leader(own_redis, pair):
    own_redis.stop()
    own_redis.start()
    # NOTE: the old leader's lock went with the data: it must give its
    # leadership up, not keep it beside the one elected now.
    _never_two_leaders(*pair)


def test_a_leader_cut_off_from_the_backend_stops_leading(own_redis):
    [member] = _own_members(own_redis, ('engine-a',), membership_timeout=2)
    try:
        member.start()
        _wait_one_leader([member])
        own_redis.stop()
        cut = time.monotonic()
        # NOTE: its lock lapses on the service membership_timeout after
        # the last heartbeat the service took; by then it must stop.
        while member.is_leader():
            assert time.monotonic() - cut < 2 + GUARD
            time.sleep(0.1)
        assert member.run_leader_chores() == 0
    finally:
        own_redis.start()
        member.stop()


def test_a_leader_whose_heartbeats_lapsed_gives_way(own_redis, pair):
    leader, other = pair
    # NOTE: a paused server keeps its data, but the keys' time to live
    # runs on: the leader's lock lapses while the service still lists it
    # when it beats again.
    os.kill(own_redis.proc.pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + GUARD
        while leader.is_leader():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        # One more membership_timeout: the keys are past their time.
        time.sleep(2)
    finally:
        os.kill(own_redis.proc.pid, signal.SIGCONT)
    _never_two_leaders(leader, other)
