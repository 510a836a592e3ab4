"""Plans of a cluster in one process: two appliers (engine-a, engine-b)
on one store, each with a real tooz Cluster on Redis. A plan started
through A that the ring gives B is run by B; the running plan of an engine
that left is claimed once by the survivor and finished there, and the
engine that lost it starts no more of its actions."""

import time

import pytest

from decision_engine.applier import cluster_plans
from decision_engine.coordination import cluster as cluster_mod
from tests import fresh_conf
from tests.fixtures import applier_harness
from tests.fixtures import coordination
from tests.fixtures import waiting


# NOTE: the tests that start several engines as a cluster run one after
# another, after the rest of the functional layer (tools/run-tests.sh):
# side by side, a dozen engine processes on two cores missed their
# membership timeouts.
pytestmark = pytest.mark.cluster

GUARD = 30
HOSTS = ('engine-a', 'engine-b')


@pytest.fixture
def redis_url(tmp_path):
    with coordination.backend_url('redis', tmp_path) as url:
        yield url


@pytest.fixture
def members(redis_url):
    prefix = coordination.unique_prefix()
    made = {}
    for host in HOSTS:
        conf = fresh_conf(host=host)
        conf.set_override('backend_url', redis_url, 'coordination')
        conf.set_override('group_prefix', prefix, 'coordination')
        conf.set_override('membership_timeout', 3, 'coordination')
        conf.set_override('heartbeat_interval', 0.2, 'coordination')
        made[host] = cluster_mod.Cluster(conf, {}, version='test')
        made[host].start()
    settle(made.values(), set(HOSTS))
    yield made
    for member in made.values():
        member.stop()


def settle(members, expected):
    deadline = time.monotonic() + GUARD
    while True:
        for member in members:
            member.watch()
        if all(m.live_members() == expected for m in members):
            return
        assert time.monotonic() < deadline
        time.sleep(0.05)


def engine(store, pool, member):
    # NOTE: one action at a time, so a plan's second action starts only
    # after its first ended.
    conf = applier_harness.make_conf(DEFAULT={'host': member.member},
                                     applier={'max_parallel_actions': 1})
    applier = applier_harness.applier_mod.Applier(
        conf, store, pool, applier_harness.base.ActionContext(conf, None),
        placement=member.owner_of)
    applier.start()
    return applier, cluster_plans.PlanClaims(conf, store, applier, member)


def plan_owned_by(store, member, host, actions):
    while True:
        uuid = applier_harness.store_plan(store, actions)
        if member.owner_of(uuid) == host:
            return uuid


def test_plans_run_on_their_owner_and_move_when_it_leaves(
        store, pool, members):
    a, claims_a = engine(store, pool, members['engine-a'])
    b, claims_b = engine(store, pool, members['engine-b'])
    try:
        ring = members['engine-a']
        # Started through A, owned by B: B picks it up and runs it.
        remote = plan_owned_by(store, ring, 'engine-b', [
            {'action_type': 'nop', 'input_parameters': {}}])
        started = a.start_plan(remote)
        assert (started['state'], started['owner']) == ('PENDING',
                                                        'engine-b')
        assert not a.is_running(remote)
        assert claims_a.claim() == ([], [])
        assert claims_b.claim() == ([], [remote])
        assert b.wait(remote, GUARD)
        assert store.get_action_plan(remote)['state'] == 'SUCCEEDED'

        # A runs a plan of two sleeps, one after the other; it is cut off
        # from the cluster (it leaves) while the first sleeps.
        sleeps = [{'action_type': 'sleep', 'input_parameters': {
            'duration': 1.5}}] * 2
        local = plan_owned_by(store, ring, 'engine-a', sleeps)
        a.start_plan(local)
        # NOTE: cut off once the first sleep is ONGOING in the store (a
        # stop of the member used to take a second, which hid that wait).
        waiting.until(lambda: store.get_action_plan(local)['actions'][0][
            'state'] == 'ONGOING', 'the first sleep ONGOING', GUARD)
        members['engine-a'].stop()
        settle([members['engine-b']], {'engine-b'})
        assert claims_b.claim() == ([local], [])
        assert claims_b.claim() == ([], [])     # claimed once
        assert b.wait(local, GUARD)
        plan = store.get_action_plan(local)
        assert (plan['state'], plan['owner']) == ('SUCCEEDED', 'engine-b')
        assert [x['state'] for x in plan['actions']] == ['SUCCEEDED'] * 2
        assert members['engine-b'].status().takeovers == {'plans': 1}
        # A's own run ended without writing over B's: the start of its
        # second action was refused (the plan is B's), and so was its end.
        assert a.wait(local, GUARD)
        assert a.statistics().actions_ended == {
            'sleep/SUCCEEDED': 1, 'sleep/CANCELLED': 1}
        assert store.get_action_plan(local)['state'] == 'SUCCEEDED'
    finally:
        a.stop(10)
        b.stop(10)
