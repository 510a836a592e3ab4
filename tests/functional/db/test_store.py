import concurrent.futures
import threading

import pytest
from sqlalchemy import event

from decision_engine.common import states
from decision_engine.db import api as db_api
from decision_engine.db import migration
from decision_engine.db import session as session_mod
from tests.fixtures import dbfixtures


@pytest.fixture
def store(url):
    store = dbfixtures.open_store(url)
    yield store
    store.dispose()


PLAN = {'strategy': 'dummy', 'indicators': {'hosts': 2}, 'message': 'ok',
        'model_age': 1.5, 'build_seconds': 0.5, 'strategy_seconds': 0.1,
        'actions': [{'action_type': 'nop', 'input_parameters': {'m': 1},
                     'description': 'one'},
                    {'action_type': 'sleep',
                     'input_parameters': {'duration': 1}}]}


def test_schema_sync_is_idempotent_and_checked(url):
    store = dbfixtures.open_store(url, upgrade=False)
    with pytest.raises(migration.SchemaOutOfDate, match='db sync'):
        store.check_schema()
    store.upgrade()
    store.upgrade()
    store.check_schema()
    assert migration.current(store.engine) == migration.head()
    store.dispose()


def test_audit_life_cycle_and_plan(store):
    audit = store.create_audit({'strategy': 'dummy', 'name': 'a1',
                                'scope': {'hosts': ['h1']}})
    assert audit['state'] == states.PENDING and audit['runs'] == 0
    assert store.get_audit(audit['uuid'])['scope'] == {'hosts': ['h1']}
    started = store.transition(audit['uuid'], [states.PENDING],
                               state=states.ONGOING)
    assert started['state'] == states.ONGOING
    # A second runner cannot take it.
    assert store.transition(audit['uuid'], [states.PENDING],
                            state=states.ONGOING) is None
    done, plan_uuid = store.save_run(
        audit['uuid'], {'state': states.SUCCEEDED, 'model_age': 1.5}, PLAN)
    assert done['state'] == states.SUCCEEDED and done['runs'] == 1
    assert done['last_action_plan_uuid'] == plan_uuid
    plan = store.get_action_plan(plan_uuid)
    assert plan['audit_uuid'] == audit['uuid']
    assert [a['action_type'] for a in plan['actions']] == ['nop', 'sleep']
    assert [a['position'] for a in plan['actions']] == [0, 1]
    assert plan['indicators'] == {'hosts': 2}
    assert plan['state'] == states.RECOMMENDED
    assert store.list_action_plans(audit['uuid'])[0]['action_count'] == 2


def test_cancelled_audit_drops_the_late_result(store):
    audit = store.create_audit({'strategy': 'dummy'})
    store.transition(audit['uuid'], [states.PENDING], state=states.ONGOING)
    store.transition(audit['uuid'], [states.PENDING, states.ONGOING],
                     state=states.CANCELLED, state_reason='by user')
    assert store.save_run(audit['uuid'], {'state': states.SUCCEEDED},
                          PLAN) == (None, None)
    audit = store.get_audit(audit['uuid'])
    assert audit['state'] == states.CANCELLED
    assert audit['last_action_plan_uuid'] is None


def _no_wait_store(url):
    """A second store on ``url`` that fails at once on a locked row or
    database instead of waiting for it."""
    if url.startswith('sqlite'):
        return db_api.Store(session_mod.create_engine(url, timeout=0))
    return db_api.Store(session_mod.create_engine(
        url + '%20-clock_timeout%3D1'))


def test_cancel_racing_the_end_of_a_run_is_never_lost(store, url):
    """A cancel that commits while save_run is under way either wins (the
    run's result is dropped) or is refused; it never reports CANCELLED and
    then gets overwritten by the run's SUCCEEDED."""
    other = _no_wait_store(url)
    audit = store.create_audit({'strategy': 'dummy'})
    store.transition(audit['uuid'], [states.PENDING], state=states.ONGOING)
    armed, cancel = [True], []

    def cancel_now():
        try:
            cancel.append(other.transition(
                audit['uuid'], [states.PENDING, states.ONGOING],
                state=states.CANCELLED, state_reason='by user'))
        except db_api.StoreError as exc:  # locked: save_run holds it
            cancel.append(exc)

    def after_first_statement(*args):
        if armed:
            armed.clear()
            thread = threading.Thread(target=cancel_now)
            thread.start()
            thread.join()

    event.listen(store.engine, 'after_cursor_execute', after_first_statement)
    try:
        saved, plan_uuid = store.save_run(
            audit['uuid'], {'state': states.SUCCEEDED}, PLAN)
    finally:
        event.remove(store.engine, 'after_cursor_execute',
                     after_first_statement)
        other.dispose()
    final = store.get_audit(audit['uuid'])
    assert not armed and len(cancel) == 1
    if isinstance(cancel[0], dict):
        assert cancel[0]['state'] == states.CANCELLED
        assert (saved, plan_uuid) == (None, None)
        assert final['state'] == states.CANCELLED
        assert final['last_action_plan_uuid'] is None
    else:
        assert saved['state'] == states.SUCCEEDED
        assert final['state'] == states.SUCCEEDED


def test_new_plan_supersedes_the_previous_one(store):
    audit = store.create_audit({'strategy': 'dummy',
                                'audit_type': states.CONTINUOUS,
                                'interval': 60})
    plans = []
    for _ in range(2):
        store.transition(audit['uuid'], [states.PENDING],
                         state=states.ONGOING)
        _, plan_uuid = store.save_run(audit['uuid'],
                                      {'state': states.PENDING}, PLAN)
        plans.append(plan_uuid)
    assert store.get_action_plan(plans[0])['state'] == states.SUPERSEDED
    assert store.get_action_plan(plans[1])['state'] == states.RECOMMENDED
    assert store.get_audit(audit['uuid'])['runs'] == 2


def test_unknown_ids(store):
    with pytest.raises(db_api.NotFound, match='no audit nope'):
        store.get_audit('nope')
    with pytest.raises(db_api.NotFound, match='no action plan'):
        store.get_action_plan('nope')
    with pytest.raises(db_api.NotFound):
        store.transition('nope', [states.PENDING], state=states.ONGOING)


def test_restart_keeps_audits_and_settles_interrupted_ones(url):
    store = dbfixtures.open_store(url)
    done = store.create_audit({'strategy': 'dummy'})
    store.transition(done['uuid'], [states.PENDING], state=states.ONGOING)
    _, plan_uuid = store.save_run(done['uuid'], {'state': states.SUCCEEDED},
                                  PLAN)
    oneshot = store.create_audit({'strategy': 'dummy'})
    store.transition(oneshot['uuid'], [states.PENDING],
                     state=states.ONGOING)
    continuous = store.create_audit({'strategy': 'dummy',
                                     'audit_type': states.CONTINUOUS,
                                     'interval': 60})
    store.transition(continuous['uuid'], [states.PENDING],
                     state=states.ONGOING)
    pending = store.create_audit({'strategy': 'dummy'})
    store.dispose()

    # "Restart": a new engine on the same database.
    store = dbfixtures.open_store(url)
    assert sorted(store.fail_interrupted('engine-a')) == sorted(
        [oneshot['uuid'], continuous['uuid']])
    assert store.get_audit(done['uuid'])['state'] == states.SUCCEEDED
    assert len(store.get_action_plan(plan_uuid)['actions']) == 2
    failed = store.get_audit(oneshot['uuid'])
    assert (failed['state'], failed['state_reason']) == (
        states.FAILED, states.INTERRUPTED)
    again = store.get_audit(continuous['uuid'])
    assert again['state'] == states.PENDING
    assert again['state_reason'].startswith(states.INTERRUPTED)
    assert store.get_audit(pending['uuid'])['state'] == states.PENDING
    counts = store.count_by_state()
    assert counts[states.PENDING] == 2 and counts[states.FAILED] == 1
    store.dispose()


def test_list_filters_and_pages(store):
    uuids = [store.create_audit({'strategy': 'dummy'})['uuid']
             for _ in range(5)]
    store.transition(uuids[1], [states.PENDING], state=states.CANCELLED)
    assert [a['uuid'] for a in store.list_audits(limit=2)] == uuids[:2]
    assert [a['uuid'] for a in store.list_audits(
        limit=2, marker=uuids[1])] == uuids[2:4]
    assert [a['uuid'] for a in store.list_audits(
        state=states.CANCELLED)] == [uuids[1]]


def test_concurrent_writers_take_an_audit_once(store):
    audit = store.create_audit({'strategy': 'dummy'})
    barrier = threading.Barrier(8)

    def take(_):
        barrier.wait()
        return store.transition(audit['uuid'], [states.PENDING],
                                state=states.ONGOING)

    with concurrent.futures.ThreadPoolExecutor(8) as executor:
        results = list(executor.map(take, range(8)))
    assert sum(r is not None for r in results) == 1


def test_failed_write_is_rolled_back(store):
    audit = store.create_audit({'strategy': 'dummy'})
    store.transition(audit['uuid'], [states.PENDING], state=states.ONGOING)
    bad = dict(PLAN, actions=[{'action_type': 'nop'}])  # no parameters
    with pytest.raises(KeyError):
        store.save_run(audit['uuid'], {'state': states.SUCCEEDED}, bad)
    audit = store.get_audit(audit['uuid'])
    assert audit['state'] == states.ONGOING and audit['runs'] == 0
    assert store.list_action_plans(audit['uuid']) == []


def test_unreachable_database_is_one_clear_error(tmp_path):
    store = dbfixtures.open_store(
        'postgresql+psycopg2://postgres@127.0.0.1:1/test', upgrade=False)
    with pytest.raises(db_api.StoreError, match='database error'):
        store.get_audit('x')


def test_migrations_match_the_models(url):
    from alembic import autogenerate
    from alembic import migration as alembic_migration

    from decision_engine.db import models

    store = dbfixtures.open_store(url)
    with store.engine.connect() as conn:
        context = alembic_migration.MigrationContext.configure(conn)
        diff = autogenerate.compare_metadata(context, models.Base.metadata)
    store.dispose()
    assert diff == []
