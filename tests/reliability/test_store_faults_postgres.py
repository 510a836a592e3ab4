"""Store faults, PostgreSQL (issue 15, part 4): the engine's connections
terminated with ``pg_terminate_backend`` while audits run and plans are
applied.

The audit service and the applier run on the real pool against a schema
of the test's own; their connections carry an ``application_name`` of the
test's own, so a killer thread terminates only them, at seeded moments,
between and inside their transactions. At the end the store must hold
every audit ended once (no audit left ONGOING, none run twice, one plan
each) and every plan ended with each of its actions (none PENDING or
ONGOING, none carried out twice).
"""

import random
import threading
import uuid

import pytest
import sqlalchemy as sa

from decision_engine.audit import service as service_mod
from decision_engine.common import plan_states as st
from decision_engine.common import states
from decision_engine.concurrency import pool as pool_mod
from decision_engine.db import api as db_api
from tests.fixtures import applier_harness as fx
from tests.fixtures import dbfixtures
from tests.fixtures import fakes
from tests.fixtures import figures
from tests.fixtures import model_helpers

AUDITS = 12
GUARD = 120


class Killer:
    """Terminates the backends named ``application_name``, every few
    milliseconds (seeded), until stopped."""

    def __init__(self, application_name, seed):
        self.name = application_name
        self.rng = random.Random(seed)
        self.admin = sa.create_engine(dbfixtures.PG_URL)
        self.killed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def kill_now(self):
        with self.admin.begin() as conn:
            self.killed += len(conn.execute(sa.text(
                'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                'WHERE application_name = :name'), {'name': self.name}
            ).all())

    def _loop(self):
        while not self._stop.wait(self.rng.uniform(0.03, 0.15)):
            self.kill_now()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(GUARD)
        self.admin.dispose()


@pytest.fixture
def pg_url():
    name = 'de_faults_%s' % uuid.uuid4().hex[:8]
    with dbfixtures.postgres_url() as url:
        yield '%s&application_name=%s' % (url, name), name


@pytest.fixture
def pool():
    pool = pool_mod.WorkerPool(6)
    yield pool
    pool.shutdown(timeout=10)


def test_terminated_connections_lose_and_double_nothing(pg_url, pool):
    url, name = pg_url
    store = dbfixtures.open_store(url)
    conf = fakes.make_conf(audit={'max_concurrent_audits': 4})
    collector = fakes.FakeCollector(pool, model_helpers.small_model)
    audits = service_mod.AuditService(conf, store, pool, collector)
    harness = fx.Harness(store, pool, None)
    errors = []
    try:
        audits.start()
        applier = harness.applier(applier={'max_parallel_actions': 4})
        with Killer(name, seed=15) as killer:
            created = []
            for k in range(AUDITS):
                body = {'strategy': 'dummy', 'name': 'a%d' % k,
                        'parameters': {'message': 'm%d' % k,
                                       'sleep': 0.05}}
                created.append(_retrying(errors, audits.create, body)[
                    'uuid'])
            assert audits.runner.wait_idle(GUARD)
            plans = []
            for audit_uuid in created:
                audit = _retrying(errors, store.get_audit, audit_uuid)
                if audit['last_action_plan_uuid']:
                    plans.append(audit['last_action_plan_uuid'])
                    _retrying(errors, applier.start_plan, plans[-1])
            for plan_uuid in plans:
                assert applier.wait(plan_uuid, GUARD)
            killer.kill_now()
        ended = {a['uuid']: a for a in store.list_audits()}
        by_state = {}
        for audit_uuid in created:
            state = ended[audit_uuid]['state']
            by_state[state] = by_state.get(state, 0) + 1
        runs = [ended[u]['runs'] for u in created]
        plans_per_audit = [len(store.list_action_plans(u)) for u in created]
        stored_plans = [store.get_action_plan(p) for p in plans]
        actions = [a for p in stored_plans for a in p['actions']]
        unsettled = [a for a in actions if a['state'] not in st.ACTION_FINAL]
        record = figures.record(
            'store-faults/postgres-terminate',
            connections_terminated=killer.killed,
            api_calls_refused=len(errors),
            audits=len(created),
            audits_succeeded=by_state.get(states.SUCCEEDED, 0),
            audits_failed=by_state.get(states.FAILED, 0),
            audits_lost=len(created) - by_state.get(states.SUCCEEDED, 0)
            - by_state.get(states.FAILED, 0),
            audits_doubled=sum(1 for n in runs if n != 1)
            + sum(1 for n in plans_per_audit if n > 1),
            plans=len(plans),
            plans_ended=sum(1 for p in stored_plans
                            if p['state'] in st.PLAN_FINAL),
            actions=len(actions), actions_unsettled=len(unsettled))
    finally:
        harness.close()
        audits.stop()
        store.dispose()
    assert record['connections_terminated'] > 0
    assert record['audits_lost'] == 0, by_state
    assert record['audits_doubled'] == 0, (runs, plans_per_audit)
    assert record['plans_ended'] == record['plans']
    assert record['actions_unsettled'] == 0, unsettled
    # Each refused call said so in one line naming the database.
    assert all('\n' not in e and 'database error' in e for e in errors)


def _retrying(errors, call, *args):
    """What a client of the API does: a call the store refused (one clear
    error) is made again."""
    for _ in range(20):
        try:
            return call(*args)
        except db_api.StoreError as exc:
            errors.append(str(exc))
    raise AssertionError('the store refused 20 times: %s' % errors[-1])


@pytest.mark.parametrize('kind', ['sqlite', 'postgresql'])
def test_a_commit_whose_answer_is_lost_is_saved_once(kind, tmp_path):
    """The rare case of a connection lost after the COMMIT was applied
    but before it was acknowledged (simulated: the session's after-commit
    hook raises a disconnect once): the operation, made again, finds its
    own write and says so; nothing is lost, nothing doubled."""
    from sqlalchemy import event

    from decision_engine.common import timeutils

    with dbfixtures.database_url(kind, tmp_path) as url:
        store = dbfixtures.open_store(url)
        armed = []

        @event.listens_for(store._sessions, 'after_commit')
        def lose_the_answer(session):
            if armed:
                armed.pop()
                raise sa.exc.OperationalError(
                    'COMMIT', {}, Exception('server closed the connection '
                                            'unexpectedly'),
                    connection_invalidated=True)
        try:
            armed.append(1)
            audit = store.create_audit({'strategy': 'dummy'})
            assert [a['uuid'] for a in store.list_audits()] \
                == [audit['uuid']]
            started = timeutils.utcnow()
            armed.append(1)
            taken = store.take(audit['uuid'], 'engine-a', started_at=started)
            assert taken is not None and taken['state'] == states.ONGOING
            assert store.take(audit['uuid'], 'engine-b',
                              started_at=started) is None
            armed.append(1)
            stored, plan_uuid = store.save_run(
                audit['uuid'], {'state': states.SUCCEEDED,
                                'finished_at': timeutils.utcnow()},
                plan={'strategy': 'dummy', 'actions': [
                    {'action_type': 'nop', 'input_parameters': {}}]},
                owner='engine-a')
            assert stored is not None and stored['runs'] == 1
            assert [p['uuid'] for p in store.list_action_plans(
                audit['uuid'])] == [plan_uuid]
            assert not armed
        finally:
            store.dispose()
