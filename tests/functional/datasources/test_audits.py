"""Audits of workload strategies over real gathered metrics: success, and
missing metrics failing fast (or skipped, and said so)."""

import pytest

from decision_engine.audit import service as service_mod
from decision_engine.common import states
from tests.fixtures import dbfixtures
from tests.fixtures import fakes
from tests.fixtures import load_env
from tests.fixtures.load_env import make_gatherer
from tests.fixtures.load_env import model_of


@pytest.fixture
def store(tmp_path):
    store = dbfixtures.open_store('sqlite:///%s' % (tmp_path / 's.sqlite'))
    yield store
    store.dispose()


def run_audit(env, store, pool, body):
    conf = fakes.make_conf(audit={'min_continuous_interval': 1})
    collector = fakes.FakeCollector(pool, lambda: model_of(env.topology))
    service = service_mod.AuditService(
        conf, store, pool, collector,
        metrics=make_gatherer(pool, env.prometheus.url))
    service.start()
    try:
        audit = service.create(body)
        assert service.runner.wait_idle(60)
    finally:
        service.stop()
    audit = store.get_audit(audit['uuid'])
    plan = (store.get_action_plan(audit['last_action_plan_uuid'])
            if audit['last_action_plan_uuid'] else None)
    return audit, plan


def test_missing_metrics_fail_the_audit_naming_them(env, store, pool):
    audit, plan = run_audit(env, store, pool, {
        'strategy': 'workload_balance'})
    assert audit['state'] == states.FAILED and plan is None
    reason = audit['state_reason']
    assert reason.startswith('metrics missing: host_cpu_usage for 1 '
                             'host(s): compute-6; instance_cpu_usage for ')
    hidden = sorted(load_env.HIDDEN - {'compute-6'})
    assert all(u in reason for u in hidden)


def test_skip_says_what_it_skipped(env, store, pool):
    audit, plan = run_audit(env, store, pool, {
        'strategy': 'workload_stabilization',
        'parameters': {'missing_metrics': 'skip', 'target_std_dev': 0}})
    assert audit['state'] == states.SUCCEEDED, audit['state_reason']
    assert plan['indicators']['hosts_skipped'] == 1
    skipped = plan['indicators']['instances_skipped']
    # The hidden ones, and the running instances on the skipped host.
    assert skipped >= 2
    assert 'skipped 1 host(s) and %d instance(s) without metrics' % \
        skipped in plan['message']
    assert plan['indicators']['std_dev_after'] < \
        plan['indicators']['std_dev_before']


def test_no_datasource_fails_saying_so(env, store, pool):
    conf = fakes.make_conf()
    collector = fakes.FakeCollector(pool, lambda: model_of(env.topology))
    service = service_mod.AuditService(conf, store, pool, collector)
    service.start()
    try:
        audit = service.create({'strategy': 'vm_workload_consolidation'})
        assert service.runner.wait_idle(60)
    finally:
        service.stop()
    audit = store.get_audit(audit['uuid'])
    assert audit['state'] == states.FAILED
    assert audit['state_reason'] == (
        'strategy vm_workload_consolidation needs metrics (host_cpu_usage, '
        'host_ram_usage, instance_cpu_usage, instance_ram_usage) and no '
        'datasource is configured ([datasource] prometheus_url is not set)')
