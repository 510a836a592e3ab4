"""python-watcherclient 4.11.0 itself against the real daemon (a
subprocess, noauth, SQLite) whose cloud is the simulator (in this process,
over HTTP): every command family the engine's Watcher API v1 serves, with
the version the client sends by default (1.latest = 1.5) and with 1.7.
"""

import datetime
import json

import pytest
import requests
from watcherclient.common.apiclient import exceptions as wc_exc
from watcherclient.v1 import client as wc_client

from tests.fixtures import watcher_daemon
from tests.fixtures.watcher_daemon import TOPOLOGY
from tests.fixtures.waiting import until

SAMPLES_FIELDS = {
    # The fields of Watcher 17.0.0's api-ref samples (show responses).
    'goal': {'uuid', 'name', 'display_name', 'efficacy_specification',
             'links', 'created_at', 'updated_at', 'deleted_at'},
    'strategy': {'uuid', 'name', 'display_name', 'goal_uuid', 'goal_name',
                 'parameters_spec', 'links'},
    'service': {'id', 'name', 'host', 'status', 'last_seen_up', 'links',
                'created_at', 'updated_at', 'deleted_at'},
    'audit_template': {'uuid', 'name', 'description', 'goal_uuid',
                       'goal_name', 'strategy_uuid', 'strategy_name',
                       'scope', 'default_parameters', 'links',
                       'created_at', 'updated_at', 'deleted_at'},
    'audit': {'uuid', 'name', 'audit_type', 'state', 'goal_uuid',
              'goal_name', 'strategy_uuid', 'strategy_name', 'parameters',
              'interval', 'scope', 'auto_trigger', 'next_run_time',
              'hostname', 'start_time', 'end_time', 'force',
              'status_message', 'links', 'created_at', 'updated_at',
              'deleted_at'},
    'action_plan': {'uuid', 'audit_uuid', 'strategy_uuid',
                    'strategy_name', 'state', 'efficacy_indicators',
                    'global_efficacy', 'hostname', 'status_message',
                    'links', 'created_at', 'updated_at', 'deleted_at'},
    'action': {'uuid', 'action_plan_uuid', 'action_type',
               'input_parameters', 'state', 'parents', 'description',
               'status_message', 'links', 'created_at', 'updated_at',
               'deleted_at'},
    'data_model': {
        'server_watcher_exclude', 'server_name', 'server_state',
        'server_memory', 'server_disk', 'server_vcpus', 'server_metadata',
        'server_project_id', 'server_locked', 'server_uuid',
        'server_pinned_az', 'server_flavor_extra_specs', 'node_hostname',
        'node_status', 'node_disabled_reason', 'node_state', 'node_memory',
        'node_memory_mb_reserved', 'node_disk', 'node_disk_gb_reserved',
        'node_vcpus', 'node_vcpu_reserved', 'node_memory_ratio',
        'node_vcpu_ratio', 'node_disk_ratio', 'node_uuid'},
}


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('watcher-api')
    with watcher_daemon.running(tmp) as daemon:
        yield daemon


def client(daemon, version=None):
    kwargs = {'os_infra_optim_api_version': version} if version else {}
    return wc_client.Client(endpoint=daemon.url, **kwargs)


def plain(resource):
    return resource.to_dict()


def test_discovery_as_horizon_reads_it(daemon):
    root = requests.get(daemon.url + '/', timeout=30)
    assert root.json()['versions'][0]['max_version'] == '1.7'
    assert root.json()['default_version']['min_version'] == '1.0'
    v1 = requests.get(daemon.url + '/v1/', timeout=30).json()
    assert {'goals', 'audits', 'action_plans', 'actions',
            'audit_templates', 'services', 'scoring_engines',
            'media_types', 'links'} <= set(v1)


@pytest.mark.parametrize('version', [None, '1.7'])
def test_goals_strategies_services_scoring_engines(daemon, version):
    wc = client(daemon, version)
    goals = {g.name: g for g in wc.goal.list()}
    assert {'server_consolidation', 'saving_energy', 'workload_balancing',
            'cluster_maintaining', 'dummy'} <= set(goals)
    goal = wc.goal.get('server_consolidation')
    assert goal.uuid == goals['server_consolidation'].uuid
    assert wc.goal.get(goal.uuid).name == 'server_consolidation'
    assert set(plain(goal)) == SAMPLES_FIELDS['goal']
    assert {s['name'] for s in goal.efficacy_specification} >= {
        'hosts_released', 'migrations'}
    detailed = wc.goal.list(detail=True)
    assert 'created_at' in plain(detailed[0])

    names = {s.name for s in wc.strategy.list(goal='server_consolidation')}
    assert names == {'server_consolidation', 'vm_workload_consolidation'}
    strategy = wc.strategy.get('server_consolidation')
    assert set(plain(strategy)) == SAMPLES_FIELDS['strategy']
    assert strategy.goal_name == 'server_consolidation'
    assert 'properties' in strategy.parameters_spec
    state = {row.type: row.state for row in
             wc.strategy.state('server_consolidation')}
    assert state['Name'] == 'server_consolidation'
    assert {'compute_model': 'available'} in state['CDM']
    with pytest.raises(wc_exc.NotFound):
        wc.strategy.get('no_such_strategy')

    services = wc.service.list(detail=True)
    assert [(s.name, s.host, s.status) for s in services] == [
        ('decision-engine', 'engine-w', 'ACTIVE')]
    assert set(plain(wc.service.get(1))) == SAMPLES_FIELDS['service']
    assert wc.scoring_engine.list() == []


def test_audit_template_crud(daemon):
    wc = client(daemon, '1.7')
    template = wc.audit_template.create(
        name='pack-it', goal='server_consolidation',
        strategy='server_consolidation', description='first',
        default_parameters={'power_off': False},
        scope=[{'compute': [{'availability_zones': [{'name': '*'}]}]}])
    assert set(plain(template)) == SAMPLES_FIELDS['audit_template']
    assert template.default_parameters == {'power_off': False}
    assert wc.audit_template.get('pack-it').uuid == template.uuid
    assert [t.name for t in wc.audit_template.list(
        goal='server_consolidation')] == ['pack-it']
    assert wc.audit_template.list(goal='saving_energy') == []
    updated = wc.audit_template.update(template.uuid, [
        {'op': 'replace', 'path': '/description', 'value': 'second'}])
    assert updated.description == 'second'
    with pytest.raises(wc_exc.BadRequest):
        # vm_workload_consolidation has no power_off parameter.
        wc.audit_template.create(name='bad', goal='server_consolidation',
                                 strategy='saving_energy')
    with pytest.raises(wc_exc.Conflict):
        wc.audit_template.create(name='pack-it', goal='dummy')
    # The client's default version (1.5) has no default_parameters.
    assert 'default_parameters' not in plain(
        client(daemon).audit_template.get('pack-it'))
    wc.audit_template.delete('pack-it')
    with pytest.raises(wc_exc.NotFound):
        wc.audit_template.get('pack-it')


def _wait_audit(wc, uuid, states=('SUCCEEDED', 'FAILED')):
    return until(lambda: (lambda a: a if a.state in states else None)(
        wc.audit.get(uuid)), 'audit %s to end' % uuid, timeout=90)


def test_audit_plan_actions_and_start(daemon):
    wc = client(daemon)        # 1.latest: the client's own 1.5
    template = wc.audit_template.create(
        name='consolidate', goal='server_consolidation')
    audit = wc.audit.create(audit_template_uuid=template.uuid,
                            name='first', parameters={'power_off': False})
    assert audit.goal_name == 'server_consolidation'
    assert audit.strategy_name == 'server_consolidation'
    audit = _wait_audit(wc, audit.uuid)
    assert audit.state == 'SUCCEEDED', audit.status_message
    assert set(plain(audit)) == SAMPLES_FIELDS['audit']
    assert audit.parameters['power_off'] is False
    assert [a.uuid for a in wc.audit.list(goal='server_consolidation')] \
        == [audit.uuid]
    assert wc.audit.get('first').uuid == audit.uuid

    plans = wc.action_plan.list(audit=audit.uuid)
    assert len(plans) == 1 and plans[0].state == 'RECOMMENDED'
    plan = wc.action_plan.get(plans[0].uuid)
    assert set(plain(plan)) == SAMPLES_FIELDS['action_plan']
    indicators = {i['name']: i['value'] for i in plan.efficacy_indicators}
    assert indicators['hosts_released'] >= 1

    actions = wc.action.list(action_plan=plan.uuid, detail=True)
    assert actions and all(a.state == 'PENDING' for a in actions)
    assert set(plain(wc.action.get(actions[0].uuid))) == \
        SAMPLES_FIELDS['action']
    migrations = [a for a in actions if a.action_type == 'migrate']
    skipped = wc.action.update(migrations[-1].uuid, [
        {'op': 'replace', 'path': '/state', 'value': 'SKIPPED'},
        {'op': 'replace', 'path': '/status_message',
         'value': 'not this one'}])
    assert skipped.state == 'SKIPPED'
    assert skipped.status_message == 'not this one'

    started = wc.action_plan.start(plan.uuid)
    assert started.state in ('PENDING', 'ONGOING')
    with pytest.raises(wc_exc.BadRequest):
        wc.action_plan.start(plan.uuid)       # no longer RECOMMENDED
    ended = until(lambda: (lambda p: p if p.state not in (
        'PENDING', 'ONGOING') else None)(wc.action_plan.get(plan.uuid)),
        'the plan to end', timeout=90)
    assert ended.state == 'SUCCEEDED', ended.status_message
    states = {a.uuid: a.state for a in wc.action.list(
        action_plan=plan.uuid)}
    assert states.pop(migrations[-1].uuid) == 'SKIPPED'
    assert set(states.values()) == {'SUCCEEDED'}
    with pytest.raises(wc_exc.BadRequest):
        # An ended plan's actions are not skipped any more.
        wc.action.update(migrations[0].uuid, [
            {'op': 'replace', 'path': '/state', 'value': 'SKIPPED'}])

    # An ended audit is deleted with its plans and their actions.
    wc.audit.delete(audit.uuid)
    with pytest.raises(wc_exc.NotFound):
        wc.action_plan.get(plan.uuid)


def test_plan_cancelled_by_patch_and_deleted(daemon):
    wc = client(daemon, '1.7')
    audit = _wait_audit(wc, wc.audit.create(
        goal='server_consolidation', force=True).uuid)
    plan = wc.action_plan.list(audit=audit.uuid)[0]
    with pytest.raises(wc_exc.BadRequest):
        wc.action_plan.update(plan.uuid, [
            {'op': 'replace', 'path': '/state', 'value': 'SUCCEEDED'}])
    assert wc.action_plan.get(plan.uuid).state == 'RECOMMENDED'
    cancelled = wc.action_plan.cancel(plan.uuid)
    assert cancelled.state == 'CANCELLED'
    wc.action_plan.delete(plan.uuid)
    assert wc.action_plan.list(audit=audit.uuid) == []


def test_auto_trigger_starts_the_plan(daemon):
    wc = client(daemon, '1.7')
    audit = wc.audit.create(goal='server_consolidation', auto_trigger=True,
                            force=True, parameters={'power_off': False})
    assert audit.auto_trigger is True
    audit = _wait_audit(wc, audit.uuid)
    assert audit.state == 'SUCCEEDED', audit.status_message
    plan = wc.action_plan.list(audit=audit.uuid)[0]
    ended = until(lambda: (lambda p: p if p.state not in (
        'RECOMMENDED', 'PENDING', 'ONGOING') else None)(
        wc.action_plan.get(plan.uuid)), 'the plan to end', timeout=90)
    assert ended.state == 'SUCCEEDED', ended.status_message


def test_continuous_audit_cancelled_and_refusals(daemon):
    wc = client(daemon, '1.7')
    audit = wc.audit.create(strategy='dummy', audit_type='CONTINUOUS',
                            interval='3600')
    assert audit.interval == '3600'
    with pytest.raises(wc_exc.BadRequest):
        wc.audit.delete(audit.uuid)        # not ended
    # Watcher's "Update Audit" sample: a cancel and a new name.
    cancelled = wc.audit.update(audit.uuid, [
        {'op': 'replace', 'path': '/state', 'value': 'CANCELLED'},
        {'op': 'replace', 'path': '/name', 'value': 'audit1'}])
    assert (cancelled.state, cancelled.name) == ('CANCELLED', 'audit1')
    with pytest.raises(wc_exc.BadRequest):
        wc.audit.update('audit1', [
            {'op': 'replace', 'path': '/state', 'value': 'PENDING'}])
    with pytest.raises(wc_exc.BadRequest):
        wc.audit.update('audit1', [
            {'op': 'replace', 'path': '/audit_type', 'value': 'ONESHOT'}])
    assert wc.audit.get('audit1').state == 'CANCELLED'
    wc.audit.delete(audit.uuid)
    for kwargs in ({'goal': 'dummy', 'audit_type': 'EVENT',
                    'interval': '60'},
                   {'goal': 'dummy', 'audit_type': 'CONTINUOUS'},
                   {'goal': 'nope'},
                   {'strategy': 'dummy', 'goal': 'saving_energy'}):
        with pytest.raises(wc_exc.BadRequest):
            wc.audit.create(**kwargs)


def test_pagination_follows_next(daemon):
    wc = client(daemon, '1.7')
    made = [wc.audit_template.create(name='page-%02d' % i, goal='dummy')
            for i in range(7)]
    page = requests.get(daemon.url + '/v1/audit_templates?limit=3',
                        headers={'OpenStack-API-Version': 'infra-optim 1.7'},
                        timeout=30).json()
    assert len(page['audit_templates']) == 3 and 'next' in page
    # Seven templates of the goal, pages of [api] max_limit = 5: the
    # client follows "next".
    assert [t.name for t in wc.audit_template.list(goal='dummy', limit=0)
            ] == [t.name for t in made]
    assert [t.name for t in wc.audit_template.list(
        goal='dummy', sort_key='name', sort_dir='desc', limit=2)] == [
            'page-06', 'page-05']
    for template in made:
        wc.audit_template.delete(template.uuid)


def test_data_model(daemon):
    rows = client(daemon).data_model.list().context
    servers = [r for r in rows if 'server_uuid' in r]
    assert len(servers) == TOPOLOGY['instances']
    assert len({r['node_hostname'] for r in rows}) == TOPOLOGY['hosts']
    assert set(servers[0]) == SAMPLES_FIELDS['data_model'] - {
        'server_pinned_az', 'server_flavor_extra_specs'}
    extended = [r for r in client(daemon, '1.6').data_model.list().context
                if 'server_uuid' in r]
    assert set(extended[0]) == SAMPLES_FIELDS['data_model']
    old = requests.get(daemon.url + '/v1/data_model', headers={
        'OpenStack-API-Version': 'infra-optim 1.2'}, timeout=30)
    assert old.status_code == 406


def test_errors_are_watchers_and_the_old_routes_still_answer(daemon):
    headers = {'OpenStack-API-Version': 'infra-optim 1.5'}
    response = requests.get(daemon.url + '/v1/goals/nope', headers=headers,
                            timeout=30)
    assert response.status_code == 404
    fault = json.loads(response.json()['error_message'])
    assert fault['faultstring'] == 'Goal nope could not be found'
    assert response.headers['OpenStack-API-Version'] == 'infra-optim 1.5'
    assert response.headers['Vary'] == 'OpenStack-API-Version'
    # The engine's own routes, for requests without the header.
    old = requests.get(daemon.url + '/v1/strategies', timeout=30).json()
    assert 'parameters_schema' in old['strategies'][0]
    assert requests.get(daemon.url + '/v1/status', headers=headers,
                        timeout=30).json()['pool']['size'] == 3
    audit = client(daemon, '1.7').audit.create(goal='dummy')
    webhook = requests.post(daemon.url + '/v1/webhooks/' + audit.uuid,
                            headers=headers, timeout=30)
    assert webhook.status_code == 400
    assert 'only EVENT audits' in webhook.json()['error_message']
    assert requests.post(daemon.url + '/v1/webhooks/nope', headers=headers,
                         timeout=30).status_code == 404
    refused = requests.get(daemon.url + '/v1/goals', headers={
        'OpenStack-API-Version': 'infra-optim 1.8'}, timeout=30)
    assert refused.status_code == 406
    assert refused.headers['OpenStack-API-Maximum-Version'] == '1.7'


def test_window_of_a_continuous_audit_through_the_client(daemon):
    wc = client(daemon, '1.7')
    now = datetime.datetime.now(datetime.timezone.utc).replace(
        microsecond=0, tzinfo=None)
    start = (now + datetime.timedelta(hours=1)).isoformat()
    audit = wc.audit.create(goal='dummy', audit_type='CONTINUOUS',
                            interval='60', start_time=start)
    assert audit.start_time.startswith(start)
    end = (now + datetime.timedelta(hours=5)).isoformat()
    changed = wc.audit.update(audit.uuid, [
        {'op': 'replace', 'path': '/end_time', 'value': end}])
    assert changed.end_time.startswith(end)
    with pytest.raises(wc_exc.BadRequest):
        wc.audit.update(audit.uuid, [
            {'op': 'replace', 'path': '/end_time', 'value': start}])
    assert wc.audit.get(audit.uuid).end_time.startswith(end)
    suspended = wc.audit.update(audit.uuid, [
        {'op': 'replace', 'path': '/state', 'value': 'SUSPENDED'}])
    assert suspended.state == 'SUSPENDED'
    wc.audit.delete(audit.uuid)
    # Before 1.1 the window is neither shown nor accepted.
    old = client(daemon, '1.0').audit.create(goal='dummy')
    assert 'start_time' not in plain(old)
