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
- the node shares are the ones tooz's hash ring gives the same members.

One cluster per backend serves every assert (engine processes are slow to
start on two cores).
"""

import collections
import os
import signal
import time

import pytest
import requests
import sqlalchemy as sa
from tooz import hashring

from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import coordination
from tests.fixtures import dbfixtures
from tests.fixtures import engine_process

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


class Engine(engine_process.EngineProcess):

    def __init__(self, tmp_path, host, backend, store_url, prefix, sim):
        super().__init__(tmp_path / host)
        self.host = host
        self.port = coordination.free_port()
        self.api = 'http://127.0.0.1:%d' % self.port
        self.write_config(sync_interval=1, nodes=POWER_NODES, extra=f"""
[DEFAULT]
host = {host}

[database]
connection = {store_url}

[coordination]
backend_url = {backend}
group_prefix = {prefix}
membership_timeout = {MEMBERSHIP_TIMEOUT}
heartbeat_interval = 0.5
watcher_interval = 0.5
leader_chore_interval = 1
ring_replicas = {REPLICAS}

[audit]
max_model_age = 0

[applier]
poll_interval = 0.1

[nova]
auth_type = password
auth_url = {sim.auth_url}
username = admin
password = secret
project_name = admin
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne

[placement]
region_name = RegionOne
""")
        text = self.config_path.read_text()
        text = text.replace('[api]\nenabled = false\n',
                            '[api]\nenabled = true\nport = %d\n' % self.port)
        text = text.replace('[collector]\nenabled = false\n',
                            '[collector]\nperiod = 3600\nmax_age = 3600\n')
        text = text.replace('[power]\n', '[power]\nmax_retries = %d\n'
                            % MAX_RETRIES)
        self.config_path.write_text(text)
        self.inventory_path.write_text(
            self.inventory_path.read_text() + ''.join(
                '- {hostname: %s, driver: fake, driver_info: {fail: true}}\n'
                % name for name in FAILING))

    def get(self, path):
        answer = requests.get(self.api + path, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def wait(self, path, done, timeout=GUARD):
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(path)
            if done(body):
                return body
            assert time.monotonic() < deadline, (body, self.log()[-3000:])
            time.sleep(0.1)


@pytest.fixture(params=coordination.BACKENDS)
def backend(request, tmp_path):
    with coordination.backend_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store_url():
    with dbfixtures.postgres_url() as url:
        dbfixtures.open_store(url).dispose()
        yield url


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
def engines(tmp_path, backend, store_url, sim):
    prefix = coordination.unique_prefix()
    started = [Engine(tmp_path, host, backend, store_url, prefix, sim)
               for host in HOSTS]
    try:
        for engine in started:
            engine.start()
        for engine in started:
            engine.notify.wait_for('READY')
        wait_members(started, set(HOSTS))
        yield started
    finally:
        for engine in started:
            engine.stop()


def wait_members(engines, expected):
    deadline = time.monotonic() + GUARD
    while True:
        seen = [set(e.get('/v1/status')['cluster']['members'])
                for e in engines]
        if all(s == expected for s in seen):
            return
        assert time.monotonic() < deadline, seen
        time.sleep(0.2)


def stored_failures(store_url, hostname):
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                'SELECT failures, power_failure FROM node_power_failures '
                'WHERE hostname = :h'), {'h': hostname}).one_or_none()
    finally:
        engine.dispose()


def migrations_requested(sim):
    requested = collections.Counter()
    for write in sim.writes.request_log():
        body = write['body'] or {}
        if 'os-migrateLive' in body or 'migrate' in body:
            requested[write['path'].split('/')[-2]] += 1
    return requested


def test_plan_of_a_killed_engine_resumes_once_on_a_survivor(
        engines, sim, store_url):
    by_host = {e.host: e for e in engines}
    all_nodes = POWER_NODES + FAILING
    expected = collections.Counter(ring_owners(HOSTS, all_nodes).values())
    for engine in engines:
        assert engine.get('/v1/status')['node_share']['fake'] == \
            expected[engine.host]

    # An audit through engine-0, on the model of the simulated cloud.
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
    victim = by_host[owner]
    # A failing node of the victim, flagged there.
    [bad, *_] = [n for n, o in ring_owners(HOSTS, FAILING).items()
                 if o == owner]
    victim.wait('/v1/status', lambda s: (s['power_states'].get(bad) or {})
                .get('power_failure'))
    victim.wait('/v1/action_plans/%s' % plan_uuid, lambda p: any(
        a['state'] == 'ONGOING' for a in p['actions']), timeout=10)
    assert 'Running action plan %s' % plan_uuid in victim.log()

    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(GUARD)
    counted = stored_failures(store_url, bad)
    assert counted.power_failure and counted.failures >= MAX_RETRIES
    survivors = [e for e in engines if e is not victim]
    live = [e.host for e in survivors]

    plan = survivors[0].wait('/v1/action_plans/%s' % plan_uuid,
                             lambda p: p['state'] in ('SUCCEEDED', 'FAILED',
                                                      'CANCELLED'))
    assert plan['state'] == 'SUCCEEDED', plan
    assert all(a['state'] == 'SUCCEEDED' for a in plan['actions']), plan
    # The ring's next owner resumed it, and only it.
    assert plan['owner'] == ring_owners(live, [plan_uuid])[plan_uuid]
    assert sum(e.get('/v1/status')['cluster']['takeovers'].get('plans', 0)
               for e in survivors) == 1
    heir_log = by_host[plan['owner']].log()
    assert 'left the cluster; resuming it here' in heir_log
    # At least one migration was ONGOING at the kill and was checked
    # against the cloud (done, still moving, or run again).
    assert 'Resumed action ' in heir_log
    # Every migration was asked of Nova once, and the cloud is as planned.
    requested = migrations_requested(sim)
    assert set(requested) == set(moves) and set(requested.values()) == {1}, \
        requested
    sim.writes.settle()
    where = {i.uuid: i.host for i in sim.topology.instances}
    assert {u: where[u] for u in moves} == moves

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
