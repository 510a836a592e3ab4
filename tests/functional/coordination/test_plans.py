"""Audits and action plans over three real engine processes sharing one
PostgreSQL store, on Redis and on etcd3 (the module runs on both), with
the simulator (in this process, over HTTP) as their cloud:

- an audit submitted to one engine succeeds on a real model of the cloud;
- its plan, started through an engine that does not own it, runs on the
  ring's owner;
- SIGKILL of that owner while migrations are ONGOING: one survivor (the
  ring's next owner, by compare-and-set) resumes the plan through the
  resume path, and it ends SUCCEEDED with every migration requested of
  Nova exactly once (the simulator's write request log) and the cloud as
  the strategy predicted;
- the failure count and ``power_failure`` flag of a node the killed engine
  polled are carried on by the engine that takes the node over;
- the node shares are the ones tooz's hash ring gives the same members;
- SIGTERM of a plan's owner while migrations are ONGOING (with a
  membership timeout longer than the test, so only its clean leave can
  explain it): a survivor takes the plan over and ends it SUCCEEDED, each
  migration requested once.

The first test's one cluster serves all of its asserts (engine processes
are slow to start on two cores).
"""

import collections
import os
import signal

import pytest
import requests
import sqlalchemy as sa
from tooz import hashring

from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import coordination
from tests.fixtures import engine_process
from tests.fixtures import loaded_engine


# NOTE: the tests that start several engines as a cluster run one after
# another, after the rest of the functional layer (tools/run-tests.sh):
# side by side, a dozen engine processes on two cores missed their
# membership timeouts.
pytestmark = pytest.mark.cluster

GUARD = 90
MEMBERSHIP_TIMEOUT = 3
REPLICAS = 32
HOSTS = ['engine-%d' % i for i in range(3)]
MAX_RETRIES = 2


def ring_owners(members, keys):
    ring = hashring.HashRing(sorted(members), partitions=REPLICAS)
    return {key: next(iter(ring.get_nodes(key.encode()))) for key in keys}


def _failing_nodes():
    """Names of failing nodes such that every engine owns at least one."""
    names = []
    while len(set(ring_owners(HOSTS, names).values())) < len(HOSTS):
        names.append('bad-bmc-%d' % len(names))
    return names


POWER_NODES = ['node-%02d' % i for i in range(24)]
FAILING = _failing_nodes()


class Engine(coordination.ClusterEngine):
    """An engine of the cluster; its power nodes include failing ones."""

    guard = GUARD

    def __init__(self, tmp_path, host, backend, store_url, prefix, sim,
                 membership_timeout=MEMBERSHIP_TIMEOUT):
        super().__init__(tmp_path, host, backend, store_url, prefix, sim,
                         membership_timeout=membership_timeout,
                         replicas=REPLICAS, sync_interval=1,
                         nodes=POWER_NODES, options="""
[audit]
max_model_age = 0

[applier]
poll_interval = 0.1
""")
        self.config_path.write_text(self.config_path.read_text().replace(
            '[power]\n', '[power]\nmax_retries = %d\n' % MAX_RETRIES))
        self.inventory_path.write_text(
            self.inventory_path.read_text() + ''.join(
                '- {hostname: %s, driver: fake, driver_info: {fail: true}}\n'
                % name for name in FAILING))


@pytest.fixture
def sim():
    simulator = Simulator(
        Topology.generate(hosts=10, instances=40, aggregates=2, azs=1,
                          seed=11),
        migrations={'duration_s': 0.6, 'jitter': 0})
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def cluster(tmp_path, backend, store_url, sim):
    """``start(membership_timeout)``: the three engines, once members."""
    prefix = coordination.unique_prefix()
    started = []

    def start(membership_timeout=MEMBERSHIP_TIMEOUT):
        engines = [Engine(tmp_path, host, backend, store_url, prefix, sim,
                          membership_timeout) for host in HOSTS]
        for engine in engines:
            engine.start()
            started.append(engine)
        for engine in engines:
            engine.notify.wait_for('READY')
        coordination.wait_members(engines, set(HOSTS), timeout=GUARD)
        return engines

    yield start
    engine_process.stop_all(started)


@pytest.fixture
def engines(cluster):
    return cluster()


def running_plan(engines):
    """A server_consolidation plan of the simulated cloud (four moves or
    more), audited through engine-0 and started through an engine that
    does not own it; returns ``(plan uuid, moves, owner)`` once an action
    of it is ONGOING on its owner."""
    audit = requests.post(engines[0].api + '/v1/audits', json={
        'strategy': 'server_consolidation'}, timeout=30).json()
    audit = engines[0].wait('/v1/audits/%s' % audit['uuid'],
                            lambda a: a['state'] in ('SUCCEEDED', 'FAILED'))
    assert audit['state'] == 'SUCCEEDED', audit
    plan_uuid = audit['last_action_plan_uuid']
    plan = engines[0].get('/v1/action_plans/%s' % plan_uuid)
    moves = {a['input_parameters']['instance_uuid']:
             a['input_parameters']['destination_node']
             for a in plan['actions'] if a['action_type'] == 'migrate'}
    assert len(moves) >= 4, plan
    # Started through an engine that does not own it: its owner runs it.
    owner = ring_owners(HOSTS, [plan_uuid])[plan_uuid]
    via = next(e for e in engines if e.host != owner)
    answer = requests.post(via.api + '/v1/action_plans/%s/start'
                           % plan_uuid, timeout=30)
    assert answer.status_code == 202, answer.text
    assert answer.json()['owner'] == owner
    by_host = {e.host: e for e in engines}
    by_host[owner].wait('/v1/action_plans/%s' % plan_uuid, lambda p: any(
        a['state'] == 'ONGOING' for a in p['actions']), timeout=10)
    assert 'Running action plan %s' % plan_uuid in by_host[owner].log()
    return plan_uuid, moves, by_host[owner]


def taken_over_once(survivors, plan_uuid):
    """The plan ended SUCCEEDED on the ring's next owner among
    ``survivors``, which alone took it over; ``(plan, heir's log)``."""
    plan = survivors[0].wait('/v1/action_plans/%s' % plan_uuid,
                             lambda p: p['state'] in ('SUCCEEDED', 'FAILED',
                                                      'CANCELLED'))
    assert plan['state'] == 'SUCCEEDED', plan
    live = [e.host for e in survivors]
    assert plan['owner'] == ring_owners(live, [plan_uuid])[plan_uuid]
    assert sum(e.get('/v1/status')['cluster']['takeovers'].get('plans', 0)
               for e in survivors) == 1
    heir_log = next(e for e in survivors if e.host == plan['owner']).log()
    assert 'left the cluster; resuming it here' in heir_log
    return plan, heir_log


def assert_moved_once(sim, moves):
    """Every migration was asked of Nova once, and the cloud is as
    planned."""
    requested = loaded_engine.migrations_requested(sim)
    assert set(requested) == set(moves) and set(requested.values()) == {1}, \
        requested
    sim.writes.settle()
    where = {i.uuid: i.host for i in sim.topology.instances}
    assert {u: where[u] for u in moves} == moves


def stored_failures(store_url, hostname):
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                'SELECT failures, power_failure FROM node_power_failures '
                'WHERE hostname = :h'), {'h': hostname}).one_or_none()
    finally:
        engine.dispose()


def test_plan_of_a_killed_engine_resumes_once_on_a_survivor(
        engines, sim, store_url):
    by_host = {e.host: e for e in engines}
    all_nodes = POWER_NODES + FAILING
    expected = collections.Counter(ring_owners(HOSTS, all_nodes).values())
    for engine in engines:
        assert engine.get('/v1/status')['node_share']['fake'] == \
            expected[engine.host]

    plan_uuid, moves, victim = running_plan(engines)
    owner = victim.host
    # A failing node of the victim, flagged there.
    [bad, *_] = [n for n, o in ring_owners(HOSTS, FAILING).items()
                 if o == owner]
    victim.wait('/v1/status', lambda s: (s['power_states'].get(bad) or {})
                .get('power_failure'))

    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(GUARD)
    counted = stored_failures(store_url, bad)
    assert counted.power_failure and counted.failures >= MAX_RETRIES
    survivors = [e for e in engines if e is not victim]
    live = [e.host for e in survivors]

    plan, heir_log = taken_over_once(survivors, plan_uuid)
    assert all(a['state'] == 'SUCCEEDED' for a in plan['actions']), plan
    # At least one migration was ONGOING at the kill and was checked
    # against the cloud (done, still moving, or run again).
    assert 'Resumed action ' in heir_log
    assert_moved_once(sim, moves)

    # The failing node went on counting where the victim stopped.
    heir = by_host[ring_owners(live, [bad])[bad]]
    record = heir.wait('/v1/status', lambda s: (s['power_states'].get(bad)
                                                or {}).get('failures'))
    record = record['power_states'][bad]
    assert record['failures'] > counted.failures, record
    assert record['power_failure'] is True
    # And the shares are the two-member ring's.
    expected = collections.Counter(ring_owners(live, all_nodes).values())
    for engine in survivors:
        engine.wait('/v1/status', lambda s, e=engine: s['node_share'][
            'fake'] == expected[e.host])


def test_plan_of_a_stopped_engine_moves_on_at_once(cluster, sim):
    # NOTE: a membership timeout far longer than the test: only the leave
    # of a clean stop can explain the handover.
    engines = cluster(membership_timeout=120)
    plan_uuid, moves, leaving = running_plan(engines)
    leaving.signal(signal.SIGTERM)
    assert leaving.proc.wait(GUARD) == 0
    taken_over_once([e for e in engines if e is not leaving], plan_uuid)
    assert_moved_once(sim, moves)
