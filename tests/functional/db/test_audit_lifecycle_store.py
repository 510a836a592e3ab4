"""The store's part of Watcher's audit life cycle, on SQLite and
PostgreSQL: an EVENT audit is taken only once triggered, a run of an audit
suspended meanwhile is saved and leaves it SUSPENDED, and CONTINUOUS
audits past their end_time end SUCCEEDED in one compare-and-set; the
parents of a plan's actions are stored with it (revision 0006 fills them
in for the actions stored before)."""

import datetime
import json

import sqlalchemy as sa

from decision_engine.common import states
from decision_engine.common import timeutils
from decision_engine.db import migration
from tests.fixtures import dbfixtures


def test_an_event_audit_is_taken_only_once_triggered(stores):
    a, b = stores
    now = timeutils.utcnow()
    audit = a.create_audit({'strategy': 'dummy',
                            'audit_type': states.EVENT})
    assert a.take(audit['uuid'], 'engine-a', due_by=now) is None
    a.transition(audit['uuid'], [states.PENDING], next_run_at=now)
    assert b.take(audit['uuid'], 'engine-b', due_by=now)['owner'] == \
        'engine-b'
    stored, _ = b.save_run(audit['uuid'], {
        'state': states.SUCCEEDED, 'next_run_at': None,
        'finished_at': now}, owner='engine-b')
    assert stored['state'] == states.SUCCEEDED
    assert stored['next_run_at'] is None


def test_a_run_of_a_suspended_audit_is_saved_and_it_stays_suspended(stores):
    a, _ = stores
    now = timeutils.utcnow()
    audit = a.create_audit({'strategy': 'dummy', 'interval': 60,
                            'audit_type': states.CONTINUOUS,
                            'next_run_at': now})
    a.take(audit['uuid'], 'engine-a', due_by=now)
    a.transition(audit['uuid'], [states.ONGOING], state=states.SUSPENDED,
                 next_run_at=None)
    stored, plan_uuid = a.save_run(
        audit['uuid'],
        {'state': states.PENDING, 'finished_at': now,
         'next_run_at': now + datetime.timedelta(seconds=60)},
        {'strategy': 'dummy', 'actions': []}, owner='engine-a')
    assert plan_uuid is not None
    assert stored['state'] == states.SUSPENDED
    assert stored['next_run_at'] is None and stored['runs'] == 1
    # A ONESHOT that is no longer ONGOING is not saved, as before.
    oneshot = a.create_audit({'strategy': 'dummy'})
    a.take(oneshot['uuid'], 'engine-a')
    a.transition(oneshot['uuid'], [states.ONGOING],
                 state=states.SUSPENDED)
    assert a.save_run(oneshot['uuid'], {'state': states.SUCCEEDED},
                      owner='engine-a') == (None, None)


def test_audits_past_their_end_time_end_succeeded(stores):
    a, b = stores
    now = timeutils.utcnow()
    past = now - datetime.timedelta(seconds=1)
    future = now + datetime.timedelta(hours=1)
    made = {name: a.create_audit(dict(
        {'strategy': 'dummy', 'interval': 60, 'next_run_at': now,
         'audit_type': states.CONTINUOUS}, **values))['uuid']
        for name, values in {
            'pending': {'end_time': past},
            'suspended': {'end_time': past, 'state': states.SUSPENDED},
            'ongoing': {'end_time': past, 'state': states.ONGOING},
            'later': {'end_time': future},
            'endless': {}}.items()}
    ended = a.end_expired(now)
    assert sorted(e['uuid'] for e in ended) == sorted(
        [made['pending'], made['suspended']])
    assert b.end_expired(now) == []          # once
    for name, state in (('pending', states.SUCCEEDED),
                        ('suspended', states.SUCCEEDED),
                        ('ongoing', states.ONGOING),
                        ('later', states.PENDING),
                        ('endless', states.PENDING)):
        assert a.get_audit(made[name])['state'] == state, name


def test_a_plan_stores_its_actions_parents(stores):
    a, _ = stores
    audit = a.create_audit({'strategy': 'dummy'})
    a.take(audit['uuid'], 'engine-a')
    _, plan_uuid = a.save_run(audit['uuid'], {'state': states.SUCCEEDED}, {
        'strategy': 'dummy', 'actions': [
            {'action_type': 'migrate', 'input_parameters': {
                'source_node': 'a', 'destination_node': 'b'}},
            {'action_type': 'migrate', 'input_parameters': {
                'source_node': 'c', 'destination_node': 'b'}},
            {'action_type': 'nop', 'input_parameters': {}}]},
        owner='engine-a')
    actions = a.get_action_plan(plan_uuid)['actions']
    assert [x['parents'] for x in actions] == [
        '', actions[0]['uuid'], '']
    assert a.get_action(actions[1]['uuid'])['parents'] == actions[0]['uuid']


def test_migration_0006_fills_in_the_parents_of_stored_actions(url):
    store = dbfixtures.open_store(url, upgrade=False)
    try:
        migration.upgrade(store.engine, '0005')
        now = timeutils.utcnow()
        hosts = [('a', 'b'), ('c', 'd'), ('b', 'c')]
        with store.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO audits (id, uuid, audit_type, state, strategy, "
                "parameters, scope, runs, created_at) VALUES (1, 'u', "
                "'ONESHOT', 'SUCCEEDED', 'dummy', '{}', '{}', 1, :now)"),
                {'now': now})
            conn.execute(sa.text(
                "INSERT INTO action_plans (id, uuid, audit_id, state, "
                "strategy, indicators, created_at) VALUES (1, 'p', 1, "
                "'RECOMMENDED', 'dummy', '{}', :now)"), {'now': now})
            for position, (src, dst) in enumerate(hosts):
                conn.execute(sa.text(
                    "INSERT INTO actions (uuid, action_plan_id, position, "
                    "action_type, input_parameters, state) VALUES (:uuid, "
                    "1, :position, 'migrate', :params, 'PENDING')"),
                    {'uuid': 'x-%d' % position, 'position': position,
                     'params': json.dumps({'source_node': src,
                                           'destination_node': dst})})
        store.upgrade()
        assert [x['parents'] for x in store.get_action_plan('p')[
            'actions']] == ['', '', 'x-0 x-1']
    finally:
        store.dispose()
