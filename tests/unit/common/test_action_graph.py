"""The dependency graph of a plan (pure functions)."""

from decision_engine.common import action_graph


def mig(source, dest):
    return {'action_type': 'migrate', 'input_parameters': {
        'instance_uuid': '%s-%s' % (source, dest), 'source_node': source,
        'destination_node': dest, 'migration_type': 'live'}}


def host(name, kind='change_compute_service_state'):
    return {'action_type': kind,
            'input_parameters': {'hostname': name, 'state': 'disabled'}}


NOP = {'action_type': 'nop', 'input_parameters': {'message': 'x'}}


def ancestors(parents, position):
    seen, stack = set(), list(parents[position])
    while stack:
        p = stack.pop()
        if p not in seen:
            seen.add(p)
            stack.extend(parents[p])
    return seen


def test_every_earlier_action_on_a_shared_host_is_an_ancestor():
    plan = [mig('a', 'b'), mig('c', 'd'), mig('b', 'c'), NOP,
            host('a'), mig('e', 'f'), mig('d', 'a')]
    parents = action_graph.parents_of(plan)
    assert parents == [set(), set(), {0, 1}, set(), {0}, set(), {1, 4}]
    hosts = [set(a['input_parameters'].values()) & set('abcdef')
             for a in plan]
    for later in range(len(plan)):
        for earlier in range(later):
            if hosts[earlier] & hosts[later]:
                assert earlier in ancestors(parents, later)
    # Independent ones do not wait: the nop and e -> f have no ancestor.
    assert ancestors(parents, 3) == ancestors(parents, 5) == set()


def test_runs_of_departures_commute_above_one_per_host():
    plan = [mig('a', 'b'), mig('a', 'c'), mig('a', 'd'), host('a',
            'change_node_power_state'), mig('e', 'b')]
    strict = action_graph.parents_of(plan, per_host=1)
    assert strict == [set(), {0}, {1}, {2}, {0}]
    loose = action_graph.parents_of(plan, per_host=3)
    # The three departures from a overlap; the power-off waits for all.
    assert loose[:4] == [set(), set(), set(), {0, 1, 2}]
    # Two arrivals on b commute too.
    assert loose[4] == set()


def test_critical_path():
    parents = [set(), {0}, set(), {1, 2}]
    assert action_graph.critical_path(parents, [1, 2, 5, 1]) == 6
    assert action_graph.critical_path([], []) == 0
