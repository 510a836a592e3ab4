"""``GET /v1/strategies/{name}`` and ``decision-engine-manage strategy
show``: whether the metrics a strategy needs exist for a scope, asked of
the real Prometheus."""

import json

import pytest
import requests

from decision_engine.api import engine_api
from decision_engine.api import server
from decision_engine.audit import service as service_mod
from decision_engine.cmd import manage
from tests.fixtures import dbfixtures
from tests.fixtures import fakes
from tests.fixtures import load_env


@pytest.fixture
def api(env, pool, tmp_path):
    store = dbfixtures.open_store('sqlite:///%s' % (tmp_path / 'a.sqlite'))
    conf = fakes.make_conf(api={'port': 0})
    collector = fakes.FakeCollector(
        pool, lambda: load_env.model_of(env.topology))
    audits = service_mod.AuditService(
        conf, store, pool, collector,
        metrics=load_env.make_gatherer(pool, env.prometheus.url))
    srv = server.start(conf, engine_api.EngineAPI(audits, store, collector))
    yield srv.url
    srv.stop()
    store.dispose()


def get(url, name, **query):
    return requests.get(url + '/v1/strategies/' + name, params={
        k: json.dumps(v) for k, v in query.items()})


def test_names_what_is_missing_for_the_scope(api):
    body = get(api, 'workload_balance').json()
    assert body['metrics'] == ['host_cpu_usage', 'instance_cpu_usage']
    check = body['metrics_check']
    assert check['available'] is False
    assert check['datasource'].startswith('prometheus at http://127.0.0.1')
    assert check['metrics']['host_cpu_usage']['missing'] == ['compute-6']
    hidden = sorted(load_env.HIDDEN - {'compute-6'})
    assert check['metrics']['instance_cpu_usage']['missing'] == hidden


def test_available_for_a_scope_without_the_gaps(api):
    scope = {'exclude_hosts': ['compute-6'],
             'exclude_instances': sorted(load_env.HIDDEN - {'compute-6'})}
    body = get(api, 'workload_stabilization', scope=scope,
               parameters={'metric': 'ram'}).json()
    check = body['metrics_check']
    assert check['required'] == ['host_ram_usage', 'instance_ram_usage']
    assert check['available'] is True, check
    assert check['metrics']['host_ram_usage']['present'] == 5


def test_strategies_without_metrics_need_nothing(api):
    check = get(api, 'server_consolidation').json()['metrics_check']
    assert check == {'required': [], 'available': True, 'datasource': None,
                     'metrics': {}, 'error': None}


def test_bad_requests_are_one_line(api):
    assert get(api, 'nope').status_code == 404
    response = get(api, 'workload_balance', scope={'hosts': ['x']})
    assert response.status_code == 400
    assert 'Additional properties' in response.json()['error']['message']
    response = requests.get(api + '/v1/strategies/workload_balance',
                            params={'scope': '{'})
    assert response.status_code == 400
    assert "query parameter 'scope' is not valid JSON" in \
        response.json()['error']['message']


def test_manage_strategy_show(api, env, capsys):
    status = manage.main(['--url', api, 'strategy', 'show',
                          'workload_balance'])
    out = capsys.readouterr().out
    assert status == 1
    assert 'compute-6' in out and 'host_cpu_usage' in out
    status = manage.main(['--url', api, 'strategy', 'show',
                          'workload_balance', '--scope',
                          json.dumps({'include_hosts': ['compute-1']}),
                          '--param', 'metric=ram'])
    out = capsys.readouterr().out
    hidden_on_1 = [i.uuid for i in env.topology.instances
                   if i.uuid in load_env.HIDDEN and i.host == 'compute-1']
    assert status == (1 if hidden_on_1 else 0)
    assert 'host_ram_usage' in out
    assert all(u in out for u in hidden_on_1)


def test_gathering_shows_in_engine_metrics(api):
    get(api, 'workload_balance')
    text = requests.get(api + '/metrics').text
    samples = {line.split(' ')[0]: float(line.split(' ')[1])
               for line in text.splitlines()
               if line.startswith('decision_engine_metrics_')}
    assert samples['decision_engine_metrics_gatherings_total'] == 1
    # Hosts and instances, and the fallback by instance label for the
    # host (compute-6) that has no fqdn series.
    assert samples['decision_engine_metrics_queries_total'] == 3
    assert samples['decision_engine_metrics_query_errors_total'] == 0
