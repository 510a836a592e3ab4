"""Two engines (AuditService, Store and pool each) on one database, with
different ``[DEFAULT] host`` values."""

import concurrent.futures
import threading

import pytest

from decision_engine.audit import service as service_mod
from decision_engine.common import states
from decision_engine.concurrency import pool as pool_mod
from tests.fixtures import dbfixtures
from tests.fixtures import fakes
from tests.fixtures import model_helpers


class Engine:
    def __init__(self, url, host, gate=None):
        self.store = dbfixtures.open_store(url)
        self.pool = pool_mod.WorkerPool(3)
        conf = fakes.make_conf(audit={'min_continuous_interval': 1})
        conf.set_override('host', host)
        self.collector = fakes.FakeCollector(
            self.pool, model_helpers.small_model, gate=gate)
        self.service = service_mod.AuditService(
            conf, self.store, self.pool, self.collector)

    def close(self):
        self.service.stop()
        self.pool.shutdown(timeout=10)
        self.store.dispose()


@pytest.fixture
def engines(url):
    made = []

    def make(host, gate=None):
        made.append(Engine(url, host, gate))
        return made[-1]
    yield make
    for engine in made:
        engine.close()


def test_a_starting_engine_leaves_another_engines_audit_alone(engines):
    gate = threading.Event()
    a = engines('engine-a', gate=gate)
    a.service.start()
    audit = a.service.create({'strategy': 'server_consolidation'})
    try:
        assert a.collector.build_started.wait(30)
        running = a.store.get_audit(audit['uuid'])
        assert (running['state'], running['owner']) == (
            states.ONGOING, 'engine-a')

        b = engines('engine-b')
        b.service.start()
        assert b.service.runner.wait_idle(30)
        running = b.store.get_audit(audit['uuid'])
        assert (running['state'], running['state_reason']) == (
            states.ONGOING, None)
    finally:
        gate.set()
    assert a.service.runner.wait_idle(30)
    done = a.store.get_audit(audit['uuid'])
    assert done['state'] == states.SUCCEEDED, done['state_reason']
    assert done['owner'] == 'engine-a' and done['runs'] == 1
    assert a.store.get_action_plan(done['last_action_plan_uuid'])['actions']
    assert b.service.runner.counters['runs'] == 0


def test_a_pending_audit_is_run_by_exactly_one_of_two_engines(engines):
    a, b = engines('engine-a'), engines('engine-b')
    uuids = [a.store.create_audit(a.service.validate(
        {'strategy': 'dummy'}))['uuid'] for _ in range(6)]
    barrier = threading.Barrier(2)

    def run_all(engine):
        for audit_uuid in uuids:
            barrier.wait()
            engine.service.runner.run(audit_uuid)

    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        list(executor.map(run_all, (a, b)))
    runs = {'engine-a': a.service.runner.counters['runs'],
            'engine-b': b.service.runner.counters['runs']}
    assert sum(runs.values()) == len(uuids)
    for audit_uuid in uuids:
        audit = a.store.get_audit(audit_uuid)
        assert audit['state'] == states.SUCCEEDED, audit['state_reason']
        assert audit['runs'] == 1
        assert audit['owner'] in runs
        assert len(a.store.list_action_plans(audit_uuid)) == 1


def test_both_engines_starting_on_pending_audits_run_each_once(engines):
    a, b = engines('engine-a'), engines('engine-b')
    uuids = [a.store.create_audit(a.service.validate(
        {'strategy': 'dummy'}))['uuid'] for _ in range(6)]
    a.service.start()
    b.service.start()
    assert a.service.runner.wait_idle(30)
    assert b.service.runner.wait_idle(30)
    assert (a.service.runner.counters['runs']
            + b.service.runner.counters['runs']) == len(uuids)
    for audit_uuid in uuids:
        audit = a.store.get_audit(audit_uuid)
        assert audit['state'] == states.SUCCEEDED, audit['state_reason']
        assert audit['runs'] == 1
