"""Runs of EVENT audits, of CONTINUOUS audits with an end_time, and of
one suspended while it runs (the real audit service and runner on the
real pool, a SQLite store, a fake collector)."""

import datetime
import threading

import pytest

from decision_engine.audit import service as service_mod
from decision_engine.common import states
from decision_engine.common import timeutils
from tests.fixtures import fakes
from tests.fixtures import model_helpers as h


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def make_service(store, pool, gate=None):
    conf = fakes.make_conf(audit={'min_continuous_interval': 1})
    collector = fakes.FakeCollector(pool, h.small_model, gate=gate)
    return service_mod.AuditService(conf, store, pool, collector)


def test_each_trigger_runs_an_event_audit_once(store, pool):
    service = make_service(store, pool)
    service.start()
    try:
        audit = service.create({'strategy': 'server_consolidation',
                                'audit_type': states.EVENT})
        assert service.runner.wait_idle(30)
        assert store.get_audit(audit['uuid'])['runs'] == 0
        service.trigger(audit['uuid'])
        assert service.runner.wait_idle(30)
        first = store.get_audit(audit['uuid'])
        assert (first['state'], first['runs']) == (states.SUCCEEDED, 1), \
            first['state_reason']
        assert first['next_run_at'] is None
        # The periodic task does not run it again by itself.
        assert service.run_due_continuous_audits() == 0
        service.trigger(audit['uuid'])
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    second = store.get_audit(audit['uuid'])
    assert (second['state'], second['runs']) == (states.SUCCEEDED, 2)
    plans = store.list_action_plans(audit['uuid'])
    assert [p['state'] for p in plans] == [states.SUPERSEDED,
                                           states.RECOMMENDED]


def test_a_trigger_survives_an_engine_restart(store, pool):
    stopped = make_service(store, pool)        # its runner never starts
    audit = stopped.create({'strategy': 'dummy',
                            'audit_type': states.EVENT})
    stopped.trigger(audit['uuid'])
    service = make_service(store, pool)
    service.start()
    try:
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    ran = store.get_audit(audit['uuid'])
    assert (ran['state'], ran['runs']) == (states.SUCCEEDED, 1)


def test_a_continuous_audit_ends_at_its_end_time(store, pool):
    service = make_service(store, pool)
    service.start()
    end = timeutils.utcnow() + datetime.timedelta(minutes=30)
    try:
        audit = service.create({'strategy': 'dummy',
                                'audit_type': states.CONTINUOUS,
                                'interval': 3600,
                                'end_time': end.isoformat()})
        assert service.runner.wait_idle(30)
    finally:
        service.stop()
    # Its next run (in an hour) would be after end_time: done.
    ended = store.get_audit(audit['uuid'])
    assert (ended['state'], ended['runs']) == (states.SUCCEEDED, 1)
    assert 'end_time %s reached' % end.isoformat() in ended['state_reason']
    assert ended['next_run_at'] is None
    assert len(store.list_action_plans(audit['uuid'])) == 1


def test_suspended_during_its_run_it_stays_suspended(store, pool):
    gate = threading.Event()
    service = make_service(store, pool, gate=gate)
    service.start()
    try:
        audit = service.create({'strategy': 'dummy',
                                'audit_type': states.CONTINUOUS,
                                'interval': 60})
        assert service.collector.build_started.wait(30)
        assert store.get_audit(audit['uuid'])['state'] == states.ONGOING
        assert service.suspend(audit['uuid'])['state'] == states.SUSPENDED
        gate.set()
        assert service.runner.wait_idle(30)
        assert service.run_due_continuous_audits() == 0
    finally:
        gate.set()
        service.stop()
    suspended = store.get_audit(audit['uuid'])
    assert suspended['state'] == states.SUSPENDED
    assert suspended['next_run_at'] is None and suspended['runs'] == 1
    # The run that was under way ended with its plan.
    assert len(store.list_action_plans(audit['uuid'])) == 1
    with pytest.raises(service_mod.InvalidTransition):
        service.suspend(audit['uuid'])
