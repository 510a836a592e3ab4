"""Applier benchmark: a real consolidation plan applied to the simulator.

In this process: the simulator (``--hosts``, ``--instances``; every
migration takes ``--migration-s`` seconds on its clock, no jitter), the
engine's own collector building the model over HTTP, the
``server_consolidation`` strategy and the verifier making the plan (capped
at ``--max-actions``), and the real :class:`Applier` on the real pool
(``--pool-size`` workers) and store (SQLite) applying it with
``[applier] max_parallel_actions = --max-parallel`` and
``max_migrations_per_host = 1``.

Fields: ``actions, migrations, max_parallel, max_migrations_per_host,
wall_s`` (start to the plan's end), ``bound_s`` (the larger of the
plan's critical path -- the longest chain of per-host-serialized
migrations, ``--migration-s`` each -- and total migration time /
max_parallel), ``ratio_to_bound``, ``peak_parallel``,
``end_state_matches`` (a fresh model build equals the verifier's replay,
on the model the plan was made from, of the actions that SUCCEEDED),
``skipped`` (actions whose pre-condition did not hold, with their
reasons counted in ``skip_reasons``), and, unless
``--no-watcher``, ``watcher_defaults_wall_s``: the same plan on a fresh
simulator with ``max_parallel_actions = 2`` (Watcher's default of two
parallel migrations).

Targets: ``ratio_to_bound <= 1.3`` at ``--migration-s 0.5
--max-parallel 64``; ``end_state_matches`` true.

    python -m benchmarks.applier --hosts 1000 --instances 20000 \\
        --migration-s 0.5 --max-parallel 64
"""

import argparse
import tempfile
import time

from oslo_config import cfg

from benchmarks import _report
from decision_engine import conf as conf_mod
from decision_engine.applier import applier as applier_mod
from decision_engine.common import action_graph
from decision_engine.applier.actions import base
from decision_engine.audit import scope as scope_mod
from decision_engine.cloud import connection
from decision_engine.concurrency import pool as pool_mod
from decision_engine.db import api as db_api
from decision_engine.db import session as session_mod
from decision_engine.collector import collector as collector_mod
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from decision_engine.strategies import loader
from decision_engine.strategies import verify
from tests.fixtures import applier_harness

BOUND = 1.3


def make_conf(args, max_parallel):
    conf = cfg.ConfigOpts()
    for module in conf_mod.MODULES:
        module.register_opts(conf)
    conf([], project='decision-engine-benchmark')
    conf.set_override('host', 'benchmark')
    conf.set_override('build_timeout', 3600, group='collector')
    conf.set_override('max_parallel_actions', max_parallel, group='applier')
    conf.set_override('max_migrations_per_host', 1, group='applier')
    conf.set_override('poll_interval', args.poll_s, group='applier')
    return conf


def simulator(args):
    sim = Simulator(Topology.generate(hosts=args.hosts,
                                      instances=args.instances,
                                      aggregates=10, azs=3, seed=1),
                    migrations={'duration_s': args.migration_s,
                                'jitter': 0,
                                'max_concurrent_live_migrations': 1000})
    return sim.start()


def build_model(conf, pool, sim):
    collector = collector_mod.ModelCollector(
        conf, pool, connection_factory=lambda size: connection.from_auth(
            conf, sim.auth(), size))
    try:
        return collector.get_model(max_age=0)
    finally:
        collector.stop()


def make_plan(args, conf, pool, sim):
    model = build_model(conf, pool, sim)
    context = scope_mod.resolve(model, scope_mod.validate({}))
    strategy = loader.get('server_consolidation')
    solution = strategy().execute(
        context, strategy.validate_parameters({}))
    actions = solution.actions
    verify.check_plan(context, actions)
    if args.max_actions and len(actions) > args.max_actions:
        # NOTE: a prefix of a verified plan is verified too.
        actions = actions[:args.max_actions]
    return model, actions


def store_plan(store, actions):
    audit = store.create_audit({'strategy': 'server_consolidation'})
    store.take(audit['uuid'], 'benchmark')
    _, plan_uuid = store.save_run(audit['uuid'], {'state': 'SUCCEEDED'},
                                  plan={'strategy': 'server_consolidation',
                                        'actions': actions})
    return plan_uuid


def apply(args, sim, actions, max_parallel, tmp):
    conf = make_conf(args, max_parallel)
    pool = pool_mod.WorkerPool(args.pool_size)
    store = db_api.Store(session_mod.create_engine(
        'sqlite:///%s/store-%d.sqlite' % (tmp, max_parallel)))
    store.upgrade()
    context = base.ActionContext(
        conf, lambda: connection.from_auth(conf, sim.auth(),
                                           args.pool_size))
    applier = applier_mod.Applier(conf, store, pool, context)
    applier.start()
    try:
        plan_uuid = store_plan(store, actions)
        started = time.monotonic()
        applier.start_plan(plan_uuid)
        applier.wait(plan_uuid)
        wall = time.monotonic() - started
        plan = store.get_action_plan(plan_uuid)
        stats = applier.statistics()
    finally:
        applier.stop()
        pool.shutdown(timeout=60)
        store.dispose()
    return plan, wall, stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--instances', type=int, default=4000)
    parser.add_argument('--migration-s', type=float, default=0.5)
    parser.add_argument('--max-parallel', type=int, default=64)
    parser.add_argument('--max-actions', type=int, default=0,
                        help='apply only the first N actions (0: all)')
    parser.add_argument('--pool-size', type=int, default=100)
    parser.add_argument('--poll-s', type=float, default=0.05,
                        help='[applier] poll_interval')
    parser.add_argument('--no-watcher', action='store_true',
                        help='skip the run with max_parallel 2')
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        sim = simulator(args)
        try:
            conf = make_conf(args, args.max_parallel)
            pool = pool_mod.WorkerPool(args.pool_size)
            try:
                before, actions = make_plan(args, conf, pool, sim)
            finally:
                pool.shutdown(timeout=60)
            plan, wall, stats = apply(args, sim, actions,
                                      args.max_parallel, tmp)
            pool = pool_mod.WorkerPool(args.pool_size)
            try:
                after = build_model(conf, pool, sim)
            finally:
                pool.shutdown(timeout=60)
        finally:
            sim.stop()
        watcher_wall = None
        if not args.no_watcher:
            sim = simulator(args)
            try:
                _, watcher_wall, _ = apply(args, sim, actions, 2, tmp)
            finally:
                sim.stop()

    migrations = [a for a in actions if a['action_type'] == 'migrate']
    done = [actions[a['position']] for a in plan['actions']
            if a['state'] == 'SUCCEEDED']
    reasons = {}
    for a in plan['actions']:
        if a['state'] == 'SKIPPED':
            # NOTE: the reason without the instance uuid.
            words = (a['state_reason'] or '').split(' ')
            key = ' '.join(words[:1] + words[2:])
            reasons[key] = reasons.get(key, 0) + 1
    durations = [args.migration_s if a['action_type'] == 'migrate' else 0.0
                 for a in actions]
    parents = action_graph.parents_of(actions, 1)
    chain = action_graph.critical_path(parents, durations)
    bound = max(chain, sum(durations) / args.max_parallel)
    result = {
        'hosts': args.hosts, 'instances': args.instances,
        'migration_s': args.migration_s,
        'actions': len(actions), 'migrations': len(migrations),
        'max_parallel': args.max_parallel, 'max_migrations_per_host': 1,
        'pool_size': args.pool_size, 'poll_interval_s': args.poll_s,
        'plan_state': plan['state'],
        'wall_s': round(wall, 2), 'critical_path_s': round(chain, 2),
        'bound_s': round(bound, 2),
        'ratio_to_bound': round(wall / bound, 3) if bound else None,
        'peak_parallel': stats.peak_parallel,
        'end_state_matches': after == applier_harness.replay(before, done),
        'skipped': len(actions) - len(done),
        'skip_reasons': reasons,
        'watcher_defaults_wall_s': round(watcher_wall, 2)
        if watcher_wall is not None else None,
        'target_ratio_to_bound': BOUND,
    }
    _report.emit(result)
    return 0 if plan['state'] == 'SUCCEEDED' else 1


if __name__ == '__main__':
    raise SystemExit(main())
