"""Watcher's audit scope to the engine's and back; which API answers a
request; the committed policy sample is current."""

import os

import pytest
from oslo_policy import generator

from decision_engine.api import app as app_mod
from decision_engine.api import dispatch
from decision_engine.api.v1 import common
from decision_engine.api.v1 import policy
from decision_engine.api.v1 import router
from decision_engine.api.v1 import scope
from tests.fixtures import fakes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def test_watchers_compute_scope_maps_to_the_engines():
    watcher = [{'compute': [
        {'host_aggregates': [{'name': 'fast'}]},
        {'availability_zones': [{'name': 'az1'}, {'name': 'az2'}]},
        {'exclude': [{'instances': [{'uuid': 'i-1'}]},
                     {'compute_nodes': [{'name': 'compute-3'}]},
                     {'projects': [{'uuid': 'p-1'}]}]}]}]
    engine = scope.to_engine(watcher)
    assert engine == {'include_aggregates': ['fast'],
                      'include_azs': ['az1', 'az2'],
                      'exclude_instances': ['i-1'],
                      'exclude_hosts': ['compute-3'],
                      'exclude_projects': ['p-1']}
    assert scope.to_engine(scope.to_watcher(engine)) == engine


@pytest.mark.parametrize('watcher, expected', [
    ([], {}), (None, {}),
    ([{'availability_zones': [{'name': '*'}]}], {}),
    ([{'compute': [{'host_aggregates': [{'id': '*'}]}]}], {}),
])
def test_all_is_no_restriction(watcher, expected):
    assert scope.to_engine(watcher) == expected


@pytest.mark.parametrize('watcher, message', [
    ([{'storage': []}], 'storage is not supported'),
    ([{'host_aggregates': [{'id': 3}]}], 'by id (3) is not supported'),
    ([{'exclude': [{'instance_metadata': [{'a': 'b'}]}]}],
     "exclude 'instance_metadata' is not supported"),
    ({'include_hosts': ['x']}, 'scope must be a list'),
    ([{'compute': [{'racks': []}]}], "'racks' is not supported"),
])
def test_what_cannot_be_mapped_is_refused_by_name(watcher, message):
    with pytest.raises(common.APIError, match=message.replace(
            '(', r'\(').replace(')', r'\)')) as caught:
        scope.to_engine(watcher)
    assert caught.value.code == 400


@pytest.fixture
def dispatcher():
    conf = fakes.make_conf()
    return dispatch.Dispatcher(router.WatcherAPI(None, conf),
                               app_mod.Application(None, conf))


@pytest.mark.parametrize('method, path, versioned, answer', [
    ('GET', '/', False, 'watcher'),
    ('GET', '/v1/', False, 'watcher'),
    ('GET', '/v1/audits', False, 'engine'),
    ('GET', '/v1/audits', True, 'watcher'),
    ('POST', '/v1/audits', False, 'engine'),
    ('PATCH', '/v1/audits/x', False, 'watcher'),
    ('PUT', '/v1/audits', False, 'engine'),       # the engine's 405
    ('PUT', '/v1/audits', True, 'watcher'),
    ('GET', '/v1/strategies/dummy', False, 'engine'),
    ('GET', '/v1/strategies/dummy/state', False, 'watcher'),
    ('GET', '/v1/goals', False, 'watcher'),
    ('GET', '/v1/action_plans', False, 'watcher'),
    ('POST', '/v1/action_plans/x/cancel', True, 'engine'),
    ('GET', '/v1/model', True, 'engine'),
    ('GET', '/metrics', True, 'engine'),
    ('GET', '/v2/things', False, 'engine'),
    ('GET', '/v2/things', True, 'watcher'),
])
def test_which_api_answers(dispatcher, method, path, versioned, answer):
    environ = {'REQUEST_METHOD': method, 'PATH_INFO': path}
    if versioned:
        environ['HTTP_OPENSTACK_API_VERSION'] = 'infra-optim 1.5'
    chosen = dispatcher.choose(environ)
    assert chosen is getattr(dispatcher, answer)


def test_the_committed_policy_sample_is_current():
    text = ''.join(generator._sort_and_format_by_section(
        {'decision-engine': policy.list_rules()}, include_help=True))
    with open(os.path.join(ROOT, 'etc/decision-engine/'
                                 'policy.yaml.sample')) as f:
        assert f.read() == text, (
            'etc/decision-engine/policy.yaml.sample is stale: run tox -e '
            'genpolicy and commit the result')
