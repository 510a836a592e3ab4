"""Traits and the operator's opt-out end to end: the daemon (a
subprocess) audits the simulator (in this process, over HTTP), whose
hosts' resource providers carry traits that flavors require or forbid and
some of whose servers are opted out by metadata; the plan runs to
SUCCEEDED with no move refused by the simulated scheduler, and the
opted-out servers never moved. A capacity-only plan on the same cloud
would break both (the test can fail)."""

import dataclasses

import pytest
import requests

from decision_engine.audit import scope as scope_mod
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import server_consolidation
from tests.fixtures import dbfixtures
from tests.fixtures import engine_process
from tests.fixtures import truth

SSD, GPU = 'CUSTOM_SSD', 'CUSTOM_GPU'
SHAPE = dict(hosts=10, instances=40, aggregates=2, azs=1, seed=4)


def traits_topology():
    """Every other host has SSD, a few others a GPU; servers on an SSD
    host often require it, some elsewhere forbid a GPU, and a few are
    opted out (metadata optimize=false): all as placed now."""
    topo = Topology.generate(**SHAPE)
    for k, host in enumerate(topo.hosts):
        host.traits = [SSD] if k % 2 == 0 else ([GPU] if k % 3 == 0 else [])
    for k, inst in enumerate(topo.instances):
        if inst.host is None:
            continue
        have = topo.host(inst.host).traits
        specs = dict(inst.flavor.extra_specs)
        if SSD in have and k % 2 == 0:
            specs['trait:%s' % SSD] = 'required'
        elif GPU not in have and k % 3 == 0:
            specs['trait:%s' % GPU] = 'forbidden'
        elif k % 7 == 1:
            inst.metadata = dict(inst.metadata, optimize='false')
        inst.flavor = dataclasses.replace(inst.flavor, extra_specs=specs)
    return topo


class Daemon(engine_process.ApiDaemon):
    def __init__(self, tmp_path, sim, url):
        super().__init__(tmp_path)
        self.config_path.write_text(f"""
[DEFAULT]
state_path = {tmp_path}
log_file = {self.log_path}
enabled_power_drivers = fake

[conductor]
workers_pool_size = 3

[collector]
period = 3600
max_age = 3600

[audit]
max_model_age = 0

[applier]
poll_interval = 0.05
max_parallel_actions = 8

[database]
connection = {url}

[api]
port = {self.port}

{engine_process.cloud_options(sim.auth_url)}""")


def broken(topo, moves):
    """Moves to a host lacking a required trait or having a forbidden one,
    and moves of opted-out servers: from the simulator's records, apart
    from the engine's checker."""
    by_uuid = {i.uuid: i for i in topo.instances}
    found = []
    for move in moves:
        inst = by_uuid[move['instance_uuid']]
        have = set(topo.host(move['destination_node']).traits)
        for key, value in inst.flavor.extra_specs.items():
            trait = key[len('trait:'):]
            if key.startswith('trait:') and (value == 'required') != (
                    trait in have):
                found.append(('traits', inst.uuid))
        if inst.metadata.get('optimize') == 'false':
            found.append(('opt-out', inst.uuid))
    return found


@pytest.fixture
def sim():
    simulator = Simulator(traits_topology(),
                          migrations={'duration_s': 0.05, 'jitter': 0})
    simulator.start()
    yield simulator
    simulator.stop()


def test_plan_keeps_traits_and_opt_outs_and_nova_refuses_nothing(
        tmp_path, sim, url):
    topo = sim.topology
    model = truth.expected_model(topo)
    # The same strategy blind to one of the two rules breaks it on this
    # cloud: each part of the test can fail.
    bare = scope_mod.resolve(model, None)
    no_traits = []
    for inst in bare.instances.values():
        inst = inst.copy()
        inst.required_traits = inst.forbidden_traits = frozenset()
        no_traits.append(inst)
    for instances, key, kind in ((no_traits, 'optimize', 'traits'),
                                 (bare.instances.values(), '', 'opt-out')):
        blind = context_mod.StrategyContext(bare.nodes.values(), instances,
                                            opt_out_key=key)
        strategy = server_consolidation.ServerConsolidation()
        plan = strategy.execute(blind, strategy.validate_parameters({}))
        assert {k for k, _ in broken(topo, [
            a['input_parameters'] for a in plan.actions
            if a['action_type'] == 'migrate'])} == {kind}

    before = {i.uuid: i.host for i in topo.instances}
    dbfixtures.open_store(url).dispose()     # db sync
    daemon = Daemon(tmp_path, sim, url)
    daemon.start()
    try:
        audit = requests.post(daemon.url + '/v1/audits', json={
            'strategy': 'server_consolidation'}, timeout=30).json()
        audit = daemon.wait('/v1/audits/%s' % audit['uuid'],
                            lambda a: a['state'] in ('SUCCEEDED', 'FAILED'))
        assert audit['state'] == 'SUCCEEDED', audit
        plan = daemon.get('/v1/action_plans/%s'
                          % audit['last_action_plan_uuid'])
        moves = [a['input_parameters'] for a in plan['actions']
                 if a['action_type'] == 'migrate']
        assert moves and broken(topo, moves) == []
        assert plan['indicators']['hosts_kept_by_opt_out'] >= 1
        assert "kept in use by the operator's opt-out (metadata key " \
            "optimize)" in plan['message']
        requests.post(daemon.url + '/v1/action_plans/%s/start'
                      % plan['uuid'], timeout=30).raise_for_status()
        plan = daemon.wait('/v1/action_plans/%s' % plan['uuid'],
                           lambda p: p['state'] in ('SUCCEEDED', 'FAILED',
                                                    'CANCELLED'))
        model_view = daemon.get('/v1/model')
    finally:
        daemon.stop()
    assert plan['state'] == 'SUCCEEDED', plan
    assert [a['state'] for a in plan['actions']] == \
        ['SUCCEEDED'] * len(plan['actions'])
    sim.writes.settle()
    # Each migration the plan asked for ran to its end on the simulator
    # (a refused one would have no record, a failed one 'error').
    outcomes = [m['outcome'] for m in sim.writes.migrations()]
    assert len(outcomes) == len(moves)
    assert set(outcomes) <= {'completed', 'confirmed'}, outcomes
    # Every server now on a host with its required traits and without its
    # forbidden ones; opted-out servers where they were.
    final = [{'instance_uuid': i.uuid, 'destination_node': i.host}
             for i in topo.instances if i.uuid in model.instances]
    assert [b for b in broken(topo, final) if b[0] == 'traits'] == []
    for inst in topo.instances:
        if inst.metadata.get('optimize') == 'false':
            assert inst.host == before[inst.uuid]
    assert model_view['summary']['nodes'] == len(model.nodes)
