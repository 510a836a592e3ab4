"""A plan's end reaches the store even when the database is away for
longer than the store's own reconnection attempts: the applier writes it
again until the store takes it, or, when it stops first, leaves the plan
ONGOING for the next start to resume and end. Plans on the real pool,
the store on SQLite, ``nop`` actions only."""

import threading

from decision_engine.applier import applier as applier_mod
from decision_engine.common import plan_states as st
from decision_engine.db import api as db_api
from decision_engine.strategies import actions as act
from tests.fixtures import applier_harness as fx

GUARD = fx.GUARD


class _RefusingEnds:
    """A store that refuses the next ``count`` plan ends, as a store
    whose database is away refuses them (a StoreError)."""

    def __init__(self, store, count):
        self._store = store
        self.count = count
        self.refused = 0
        self._changed = threading.Condition()

    def __getattr__(self, name):
        return getattr(self._store, name)

    def wait_refused(self, more_than):
        with self._changed:
            assert self._changed.wait_for(
                lambda: self.refused > more_than, GUARD)

    def transition_plan_of(self, *args, **kwargs):
        with self._changed:
            if self.refused < self.count:
                self.refused += 1
                self._changed.notify_all()
                raise db_api.StoreError('database error: server closed '
                                        'the connection unexpectedly')
        return self._store.transition_plan_of(*args, **kwargs)


def test_a_refused_end_is_written_again_until_stored(sqlite_store, pool,
                                                     monkeypatch):
    monkeypatch.setattr(applier_mod, 'END_RETRY_DELAY', 0)
    store = _RefusingEnds(sqlite_store, count=3)
    harness = fx.Harness(store, pool, None)
    try:
        applier = harness.applier()
        plan_uuid = fx.store_plan(sqlite_store, [act.nop('a'), act.nop('b')])
        applier.start_plan(plan_uuid)
        assert applier.wait(plan_uuid, GUARD)
        assert store.refused == 3
        plan = sqlite_store.get_action_plan(plan_uuid)
        assert plan['state'] == st.SUCCEEDED, plan
        assert applier.statistics().plans_ended == {st.SUCCEEDED: 1}
    finally:
        harness.close()


def test_an_end_refused_until_stop_is_resumed_at_the_next_start(
        sqlite_store, pool, monkeypatch):
    monkeypatch.setattr(applier_mod, 'END_RETRY_DELAY', GUARD)
    store = _RefusingEnds(sqlite_store, count=10 ** 6)
    harness = fx.Harness(store, pool, None)
    try:
        applier = harness.applier()
        plan_uuid = fx.store_plan(sqlite_store, [act.nop('a')])
        applier.start_plan(plan_uuid)
        store.wait_refused(0)
        # The stop ends the wait between two tries at once; the last try
        # is refused too: the plan is not counted as ended, and stays
        # ONGOING in the store.
        applier.stop(timeout=GUARD)
        store.wait_refused(1)
        assert not applier.wait(plan_uuid, 0)
        assert sqlite_store.get_action_plan(plan_uuid)['state'] == \
            st.ONGOING
        assert applier.statistics().plans_ended == {}
        store.count = 0
        again = harness.applier()
        assert again.wait(plan_uuid, GUARD)
        assert sqlite_store.get_action_plan(plan_uuid)['state'] == \
            st.SUCCEEDED
    finally:
        harness.close()
