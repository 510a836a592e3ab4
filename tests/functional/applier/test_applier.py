"""Plans applied by the real applier, on the real pool (3 workers), against
the simulator over HTTP, with the store on SQLite and PostgreSQL."""

import threading

import pytest

from decision_engine.applier import applier as applier_mod
from decision_engine.common import plan_states as st
from decision_engine.concurrency import pool as pool_mod
from decision_engine.db import api as db_api
from decision_engine.strategies import actions as act
from tests import BACKEND
from tests.fixtures import applier_harness as fx

GUARD = fx.GUARD


def usable_hosts(topology):
    return [h.hostname for h in topology.hosts
            if h.status == 'enabled' and h.state == 'up'
            and h.power_state == 'power on' and not h.is_ironic]


def plain(inst):
    """A server that needs only VCPU, MEMORY_MB and DISK_GB (no dedicated
    CPUs or custom resources), so any usable host has room for it."""
    specs = inst.flavor.extra_specs or {}
    return specs.get('hw:cpu_policy') != 'dedicated' and not any(
        key.startswith('resources') for key in specs)


def movable(topology, hosts, count, states=('active',)):
    found = [i for i in topology.instances
             if i.host in hosts and i.vm_state in states and not i.locked
             and plain(i)]
    assert len(found) >= count
    return found[:count]


def chain_plan(topology, count, kinds=('live', 'cold')):
    """Migrations spread so that some share hosts and some do not:
    instance k goes from its host to the next usable host."""
    hosts = usable_hosts(topology)
    actions = []
    for k, inst in enumerate(movable(topology, hosts, count)):
        dest = hosts[(hosts.index(inst.host) + 1) % len(hosts)]
        actions.append(act.migrate(inst, inst.host, dest,
                                   kinds[k % len(kinds)]))
    return actions


def expected_hosts(topology, actions):
    """The verifier's replay: where every instance ends."""
    where = {i.uuid: i.host for i in topology.instances}
    for action in actions:
        if action['action_type'] == act.MIGRATE:
            params = action['input_parameters']
            assert where[params['instance_uuid']] == params['source_node']
            where[params['instance_uuid']] = params['destination_node']
    return where


def run(harness, actions, **conf):
    applier = harness.applier(**conf)
    plan_uuid = fx.store_plan(harness.store, actions)
    applier.start_plan(plan_uuid)
    assert applier.wait(plan_uuid, GUARD)
    return applier, harness.store.get_action_plan(plan_uuid)


def test_plan_succeeds_and_the_cloud_ends_as_predicted(harness, sim,
                                                       topology):
    actions = chain_plan(topology, 8)
    host = usable_hosts(topology)[-1]
    actions += [act.change_service(host, 'disabled', 'maintenance'),
                act.nop('done'), act.sleep(0.05)]
    predicted = expected_hosts(topology, actions)
    refreshed = []
    applier = harness.applier(on_plan_end=refreshed.append)
    plan_uuid = fx.store_plan(harness.store, actions)
    applier.start_plan(plan_uuid)
    assert applier.wait(plan_uuid, GUARD)
    plan = harness.store.get_action_plan(plan_uuid)

    assert plan['state'] == st.SUCCEEDED, plan
    assert plan['owner'] == 'engine-a'
    assert plan['started_at'] <= plan['finished_at']
    for action in plan['actions']:
        assert action['state'] == st.SUCCEEDED, action
        assert action['started_at'] <= action['finished_at']
    # The cloud, read back over HTTP, element by element.
    conn = sim.connection()
    for inst in topology.instances:
        body = conn.compute.get('/servers/%s' % inst.uuid,
                                microversion='2.47').json()['server']
        assert body['OS-EXT-SRV-ATTR:host'] == predicted[inst.uuid]
        assert body['OS-EXT-STS:task_state'] is None
        assert body['status'] in ('ACTIVE', 'SHUTOFF', 'PAUSED',
                                  'SUSPENDED', 'ERROR', 'BUILD',
                                  'SHELVED'), body['status']
    service = [s for s in conn.compute.get(
        '/os-services?host=%s' % host, microversion='2.53').json()[
        'services'] if s['binary'] == 'nova-compute'][0]
    assert (service['status'], service['disabled_reason']) == \
        ('disabled', 'maintenance')
    # What the applier asked, with the bodies and versions Nova documents.
    writes = sim.writes.request_log()
    live = [w for w in writes if 'os-migrateLive' in (w['body'] or {})]
    cold = [w for w in writes if 'migrate' in (w['body'] or {})]
    confirms = [w for w in writes if 'confirmResize' in (w['body'] or {})]
    assert len(live) == len(cold) == len(confirms) == 4
    assert all(w['microversion'] == '2.30' and w['body']['os-migrateLive'][
        'block_migration'] == 'auto' for w in live)
    assert all(w['microversion'] == '2.56' and w['body']['migrate']['host']
               for w in cold)
    puts = [w for w in writes if w['method'] == 'PUT']
    assert [(w['microversion'], w['body']) for w in puts] == [
        ('2.53', {'status': 'disabled', 'disabled_reason': 'maintenance'})]
    # Placement follows the instances.
    for hostname in usable_hosts(topology):
        vcpus = sum(i.flavor.vcpus for i in topology.instances
                    if predicted[i.uuid] == hostname)
        assert sim.writes.usage(hostname)[0] == vcpus
    assert refreshed == [plan_uuid]


def test_per_host_order_is_kept_and_independent_actions_overlap(
        harness, sim, topology):
    sim.writes.configure(duration_s=0.2, jitter=0.3)
    actions = chain_plan(topology, 14, kinds=('live',))
    applier, plan = run(harness, actions,
                        applier={'max_parallel_actions': 8})
    assert plan['state'] == st.SUCCEEDED
    moves = sim.writes.migrations()
    assert len(moves) == 14
    overlap_any = False
    for i, a in enumerate(moves):
        for b in moves[i + 1:]:
            overlaps = a['requested'] < b['ended'] and \
                b['requested'] < a['ended']
            shared = {a['source'], a['destination']} & {
                b['source'], b['destination']}
            if shared:
                assert not overlaps, (a, b)
            overlap_any = overlap_any or overlaps
    assert overlap_any, 'no two independent migrations ran at once'
    assert applier.statistics().peak_migrations == 1


def test_failed_migration_skips_its_dependents_only(harness, sim,
                                                    topology):
    actions = chain_plan(topology, 10, kinds=('live',))
    first = actions[0]['input_parameters']
    sim.writes.fail_servers.add(first['instance_uuid'])
    predicted = expected_hosts(topology, actions)
    applier, plan = run(harness, actions)

    assert plan['state'] == st.FAILED
    states = {a['position']: a for a in plan['actions']}
    assert states[0]['state'] == st.FAILED
    assert 'rolled it back' in states[0]['state_reason']
    skipped = [p for p, a in states.items() if a['state'] == st.SKIPPED]
    assert skipped, 'nothing depended on the failed migration'
    hosts0 = {first['source_node'], first['destination_node']}
    for position in skipped:
        assert states[position]['state_reason'].startswith(
            'depends on failed action')
    succeeded = [p for p, a in states.items()
                 if a['state'] == st.SUCCEEDED]
    assert succeeded
    # The cloud agrees with the store: failed and skipped ones did not
    # move, the others did.
    conn = sim.connection()
    for position, action in states.items():
        params = action['input_parameters']
        host = conn.compute.get('/servers/%s' % params['instance_uuid'],
                                microversion='2.47').json()['server'][
            'OS-EXT-SRV-ATTR:host']
        if action['state'] == st.SUCCEEDED:
            assert host == predicted[params['instance_uuid']]
        else:
            assert host == params['source_node']
    # Every action touching the failed one's hosts after it was skipped
    # or ran after it, never alongside (its dependents).
    assert any({action['input_parameters']['source_node'],
                action['input_parameters']['destination_node']} & hosts0
               for p, action in states.items() if p in skipped)


def test_on_failure_stop_skips_everything_not_started(harness, sim,
                                                      topology):
    actions = [{'action_type': 'nop',
                'input_parameters': {'fail_execute': True}}]
    actions += [act.sleep(0.01) for _ in range(5)]
    applier, plan = run(harness, actions,
                        applier={'on_failure': 'stop',
                                 'max_parallel_actions': 1})
    assert plan['state'] == st.FAILED
    assert plan['actions'][0]['state_reason'] == 'fail_execute is set'
    for action in plan['actions'][1:]:
        assert action['state'] == st.SKIPPED
        assert 'on_failure = stop' in action['state_reason']


def test_drift_behind_the_plan_is_skipped_with_the_reason(
        harness, sim, topology):
    actions = chain_plan(topology, 3, kinds=('live',))
    gone = actions[0]['input_parameters']
    moved = actions[1]['input_parameters']
    sim.writes.configure(duration_s=0)
    conn = sim.connection()
    assert conn.compute.delete('/servers/%s' % gone['instance_uuid'],
                               microversion='2.47').status_code == 204
    hosts = usable_hosts(topology)
    elsewhere = next(h for h in hosts if h not in (
        moved['source_node'], moved['destination_node']))
    assert conn.compute.post(
        '/servers/%s/action' % moved['instance_uuid'],
        json={'os-migrateLive': {'host': elsewhere,
                                 'block_migration': 'auto'}},
        microversion='2.30').status_code == 202
    applier, plan = run(harness, actions)
    reasons = [a['state_reason'] for a in plan['actions']]
    assert [a['state'] for a in plan['actions']] == [
        st.SKIPPED, st.SKIPPED, st.SUCCEEDED]
    assert reasons[0] == 'instance %s no longer exists' % \
        gone['instance_uuid']
    assert reasons[1] == 'instance %s is on %s, not on the source %s' % (
        moved['instance_uuid'], elsewhere, moved['source_node'])
    assert plan['state'] == st.SUCCEEDED


def test_invalid_input_and_unknown_type_fail_with_one_line(harness):
    actions = [{'action_type': 'migrate',
                'input_parameters': {'instance_uuid': 'x'}},
               {'action_type': 'teleport', 'input_parameters': {}}]
    applier, plan = run(harness, actions)
    assert plan['state'] == st.FAILED
    first, second = plan['actions']
    assert first['state_reason'].startswith('invalid input parameters: ')
    assert second['state_reason'].startswith("unknown action type "
                                             "'teleport'")


def ongoing_event(store, position):
    """An event set when the store records action ``position`` ONGOING
    (a spy on the real store's compare-and-set)."""
    event = threading.Event()
    real = store.transition_actions

    def spy(plan_uuid, positions, from_states, **values):
        done = real(plan_uuid, positions, from_states, **values)
        if values.get('state') == st.ONGOING and position in done:
            event.set()
        return done
    store.transition_actions = spy
    return event


def test_cancel_mid_plan_lets_ongoing_actions_finish(harness):
    ongoing = ongoing_event(harness.store, 0)
    # NOTE: the cancel must answer while the first action runs; 0.3 s was
    # once too short on a loaded 2-core machine, 3 s leaves a wide margin.
    actions = [act.sleep(3)] + [act.nop('after') for _ in range(4)]
    applier = harness.applier(applier={'max_parallel_actions': 1})
    plan_uuid = fx.store_plan(harness.store, actions)
    applier.start_plan(plan_uuid)
    assert ongoing.wait(GUARD)
    cancelled = applier.cancel_plan(plan_uuid)
    assert cancelled['state'] == st.CANCELLING
    assert [a['state'] for a in cancelled['actions']] == \
        [st.ONGOING] + [st.CANCELLED] * 4
    assert applier.wait(plan_uuid, GUARD)
    plan = harness.store.get_action_plan(plan_uuid)
    assert plan['state'] == st.CANCELLED
    assert plan['actions'][0]['state'] == st.SUCCEEDED
    with pytest.raises(applier_mod.PlanNotCancellable,
                       match='already ended'):
        applier.cancel_plan(plan_uuid)


def test_overlapping_plans_are_refused(harness, sim, topology):
    actions = chain_plan(topology, 1, kinds=('live',))
    sim.writes.configure(duration_s=1.0, jitter=0)
    applier = harness.applier()
    first = fx.store_plan(harness.store, actions)
    second = fx.store_plan(harness.store, actions)
    disjoint = fx.store_plan(harness.store, [act.nop('free')])
    applier.start_plan(first)
    with pytest.raises(db_api.PlanConflict, match='touches host'):
        applier.start_plan(second)
    assert harness.store.get_action_plan(second)['state'] == \
        st.RECOMMENDED
    applier.start_plan(disjoint)
    assert applier.wait(disjoint, GUARD)
    with pytest.raises(db_api.PlanNotStartable, match='RECOMMENDED'):
        applier.start_plan(disjoint)
    assert applier.wait(first, GUARD)
    assert harness.store.get_action_plan(first)['state'] == st.SUCCEEDED
    applier.start_plan(second)      # the hosts are free again
    assert applier.wait(second, GUARD)
    plan = harness.store.get_action_plan(second)
    # The instance is no longer on the source: SKIPPED, not FAILED.
    assert plan['actions'][0]['state'] == st.SKIPPED


def test_resume_never_replays_what_finished(store, pool, sim, topology):
    """An engine stopped mid-plan (actions ONGOING in the store, between
    polls) and started again goes on: every migration is requested once,
    and the plan ends as predicted."""
    sim.writes.configure(duration_s=0.3, jitter=0)
    actions = chain_plan(topology, 10, kinds=('live', 'cold'))
    predicted = expected_hosts(topology, actions)
    # NOTE: the first engine has a pool of its own, drained at its stop
    # as a stopping process drains its pool: none of its steps may still
    # run when the second engine starts.
    first_pool = pool_mod.WorkerPool(3)
    first = fx.Harness(store, first_pool, sim)
    ongoing = ongoing_event(store, 0)
    applier = first.applier(applier={'max_parallel_actions': 4})
    plan_uuid = fx.store_plan(store, actions)
    applier.start_plan(plan_uuid)
    assert ongoing.wait(GUARD)
    applier.stop()
    assert first_pool.shutdown(timeout=GUARD) == []
    stored = store.get_action_plan(plan_uuid)
    assert stored['state'] == st.ONGOING
    assert st.ONGOING in {a['state'] for a in stored['actions']}

    second = fx.Harness(store, pool, sim)
    try:
        again = second.applier()
        assert again.statistics().plans_resumed == 1
        assert again.wait(plan_uuid, GUARD)
    finally:
        second.close()
    plan = store.get_action_plan(plan_uuid)
    assert plan['state'] == st.SUCCEEDED, [
        (a['state'], a['state_reason']) for a in plan['actions']]
    requested = {}
    for write in sim.writes.request_log():
        body = write['body'] or {}
        if 'os-migrateLive' in body or 'migrate' in body:
            server = write['path'].split('/')[-2]
            requested[server] = requested.get(server, 0) + 1
    assert requested == {a['input_parameters']['instance_uuid']: 1
                         for a in actions}
    conn = sim.connection()
    for inst in topology.instances:
        assert conn.compute.get('/servers/%s' % inst.uuid,
                                microversion='2.47').json()['server'][
            'OS-EXT-SRV-ATTR:host'] == predicted[inst.uuid]


def test_500_actions_at_the_smallest_pool_finish(sqlite_store, pool):
    """Workers_pool_size 3, every step a pool task, the pool also busy
    with someone else's work: no deadlock, nothing lost."""
    harness = fx.Harness(sqlite_store, pool, None)
    blocker = threading.Event()
    busy = pool.submit(blocker.wait, GUARD)
    try:
        actions = [act.nop(str(i)) if i % 5 else act.sleep(0.001)
                   for i in range(500)]
        applier, plan = run(harness, actions,
                            applier={'max_parallel_actions': 50})
    finally:
        blocker.set()
        busy.result(GUARD)
        harness.close()
    assert plan['state'] == st.SUCCEEDED
    assert {a['state'] for a in plan['actions']} == {st.SUCCEEDED}
    if BACKEND == 'threading':
        # NOTE: with eventlet a submission yields, and the nop ends before
        # the next one: the pool never fills there.
        assert applier.statistics().pool_refusals > 0


def test_max_migrations_per_host_lets_departures_overlap(harness, sim,
                                                         topology):
    sim.writes.configure(duration_s=0.3, jitter=0,
                         max_concurrent_live_migrations=2)
    hosts = usable_hosts(topology)
    source = max(hosts, key=lambda h: len(movable(topology, [h], 0)))
    leaving = movable(topology, [source], 2)
    others = [h for h in hosts if h != source]
    actions = [act.migrate(inst, source, others[k % len(others)], 'live')
               for k, inst in enumerate(leaving)]
    applier, plan = run(harness, actions,
                        applier={'max_migrations_per_host': 2})
    assert plan['state'] == st.SUCCEEDED
    moves = sim.writes.migrations()
    # At each start, how many moves off the source were in flight.
    peaks = [sum(1 for b in moves if b['requested'] <= a['requested']
                 < b['ended']) for a in moves]
    assert max(peaks) == 2, moves
    assert applier.statistics().peak_migrations == 2


def test_audit_over_hosts_of_a_running_plan_is_refused(harness, sim,
                                                       topology):
    from decision_engine.audit import service as audit_service

    sim.writes.configure(duration_s=1.0, jitter=0)
    actions = chain_plan(topology, 1, kinds=('live',))
    params = actions[0]['input_parameters']
    applier = harness.applier()
    plan_uuid = fx.store_plan(harness.store, actions)
    audits = audit_service.AuditService(applier.conf, harness.store,
                                        harness.pool, None)
    applier.start_plan(plan_uuid)
    with pytest.raises(audit_service.AuditConflict, match=plan_uuid):
        audits.create({'strategy': 'dummy'})
    with pytest.raises(audit_service.AuditConflict, match='force'):
        audits.create({'strategy': 'dummy', 'scope': {
            'include_hosts': [params['source_node']]}})
    others = [h for h in usable_hosts(topology)
              if h not in (params['source_node'],
                           params['destination_node'])]
    assert audits.create({'strategy': 'dummy', 'scope': {
        'include_hosts': others}})['state'] == 'PENDING'
    assert audits.create({'strategy': 'dummy', 'force': True})
    assert applier.wait(plan_uuid, GUARD)
    assert audits.create({'strategy': 'dummy'})['state'] == 'PENDING'


def test_power_actions_go_through_the_power_driver(harness, sim, topology):
    from decision_engine.drivers import fake
    from decision_engine.drivers import inventory
    from decision_engine.drivers import power_state

    busy = next(i.host for i in topology.instances if i.host)
    empty = next(h.hostname for h in topology.hosts
                 if not topology.instances_on(h.hostname))
    nodes = [inventory.Node(busy, 'fake', {}),
             inventory.Node(empty, 'fake', {})]
    driver = fake.FakePowerDriver(fx.make_conf(), harness.pool, nodes,
                                  power_state.PowerStateTracker(3))
    actions = [act.change_power(empty, 'off'), act.change_power(busy, 'off'),
               act.change_power('compute-99', 'off')]
    applier, plan = run(harness, actions,
                        power_drivers={'fake': driver})
    states = [(a['state'], a['state_reason']) for a in plan['actions']]
    assert states[0] == (st.SUCCEEDED, None)
    assert states[1][0] == st.SKIPPED
    assert states[1][1].startswith('host %s still runs ' % busy)
    assert states[2] == (st.FAILED, 'no enabled power driver manages host '
                                    'compute-99')
    assert driver.get_power_state(nodes[1]) == power_state.POWER_OFF
    assert driver.get_power_state(nodes[0]) == power_state.POWER_ON


def test_migration_past_its_timeout_fails(harness, sim, topology):
    sim.writes.configure(duration_s=GUARD, jitter=0)
    actions = chain_plan(topology, 1, kinds=('live',))
    applier, plan = run(harness, actions,
                        applier={'migration_timeout': 1})
    action = plan['actions'][0]
    assert action['state'] == st.FAILED
    assert action['state_reason'].startswith(
        'did not end within 1 s ([applier] migration_timeout)')
    assert plan['state'] == st.FAILED


def test_cancel_through_another_engine_ends_the_plan_cancelled(
        harness, store):
    """Engine B (same database) cancels a plan engine A runs: A's next
    steps find their actions CANCELLED in the store and the plan ends
    CANCELLED."""
    ongoing = ongoing_event(store, 0)
    actions = [act.sleep(0.3)] + [act.nop('after') for _ in range(3)]
    engine_a = harness.applier(applier={'max_parallel_actions': 1})
    engine_b = harness.applier(DEFAULT={'host': 'engine-b'})
    plan_uuid = fx.store_plan(store, actions)
    engine_a.start_plan(plan_uuid)
    assert ongoing.wait(GUARD)
    assert engine_b.cancel_plan(plan_uuid)['state'] == st.CANCELLING
    assert engine_a.wait(plan_uuid, GUARD)
    plan = store.get_action_plan(plan_uuid)
    assert plan['state'] == st.CANCELLED
    assert [a['state'] for a in plan['actions']] == \
        [st.SUCCEEDED] + [st.CANCELLED] * 3


def test_max_parallel_actions_is_read_at_each_dispatch(harness, store):
    """A reload (mutable option) widens a running plan at once."""
    ongoing = ongoing_event(store, 0)
    applier = harness.applier(applier={'max_parallel_actions': 1})
    plan_uuid = fx.store_plan(store, [act.sleep(0.2) for _ in range(6)])
    applier.start_plan(plan_uuid)
    assert ongoing.wait(GUARD)
    assert applier.statistics().peak_parallel == 1
    applier.conf.set_override('max_parallel_actions', 6, group='applier')
    assert applier.wait(plan_uuid, GUARD)
    # NOTE: 6 when the widening came while the first sleep still ran.
    assert applier.statistics().peak_parallel >= 5
    assert store.get_action_plan(plan_uuid)['state'] == st.SUCCEEDED


def test_plan_cancelled_before_it_runs_ends_cancelled(harness, store):
    """Cancelled between the start's PENDING and its ONGOING (another
    engine's API, say): the plan ends CANCELLED, not stuck CANCELLING."""
    applier = harness.applier()
    plan_uuid = fx.store_plan(store, [act.nop('x'), act.nop('y')])
    real = store.start_plan

    def start_then_cancel(uuid, owner):
        plan = real(uuid, owner)
        harness.applier(DEFAULT={'host': 'engine-b'}).cancel_plan(uuid)
        return plan
    store.start_plan = start_then_cancel
    applier.start_plan(plan_uuid)
    assert applier.wait(plan_uuid, GUARD)
    plan = store.get_action_plan(plan_uuid)
    assert plan['state'] == st.CANCELLED
    assert [a['state'] for a in plan['actions']] == [st.CANCELLED] * 2
