"""Audit owners: several engines (each its own Store) on one database."""

import concurrent.futures
import threading

import pytest
import sqlalchemy as sa

from decision_engine.common import timeutils
from decision_engine.common import states
from decision_engine.db import migration
from decision_engine.db import models
from tests.fixtures import dbfixtures


def test_take_records_the_owner_and_only_pending_audits(stores):
    a, b = stores
    audit = a.create_audit({'strategy': 'dummy'})
    assert audit['owner'] is None
    taken = a.take(audit['uuid'], 'engine-a')
    assert (taken['state'], taken['owner']) == (states.ONGOING, 'engine-a')
    assert b.take(audit['uuid'], 'engine-b') is None
    assert b.get_audit(audit['uuid'])['owner'] == 'engine-a'
    with pytest.raises(ValueError, match='named engine'):
        a.take(a.create_audit({'strategy': 'dummy'})['uuid'], '')


def test_two_engines_racing_for_pending_audits_take_each_once(stores):
    uuids = [stores[0].create_audit({'strategy': 'dummy'})['uuid']
             for _ in range(10)]
    hosts = ('engine-a', 'engine-b')
    barrier = threading.Barrier(2)

    def engine(index):
        store, won = stores[index], []
        for audit_uuid in uuids:
            barrier.wait()
            if store.take(audit_uuid, hosts[index]) is not None:
                won.append(audit_uuid)
        return won

    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        won = list(executor.map(engine, range(2)))
    assert sorted(won[0] + won[1]) == sorted(uuids)
    assert not set(won[0]) & set(won[1])
    for index, host in enumerate(hosts):
        for audit_uuid in won[index]:
            audit = stores[0].get_audit(audit_uuid)
            assert (audit['state'], audit['owner']) == (states.ONGOING, host)


def test_start_settles_only_the_audits_this_engine_owns(stores):
    a, b = stores
    a_oneshot = a.create_audit({'strategy': 'dummy'})
    a_continuous = a.create_audit({'strategy': 'dummy', 'interval': 60,
                                   'audit_type': states.CONTINUOUS})
    b_oneshot = b.create_audit({'strategy': 'dummy'})
    b_continuous = b.create_audit({'strategy': 'dummy', 'interval': 60,
                                   'audit_type': states.CONTINUOUS})
    for audit in (a_oneshot, a_continuous):
        a.take(audit['uuid'], 'engine-a')
    for audit in (b_oneshot, b_continuous):
        b.take(audit['uuid'], 'engine-b')
    # Taken by code older than revision 0002: no owner.
    legacy = a.create_audit({'strategy': 'dummy', 'state': states.ONGOING})
    pending = a.create_audit({'strategy': 'dummy'})

    # Engine B restarts.
    assert sorted(b.fail_interrupted('engine-b')) == sorted(
        [b_oneshot['uuid'], b_continuous['uuid'], legacy['uuid']])
    for audit in (a_oneshot, a_continuous):
        audit = a.get_audit(audit['uuid'])
        assert (audit['state'], audit['owner'], audit['state_reason']) == (
            states.ONGOING, 'engine-a', None)
    failed = b.get_audit(b_oneshot['uuid'])
    assert (failed['state'], failed['state_reason']) == (
        states.FAILED, states.INTERRUPTED)
    again = b.get_audit(b_continuous['uuid'])
    assert again['state'] == states.PENDING
    assert again['state_reason'].startswith(states.INTERRUPTED)
    assert b.get_audit(legacy['uuid'])['state'] == states.FAILED
    assert b.get_audit(pending['uuid'])['state'] == states.PENDING
    # A second start of B finds nothing more of its own.
    assert b.fail_interrupted('engine-b') == []
    with pytest.raises(ValueError, match='owner is needed'):
        b.fail_interrupted(None)

    # Engine A's run was not disturbed: its result is stored.
    done, plan_uuid = a.save_run(a_oneshot['uuid'],
                                 {'state': states.SUCCEEDED},
                                 {'strategy': 'dummy', 'actions': []})
    assert done['state'] == states.SUCCEEDED and plan_uuid is not None


def test_settling_never_overwrites_a_cancel(stores):
    a, _ = stores
    audit = a.create_audit({'strategy': 'dummy'})
    a.take(audit['uuid'], 'engine-a')
    a.transition(audit['uuid'], [states.ONGOING], state=states.CANCELLED)
    assert a.fail_interrupted('engine-a') == []
    assert a.get_audit(audit['uuid'])['state'] == states.CANCELLED


def test_migration_upgrades_a_database_at_the_previous_head(url):
    from alembic import autogenerate
    from alembic import migration as alembic_migration

    store = dbfixtures.open_store(url, upgrade=False)
    try:
        migration.upgrade(store.engine, '0001')
        assert migration.current(store.engine) == '0001'
        now = timeutils.utcnow()
        rows = [('u-ongoing', states.ONGOING), ('u-pending', states.PENDING)]
        with store.engine.begin() as conn:
            for audit_uuid, state in rows:
                conn.execute(sa.text(
                    "INSERT INTO audits (uuid, audit_type, state, strategy, "
                    "parameters, scope, runs, created_at) VALUES "
                    "(:uuid, 'ONESHOT', :state, 'dummy', '{}', '{}', 0, "
                    ":now)"), {'uuid': audit_uuid, 'state': state,
                               'now': now})
        with pytest.raises(migration.SchemaOutOfDate, match='db sync'):
            store.check_schema()

        store.upgrade()
        store.check_schema()
        assert migration.current(store.engine) == migration.head() == '0006'
        with store.engine.connect() as conn:
            diff = autogenerate.compare_metadata(
                alembic_migration.MigrationContext.configure(conn),
                models.Base.metadata)
        assert diff == []
        assert store.get_audit('u-ongoing')['owner'] is None
        assert store.fail_interrupted('engine-a') == ['u-ongoing']
        assert store.take('u-pending', 'engine-a')['owner'] == 'engine-a'
    finally:
        store.dispose()
