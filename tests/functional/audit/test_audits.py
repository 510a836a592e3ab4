import datetime
import threading

import pytest

from decision_engine.common import timeutils
from decision_engine.audit import scope as scope_mod
from decision_engine.audit import service as service_mod
from decision_engine.common import states
from decision_engine.db import api as db_api
from tests.fixtures import fakes
from tests.fixtures import model_helpers as h


@pytest.fixture
def store(sqlite_store):
    # NOTE: the audit service's logic is the same on both databases; the
    # store's own tests cover PostgreSQL.
    return sqlite_store


def make_service(store, pool, gate=None, **audit_opts):
    conf = fakes.make_conf(audit=dict({'min_continuous_interval': 1},
                                      **audit_opts))
    collector = fakes.FakeCollector(pool, h.small_model, gate=gate)
    service = service_mod.AuditService(conf, store, pool, collector)
    return service, collector


def test_oneshot_audit_produces_a_stored_plan(store, pool):
    service, collector = make_service(store, pool)
    service.start()
    try:
        audit = service.create({'strategy': 'server_consolidation',
                                'name': 'pack'})
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    audit = store.get_audit(audit['uuid'])
    assert audit['state'] == states.SUCCEEDED, audit['state_reason']
    assert audit['runs'] == 1 and audit['build_seconds'] is not None
    plan = store.get_action_plan(audit['last_action_plan_uuid'])
    assert plan['indicators']['hosts_released'] == 2
    moves = [a['input_parameters'] for a in plan['actions']
             if a['action_type'] == 'migrate']
    assert {m['destination_node'] for m in moves} == {'a'}


@pytest.mark.parametrize('body,message', [
    ({}, "'strategy' is a required property"),
    ({'strategy': 'nope'}, "unknown strategy 'nope'"),
    ({'strategy': 'dummy', 'parameters': {'sleep': -1}},
     "parameter 'sleep'"),
    ({'strategy': 'dummy', 'scope': {'include_hosts': 'a'}},
     "scope field 'include_hosts'"),
    ({'strategy': 'dummy', 'scope': {'hosts': ['a']}},
     'Additional properties'),
    ({'strategy': 'dummy', 'audit_type': 'CONTINUOUS'}, 'exactly one of'),
    ({'strategy': 'dummy', 'audit_type': 'CONTINUOUS', 'cron': 'x y'},
     'not a valid cron'),
    ({'strategy': 'dummy', 'audit_type': 'CONTINUOUS', 'interval': 0},
     'interval must be'),
    ({'strategy': 'dummy', 'interval': 60}, 'only for CONTINUOUS'),
    ({'strategy': 'dummy', 'audit_type': 'SOMETIMES'}, 'SOMETIMES'),
    ([], 'must be a JSON object'),
])
def test_invalid_audits_are_refused_with_one_line(store, pool, body,
                                                  message):
    service, _ = make_service(store, pool)
    with pytest.raises(service_mod.InvalidAudit) as err:
        service.create(body)
    assert message in str(err.value)
    assert '\n' not in str(err.value)
    assert store.list_audits() == []


def test_cron_more_often_than_allowed_is_refused(store, pool):
    service, _ = make_service(store, pool, min_continuous_interval=600)
    with pytest.raises(service_mod.InvalidAudit, match='runs every 60 s'):
        service.create({'strategy': 'dummy', 'audit_type': 'CONTINUOUS',
                        'cron': '* * * * *'})


def test_scope_chooses_hosts_and_movable_instances():
    model = h.small_model()
    ctx = scope_mod.resolve(model, {'include_aggregates': ['ag1']})
    assert set(ctx.nodes) == {'a', 'b'}
    ctx = scope_mod.resolve(model, {'include_azs': ['az1'],
                                    'exclude_hosts': ['b']})
    assert set(ctx.nodes) == {'a'}
    ctx = scope_mod.resolve(model, {'include_projects': ['p2']})
    assert [i.uuid for i in ctx.instances.values() if ctx.can_move(i)] \
        == ['3']
    ctx = scope_mod.resolve(model, {'exclude_instances': ['1']})
    assert not ctx.can_move(model.instances['1'])
    assert ctx.can_move(model.instances['2'])
    ms = scope_mod.model_scope({'include_hosts': ['a'],
                                'include_projects': ['p2']})
    assert ms.include_hosts == {'a'} and not ms.include_projects


def test_scoped_audit_only_moves_what_its_scope_allows(store, pool):
    service, _ = make_service(store, pool)
    service.start()
    try:
        audit = service.create({'strategy': 'server_consolidation',
                                'scope': {'exclude_hosts': ['a']}})
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    audit = store.get_audit(audit['uuid'])
    plan = store.get_action_plan(audit['last_action_plan_uuid'])
    hosts = {p for a in plan['actions'] for k, p in
             a['input_parameters'].items()
             if k in ('source_node', 'destination_node', 'hostname')}
    assert hosts and 'a' not in hosts


def test_strategy_failure_ends_failed_with_its_reason(store, pool):
    service, _ = make_service(store, pool)
    service.start()
    try:
        audit = service.create({'strategy': 'host_maintenance',
                                'parameters': {'maintenance_node': 'zz'}})
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    audit = store.get_audit(audit['uuid'])
    assert audit['state'] == states.FAILED
    assert 'cannot evacuate zz: no such compute host' in \
        audit['state_reason']
    assert audit['last_action_plan_uuid'] is None


def test_model_build_failure_fails_the_audit(store, pool):
    service, collector = make_service(store, pool)

    def broken():
        raise RuntimeError('nova is down')
    collector.factory = broken
    audit = store.create_audit(service.validate({'strategy': 'dummy'}))
    service.runner.run(audit['uuid'])
    audit = store.get_audit(audit['uuid'])
    assert audit['state'] == states.FAILED
    assert audit['state_reason'] == 'no model of the cloud: nova is down'


def test_cancel_pending_and_ended(store, pool):
    service, _ = make_service(store, pool)
    audit = service.create({'strategy': 'dummy'})     # runner not started
    cancelled = service.cancel(audit['uuid'])
    assert cancelled['state'] == states.CANCELLED
    with pytest.raises(service_mod.AuditNotCancellable,
                       match='already ended'):
        service.cancel(audit['uuid'])
    with pytest.raises(db_api.NotFound):
        service.cancel('nope')
    # The runner skips it.
    assert service.runner.run(audit['uuid']) is None


def test_cancel_while_building_drops_the_result(store, pool):
    gate = threading.Event()
    service, collector = make_service(store, pool, gate=gate)
    service.start()
    try:
        audit = service.create({'strategy': 'dummy'})
        assert collector.build_started.wait(30)
        assert store.get_audit(audit['uuid'])['state'] == states.ONGOING
        service.cancel(audit['uuid'])
        gate.set()
        assert service.runner.wait_idle(30)
    finally:
        gate.set()
        service.stop()
    audit = store.get_audit(audit['uuid'])
    assert audit['state'] == states.CANCELLED
    assert store.list_action_plans(audit['uuid']) == []


def test_ten_audits_on_the_smallest_pool_share_one_build(store, pool):
    gate = threading.Event()
    service, collector = make_service(store, pool, gate=gate,
                                      max_concurrent_audits=10)
    service.start()
    try:
        audits = [service.create({'strategy': 'server_consolidation'})
                  for _ in range(10)]
        assert collector.build_started.wait(30)
        # Hold the build until all three workers run an audit, so the
        # build's fan-out meets a full pool.
        runner = service.runner
        with runner._cond:
            assert runner._cond.wait_for(
                lambda: len(runner._running) == 3, 30)
        gate.set()
        assert service.runner.wait_idle(60)
    finally:
        gate.set()
        service.stop()
    # The fan-out ran inline in the audit's worker instead of deadlocking.
    assert pool.statistics().caller_ran > 0
    final = [store.get_audit(a['uuid']) for a in audits]
    assert [a['state'] for a in final] == [states.SUCCEEDED] * 10, [
        a['state_reason'] for a in final]
    assert collector.builds == 1
    stats = pool.statistics()
    assert stats.size == 3 and stats.failed == 0


def test_max_concurrent_audits_bounds_the_running_ones(store, pool):
    gate = threading.Event()
    service, collector = make_service(store, pool, gate=gate,
                                      max_concurrent_audits=1)
    service.start()
    try:
        first = service.create({'strategy': 'dummy'})
        second = service.create({'strategy': 'dummy'})
        assert collector.build_started.wait(30)
        assert service.runner.statistics().running == 1
        assert store.get_audit(second['uuid'])['state'] == states.PENDING
        gate.set()
        assert service.runner.wait_idle(30)
    finally:
        gate.set()
        service.stop()
    for audit in (first, second):
        assert store.get_audit(audit['uuid'])['state'] == states.SUCCEEDED


def test_an_audit_the_full_pool_refuses_stays_queued_until_a_worker_frees(
        store, pool):
    # The pool is full of work that is not the runner's: its end does not
    # wake the runner's dispatcher, its full-pool retry does.
    release = threading.Event()
    others = [pool.submit(release.wait, 30) for _ in range(pool.size)]
    service, _ = make_service(store, pool)
    service.start()
    try:
        audit = service.create({'strategy': 'dummy'})
        stats = service.runner.statistics()
        assert (stats.queued, stats.running) == (1, 0)
        release.set()
        pool.wait_all(others, timeout=30)
        assert service.runner.wait_idle(30)
    finally:
        release.set()
        service.stop()
    assert store.get_audit(audit['uuid'])['state'] == states.SUCCEEDED
    assert service.runner.statistics().succeeded == 1


def test_continuous_audit_reruns_when_due(store, pool):
    service, collector = make_service(store, pool)
    service.start()
    try:
        audit = service.create({'strategy': 'dummy',
                                'audit_type': 'CONTINUOUS',
                                'interval': 3600})
        assert service.runner.wait_idle(30)
        after_one = store.get_audit(audit['uuid'])
        assert after_one['state'] == states.PENDING
        assert after_one['runs'] == 1
        assert after_one['next_run_at'] > timeutils.utcnow()
        assert service.run_due_continuous_audits() == 0
        # Make it due.
        store.transition(audit['uuid'], [states.PENDING],
                         next_run_at=timeutils.utcnow()
                         - datetime.timedelta(seconds=1))
        assert service.run_due_continuous_audits() == 1
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    audit = store.get_audit(audit['uuid'])
    assert audit['runs'] == 2
    plans = store.list_action_plans(audit['uuid'])
    assert [p['state'] for p in plans] == [
        states.SUPERSEDED, states.RECOMMENDED]


def test_cron_schedule_next_run():
    from decision_engine.audit import schedule
    base = datetime.datetime(2025, 1, 1, 10, 7)
    assert schedule.next_run(None, '0 * * * *', base) == \
        datetime.datetime(2025, 1, 1, 11, 0)
    assert schedule.next_run(90, None, base) == \
        datetime.datetime(2025, 1, 1, 10, 8, 30)


def test_periodic_is_collectable():
    from decision_engine.concurrency import periodics
    service = service_mod.AuditService(fakes.make_conf(), None, None, None)
    names = [t.name for t in periodics.collect(service, prefix='audit')]
    assert names == ['audit.run_due_continuous_audits']


def test_start_settles_interrupted_and_requeues_pending(store, pool):
    ongoing = store.create_audit({'strategy': 'dummy',
                                  'state': states.ONGOING})
    pending = store.create_audit({'strategy': 'dummy'})
    service, _ = make_service(store, pool)
    service.start()
    try:
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    ongoing = store.get_audit(ongoing['uuid'])
    assert (ongoing['state'], ongoing['state_reason']) == (
        states.FAILED, 'interrupted')
    assert store.get_audit(pending['uuid'])['state'] == states.SUCCEEDED


def test_audit_timeout_fails_the_audit(store, pool, monkeypatch):
    from decision_engine.audit import runner as runner_mod

    class Clock:
        now = 0.0

        def monotonic(self):
            # Every reading is 20 s after the previous one.
            self.now += 20.0
            return self.now
    service, _ = make_service(store, pool, audit_timeout=30)
    audit = store.create_audit(service.validate({'strategy': 'dummy'}))
    monkeypatch.setattr(runner_mod, 'time', Clock())
    service.runner.run(audit['uuid'])
    audit = store.get_audit(audit['uuid'])
    assert audit['state'] == states.FAILED
    assert 'timed out after' in audit['state_reason']
    assert 'audit_timeout' in audit['state_reason']


def test_auto_trigger_hands_each_plan_to_on_plan(store, pool, caplog):
    """Only the plans of auto_trigger audits are started; a start that
    fails leaves the plan RECOMMENDED and is logged."""
    service, _ = make_service(store, pool)
    started = []

    def on_plan(plan_uuid):
        started.append(plan_uuid)
        if len(started) == 2:
            raise RuntimeError('overlaps action plan x')

    service.runner.on_plan = on_plan
    service.start()
    try:
        plain = service.create({'strategy': 'server_consolidation'})
        first = service.create({'strategy': 'server_consolidation',
                                'auto_trigger': True, 'force': True})
        assert service.runner.wait_idle(30)
        second = service.create({'strategy': 'dummy',
                                 'auto_trigger': True})
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    plans = [store.get_audit(a['uuid'])['last_action_plan_uuid']
             for a in (plain, first, second)]
    assert started == plans[1:]
    assert store.get_audit(first['uuid'])['auto_trigger'] is True
    assert store.get_audit(plain['uuid'])['auto_trigger'] is False
    assert 'auto_trigger could not start action plan %s: overlaps' \
        % plans[2] in caplog.text
