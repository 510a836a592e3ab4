"""Watcher's action notifications from the real applier (real pool, store
on SQLite): what each one says of its action and plan, and that sending
them does not read the plan again per action. The emitter is the real
one; only its bus is a list (tests/functional/api/test_watcher_notifications.py
covers the way over RabbitMQ)."""

import pytest

from decision_engine.cloud import watcher_notifications
from decision_engine.common import plan_states as st
from decision_engine.strategies import actions as act
from tests.fixtures import applier_harness as fx


@pytest.fixture
def sent(monkeypatch):
    """Every notification the process emits: (event type, data)."""
    sent = []
    monkeypatch.setattr(watcher_notifications, '_current',
                        watcher_notifications.Emitter(
                            lambda event_type, payload, priority: sent.append(
                                (event_type,
                                 payload['watcher_object.data']))))
    return sent


@pytest.fixture
def harness(sqlite_store, pool):
    h = fx.Harness(sqlite_store, pool, None)
    yield h
    h.close()


def plan_reads(store):
    """A list growing by one at each read of a whole plan (a spy on the
    real store)."""
    reads = []
    real = store.get_action_plan

    def spy(plan_uuid):
        reads.append(plan_uuid)
        return real(plan_uuid)
    store.get_action_plan = spy
    return reads


def apply(harness, actions):
    applier = harness.applier(applier={'max_parallel_actions': 4})
    plan_uuid = fx.store_plan(harness.store, actions)
    applier.start_plan(plan_uuid)
    assert applier.wait(plan_uuid, fx.GUARD)
    return harness.store.get_action_plan(plan_uuid)


def test_each_action_is_notified_as_it_runs_and_ends(harness, sent):
    actions = [act.nop(str(i)) for i in range(5)] + [
        {'action_type': 'nop', 'input_parameters': {'fail_execute': True}}]
    plan = apply(harness, actions)
    assert plan['state'] == st.FAILED
    for action in plan['actions']:
        mine = [(event, data) for event, data in sent
                if event.startswith('action.')
                and data['uuid'] == action['uuid']]
        end = 'error' if action['state'] == st.FAILED else 'end'
        assert [event for event, _ in mine] == [
            'action.execution.start', 'action.update', 'action.update',
            'action.execution.' + end]
        assert [data['state'] for _, data in mine] == [
            st.ONGOING, st.ONGOING, action['state'], action['state']]
        moves = [(d['state_update']['watcher_object.data']['old_state'],
                  d['state']) for e, d in mine if e == 'action.update']
        assert moves == [(st.PENDING, st.ONGOING),
                         (st.ONGOING, action['state'])]
        for _, data in mine:
            assert data['action_type'] == 'nop'
            assert data['input_parameters'] == action['input_parameters']
            assert data['action_plan_uuid'] == plan['uuid']
            terse = data['action_plan']['watcher_object.data']
            assert (terse['uuid'], terse['state'], terse['audit_uuid']) == \
                (plan['uuid'], st.ONGOING, plan['audit_uuid'])
        assert mine[-1][1]['status_message'] == action['state_reason']
    [(_, error)] = [(e, d) for e, d in sent
                    if e == 'action.execution.error']
    assert error['fault']['watcher_object.data']['exception_message'] == \
        'fail_execute is set' == error['status_message']


def test_plan_reads_do_not_grow_with_its_actions(harness, sent):
    reads = plan_reads(harness.store)
    per_plan = {}
    for size in (3, 30):
        before = len(reads)
        plan = apply(harness, [act.nop(str(i)) for i in range(size)])
        per_plan[size] = len(reads) - before
        assert plan['state'] == st.SUCCEEDED
    assert len([e for e, _ in sent if e == 'action.execution.end']) == 33
    # NOTE: the plan's own notifications read it (a few times a plan);
    # an action's notifications never do.
    assert per_plan[3] == per_plan[30], per_plan
