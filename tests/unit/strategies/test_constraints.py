"""The constraint checker: each rule of Nova's scheduler, at a plan's step,
and the strategies that now respect them where capacity alone would not."""

import pytest

from decision_engine.strategies import actions as act
from decision_engine.strategies import base
from decision_engine.strategies import constraints
from decision_engine.strategies import host_maintenance
from decision_engine.strategies import packing
from decision_engine.strategies import placement as placement_mod
from decision_engine.strategies import server_consolidation
from decision_engine.strategies import verify
from tests.fixtures import model_helpers as h


def grouped(nodes, instances, *groups):
    m = h.model(nodes, instances)
    m.set_server_groups(groups)
    return m


def placement_of(m):
    return placement_mod.Placement(h.context(m))


def three_hosts(**kw):
    return [h.node(n, **kw) for n in ('a', 'b', 'c')]


# -- each rule -----------------------------------------------------------


def test_anti_affinity_members_never_meet():
    m = grouped(three_hosts(), [h.instance('1', 'a'), h.instance('2', 'b'),
                                h.instance('x', 'c')],
                h.group('g', 'anti-affinity', ['1', '2']))
    p = placement_of(m)
    inst = m.instances['1']
    v = p.violation(inst, 'b')
    assert v.hard and v.rule.name == 'anti-affinity'
    assert v.rule.mirrors == 'ServerGroupAntiAffinityFilter'
    assert 'host b already runs 1 member(s)' in str(v)
    assert not p.fits(inst, 'b')
    assert p.fits(inst, 'c') and p.violation(inst, 'c') is None
    # An instance outside the group may go anywhere.
    assert p.fits(m.instances['x'], 'b')


def test_max_server_per_host_counts_the_plan_so_far():
    m = grouped(three_hosts(), [h.instance('1', 'a'), h.instance('2', 'b'),
                                h.instance('3', 'c')],
                h.group('g', 'anti-affinity', ['1', '2', '3'],
                        max_server_per_host=2))
    p = placement_of(m)
    one, three = m.instances['1'], m.instances['3']
    assert p.fits(one, 'b')
    p.move(three, 'b')          # an earlier step of the plan
    assert p.violation(one, 'b').rule.name == 'anti-affinity'
    with pytest.raises(placement_mod.ConstraintError,
                       match=r'max_server_per_host 2'):
        p.move(one, 'b')
    p.move_back(three, 'c')
    assert p.fits(one, 'b')


def test_affinity_members_stay_together_as_nova_decides():
    m = grouped(three_hosts(), [h.instance('1', 'a'), h.instance('2', 'a'),
                                h.instance('3', 'b')],
                h.group('g', 'affinity', ['1', '2']),
                h.group('lone', 'affinity', ['3']))
    p = placement_of(m)
    v = p.violation(m.instances['1'], 'b')
    assert v.hard and v.rule.mirrors == 'ServerGroupAffinityFilter'
    assert 'run on a only, not on b' in str(v)
    # Nova counts the moving member's own host: even a lone member
    # cannot be moved by the scheduler.
    assert not p.fits(m.instances['3'], 'c')


def test_affinity_allows_joining_the_others_when_already_split():
    m = grouped(three_hosts(), [h.instance('1', 'a'), h.instance('2', 'b')],
                h.group('g', 'affinity', ['1', '2']))
    p = placement_of(m)
    assert p.fits(m.instances['1'], 'b')
    assert not p.fits(m.instances['1'], 'c')


def test_soft_rules_are_preferences():
    m = grouped(three_hosts(), [h.instance('1', 'a'), h.instance('2', 'b'),
                                h.instance('3', 'c'), h.instance('4', 'a'),
                                h.instance('5', 'b')],
                h.group('anti', 'soft-anti-affinity', ['1', '2']),
                h.group('aff', 'soft-affinity', ['4', '5']))
    p = placement_of(m)
    v = p.soft_violation(m.instances['1'], 'b')
    assert v.rule.kind == constraints.SOFT and not v.hard
    assert v.rule.mirrors == 'ServerGroupSoftAntiAffinityWeigher'
    assert p.fits(m.instances['1'], 'b')            # allowed
    assert p.soft_violation(m.instances['1'], 'c') is None
    assert p.soft_violation(m.instances['4'], 'c').rule.name == \
        'soft-affinity'
    assert p.soft_violation(m.instances['4'], 'b') is None
    # evacuate takes the host no soft rule advises against, though 'b'
    # is fuller (first-fit would take it on capacity alone).
    p = placement_of(m)
    p.move(m.instances['3'], 'b')
    moves = packing.evacuate(p, [m.instances['1']], ['b', 'c'])
    assert [d for _, _, d in moves] == ['c']


def test_pinned_zone_is_never_left():
    nodes = [h.node('a', availability_zone='az1'),
             h.node('b', availability_zone='az2'),
             h.node('c', availability_zone='az1'), h.node('d')]
    m = h.model(nodes, [h.instance('1', 'a', availability_zone='az1'),
                        h.instance('2', 'a')])
    p = placement_of(m)
    v = p.violation(m.instances['1'], 'b')
    assert v.hard and v.rule.mirrors == 'AvailabilityZoneFilter'
    assert 'pinned to availability zone az1, host b is in az2' in str(v)
    assert 'no known zone' in str(p.violation(m.instances['1'], 'd'))
    assert p.fits(m.instances['1'], 'c')
    # Unpinned: any zone.
    assert p.fits(m.instances['2'], 'b') and p.fits(m.instances['2'], 'd')


def test_no_rule_costs_nothing():
    m = h.model(three_hosts(), [h.instance('1', 'a')])
    assert not placement_of(m).constraints.active


def test_rules_are_described_with_the_filters_they_mirror():
    described = {r['name']: (r['kind'], r['mirrors'])
                 for r in constraints.describe()}
    assert described == {
        'anti-affinity': ('hard', 'ServerGroupAntiAffinityFilter'),
        'affinity': ('hard', 'ServerGroupAffinityFilter'),
        'soft-anti-affinity': ('soft',
                               'ServerGroupSoftAntiAffinityWeigher'),
        'soft-affinity': ('soft', 'ServerGroupSoftAffinityWeigher'),
        'availability-zone': ('hard', 'AvailabilityZoneFilter'),
        'traits': ('hard', "scheduler's Placement query (required and "
                           'forbidden traits)'),
        'opt-out': ('hard', 'no Nova filter (engine only)'),
    }


# -- the verifier ----------------------------------------------------------


def test_verifier_refuses_a_plan_breaking_each_hard_rule():
    nodes = [h.node('a', availability_zone='az1'),
             h.node('b', availability_zone='az1'),
             h.node('c', availability_zone='az1'),
             h.node('z', availability_zone='az2')]
    m = grouped(nodes, [h.instance('1', 'a'), h.instance('2', 'b'),
                        h.instance('3', 'c', availability_zone='az1'),
                        h.instance('4', 'c'), h.instance('5', 'c')],
                h.group('anti', 'anti-affinity', ['1', '2']),
                h.group('aff', 'affinity', ['4', '5']))
    ctx = h.context(m)
    i = m.instances
    bad = {
        r'action 0 .*anti-affinity': [act.migrate(i['1'], 'a', 'b', 'live')],
        # Each step alone is fine; the second meets the first.
        r'action 1 .*anti-affinity': [act.migrate(i['1'], 'a', 'z', 'live'),
                                      act.migrate(i['2'], 'b', 'z', 'live')],
        r'action 0 .*hard rule affinity': [
            act.migrate(i['4'], 'c', 'a', 'live')],
        r'action 0 .*availability-zone': [
            act.migrate(i['3'], 'c', 'z', 'live')],
    }
    for message, plan in bad.items():
        with pytest.raises(verify.InvalidPlan, match=message):
            verify.check_plan(ctx, plan)
    verify.check_plan(ctx, [act.migrate(i['1'], 'a', 'z', 'live'),
                            act.migrate(i['3'], 'c', 'b', 'live')])


# -- strategies --------------------------------------------------------------


def consolidate(m, **params):
    strategy = server_consolidation.ServerConsolidation()
    ctx = h.context(m)
    solution = strategy.execute(ctx, strategy.validate_parameters(params))
    return solution, verify.check_plan(ctx, solution.actions)


def test_consolidation_does_not_pack_anti_affinity_members_together():
    # On capacity alone a and b both drain onto c (4 + 2 + 2 of 8 vCPUs).
    nodes = [h.node('a'), h.node('b'), h.node('c')]
    insts = [h.instance('1', 'a', vcpus=2), h.instance('2', 'b', vcpus=2),
             h.instance('x', 'c', vcpus=4)]
    solution, final = consolidate(h.model(nodes, insts))
    assert solution.indicators['hosts_released'] == 2
    m = grouped(nodes, insts, h.group('g', 'anti-affinity', ['1', '2']))
    solution, final = consolidate(m)
    assert solution.indicators['hosts_released'] == 1
    assert final.host_of['1'] != final.host_of['2']
    # a drained onto c; b's member may not join it there, and c's
    # instances could all go to b but for the same rule.
    assert final.host_of['1'] == 'c' and final.host_of['2'] == 'b'
    assert solution.indicators['hosts_kept_by_rules'] == 2
    assert '2 host(s) kept in use by Nova scheduler rules: b: 2 (vm-2): ' \
        'anti-affinity on 1 host(s), e.g. host c already runs 1 member(s)' \
        in solution.message
    assert '; c: 1 (vm-1): anti-affinity' in solution.message
    assert 'ServerGroupAntiAffinityFilter' in solution.message


def test_consolidation_keeps_instances_in_their_zone():
    nodes = [h.node('a', availability_zone='az1'),
             h.node('b', availability_zone='az2'),
             h.node('c', availability_zone='az1')]
    insts = [h.instance('1', 'a', vcpus=2, availability_zone='az1'),
             h.instance('y', 'b', vcpus=4, availability_zone='az2'),
             h.instance('x', 'c', vcpus=7, availability_zone='az1')]
    solution, final = consolidate(m := h.model(nodes, insts))
    # a's instance would fit on b only (c has no room), b's on a only.
    assert final.host_of['1'] == 'a'
    assert solution.indicators['hosts_released'] == 0
    assert 'a: 1 (vm-1): availability-zone' in solution.message
    assert 'b: y (vm-y): availability-zone' in solution.message
    assert solution.indicators['hosts_kept_by_rules'] == 2
    m.instances['1'].availability_zone = None
    solution, final = consolidate(m)
    assert final.host_of['1'] == 'b'
    assert solution.indicators['hosts_released'] == 1


def test_host_maintenance_respects_zone_and_names_the_rule():
    nodes = [h.node('a', availability_zone='az1'),
             h.node('b', availability_zone='az2'),
             h.node('c', availability_zone='az1')]
    insts = [h.instance('1', 'a', availability_zone='az1'),
             h.instance('y', 'b', vcpus=4)]
    m = h.model(nodes, insts)
    strategy = host_maintenance.HostMaintenance()
    ctx = h.context(m)
    # The backup host is in another zone: the instance goes to c instead.
    solution = strategy.execute(ctx, strategy.validate_parameters(
        {'maintenance_node': 'a', 'backup_node': 'b'}))
    final = verify.check_plan(ctx, solution.actions)
    assert final.host_of['1'] == 'c'
    m.nodes['node-c'].status = 'disabled'
    with pytest.raises(base.StrategyError,
                       match=r'cannot evacuate a: 1 instance\(s\) have room '
                             r'elsewhere but Nova.s scheduler rules refuse '
                             r'every such host: 1 \(vm-1\): '
                             r'availability-zone on 1 host\(s\), e.g. '
                             r'instance 1 is pinned .* host b is in az2'):
        strategy.execute(h.context(m), strategy.validate_parameters(
            {'maintenance_node': 'a'}))


def test_host_maintenance_cannot_split_an_affinity_group():
    m = grouped(three_hosts(), [h.instance('1', 'a'), h.instance('2', 'a')],
                h.group('g', 'affinity', ['1', '2']))
    strategy = host_maintenance.HostMaintenance()
    with pytest.raises(base.StrategyError,
                       match=r'2 instance\(s\).*affinity on 2 host\(s\)'):
        strategy.execute(h.context(m), strategy.validate_parameters(
            {'maintenance_node': 'a'}))


@pytest.mark.parametrize('seed', range(30))
def test_plans_on_random_grouped_clouds_keep_every_rule(seed):
    rng = h.rng(7100 + seed)
    m = h.random_model(rng, hosts=rng.randint(4, 12),
                       instances=rng.randint(8, 40))
    zones = ['az1', 'az2']
    for node in m.nodes.values():
        node.availability_zone = rng.choice(zones)
    by_uuid = m.instances
    for inst in by_uuid.values():
        if rng.random() < 0.5:
            inst.availability_zone = m.get_node_by_hostname(
                inst.host).availability_zone
    groups = []
    uuids = sorted(by_uuid)
    rng.shuffle(uuids)
    for k in range(3):
        members, used = [], set()
        for u in uuids[k * 5:(k + 1) * 5]:
            if by_uuid[u].host not in used:     # anti-affinity holds now
                used.add(by_uuid[u].host)
                members.append(u)
        groups.append(h.group('g%d' % k, 'anti-affinity', members))
    m.set_server_groups(groups)
    ctx = h.context(m)
    runs = [(server_consolidation.ServerConsolidation, {})]
    host = max(ctx.nodes, key=lambda x: len(ctx.instances_by_host[x]))
    runs.append((host_maintenance.HostMaintenance,
                 {'maintenance_node': host}))
    for cls, params in runs:
        strategy = cls()
        try:
            solution = strategy.execute(
                ctx, strategy.validate_parameters(params))
        except base.StrategyError:
            continue
        final = verify.check_plan(ctx, solution.actions)
        # Checked here apart from the checker: the final state too.
        for g in groups:
            hosts = [final.host_of[u] for u in g.members]
            assert len(hosts) == len(set(hosts)), (g.uuid, hosts)
        for inst in by_uuid.values():
            if inst.availability_zone:
                dest = final.host_of[inst.uuid]
                assert ctx.nodes[dest].availability_zone == \
                    inst.availability_zone
