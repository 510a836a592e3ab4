"""What API v1 shows of a stored plan besides its actions' fields: the
global efficacy from the strategy's indicators (Watcher's shape), and
each action's parents, the actions the applier makes it wait for."""

import json
import types

import pytest
import webob

from decision_engine.api.v1 import efficacy
from decision_engine.api.v1 import router
from decision_engine.common import timeutils
from tests.fixtures import fakes


@pytest.mark.parametrize('indicators, expected', [
    ({'hosts_released': 2, 'hosts_used_before': 8, 'migrations': 5},
     [('released_nodes_ratio', 25.0)]),
    ({'hosts_released': 0, 'hosts_used_before': 0},
     [('released_nodes_ratio', 0.0)]),
    ({'spare_hosts_target': 4, 'spare_hosts_after': 3},
     [('spare_hosts_ratio', 75.0)]),
    ({'spare_hosts_target': 2, 'spare_hosts_after': 5},
     [('spare_hosts_ratio', 100.0)]),
    ({'hosts_over_before': 3, 'hosts_over_after': 1},
     [('relieved_hosts_ratio', 66.67)]),
    ({'std_dev_before': 20.0, 'std_dev_after': 5.0},
     [('std_dev_reduction', 75.0)]),
    ({'hosts_seen': 6, 'instances_seen': 24}, []),            # dummy
    ({'hosts_released': None, 'hosts_used_before': 3}, []),   # not measured
    ({}, []), (None, []),
])
def test_global_efficacy_per_goal(indicators, expected):
    found = efficacy.global_efficacy(indicators)
    assert [(g['name'], g['value']) for g in found] == expected
    for entry in found:
        # Watcher's shape.
        assert set(entry) == {'name', 'description', 'unit', 'value'}
        assert entry['unit'] == '%' and entry['description']


def _stored_plan(store, actions):
    audit = store.create_audit({'strategy': 'dummy'})
    store.take(audit['uuid'], 'engine-a')
    _, plan_uuid = store.save_run(
        audit['uuid'], {'state': 'SUCCEEDED',
                        'finished_at': timeutils.utcnow()},
        {'strategy': 'server_consolidation',
         'indicators': {'hosts_released': 1, 'hosts_used_before': 4},
         'actions': [{'action_type': t, 'input_parameters': p}
                     for t, p in actions]},
        owner='engine-a')
    return plan_uuid


def _get(app, path):
    request = webob.Request.blank(path)
    request.headers['OpenStack-API-Version'] = 'infra-optim 1.7'
    response = request.get_response(app)
    assert response.status_code == 200, response.text
    return json.loads(response.text)


PLAN = [
    ('migrate', {'source_node': 'a', 'destination_node': 'b',
                 'resource_id': 'i1'}),
    ('migrate', {'source_node': 'a', 'destination_node': 'e',
                 'resource_id': 'i2'}),
    ('change_nova_service_state', {'hostname': 'a', 'state': 'disabled'}),
    ('migrate', {'source_node': 'c', 'destination_node': 'd',
                 'resource_id': 'i3'}),
]
# Each host's order is kept: the second migration leaves 'a' after the
# first did, the disable of 'a' waits for the second (which waited for
# the first); the migration between 'c' and 'd' waits for nothing.
EXPECTED = [[], [0], [1], []]


def test_parents_of_stored_actions(sqlite_store):
    plan_uuid = _stored_plan(sqlite_store, PLAN)
    app = router.WatcherAPI(types.SimpleNamespace(store=sqlite_store),
                            fakes.make_conf())
    listed = _get(app, '/v1/actions?action_plan_uuid=%s' % plan_uuid)
    uuids = [a['uuid'] for a in listed['actions']]
    assert [a['parents'] for a in listed['actions']] == [
        [uuids[p] for p in parents] for parents in EXPECTED]
    shown = _get(app, '/v1/actions/%s' % uuids[2])
    assert shown['parents'] == [uuids[1]]
    plan = _get(app, '/v1/action_plans/%s' % plan_uuid)
    assert plan['global_efficacy'] == [{
        'name': 'released_nodes_ratio', 'unit': '%', 'value': 25.0,
        'description': efficacy.GLOBAL_RULES[0].description}]
