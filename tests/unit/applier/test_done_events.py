"""The applier keeps a plan's end event only while a waiter may need it:
between the plan's leaving the running set and its end being stored.
Plans on the real pool, the store on SQLite, ``nop`` actions only."""

import threading

from decision_engine.common import plan_states as st
from decision_engine.strategies import actions as act
from tests.fixtures import applier_harness as fx

GUARD = fx.GUARD


class _HeldEnd:
    """A store whose next plan end waits for ``release``."""

    def __init__(self, store):
        self._store = store
        self.ending = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name):
        return getattr(self._store, name)

    def transition_plan_of(self, *args, **kwargs):
        self.ending.set()
        assert self.release.wait(GUARD)
        return self._store.transition_plan_of(*args, **kwargs)


def test_ended_plans_leave_nothing_behind(sqlite_store, pool):
    harness = fx.Harness(sqlite_store, pool, None)
    try:
        applier = harness.applier()
        for n in range(50):
            plan_uuid = fx.store_plan(sqlite_store, [act.nop(str(n))])
            applier.start_plan(plan_uuid)
            assert applier.wait(plan_uuid, GUARD)
            assert sqlite_store.get_action_plan(plan_uuid)['state'] == \
                st.SUCCEEDED
            assert len(applier._done) == 0
            assert applier.wait(plan_uuid, 0)
        assert applier._runs == {}
    finally:
        harness.close()


def test_waiter_before_the_stored_end_waits_for_it(sqlite_store, pool):
    held = _HeldEnd(sqlite_store)
    harness = fx.Harness(held, pool, None)
    try:
        applier = harness.applier()
        plan_uuid = fx.store_plan(sqlite_store, [act.nop('held')])
        applier.start_plan(plan_uuid)
        assert held.ending.wait(GUARD)
        # NOTE: out of _runs, its end not stored: the event is kept.
        assert not applier.wait(plan_uuid, 0)
        assert list(applier._done) == [plan_uuid]
        held.release.set()
        assert applier.wait(plan_uuid, GUARD)
        assert sqlite_store.get_action_plan(plan_uuid)['state'] == \
            st.SUCCEEDED
        assert len(applier._done) == 0
    finally:
        held.release.set()
        harness.close()
