"""The store's pages (marker, sort key and direction), audit templates,
and deleting audits and plans, on SQLite and PostgreSQL."""

import pytest

from decision_engine.common import plan_states
from decision_engine.common import states
from decision_engine.db import api as db_api
from tests.fixtures import dbfixtures

PLAN = {'strategy': 'dummy', 'indicators': {'hosts_seen': 2},
        'actions': [{'action_type': 'nop', 'input_parameters': {'m': i}}
                    for i in range(3)]}


@pytest.fixture
def store(url):
    store = dbfixtures.open_store(url)
    yield store
    store.dispose()


def ended_audit(store, name, strategy='dummy'):
    audit = store.create_audit({'strategy': strategy, 'name': name})
    store.transition(audit['uuid'], [states.PENDING], state=states.ONGOING)
    audit, plan_uuid = store.save_run(
        audit['uuid'], {'state': states.SUCCEEDED}, PLAN)
    return audit, plan_uuid


def names(rows):
    return [row['name'] for row in rows]


def test_pages_follow_the_marker_in_either_direction(store):
    for name in ('b', 'a', 'c', 'a', 'd'):
        store.create_audit({'strategy': 'dummy', 'name': name})
    everything = store.page_audits(sort_key='name')
    assert names(everything) == ['a', 'a', 'b', 'c', 'd']
    first = store.page_audits(limit=2, sort_key='name')
    rest = store.page_audits(limit=10, sort_key='name',
                             marker=first[-1]['uuid'])
    assert first + rest == everything      # equal names: by id
    down = store.page_audits(limit=3, sort_key='name', sort_dir='desc')
    assert names(down) == ['d', 'c', 'b']
    assert names(store.page_audits(sort_key='name', sort_dir='desc',
                                   marker=down[-1]['uuid'])) == ['a', 'a']
    assert store.page_audits(strategies=['saving_energy']) == []
    with pytest.raises(db_api.NotFound, match='marker nope'):
        store.page_audits(marker='nope')
    with pytest.raises(db_api.InvalidSort, match='parameters'):
        store.page_audits(sort_key='parameters')


def test_plans_and_actions_pages_and_deletes(store):
    audit, plan_uuid = ended_audit(store, 'one')
    other, other_plan = ended_audit(store, 'two')
    plans = store.page_action_plans(audit_uuid=audit['uuid'])
    assert [p['uuid'] for p in plans] == [plan_uuid]
    assert plans[0]['audit_uuid'] == audit['uuid']
    assert plans[0]['indicators'] == {'hosts_seen': 2}
    actions = store.page_actions(action_plan_uuid=plan_uuid)
    assert [a['position'] for a in actions] == [0, 1, 2]
    assert len({a['uuid'] for a in actions}) == 3
    assert store.get_action(actions[1]['uuid'])['input_parameters'] == {
        'm': 1}
    assert len(store.page_actions(audit_uuid=other['uuid'])) == 3
    page = store.page_actions(limit=4)
    assert len(page + store.page_actions(marker=page[-1]['uuid'])) == 6
    # An ongoing plan stays; an ended audit goes with its plans.
    store.transition_plan(other_plan, [plan_states.RECOMMENDED],
                          state=plan_states.ONGOING)
    assert not store.delete_plan(other_plan, [plan_states.SUCCEEDED])
    assert store.delete_audit(audit['uuid'], [states.SUCCEEDED])
    with pytest.raises(db_api.NotFound):
        store.get_action_plan(plan_uuid)
    with pytest.raises(db_api.NotFound):
        store.get_action(actions[0]['uuid'])
    assert len(store.page_actions()) == 3
    assert not store.delete_audit(
        store.create_audit({'strategy': 'dummy'})['uuid'],
        [states.SUCCEEDED])
    # A plan in one of the states goes with its actions; unknown ones are
    # named in the error.
    store.transition_plan(other_plan, [plan_states.ONGOING],
                          state=plan_states.SUCCEEDED)
    assert store.delete_plan(other_plan, [plan_states.SUCCEEDED])
    assert store.page_actions() == []
    assert store.find_audit(other['uuid'])['uuid'] == other['uuid']
    with pytest.raises(db_api.NotFound,
                       match='^Action plan %s could not be found$'
                       % other_plan):
        store.delete_plan(other_plan, [plan_states.SUCCEEDED])
    with pytest.raises(db_api.NotFound,
                       match='^Audit %s could not be found$' % audit['uuid']):
        store.delete_audit(audit['uuid'], [states.SUCCEEDED])


def test_templates(store):
    made = store.create_template({'name': 'at1', 'goal': 'dummy',
                                  'scope': [{'compute': []}]})
    assert store.find_template('at1') == store.find_template(made['uuid'])
    assert made['default_parameters'] == {} and made['strategy'] is None
    with pytest.raises(db_api.TemplateConflict, match="'at1'"):
        store.create_template({'name': 'at1', 'goal': 'dummy'})
    second = store.create_template({'name': 'at2', 'goal': 'saving_energy',
                                    'strategy': 'saving_energy'})
    assert [t['name'] for t in store.page_templates(goal='dummy')] == [
        'at1']
    with pytest.raises(db_api.TemplateConflict):
        store.update_template(second['uuid'], {'name': 'at1'})
    updated = store.update_template('at2', {'description': 'x'})
    assert updated['description'] == 'x' and updated['updated_at']
    store.delete_template('at1')
    with pytest.raises(db_api.NotFound):
        store.find_template('at1')
    assert [t['name'] for t in store.page_templates()] == ['at2']


def test_short_pages_read_only_what_the_short_lists_show(store):
    audit, plan_uuid = ended_audit(store, 'one')
    ended_audit(store, 'two')
    full = store.page_actions(limit=4, sort_key='position')
    brief = store.page_actions(limit=4, sort_key='position', detail=False)
    assert [a['uuid'] for a in brief] == [a['uuid'] for a in full]
    assert set(brief[0]) == {'uuid', 'position', 'action_type', 'state',
                             'parents', 'action_plan_uuid'}
    assert brief[0]['action_plan_uuid'] == full[0]['action_plan_uuid']
    rest = store.page_actions(marker=brief[-1]['uuid'], sort_key='position',
                              detail=False)
    assert len(brief + rest) == 6
    audits = store.page_audits(sort_key='name', detail=False)
    assert names(audits) == ['one', 'two']
    assert 'parameters' not in audits[0] and 'scope' in audits[0]
