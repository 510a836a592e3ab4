"""The workload strategies: missing metrics, never overcommitting, and
brute-force references on small clouds."""

import itertools
import math

import pytest

from decision_engine.common import measurements as m
from decision_engine.strategies import placement as placement_mod
from decision_engine.strategies import verify
from decision_engine.strategies import vm_workload_consolidation as vwc
from decision_engine.strategies import workload_balance as wb
from decision_engine.strategies import workload_stabilization as ws
from tests.fixtures import model_helpers as h


def measured(ctx, host_cpu=None, inst_cpu=None, host_ram=None,
             inst_ram=None):
    return m.Measurements({m.HOST_CPU: host_cpu or {},
                           m.INSTANCE_CPU: inst_cpu or {},
                           m.HOST_RAM: host_ram or {},
                           m.INSTANCE_RAM: inst_ram or {}})


def consistent(ctx, inst_cpu, inst_ram=None):
    """Host use = the sum of its instances' use (cores and MiB)."""
    host_cpu = {name: 100.0 * sum(inst_cpu[i.uuid] for i in insts)
                / ctx.nodes[name].vcpus
                for name, insts in ctx.instances_by_host.items()}
    inst_ram = inst_ram or {u: 256.0 for u in inst_cpu}
    host_ram = {name: sum(inst_ram[i.uuid] for i in insts)
                for name, insts in ctx.instances_by_host.items()}
    return measured(ctx, host_cpu, inst_cpu, host_ram, inst_ram)


def run(strategy, ctx, ms, **params):
    params = strategy.validate_parameters(params)
    ctx.metrics = m.apply_policy(ctx, ms, strategy.required_metrics(params),
                                 params['missing_metrics'])
    solution = strategy().execute(ctx, params)
    final = verify.check_plan(ctx, solution.actions)
    return solution, final


def two_hosts():
    mod = h.model([h.node('a'), h.node('b')],
                  [h.instance('i1', 'a'), h.instance('i2', 'a'),
                   h.instance('i3', 'b')])
    return h.context(mod)


def test_missing_metrics_fail_names_metric_and_elements():
    ctx = two_hosts()
    ms = consistent(ctx, {'i1': 3.0, 'i2': 3.0, 'i3': 0.5})
    del ms.values[m.INSTANCE_CPU]['i2']
    del ms.values[m.HOST_CPU]['b']
    with pytest.raises(m.MissingMetrics) as err:
        run(wb.WorkloadBalance, ctx, ms)
    assert str(err.value) == (
        'metrics missing: host_cpu_usage for 1 host(s): b; '
        'instance_cpu_usage for 1 instance(s): i2')


def test_missing_metrics_skip_says_how_many():
    ctx = two_hosts()
    ms = consistent(ctx, {'i1': 3.0, 'i2': 4.0, 'i3': 0.5})
    del ms.values[m.INSTANCE_CPU]['i2']
    solution, _ = run(wb.WorkloadBalance, ctx, ms, missing_metrics='skip')
    assert solution.indicators['instances_skipped'] == 1
    assert 'skipped 0 host(s) and 1 instance(s)' in solution.message
    moved = [a['input_parameters']['instance_uuid']
             for a in solution.actions]
    assert moved == ['i1']


def test_never_a_plan_over_zero_measured_instances():
    ctx = two_hosts()
    ms = consistent(ctx, {'i1': 3.0, 'i2': 4.0, 'i3': 0.5})
    ms.values[m.INSTANCE_CPU] = {}
    with pytest.raises(m.MissingMetrics, match='every movable instance'):
        run(wb.WorkloadBalance, ctx, ms, missing_metrics='skip')


def test_a_missing_value_is_never_zero():
    ms = m.Measurements({m.HOST_CPU: {'a': 0.0}})
    assert ms.get(m.HOST_CPU, 'a') == 0.0
    assert ms.get(m.HOST_CPU, 'b') is None


def test_balance_relieves_the_hot_host_with_one_move():
    ctx = two_hosts()
    ms = consistent(ctx, {'i1': 3.0, 'i2': 4.0, 'i3': 0.5})
    solution, final = run(wb.WorkloadBalance, ctx, ms, threshold=60)
    assert solution.indicators['hosts_over_before'] == 1
    assert solution.indicators['hosts_over_after'] == 0
    assert solution.indicators['migrations'] == 1
    # i1 (3 cores) is the smallest instance whose move suffices.
    assert final.host_of['i1'] == 'b'


def test_balance_respects_placement_capacity():
    mod = h.model([h.node('a'), h.node('b', vcpus=2)],
                  [h.instance('i1', 'a', vcpus=4), h.instance('i2', 'a'),
                   h.instance('i3', 'b', vcpus=2)])
    ctx = h.context(mod)
    ms = consistent(ctx, {'i1': 4.0, 'i2': 3.5, 'i3': 0.1})
    solution, _ = run(wb.WorkloadBalance, ctx, ms, threshold=50)
    # b has no Placement room left for any instance of a.
    assert solution.actions == []
    assert solution.indicators['hosts_over_after'] == 1


def _fits_all(ctx, assignment):
    used = {n: [0, 0, 0] for n in ctx.nodes}
    for inst, host in assignment.items():
        for k, d in enumerate(placement_mod.demand(ctx.instances[inst])):
            used[host][k] += d
    return all(used[n][k] <= placement_mod.capacity(ctx.nodes[n])[k]
               for n in ctx.nodes for k in range(3))


def _single_moves(ctx):
    current = {u: i.host for u, i in ctx.instances.items()}
    for u, inst in sorted(ctx.instances.items()):
        if not ctx.can_move(inst):
            continue
        for dest in sorted(ctx.nodes):
            if dest == inst.host or not ctx.is_target(dest):
                continue
            trial = dict(current, **{u: dest})
            if _fits_all(ctx, trial):
                yield u, dest, trial


def _cpu_fractions(ctx, inst_cpu, assignment):
    used = {n: 0.0 for n in ctx.nodes}
    for u, host in assignment.items():
        used[host] += inst_cpu[u]
    return {n: used[n] / ctx.nodes[n].vcpus for n in ctx.nodes}


def _random_case(seed, hosts=4, instances=7):
    rng = h.rng(seed)
    ctx = h.context(h.random_model(rng, hosts, instances))
    inst_cpu = {u: round(rng.uniform(0.05, 1.0) * i.vcpus, 3)
                for u, i in ctx.instances.items()}
    return ctx, inst_cpu


@pytest.mark.parametrize('seed', range(60))
def test_balance_one_move_when_one_suffices(seed):
    ctx, inst_cpu = _random_case(seed)
    threshold = 0.5
    solution, final = run(wb.WorkloadBalance, ctx,
                          consistent(ctx, inst_cpu), threshold=50)
    before = _cpu_fractions(ctx, inst_cpu,
                            {u: i.host for u, i in ctx.instances.items()})
    over = [n for n, f in before.items() if f > threshold + 1e-9]
    one_move_fixes = any(
        all(f <= threshold + 1e-9
            for f in _cpu_fractions(ctx, inst_cpu, trial).values())
        for _, _, trial in _single_moves(ctx))
    if len(over) == 1 and one_move_fixes:
        assert solution.indicators['migrations'] == 1
        assert solution.indicators['hosts_over_after'] == 0
    after = _cpu_fractions(ctx, inst_cpu, final.host_of)
    # Destinations never go over the threshold; nothing gets worse.
    assert max(after.values()) <= max(max(before.values()),
                                      threshold) + 1e-9


def _std(values):
    values = list(values)
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


@pytest.mark.parametrize('seed', range(60))
def test_stabilization_single_move_is_optimal(seed):
    ctx, inst_cpu = _random_case(seed)
    solution, final = run(ws.WorkloadStabilization, ctx,
                          consistent(ctx, inst_cpu), max_migrations=1,
                          target_std_dev=0)
    start = {u: i.host for u, i in ctx.instances.items()}
    best = _std(_cpu_fractions(ctx, inst_cpu, start).values())
    for _, _, trial in _single_moves(ctx):
        best = min(best, _std(_cpu_fractions(ctx, inst_cpu, trial).values()))
    got = _std(_cpu_fractions(ctx, inst_cpu, final.host_of).values())
    assert got == pytest.approx(best, abs=1e-9)
    assert solution.indicators['std_dev_after'] == pytest.approx(
        round(got * 100, 2))


@pytest.mark.parametrize('seed', range(40))
def test_stabilization_bounded_and_never_worse(seed):
    ctx, inst_cpu = _random_case(seed, hosts=5, instances=10)
    solution, final = run(ws.WorkloadStabilization, ctx,
                          consistent(ctx, inst_cpu), max_migrations=3,
                          target_std_dev=0)
    assert solution.indicators['migrations'] <= 3
    assert solution.indicators['std_dev_after'] <= \
        solution.indicators['std_dev_before']


def _min_hosts_measured(ctx, inst_cpu, target):
    """Fewest used hosts with Placement room and measured CPU under
    ``target`` everywhere, by exhaustive search."""
    insts = sorted(ctx.instances)
    best = None
    for assignment in itertools.product(sorted(ctx.nodes),
                                        repeat=len(insts)):
        trial = dict(zip(insts, assignment))
        if not _fits_all(ctx, trial):
            continue
        fractions = _cpu_fractions(ctx, inst_cpu, trial)
        if any(f > target + 1e-9 for n, f in fractions.items()
               if n in assignment):
            continue
        count = len(set(assignment))
        best = count if best is None else min(best, count)
    return best


@pytest.mark.parametrize('seed', range(40))
def test_consolidation_never_beyond_placement_and_near_optimal(seed):
    ctx, inst_cpu = _random_case(seed, hosts=4, instances=6)
    ram = {u: 128.0 for u in inst_cpu}
    solution, final = run(vwc.VMWorkloadConsolidation, ctx,
                          consistent(ctx, inst_cpu, ram),
                          target_utilization=90)
    # verify.check_plan (in run) proved every step within Placement.
    after = _cpu_fractions(ctx, inst_cpu, final.host_of)
    receivers = {a['input_parameters']['destination_node']
                 for a in solution.actions if a['action_type'] == 'migrate'}
    assert all(after[r] <= 0.9 + 1e-9 for r in receivers)
    optimum = _min_hosts_measured(ctx, inst_cpu, 0.9)
    used = len({final.host_of[u] for u in ctx.instances})
    # First fit decreasing, smallest hosts emptied first: within one host
    # of the optimum on these small clouds.
    assert used <= optimum + 1


def test_consolidation_mostly_reaches_the_optimum():
    misses = 0
    for seed in range(100):
        ctx, inst_cpu = _random_case(seed, hosts=4, instances=6)
        _, final = run(vwc.VMWorkloadConsolidation, ctx,
                       consistent(ctx, inst_cpu,
                                  {u: 128.0 for u in inst_cpu}),
                       target_utilization=90)
        used = len({final.host_of[u] for u in ctx.instances})
        misses += used != _min_hosts_measured(ctx, inst_cpu, 0.9)
    assert misses <= 10


def test_consolidation_respects_allocation_ratio_not_just_measured_use():
    # Measured use is tiny, but b's Placement VCPU capacity (4 x 1.0) is
    # taken: nothing may move there.
    mod = h.model([h.node('a', vcpus=4), h.node('b', vcpus=4)],
                  [h.instance('i1', 'a', vcpus=2),
                   h.instance('i2', 'b', vcpus=3)])
    ctx = h.context(mod)
    solution, _ = run(vwc.VMWorkloadConsolidation, ctx,
                      consistent(ctx, {'i1': 0.01, 'i2': 0.01}))
    assert solution.actions == []


def ruled_cloud(rules):
    """i2 (on a) is pinned to az1 (a, b); c is in az2; i2, i3 (on b) and
    i4 (on c) are an anti-affinity group. ``rules=False``: the same cloud
    with neither."""
    mod = h.model([h.node('a', availability_zone='az1'),
                   h.node('b', availability_zone='az1'),
                   h.node('c', availability_zone='az2')],
                  [h.instance('i1', 'a'),
                   h.instance('i2', 'a',
                              availability_zone='az1' if rules else None),
                   h.instance('i3', 'b'), h.instance('i4', 'c')])
    if rules:
        mod.set_server_groups([h.group('g', 'anti-affinity',
                                       ['i2', 'i3', 'i4'])])
    return h.context(mod)


@pytest.mark.parametrize('strategy,params,blind,ruled', [
    # Capacity alone: i2 leaves its zone, or i4 joins i3 on b.
    (wb.WorkloadBalance, {'threshold': 50.0}, [('i2', 'c')], []),
    (ws.WorkloadStabilization, {}, [('i2', 'c')], [('i1', 'c')]),
    (vwc.VMWorkloadConsolidation, {}, [('i4', 'b')], []),
])
def test_workload_strategies_keep_nova_scheduler_rules(strategy, params,
                                                       blind, ruled):
    load = {'i1': 6.0, 'i2': 1.0, 'i3': 1.0, 'i4': 0.5}
    for rules, want in ((False, blind), (True, ruled)):
        ctx = ruled_cloud(rules)
        solution, _ = run(strategy, ctx, consistent(ctx, load), **params)
        moves = [(a['input_parameters']['instance_uuid'],
                  a['input_parameters']['destination_node'])
                 for a in solution.actions if a['action_type'] == 'migrate']
        assert moves == want, rules
