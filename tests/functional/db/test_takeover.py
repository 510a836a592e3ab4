"""The compare-and-sets behind a cluster: a continuous slot is claimed on
its next-run time, an orphaned audit is requeued once, a run is saved only
by its owner."""

import datetime
import threading

import sqlalchemy as sa

from decision_engine.common import states
from decision_engine.common import timeutils
from tests.fixtures import applier_harness
from tests.fixtures import dbfixtures
from tests.fixtures import waiting


def test_a_continuous_slot_is_taken_only_while_due(stores):
    a, b = stores
    now = timeutils.utcnow()
    audit = a.create_audit({'strategy': 'dummy', 'interval': 60,
                            'audit_type': states.CONTINUOUS,
                            'next_run_at': now})
    assert a.take(audit['uuid'], 'engine-a', due_by=now)['owner'] == \
        'engine-a'
    later = now + datetime.timedelta(seconds=60)
    a.save_run(audit['uuid'], {'state': states.PENDING,
                               'next_run_at': later}, owner='engine-a')
    # B queued the slot just run (a stale view): the slot has moved on.
    assert b.take(audit['uuid'], 'engine-b', due_by=now) is None
    assert b.take(audit['uuid'], 'engine-b', due_by=later)['owner'] == \
        'engine-b'


def test_an_orphan_is_requeued_once_and_its_old_run_not_saved(stores):
    a, b = stores
    oneshot = a.create_audit({'strategy': 'dummy'})
    a.take(oneshot['uuid'], 'engine-dead')
    mine = a.create_audit({'strategy': 'dummy'})
    a.take(mine['uuid'], 'engine-a')
    assert [x['uuid'] for x in a.orphaned_audits({'engine-a', 'engine-b'})
            ] == [oneshot['uuid']]
    requeued = a.requeue_orphan(oneshot['uuid'], 'engine-dead', 'engine-a')
    assert requeued['state'] == states.PENDING
    assert 'engine-dead left the cluster' in requeued['state_reason']
    assert b.requeue_orphan(oneshot['uuid'], 'engine-dead',
                            'engine-b') is None
    assert b.take(oneshot['uuid'], 'engine-b')['owner'] == 'engine-b'
    # The dead engine was only cut off (split brain) and finishes its run:
    # its result is dropped, the new owner's stands.
    assert a.save_run(oneshot['uuid'], {'state': states.SUCCEEDED},
                      owner='engine-dead') == (None, None)
    saved, _ = b.save_run(oneshot['uuid'], {'state': states.SUCCEEDED},
                          owner='engine-b')
    assert (saved['state'], saved['runs']) == (states.SUCCEEDED, 1)


def test_a_continuous_orphan_is_due_at_once(stores):
    a, _ = stores
    later = timeutils.utcnow() + datetime.timedelta(hours=1)
    audit = a.create_audit({'strategy': 'dummy', 'interval': 3600,
                            'audit_type': states.CONTINUOUS,
                            'next_run_at': later})
    a.take(audit['uuid'], 'engine-dead')
    requeued = a.requeue_orphan(audit['uuid'], 'engine-dead', 'engine-a')
    assert requeued['next_run_at'] < later


def _plan(store):
    return applier_harness.store_plan(
        store, [{'action_type': 'nop', 'input_parameters': {}}])


def test_a_running_plan_of_a_dead_engine_is_claimed_once(stores):
    a, b = stores
    plan_uuid = _plan(a)
    a.start_plan(plan_uuid, 'engine-dead')
    assert a.orphaned_plans({'engine-dead'}) == []
    assert [p['uuid'] for p in a.orphaned_plans({'engine-a'})] == [
        plan_uuid]
    claimed = a.claim_plan(plan_uuid, 'engine-dead', 'engine-a')
    assert (claimed['owner'], claimed['state']) == ('engine-a', 'PENDING')
    assert b.claim_plan(plan_uuid, 'engine-dead', 'engine-b') is None
    # The engine cut off from the cluster starts none of its actions any
    # more, and cannot end the plan its new owner runs.
    assert not a.transition_action(plan_uuid, 0, ['PENDING'],
                                   owner='engine-dead', state='ONGOING')
    assert a.transition_action(plan_uuid, 0, ['PENDING'],
                               owner='engine-a', state='ONGOING')
    a.transition_plan(plan_uuid, ['PENDING'], state='ONGOING')
    assert a.transition_plan_of(plan_uuid, 'engine-dead', ['ONGOING'],
                                state='CANCELLED') is None
    assert a.get_action_plan(plan_uuid)['state'] == 'ONGOING'


def test_old_recommended_plans_expire(stores):
    a, _ = stores
    old, fresh = _plan(a), _plan(a)
    started = _plan(a)
    a.start_plan(started, 'engine-a')
    cutoff = timeutils.utcnow()
    new = _plan(a)
    assert a.expire_plans(cutoff) == sorted([old, fresh])
    assert a.get_action_plan(old)['state'] == states.SUPERSEDED
    assert 'expired' in a.get_action_plan(old)['state_reason']
    assert a.get_action_plan(new)['state'] == states.RECOMMENDED
    assert a.get_action_plan(started)['state'] == 'PENDING'


def test_an_action_start_racing_a_claim_is_refused_or_seen(tmp_path):
    """A cut-off engine starts an action while a survivor's claim of the
    plan is in flight (PostgreSQL, read committed): the start waits for
    the claim and is then refused, so the claimer reads the action as it
    is (PENDING) and runs it itself. Without the plan's row locked, the
    start went through under the claim's feet."""
    with dbfixtures.database_url('postgresql', tmp_path) as url:
        store = dbfixtures.open_store(url)
        claimer = sa.create_engine(url)
        try:
            plan_uuid = _plan(store)
            store.start_plan(plan_uuid, 'engine-dead')
            with claimer.connect() as conn:
                claim = conn.begin()
                conn.execute(sa.text(
                    "UPDATE action_plans SET owner = 'engine-b' "
                    "WHERE uuid = :u"), {'u': plan_uuid})
                started = []
                start = threading.Thread(target=lambda: started.append(
                    store.transition_action(plan_uuid, 0, ['PENDING'],
                                            owner='engine-dead',
                                            state='ONGOING')))
                start.start()
                # The start waits on the claim's row lock.
                waiting.until(lambda: conn.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE "
                    "pg_backend_pid() = ANY(pg_blocking_pids(pid))")
                ).scalar() > 0 or not start.is_alive(),
                    'the start blocked by the claim, or done')
                claim.commit()
                start.join(30)
            assert started == [False]
            assert store.get_action_plan(plan_uuid)['actions'][0][
                'state'] == 'PENDING'
        finally:
            claimer.dispose()
            store.dispose()
