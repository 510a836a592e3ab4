"""The daemon as a subprocess with its embedded simulator: audits created
over the HTTP API end with plans consistent with the simulated topology,
and survive a restart."""


import pytest
import requests

from decision_engine.audit import scope as scope_mod
from decision_engine.simulator import Topology
from decision_engine.strategies import verify
from tests.fixtures import engine_process
from tests.fixtures import truth

TOPOLOGY = dict(hosts=12, instances=60, aggregates=2, azs=2, seed=7)


class Daemon(engine_process.Daemon):
    def __init__(self, tmp_path, backend='threading'):
        super().__init__(tmp_path, options={
            'DEFAULT': {'debug': True, 'concurrency_backend': backend},
            'audit': {'max_model_age': 3600, 'max_concurrent_audits': 10},
            'simulator': dict(embedded=True, **TOPOLOGY)})


@pytest.fixture(params=['threading', 'eventlet'])
def daemon(request, tmp_path):
    daemon = Daemon(tmp_path, backend=request.param)
    daemon.start()
    yield daemon
    daemon.stop()


def test_audits_over_the_api_match_the_simulated_cloud(daemon):
    topo = Topology.generate(**TOPOLOGY)
    model = truth.expected_model(topo)
    bodies = [{'strategy': 'server_consolidation'} for _ in range(8)] + [
        {'strategy': 'dummy'},
        {'strategy': 'server_consolidation',
         'scope': {'include_aggregates': [sorted(model.aggregates)[0]]}}]
    uuids = []
    for body in bodies:
        response = requests.post(daemon.url + '/v1/audits', json=body)
        assert response.status_code == 201, response.text
        uuids.append(response.json()['uuid'])
    audits = [daemon.wait_audit(u) for u in uuids]
    assert [a['state'] for a in audits] == ['SUCCEEDED'] * 10, [
        a['state_reason'] for a in audits]
    for body, audit in zip(bodies, audits):
        plan = requests.get('%s/v1/action_plans/%s' % (
            daemon.url, audit['last_action_plan_uuid'])).json()
        if body['strategy'] == 'dummy':
            assert plan['indicators']['hosts_seen'] == len(model.nodes)
            continue
        # Every action names real hosts and instances, and the plan is
        # valid step by step on the ground-truth model.
        context = scope_mod.resolve(model, body.get('scope'))
        final = verify.check_plan(context, plan['actions'])
        assert plan['indicators']['migrations'] == sum(
            1 for a in plan['actions'] if a['action_type'] == 'migrate')
        used = sum(1 for h in final.on_host if not final.is_empty(h))
        assert used == plan['indicators']['hosts_used_after']
        assert audit['model_age'] is not None
        assert audit['build_seconds'] is not None
    # All ten audits (same whole-cloud scope but the scoped one, which a
    # fresh whole-cloud model serves) used one build.
    status = requests.get(daemon.url + '/v1/model').json()
    assert status['collector']['builds'] == 1
    assert status['summary']['nodes'] == len(model.nodes)
    metrics = requests.get(daemon.url + '/metrics').text
    assert 'decision_engine_audits{state="SUCCEEDED"} 10.0' in metrics
    assert 'decision_engine_pool_size 3.0' in metrics


def test_restart_keeps_audits_and_plans(tmp_path):
    daemon = Daemon(tmp_path)
    daemon.start()
    try:
        uuid = requests.post(daemon.url + '/v1/audits', json={
            'strategy': 'dummy'}).json()['uuid']
        audit = daemon.wait_audit(uuid)
    finally:
        assert daemon.stop() == 0
    daemon.start()
    try:
        again = requests.get('%s/v1/audits/%s' % (daemon.url, uuid)).json()
        assert again['state'] == 'SUCCEEDED'
        assert again['last_action_plan_uuid'] == \
            audit['last_action_plan_uuid']
        plan = requests.get('%s/v1/action_plans/%s' % (
            daemon.url, audit['last_action_plan_uuid'])).json()
        assert [a['action_type'] for a in plan['actions']] == [
            'nop', 'sleep']
    finally:
        daemon.stop()
