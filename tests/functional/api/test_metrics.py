"""/metrics of a real engine: a started ConductorManager (pool, fake power
driver, model collector on the embedded simulator, store, API on cheroot),
scraped over HTTP and parsed with prometheus-client's parser.

The contract is the list of metric families the Grafana dashboard queries
(tests/functional/deploy/test_grafana.py checks the dashboard against the
same list).
"""

import textwrap

import pytest
import requests

from decision_engine.conductor import manager as manager_mod
from tests import BACKEND
from tests.fixtures import fakes
from tests.fixtures.metrics import family_of
from tests.fixtures.metrics import METRICS as CONTRACT
from tests.fixtures.metrics import parse
from tests.fixtures.metrics import value
from tests.fixtures import waiting


def scrape(url):
    """``{sample name: {frozenset of label items: value}}`` and the
    families' types, from ``GET url/metrics``."""
    response = requests.get(url + '/metrics', timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers['Content-Type'].startswith('text/plain')
    return parse(response.text)


@pytest.fixture
def manager(tmp_path):
    inventory = tmp_path / 'inventory.yaml'
    inventory.write_text(textwrap.dedent("""
        - {hostname: compute-1, driver: fake}
        - {hostname: compute-2, driver: fake, driver_info: {fail: true}}
        """))
    conf = fakes.make_conf(
        conductor={'workers_pool_size': 4, 'stats_interval': 3600},
        api={'port': 0, 'host': '127.0.0.1'},
        power={'inventory_file': str(inventory), 'sync_interval': 3600,
               'max_retries': 5},
        collector={'period': 3600},
        simulator={'embedded': True, 'hosts': 3, 'instances': 6, 'seed': 1})
    conf.set_override('state_path', str(tmp_path))
    manager = manager_mod.ConductorManager(conf, backend=BACKEND)
    manager.start()
    yield manager
    assert manager.stop(timeout=30) == []


def task(manager, name):
    [found] = [t for t in manager.periodic_tasks if t.name == name]
    return found


SYNC = 'power_driver.fake.sync_power_states'
REFRESH = 'collector.refresh_model'


def test_contract_is_exposed_and_moves_with_work(manager):
    url = manager.api_server.url
    stats = manager.periodic_statistics
    waiting.until(lambda: stats()[SYNC].runs == 1
                  and stats()[REFRESH].runs == 1, 'the first runs')

    before, types = scrape(url)
    for name in CONTRACT:
        family, kind = family_of(name, types)
        assert family, '%s is not exposed' % name
        assert (kind == 'counter') == name.endswith('_total'), (name, kind)
    assert value(before, 'decision_engine_pool_size') == 4
    assert value(before, 'decision_engine_pool_busy') is not None
    assert value(before, 'decision_engine_pool_queued') is not None
    assert value(before, 'decision_engine_pool_rejected_total') == 0
    assert value(before, 'decision_engine_periodic_runs_total',
                 task=SYNC) == 1
    assert value(before, 'decision_engine_periodic_duration_seconds',
                 task=SYNC) >= 0
    # One sweep: compute-2's BMC fails, compute-1's answers.
    assert value(before, 'decision_engine_power_sweep_failures_total',
                 driver='fake') == 1
    assert value(before, 'decision_engine_power_sweep_duration_seconds',
                 driver='fake') >= 0
    assert value(before, 'decision_engine_model_build_duration_seconds') > 0
    assert value(before, 'decision_engine_model_staleness_seconds') >= 0
    assert value(before, 'decision_engine_model_build_requests_total') > 0
    assert value(before, 'decision_engine_model_build_errors_total') == 0
    assert value(before, 'decision_engine_model_nodes') == 3

    # Work: one more sweep, one more model refresh, audits over the API.
    task(manager, SYNC).callable()
    task(manager, REFRESH).callable()
    created = requests.post(url + '/v1/audits', json={
        'strategy': 'server_consolidation', 'name': 'pack'})
    assert created.status_code == 201, created.text
    assert requests.get(url + '/v1/audits/nosuch').status_code == 404
    assert manager.audits.runner.wait_idle(60)

    after, _ = scrape(url)
    assert value(after, 'decision_engine_periodic_runs_total',
                 task=SYNC) == 2
    assert value(after, 'decision_engine_periodic_runs_total',
                 task=REFRESH) == 2
    assert value(after, 'decision_engine_periodic_failures_total',
                 task=SYNC) == 0
    # The second run started ~now, an hour early: not late.
    assert value(after, 'decision_engine_periodic_lateness_seconds',
                 task=SYNC) == 0
    assert value(after, 'decision_engine_power_sweep_failures_total',
                 driver='fake') == 2
    assert value(after, 'decision_engine_power_sweeps_total',
                 driver='fake') == 2
    assert value(after, 'decision_engine_model_build_requests_total') > \
        value(before, 'decision_engine_model_build_requests_total')
    assert value(after, 'decision_engine_pool_submitted_total') > \
        value(before, 'decision_engine_pool_submitted_total')
    states = {dict(labels)['state']: count for labels, count in
              after['decision_engine_audits'].items()}
    assert sum(states.values()) == 1 and states.get('SUCCEEDED') == 1, \
        states
    api = after['decision_engine_api_requests_total']
    by_status = {}
    for labels, count in api.items():
        status = dict(labels)['status']
        by_status[status] = by_status.get(status, 0) + count
    # The 201 and the 404 above, and the first scrape's 200.
    assert by_status.get('201') == 1 and by_status.get('404') == 1
    assert by_status.get('200', 0) >= 1
