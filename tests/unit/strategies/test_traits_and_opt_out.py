"""Required and forbidden traits, and the operator's opt-out, as the
constraint checker, the strategies and the plan verifier apply them, on
hand-made models (small random ones against brute force)."""

import itertools

import pytest

from decision_engine.model import traits as traits_mod
from decision_engine.strategies import actions as act
from decision_engine.strategies import base
from decision_engine.strategies import constraints
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import host_maintenance
from decision_engine.strategies import placement as placement_mod
from decision_engine.strategies import server_consolidation
from decision_engine.strategies import verify
from tests.fixtures import model_helpers as h

SSD = 'CUSTOM_SSD'
GPU = 'CUSTOM_GPU'


def wants(required=(), forbidden=()):
    specs = {'trait:%s' % t: 'required' for t in required}
    specs.update({'trait:%s' % t: 'forbidden' for t in forbidden})
    return specs


# -- reading the flavor ----------------------------------------------------


def test_flavor_traits_as_nova_reads_them():
    required, forbidden = traits_mod.flavor_traits({
        'trait:CUSTOM_SSD': 'required', 'trait:HW_CPU_X86_AVX2': 'Required',
        'trait:CUSTOM_GPU': 'forbidden', 'trait:CUSTOM_X': 'optional',
        'trait1:CUSTOM_NIC': 'required', 'hw:cpu_policy': 'dedicated'})
    assert required == {'CUSTOM_SSD', 'HW_CPU_X86_AVX2'}
    assert forbidden == {'CUSTOM_GPU'}
    assert traits_mod.flavor_traits({}) == (frozenset(), frozenset())
    inst = h.instance('1', 'a', extra_specs=wants([SSD], [GPU]))
    assert inst.required_traits == {SSD} and inst.forbidden_traits == {GPU}
    assert inst.to_dict()['required_traits'] == [SSD]


# -- the checker -----------------------------------------------------------


def test_required_and_forbidden_traits_choose_the_host():
    nodes = [h.node('a', traits=[]), h.node('b', traits=[SSD]),
             h.node('c', traits=[SSD, GPU]), h.node('d')]
    m = h.model(nodes, [h.instance('1', 'a', extra_specs=wants([SSD])),
                        h.instance('2', 'a', extra_specs=wants((), [GPU])),
                        h.instance('3', 'b', extra_specs=wants([SSD], [GPU])),
                        h.instance('4', 'b')])
    p = placement_mod.Placement(h.context(m))
    i = m.instances
    v = p.violation(i['1'], 'd')
    assert v.hard and v.rule.name == 'traits'
    assert "traits are not known" in str(v)      # d's traits unread
    assert p.fits(i['1'], 'b') and p.fits(i['1'], 'c')
    assert not p.fits(i['3'], 'c') and not p.fits(i['3'], 'a')
    assert 'instance 3 needs trait(s) CUSTOM_SSD, !CUSTOM_GPU: host c ' \
        'cannot take it, it has forbidden trait(s) CUSTOM_GPU' \
        in str(p.violation(i['3'], 'c'))
    assert not p.fits(i['2'], 'c') and p.fits(i['2'], 'b')
    # No trait asked: every host, traits known or not.
    assert p.fits(i['4'], 'd') and p.fits(i['4'], 'c')


def test_a_host_lacking_a_required_trait_is_named():
    m = h.model([h.node('a', traits=[SSD]), h.node('b', traits=[GPU])],
                [h.instance('1', 'a', extra_specs=wants([SSD]))])
    p = placement_mod.Placement(h.context(m))
    assert 'host b cannot take it, it lacks required trait(s) CUSTOM_SSD' \
        in str(p.violation(m.instances['1'], 'b'))


def test_opt_out_by_metadata():
    m = h.model([h.node('a'), h.node('b')],
                [h.instance('1', 'a', metadata={'optimize': 'False'}),
                 h.instance('2', 'a', metadata={'optimize': 'true'}),
                 h.instance('3', 'a', metadata={'keep': 'no'})])
    ctx = h.context(m)
    i = m.instances
    assert not ctx.can_move(i['1'])
    assert ctx.why_not_movable(i['1']) == \
        'opted out by its metadata optimize=False'
    assert ctx.can_move(i['2']) and ctx.can_move(i['3'])
    p = placement_mod.Placement(ctx)
    v = p.violation(i['1'], 'b')
    assert v.rule.name == 'opt-out' and 'metadata optimize=False' in str(v)
    # Another key configured: 'keep' opts out, 'optimize' no longer does.
    other = context_mod.StrategyContext(m.nodes.values(),
                                        m.instances.values(),
                                        opt_out_key='keep')
    assert other.can_move(i['1']) and not other.can_move(i['3'])
    # An empty key: nobody is opted out.
    none = context_mod.StrategyContext(m.nodes.values(),
                                       m.instances.values(), opt_out_key='')
    assert all(none.can_move(x) for x in i.values())
    for value in ('false', 'NO', 'off', '0', ' False '):
        assert constraints.opted_out(h.instance('x', 'a', metadata={
            'optimize': value}))
    for value in ('yes', '', 'maybe'):
        assert not constraints.opted_out(h.instance('x', 'a', metadata={
            'optimize': value}))


# -- the verifier ----------------------------------------------------------


def test_verifier_refuses_trait_and_opt_out_moves():
    nodes = [h.node('a', traits=[SSD]), h.node('b', traits=[SSD, GPU]),
             h.node('c', traits=[])]
    m = h.model(nodes, [h.instance('1', 'a', extra_specs=wants([SSD])),
                        h.instance('2', 'a', extra_specs=wants((), [GPU])),
                        h.instance('3', 'a', metadata={'optimize': 'false'}),
                        h.instance('4', 'c')])
    ctx = h.context(m)
    i = m.instances
    bad = {
        r'action 0 .*lacks required trait\(s\) CUSTOM_SSD .*hard rule '
        r'traits': [act.migrate(i['1'], 'a', 'c', 'live')],
        r'action 0 .*has forbidden trait\(s\) CUSTOM_GPU':
            [act.migrate(i['2'], 'a', 'b', 'live')],
        r'action 1 .*instance 3 may not be moved: opted out by its '
        r'metadata optimize=false': [
            act.migrate(i['4'], 'c', 'b', 'live'),
            act.migrate(i['3'], 'a', 'c', 'live')],
    }
    for message, plan in bad.items():
        with pytest.raises(verify.InvalidPlan, match=message):
            verify.check_plan(ctx, plan)
    final = verify.check_plan(ctx, [act.migrate(i['1'], 'a', 'b', 'live'),
                                    act.migrate(i['2'], 'a', 'c', 'live')])
    assert final.host_of == {'1': 'b', '2': 'c', '3': 'a', '4': 'c'}


# -- strategies ------------------------------------------------------------


def consolidate(m, ctx=None, **params):
    strategy = server_consolidation.ServerConsolidation()
    ctx = ctx or h.context(m)
    solution = strategy.execute(ctx, strategy.validate_parameters(params))
    return solution, verify.check_plan(ctx, solution.actions)


def test_consolidation_follows_traits():
    # On capacity alone a drains onto b (2 + 4 of 8 vCPUs); b lacks SSD.
    nodes = [h.node('a', traits=[SSD]), h.node('b', traits=[]),
             h.node('c', traits=[SSD])]
    insts = [h.instance('1', 'a', vcpus=2, extra_specs=wants([SSD])),
             h.instance('y', 'b', vcpus=4),
             h.instance('x', 'c', vcpus=7)]
    solution, final = consolidate(h.model(nodes, insts))
    assert final.host_of['1'] == 'a'
    assert solution.indicators['hosts_kept_by_rules'] >= 1
    assert 'a: 1 (vm-1): traits on 1 host(s)' in solution.message
    assert 'lacks required trait(s) CUSTOM_SSD' in solution.message
    # With the trait on b, it moves.
    nodes[1].traits = frozenset([SSD])
    solution, final = consolidate(h.model(nodes, insts))
    assert final.host_of['1'] == 'b'


def test_consolidation_never_moves_an_opted_out_instance_and_says_so():
    nodes = [h.node('a'), h.node('b'), h.node('c')]
    insts = [h.instance('1', 'a', vcpus=2, metadata={'optimize': 'false'}),
             h.instance('2', 'a', vcpus=1),
             h.instance('y', 'b', vcpus=6), h.instance('x', 'c', vcpus=6)]
    m = h.model(nodes, insts)
    solution, final = consolidate(m)
    assert final.host_of['1'] == 'a'
    assert all(a['input_parameters'].get('instance_uuid') != '1'
               for a in solution.actions)
    # a would have been emptied onto b and c (2 free vCPUs each) but for
    # vm-1.
    assert solution.indicators['hosts_kept_by_opt_out'] == 1
    assert "1 host(s) kept in use by the operator's opt-out (metadata " \
        "key optimize) of: a: 1 (vm-1)" in solution.message
    # With a budget too small for a's two migrations, the budget is what
    # keeps it, and the plan does not blame the opt-out.
    solution, _ = consolidate(m, max_migrations=1)
    assert solution.indicators['hosts_kept_by_opt_out'] == 0
    # Without the opt-out, a is released.
    solution, final = consolidate(m, context_mod.StrategyContext(
        m.nodes.values(), m.instances.values(), opt_out_key=''))
    assert final.is_empty('a') and \
        solution.indicators['hosts_kept_by_opt_out'] == 0


def test_opted_out_instance_on_a_host_that_could_not_be_freed_anyway():
    # a's instances need 7 vCPUs, the others have 2 free: the opt-out is
    # not what keeps a.
    nodes = [h.node('a'), h.node('b')]
    insts = [h.instance('1', 'a', vcpus=4, metadata={'optimize': 'false'}),
             h.instance('2', 'a', vcpus=3), h.instance('y', 'b', vcpus=6)]
    solution, _ = consolidate(h.model(nodes, insts))
    assert solution.indicators['hosts_kept_by_opt_out'] == 0
    assert 'opt-out' not in solution.message


def test_host_maintenance_names_the_opted_out_instance():
    m = h.model([h.node('a'), h.node('b')],
                [h.instance('1', 'a', metadata={'optimize': 'off'})])
    strategy = host_maintenance.HostMaintenance()
    with pytest.raises(base.StrategyError,
                       match=r'cannot evacuate a: 1 instance\(s\) cannot be '
                             r'moved: 1 \(vm-1\): opted out by its metadata '
                             r'optimize=off'):
        strategy.execute(h.context(m), strategy.validate_parameters(
            {'maintenance_node': 'a'}))


def _evacuation_possible(ctx, host, opt_out_key='optimize'):
    """Brute force, written apart from the checker: every instance of
    ``host`` on another usable host with room, every required trait and
    no forbidden one; none opted out."""
    insts = ctx.instances_by_host[host]
    if any((i.metadata.get(opt_out_key) or '').lower() == 'false'
           for i in insts):
        return False
    targets = [x for x in ctx.nodes if x != host and ctx.is_target(x)]
    base_p = placement_mod.Placement(ctx)
    for assignment in itertools.product(targets, repeat=len(insts)):
        ok = True
        used = {x: list(base_p.used[x]) for x in targets}
        for inst, dest in zip(insts, assignment):
            have = ctx.nodes[dest].traits or frozenset()
            if not inst.required_traits <= have or \
                    inst.forbidden_traits & have:
                ok = False
                break
            for k, d in enumerate(placement_mod.demand(inst)):
                used[dest][k] += d
        if ok and all(used[x][k] <= base_p.capacity[x][k]
                      for x in set(assignment) for k in range(3)):
            return True
    return not insts


def _random_traits_model(rng):
    m = h.random_model(rng, hosts=rng.randint(3, 5),
                       instances=rng.randint(4, 9))
    for node in m.nodes.values():
        node.traits = frozenset(t for t in (SSD, GPU)
                                if rng.random() < 0.5)
    for inst in list(m.instances.values()):
        have = m.get_node_by_hostname(inst.host).traits
        roll = rng.random()
        # Traits that hold where the instance is now, as Nova placed it.
        if roll < 0.3 and SSD in have:
            inst.required_traits = frozenset([SSD])
        elif roll < 0.5 and GPU not in have:
            inst.forbidden_traits = frozenset([GPU])
        elif roll < 0.6:
            inst.metadata = {'optimize': 'false'}
    return m


@pytest.mark.parametrize('seed', range(40))
def test_host_maintenance_matches_brute_force_with_traits(seed):
    rng = h.rng(9300 + seed)
    m = _random_traits_model(rng)
    ctx = h.context(m)
    host = rng.choice(sorted(ctx.nodes))
    possible = _evacuation_possible(ctx, host)
    strategy = host_maintenance.HostMaintenance()
    try:
        solution = strategy.execute(ctx, strategy.validate_parameters(
            {'maintenance_node': host}))
    except base.StrategyError:
        # Small cases: the exhaustive search never misses a way.
        assert not possible
        return
    assert possible
    final = verify.check_plan(ctx, solution.actions)
    assert final.is_empty(host)


@pytest.mark.parametrize('seed', range(30))
def test_consolidation_keeps_traits_and_opt_outs(seed):
    rng = h.rng(9500 + seed)
    m = _random_traits_model(rng)
    ctx = h.context(m)
    solution, final = consolidate(m, ctx)
    # Checked apart from the checker, on the final state.
    for inst in m.instances.values():
        dest = final.host_of[inst.uuid]
        have = ctx.nodes[dest].traits
        assert inst.required_traits <= have
        assert not inst.forbidden_traits & have
        if inst.metadata.get('optimize') == 'false':
            assert dest == inst.host
