"""The leader's chore that expires old RECOMMENDED plans, on a real store;
an engine alone is its own leader and runs it too."""

import datetime

from decision_engine.applier import cluster_plans
from decision_engine.common import timeutils
from decision_engine.coordination import cluster as cluster_mod
from tests.fixtures import applier_harness

NOP = [{'action_type': 'nop', 'input_parameters': {}}]


def test_old_recommended_plans_expire_on_the_leader(store):
    conf = applier_harness.make_conf(
        applier={'recommended_plan_ttl': 3600})
    old = applier_harness.store_plan(store, NOP)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE action_plans SET created_at = '%s' WHERE uuid = '%s'"
            % (timeutils.utcnow() - datetime.timedelta(hours=2), old))
    fresh = applier_harness.store_plan(store, NOP)
    sole = cluster_mod.SoleCluster(conf)
    sole.add_leader_chore(
        lambda: cluster_plans.expire_recommended_plans(conf, store))
    assert sole.run_leader_chores() == 1
    assert store.get_action_plan(old)['state'] == 'SUPERSEDED'
    assert store.get_action_plan(fresh)['state'] == 'RECOMMENDED'


def test_no_ttl_keeps_every_plan(store):
    conf = applier_harness.make_conf()
    plan = applier_harness.store_plan(store, NOP)
    assert cluster_plans.expire_recommended_plans(conf, store) == []
    assert store.get_action_plan(plan)['state'] == 'RECOMMENDED'
