"""The real daemon (a subprocess) applying the plan of a real audit to the
simulator (in this process, over HTTP): audit -> plan -> start ->
SUCCEEDED, the cloud as the strategy predicted; SIGKILL mid-plan and a
restart resume the plan without re-running what had finished."""

import subprocess
import sys

import pytest
import requests
from oslo_config import cfg

from decision_engine import conf as conf_mod
from decision_engine.cloud import connection
from decision_engine.concurrency import pool as pool_mod
from decision_engine.collector import collector as collector_mod
from tests.fixtures import applier_harness
from tests.fixtures import dbfixtures
from tests.fixtures import engine_process
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology

GUARD = 120
TOPOLOGY = dict(hosts=10, instances=40, aggregates=2, azs=1, seed=11)


def engine_daemon(tmp_path, sim, url):
    return engine_process.Daemon(
        tmp_path, host='engine-a', store_url=url, auth_url=sim.auth_url,
        options=engine_process.merged(engine_process.RUNS_PLANS, {
            'DEFAULT': {'debug': True},
            'applier': {'max_parallel_actions': 8}}))


@pytest.fixture
def sim():
    simulator = Simulator(Topology.generate(**TOPOLOGY),
                          migrations={'duration_s': 0.3, 'jitter': 0.3})
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def daemon(tmp_path, sim, url):
    dbfixtures.open_store(url).dispose()     # db sync
    daemon = engine_daemon(tmp_path, sim, url)
    daemon.start()
    yield daemon
    daemon.stop()


def plan_of_audit(daemon):
    audit = requests.post(daemon.url + '/v1/audits', json={
        'strategy': 'server_consolidation'}, timeout=30).json()
    audit = daemon.wait('/v1/audits/%s' % audit['uuid'],
                        lambda a: a['state'] in ('SUCCEEDED', 'FAILED'))
    assert audit['state'] == 'SUCCEEDED', audit
    plan = daemon.get('/v1/action_plans/%s'
                      % audit['last_action_plan_uuid'])
    migrations = [a for a in plan['actions']
                  if a['action_type'] == 'migrate']
    assert len(migrations) >= 4, plan
    return plan


def predicted(topology, plan):
    where = {i.uuid: i.host for i in topology.instances}
    for action in plan['actions']:
        if action['action_type'] == 'migrate':
            params = action['input_parameters']
            where[params['instance_uuid']] = params['destination_node']
    return where


def build_model(sim):
    """A fresh model of the simulator by the engine's own collector."""
    conf = cfg.ConfigOpts()
    for module in conf_mod.MODULES:
        module.register_opts(conf)
    conf([], project='decision-engine-test')
    pool = pool_mod.WorkerPool(8)
    collector = collector_mod.ModelCollector(
        conf, pool, connection_factory=lambda size: connection.from_auth(
            conf, sim.auth(), size))
    try:
        return collector.get_model(max_age=0)
    finally:
        collector.stop()
        pool.shutdown(timeout=30)


def cloud_hosts(sim):
    sim.writes.settle()
    return {i.uuid: i.host for i in sim.topology.instances}


def finished(plan):
    return plan['state'] in ('SUCCEEDED', 'FAILED', 'CANCELLED')


def test_audit_plan_start_succeeds_as_predicted(daemon, sim):
    plan = plan_of_audit(daemon)
    expected = predicted(sim.topology, plan)
    before = build_model(sim)
    response = requests.post(daemon.url + '/v1/action_plans/%s/start'
                             % plan['uuid'], timeout=30)
    assert response.status_code == 202, response.text
    assert response.json()['state'] in ('PENDING', 'ONGOING')
    again = requests.post(daemon.url + '/v1/action_plans/%s/start'
                          % plan['uuid'], timeout=30)
    assert again.status_code == 409
    assert 'only a RECOMMENDED plan' in again.json()['error']['message']
    plan = daemon.wait('/v1/action_plans/%s' % plan['uuid'], finished)
    assert plan['state'] == 'SUCCEEDED', plan
    for action in plan['actions']:
        assert action['state'] == 'SUCCEEDED', action
        assert action['duration_seconds'] >= 0
    assert cloud_hosts(sim) == expected
    after = build_model(sim)
    wanted = applier_harness.replay(before, plan['actions'])
    for uuid, instance in wanted.instances.items():
        assert after.instances[uuid] == instance, uuid
    for uuid, node in wanted.nodes.items():
        assert after.nodes[uuid] == node, node.hostname
    assert after == wanted
    ended = requests.post(daemon.url + '/v1/action_plans/%s/cancel'
                          % plan['uuid'], timeout=30)
    assert ended.status_code == 409
    status = daemon.get('/v1/status')
    assert status['applier']['plans_ended'] == {'SUCCEEDED': 1}
    assert status['applier']['model_refresh']['plan'] == plan['uuid']
    refresh = daemon.wait('/v1/model', lambda m: m['after_plan']['state']
                          != 'refreshing')['after_plan']
    assert (refresh['plan'], refresh['state']) == (plan['uuid'],
                                                   'refreshed')
    metrics = requests.get(daemon.url + '/metrics', timeout=30).text
    moves = len([a for a in plan['actions']
                 if a['action_type'] == 'migrate'])
    assert 'decision_engine_applier_plans_ended_total{state="SUCCEEDED"} ' \
        '1.0' in metrics
    assert 'decision_engine_actions{state="SUCCEEDED",type="migrate"} ' \
        '%d.0' % moves in metrics
    assert 'decision_engine_applier_migrations_in_flight 0.0' in metrics


def test_cli_starts_waits_and_shows(daemon, sim):
    plan = plan_of_audit(daemon)
    cli = [sys.executable, '-m', 'decision_engine.cmd.manage', '--url',
           daemon.url]
    result = subprocess.run(cli + ['action-plan', 'start', plan['uuid'],
                                   '--wait', '--timeout', str(GUARD)],
                            capture_output=True, text=True, timeout=GUARD)
    assert result.returncode == 0, result.stderr
    assert 'SUCCEEDED' in result.stderr.splitlines()[-1]
    shown = subprocess.run(cli + ['action-plan', 'show', plan['uuid']],
                           capture_output=True, text=True, timeout=GUARD)
    assert shown.returncode == 0
    assert shown.stdout.count('| migrate ') == len(
        [a for a in plan['actions'] if a['action_type'] == 'migrate'])
    refused = subprocess.run(cli + ['action-plan', 'cancel', plan['uuid']],
                             capture_output=True, text=True, timeout=GUARD)
    assert refused.returncode == 1
    assert refused.stderr.count('\n') == 1
    assert 'HTTP 409' in refused.stderr


@pytest.mark.parametrize('how', ['SIGKILL', 'SIGTERM'])
def test_stop_mid_plan_and_restart_resumes(daemon, sim, how):
    sim.writes.configure(duration_s=1.0, jitter=0)
    plan = plan_of_audit(daemon)
    expected = predicted(sim.topology, plan)
    requests.post(daemon.url + '/v1/action_plans/%s/start' % plan['uuid'],
                  timeout=30).raise_for_status()
    daemon.wait('/v1/action_plans/%s' % plan['uuid'], lambda p: any(
        a['state'] == 'ONGOING' for a in p['actions']))
    if how == 'SIGKILL':
        daemon.kill()
    else:
        daemon.stop()
        assert daemon.proc.returncode == 0, daemon.log_text()
    daemon.start()
    plan = daemon.wait('/v1/action_plans/%s' % plan['uuid'], finished)
    assert plan['state'] == 'SUCCEEDED', (plan, daemon.log_text())
    assert cloud_hosts(sim) == expected
    requested = {}
    for write in sim.writes.request_log():
        body = write['body'] or {}
        if 'os-migrateLive' in body or 'migrate' in body:
            server = write['path'].split('/')[-2]
            requested[server] = requested.get(server, 0) + 1
    assert set(requested.values()) == {1}, requested
    assert 'Resuming action plan %s' % plan['uuid'] in \
        daemon.log_path.read_text()


def test_cli_audit_create_auto_trigger_applies_the_plan(daemon, sim):
    cli = [sys.executable, '-m', 'decision_engine.cmd.manage', '--url',
           daemon.url, '-f', 'json']
    result = subprocess.run(
        cli + ['audit', 'create', '--strategy', 'server_consolidation',
               '--auto-trigger', '--wait', '--timeout', str(GUARD)],
        capture_output=True, text=True, timeout=GUARD * 2)
    assert result.returncode == 0, result.stderr
    assert 'started (--auto-trigger)' in result.stderr
    audit = daemon.get('/v1/audits')['audits'][0]
    plan = daemon.get('/v1/action_plans/%s'
                      % audit['last_action_plan_uuid'])
    assert plan['state'] == 'SUCCEEDED'
    where = cloud_hosts(sim)
    for action in plan['actions']:
        if action['action_type'] == 'migrate':
            params = action['input_parameters']
            assert where[params['instance_uuid']] == \
                params['destination_node']
