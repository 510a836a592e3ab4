import pytest

from decision_engine.strategies import actions as act
from decision_engine.strategies import base
from decision_engine.strategies import server_consolidation
from decision_engine.strategies import verify
from tests.fixtures import model_helpers as h


def run(m, movable=None, **params):
    strategy = server_consolidation.ServerConsolidation()
    ctx = h.context(m, movable)
    solution = strategy.execute(ctx, strategy.validate_parameters(params))
    final = verify.check_plan(ctx, solution.actions)
    return ctx, solution, final


def hosts_used(final):
    return sum(1 for host in final.on_host if not final.is_empty(host))


def test_packs_two_half_empty_hosts_into_one():
    m = h.model([h.node('a'), h.node('b')],
                [h.instance('1', 'a', vcpus=4), h.instance('2', 'b',
                                                           vcpus=2)])
    ctx, solution, final = run(m)
    types = [a['action_type'] for a in solution.actions]
    assert types == [act.CHANGE_SERVICE, act.MIGRATE, act.CHANGE_POWER]
    migrate = solution.actions[1]['input_parameters']
    # The less loaded host is the one released.
    assert migrate['source_node'] == 'b'
    assert migrate['destination_node'] == 'a'
    assert migrate['migration_type'] == 'live'
    assert solution.indicators['hosts_released'] == 1
    assert solution.indicators['hosts_used_after'] == 1
    assert solution.indicators['utilization_after']['vcpus'] == 75.0


def test_respects_reserved_and_allocation_ratio():
    # 8 vCPUs, 2 reserved, ratio 1.0 -> 6 schedulable: 4 + 4 do not fit.
    m = h.model([h.node('a', vcpus_reserved=2), h.node('b')],
                [h.instance('1', 'a', vcpus=4), h.instance('2', 'b',
                                                           vcpus=4)])
    _, solution, _ = run(m)
    # b holds 4 of 8; a holds 4 of 6: a is fuller, so b is tried first and
    # its instance does not fit on a; a's fits on b.
    assert [a['input_parameters']['source_node'] for a in solution.actions
            if a['action_type'] == act.MIGRATE] == ['a']
    m = h.model([h.node('a', vcpus_reserved=2, vcpu_allocation_ratio=2.0),
                 h.node('b', vcpus_reserved=2, vcpu_allocation_ratio=1.0)],
                [h.instance('1', 'a', vcpus=8), h.instance('2', 'b',
                                                           vcpus=4)])
    _, solution, final = run(m)
    assert hosts_used(final) == 1
    assert final.used['a'][0] == 12


def test_never_moves_locked_or_excluded_or_unmovable():
    m = h.model([h.node('a'), h.node('b'), h.node('c')],
                [h.instance('1', 'a', locked=True),
                 h.instance('2', 'b', project_id='other'),
                 h.instance('3', 'c', state='error')])
    _, solution, _ = run(m, movable=lambda i: i.project_id == 'p1')
    assert solution.actions == []
    assert solution.indicators['hosts_released'] == 0


def test_destinations_must_be_usable_and_already_used():
    m = h.model([h.node('a'), h.node('b', status='disabled'),
                 h.node('c', power_state='power off'), h.node('d')],
                [h.instance('1', 'a'), h.instance('2', 'b')])
    _, solution, final = run(m)
    migrations = [a['input_parameters'] for a in solution.actions
                  if a['action_type'] == act.MIGRATE]
    # b (disabled) drains onto a; a cannot go to b, c (off) or d (empty).
    assert [(x['source_node'], x['destination_node'])
            for x in migrations] == [('b', 'a')]
    # b was already disabled: no service action for it.
    assert [a['action_type'] for a in solution.actions] == [
        act.MIGRATE, act.CHANGE_POWER]


def test_no_power_off_without_power_state_or_when_disabled():
    m = h.model([h.node('a', power_state=None), h.node('b',
                                                       power_state=None)],
                [h.instance('1', 'a', vcpus=4), h.instance('2', 'b')])
    _, solution, _ = run(m)
    assert act.CHANGE_POWER not in [a['action_type']
                                    for a in solution.actions]
    m = h.model([h.node('a'), h.node('b')],
                [h.instance('1', 'a', vcpus=4), h.instance('2', 'b')])
    _, solution, _ = run(m, power_off=False)
    assert act.CHANGE_POWER not in [a['action_type']
                                    for a in solution.actions]


def test_max_migrations_and_target_utilization():
    m = h.model([h.node('a'), h.node('b'), h.node('c')],
                [h.instance('1', 'a', vcpus=4), h.instance('2', 'b'),
                 h.instance('3', 'b'), h.instance('4', 'c')])
    _, solution, _ = run(m, max_migrations=1)
    assert solution.indicators['migrations'] == 1
    _, solution, _ = run(m, target_utilization=50)
    assert solution.indicators['hosts_released'] == 1
    _, solution, final = run(m)
    assert hosts_used(final) == 1


def test_invalid_parameters_are_one_clear_line():
    with pytest.raises(base.InvalidParameters, match='max_migrations'):
        server_consolidation.ServerConsolidation.validate_parameters(
            {'max_migrations': 0})
    with pytest.raises(base.InvalidParameters, match='bogus'):
        server_consolidation.ServerConsolidation.validate_parameters(
            {'bogus': 1})


@pytest.mark.parametrize('seed', range(60))
def test_close_to_brute_force_and_always_valid(seed):
    rng = h.rng(seed)
    m = h.random_model(rng, hosts=rng.randint(2, 4),
                       instances=rng.randint(1, 6))
    ctx, solution, final = run(m)
    optimum = h.min_hosts_brute_force(ctx)
    used = hosts_used(final)
    # Stated bound: at most one host more than the optimum on these sizes
    # (greedy drain, least loaded host first, exhaustive per-host search).
    assert optimum <= used <= optimum + 1
    for a in solution.actions:
        if a['action_type'] == act.MIGRATE:
            p = a['input_parameters']
            assert p['source_node'] != p['destination_node']


def test_uniform_hosts_reach_the_optimum():
    misses = 0
    for seed in range(40):
        rng = h.rng(1000 + seed)
        m = h.random_model(rng, hosts=4, instances=rng.randint(1, 6),
                           uniform=True)
        ctx, _, final = run(m)
        misses += hosts_used(final) != h.min_hosts_brute_force(ctx)
    assert misses <= 4
