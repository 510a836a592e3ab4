import pytest

from decision_engine.strategies import actions as act
from decision_engine.strategies import base
from decision_engine.strategies import dummy
from decision_engine.strategies import host_maintenance
from decision_engine.strategies import loader
from decision_engine.strategies import saving_energy
from decision_engine.strategies import verify
from tests.fixtures import model_helpers as h


def run(cls, m, **params):
    strategy = cls()
    ctx = h.context(m)
    solution = strategy.execute(ctx, cls.validate_parameters(params))
    final = verify.check_plan(ctx, solution.actions)
    return solution, final


def power_actions(solution):
    return [(a['input_parameters']['hostname'],
             a['input_parameters']['state']) for a in solution.actions
            if a['action_type'] == act.CHANGE_POWER]


def test_loader_finds_all_and_names_the_known_ones():
    assert set(loader.available()) == {
        'dummy', 'server_consolidation', 'saving_energy', 'host_maintenance',
        'workload_balance', 'vm_workload_consolidation',
        'workload_stabilization'}
    with pytest.raises(loader.UnknownStrategy, match='available: dummy'):
        loader.get('nope')
    for name, cls in loader.available().items():
        assert cls.name == name and cls.goal
        assert cls.describe()['parameters_schema']['type'] == 'object'


def test_dummy():
    m = h.model([h.node('a')], [h.instance('1', 'a')])
    solution, _ = run(dummy.DummyStrategy, m, message='hi')
    assert [a['action_type'] for a in solution.actions] == [act.NOP,
                                                            act.SLEEP]
    assert solution.indicators == {'hosts_seen': 1, 'instances_seen': 1}


def saving_model(spares_on, spares_off, used=4):
    nodes = [h.node('u%d' % i) for i in range(used)]
    nodes += [h.node('on%d' % i, vcpus=8 + i) for i in range(spares_on)]
    nodes += [h.node('off%d' % i, power_state='power off', state='down',
                     vcpus=8 + i) for i in range(spares_off)]
    insts = [h.instance(str(i), 'u%d' % i) for i in range(used)]
    return h.model(nodes, insts)


def test_saving_energy_powers_off_extra_spares_keeping_the_biggest():
    solution, _ = run(saving_energy.SavingEnergy, saving_model(4, 0),
                      min_free_hosts_num=1, free_used_percent=50)
    # 4 used hosts * 50% = 2 spares to keep; the two smallest go off.
    assert power_actions(solution) == [('on0', 'off'), ('on1', 'off')]
    assert solution.indicators['spare_hosts_after'] == 2
    types = [a['action_type'] for a in solution.actions]
    assert types == [act.CHANGE_SERVICE, act.CHANGE_POWER] * 2


def test_saving_energy_powers_on_when_short_and_reenables_its_own():
    m = saving_model(0, 3)
    m.get_node_by_hostname('off2').status = 'disabled'
    m.get_node_by_hostname('off2').disabled_reason = \
        'decision-engine: powered off to save energy'
    m.get_node_by_hostname('off1').status = 'disabled'
    m.get_node_by_hostname('off1').disabled_reason = 'operator: bad disk'
    solution, _ = run(saving_energy.SavingEnergy, m, min_free_hosts_num=3,
                      free_used_percent=0)
    # off1 was disabled by an operator: never touched.
    assert power_actions(solution) == [('off2', 'on'), ('off0', 'on')]
    assert solution.actions[1]['action_type'] == act.CHANGE_SERVICE
    assert solution.indicators['spare_hosts_after'] == 2
    assert 'short of 1' in solution.message


def test_saving_energy_ignores_unmanaged_and_failed_hosts():
    m = saving_model(0, 0)
    m.add_node(h.node('x', power_state=None))
    m.add_node(h.node('y', power_failure=True))
    solution, _ = run(saving_energy.SavingEnergy, m, min_free_hosts_num=0,
                      free_used_percent=0)
    assert solution.actions == []


@pytest.mark.parametrize('on,off,pct,minimum', [
    (0, 0, 10, 1), (3, 0, 0, 0), (1, 4, 100, 2), (5, 5, 25, 3),
    (2, 2, 50, 2)])
def test_saving_energy_reaches_its_target_when_it_can(on, off, pct,
                                                      minimum):
    solution, _ = run(saving_energy.SavingEnergy, saving_model(on, off),
                      min_free_hosts_num=minimum, free_used_percent=pct)
    target = solution.indicators['spare_hosts_target']
    assert target == max(minimum, -(-4 * pct // 100))
    assert solution.indicators['spare_hosts_after'] == min(target, on + off)


def test_host_maintenance_evacuates_to_backup_first():
    m = h.model([h.node('a'), h.node('b'), h.node('c')],
                [h.instance('1', 'a', vcpus=2), h.instance('2', 'a'),
                 h.instance('3', 'b'), h.instance('4', 'a',
                                                  state='stopped')])
    solution, final = run(host_maintenance.HostMaintenance, m,
                          maintenance_node='a', backup_node='c')
    assert solution.actions[0]['action_type'] == act.CHANGE_SERVICE
    assert final.is_empty('a')
    dests = {a['input_parameters']['destination_node']
             for a in solution.actions if a['action_type'] == act.MIGRATE}
    assert dests == {'c'}
    kinds = {a['input_parameters']['instance_uuid']:
             a['input_parameters']['migration_type']
             for a in solution.actions if a['action_type'] == act.MIGRATE}
    assert kinds == {'1': 'live', '2': 'live', '4': 'cold'}


def test_host_maintenance_prefers_used_hosts_over_waking_empty_ones():
    m = h.model([h.node('a'), h.node('b'), h.node('c')],
                [h.instance('1', 'a'), h.instance('2', 'c')])
    solution, final = run(host_maintenance.HostMaintenance, m,
                          maintenance_node='a')
    assert final.host_of['1'] == 'c'


def test_host_maintenance_says_why_it_cannot():
    m = h.model([h.node('a'), h.node('b', vcpus=2)],
                [h.instance('1', 'a', vcpus=4), h.instance('2', 'a')])
    with pytest.raises(base.StrategyError,
                       match=r'cannot evacuate a: its 2 instance\(s\) need '
                             r'5 vCPU.*1 other usable host'):
        run(host_maintenance.HostMaintenance, m, maintenance_node='a')
    m = h.model([h.node('a'), h.node('b')],
                [h.instance('1', 'a', locked=True),
                 h.instance('2', 'a', state='error')])
    with pytest.raises(base.StrategyError,
                       match=r'2 instance\(s\) cannot be moved: 1 \(vm-1\): '
                             r'locked; 2 \(vm-2\): state error'):
        run(host_maintenance.HostMaintenance, m, maintenance_node='a')
    with pytest.raises(base.StrategyError, match='no such compute host'):
        run(host_maintenance.HostMaintenance, m, maintenance_node='zz')
    m = h.model([h.node('a'), h.node('b', status='disabled')],
                [h.instance('1', 'a')])
    with pytest.raises(base.StrategyError, match='no other enabled'):
        run(host_maintenance.HostMaintenance, m, maintenance_node='a')
    with pytest.raises(base.InvalidParameters, match='maintenance_node'):
        host_maintenance.HostMaintenance.validate_parameters({})


@pytest.mark.parametrize('seed', range(60))
def test_host_maintenance_matches_brute_force(seed):
    rng = h.rng(500 + seed)
    m = h.random_model(rng, hosts=rng.randint(2, 4),
                       instances=rng.randint(2, 7))
    ctx = h.context(m)
    host = max(ctx.nodes, key=lambda x: len(ctx.instances_by_host[x]))
    possible = h.evacuation_possible(ctx, host)
    if possible:
        _, final = run(host_maintenance.HostMaintenance, m,
                       maintenance_node=host)
        assert final.is_empty(host)
    else:
        with pytest.raises(base.StrategyError, match='cannot evacuate'):
            run(host_maintenance.HostMaintenance, m, maintenance_node=host)


def test_verifier_rejects_bad_plans():
    m = h.model([h.node('a'), h.node('b', vcpus=1), h.node('c')],
                [h.instance('1', 'a', vcpus=2), h.instance('2', 'c')])
    ctx = h.context(m)
    inst = m.instances['1']
    bad = {
        'its own host': [act.migrate(inst, 'a', 'a', 'live')],
        'overcommit': [act.migrate(inst, 'a', 'b', 'live')],
        'cannot take': [act.change_power('c', 'off')],
        'still runs': [act.change_power('a', 'off')],
        'is on a, not on c': [act.migrate(inst, 'c', 'b', 'live')],
    }
    bad['cannot take'] = [act.change_service('c', 'disabled'),
                          act.migrate(inst, 'a', 'c', 'live')]
    for message, plan in bad.items():
        with pytest.raises(verify.InvalidPlan, match=message):
            verify.check_plan(ctx, plan)
    verify.check_plan(ctx, [act.migrate(inst, 'a', 'c', 'live'),
                            act.change_service('a', 'disabled'),
                            act.change_power('a', 'off')])


def messy_model(rng):
    """A bigger random cloud with every awkward case mixed in."""
    m = h.random_model(rng, hosts=rng.randint(5, 25),
                       instances=rng.randint(10, 120))
    for node in m.nodes.values():
        roll = rng.random()
        if roll < 0.1:
            node.status = 'disabled'
        elif roll < 0.15:
            node.state = 'down'
        elif roll < 0.2:
            node.power_state = None
        elif roll < 0.25:
            node.power_failure = True
        node.vcpus_reserved = rng.choice([0, 0, 1])
    for inst in m.instances.values():
        roll = rng.random()
        if roll < 0.05:
            inst.locked = True
        elif roll < 0.1:
            inst.state = rng.choice(['error', 'building', 'stopped'])
    return m


@pytest.mark.parametrize('seed', range(25))
def test_every_strategy_gives_valid_plans_on_messy_clouds(seed):
    from decision_engine.strategies import server_consolidation
    rng = h.rng(9000 + seed)
    m = messy_model(rng)
    for cls, params in (
            (server_consolidation.ServerConsolidation, {}),
            (server_consolidation.ServerConsolidation,
             {'target_utilization': 70, 'max_migrations': 5}),
            (saving_energy.SavingEnergy, {'min_free_hosts_num': 2}),
            (dummy.DummyStrategy, {})):
        # run() replays and checks the plan.
        solution, _ = run(cls, m, **params)
        if 'max_migrations' in params:
            assert solution.indicators['migrations'] <= 5
    host = rng.choice(sorted(h.context(m).nodes))
    try:
        solution, final = run(host_maintenance.HostMaintenance, m,
                              maintenance_node=host)
    except base.StrategyError as exc:
        assert str(exc).startswith('cannot evacuate %s' % host)
    else:
        assert final.is_empty(host)
