"""The simulator's write side (simulator/migrations.py) over HTTP, through
openstacksdk: Nova's bodies, microversions, checks and state progression,
with Placement and hypervisor usage following the servers."""

import dataclasses

import pytest
import requests

from decision_engine.simulator import Simulator
from decision_engine.simulator.records import ServerGroup


def _all_up_but_the_last(topo):
    """Every host up and on, every server active and unlocked; the last
    host's service disabled."""
    for host in topo.hosts:
        host.status, host.state, host.disabled_reason = 'enabled', 'up', None
        host.power_state = 'power on'
    for inst in topo.instances:
        inst.vm_state, inst.locked = 'active', False
    topo.hosts[-1].status = 'disabled'


pytestmark = pytest.mark.topology(hosts=6, instances=30, aggregates=1, azs=1,
                                  seed=5, edit=_all_up_but_the_last)


class Clock:
    """The write side's clock, moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(topology, clock):
    simulator = Simulator(topology, migrations={
        'duration_s': 10, 'jitter': 0, 'clock': clock})
    simulator.start()
    yield simulator
    simulator.stop()


def server(conn, uuid):
    return conn.compute.get('/servers/%s' % uuid,
                            microversion='2.47').json()['server']


def usage(conn, host):
    rp = host.uuid
    placement = conn.placement.get(
        '/resource_providers/%s/usages' % rp,
        microversion='1.9').json()['usages']
    hyp = conn.compute.get('/os-hypervisors/%s' % host.id,
                           microversion='2.1').json()['hypervisor']
    return placement['VCPU'], hyp['vcpus_used']


def live(conn, uuid, host, microversion='2.30', **extra):
    body = {'os-migrateLive': dict({'host': host,
                                    'block_migration': 'auto'}, **extra)}
    return conn.compute.post('/servers/%s/action' % uuid, json=body,
                             microversion=microversion)


def pick(topology):
    inst = next(i for i in topology.instances if i.host == 'compute-1')
    dest = next(h for h in topology.hosts if h.hostname == 'compute-2')
    source = next(h for h in topology.hosts if h.hostname == 'compute-1')
    return inst, source, dest


def test_live_migration_moves_server_and_usage(sim, conn, clock, topology):
    inst, source, dest = pick(topology)
    src_before, dst_before = usage(conn, source), usage(conn, dest)
    response = live(conn, inst.uuid, dest.hostname)
    assert response.status_code == 202 and response.content == b''
    body = server(conn, inst.uuid)
    assert (body['status'], body['OS-EXT-STS:task_state'],
            body['OS-EXT-SRV-ATTR:host']) == ('MIGRATING', 'migrating',
                                              source.hostname)
    # Both hosts hold the server's resources while it moves.
    vcpus = inst.flavor.vcpus
    assert usage(conn, dest) == (dst_before[0] + vcpus,
                                 dst_before[1] + vcpus)
    assert usage(conn, source) == src_before
    second = live(conn, inst.uuid, 'compute-3')
    assert second.status_code == 409
    assert 'task_state migrating' in second.json()[
        'conflictingRequest']['message']
    clock.now += 10
    body = server(conn, inst.uuid)
    assert (body['status'], body['OS-EXT-STS:task_state'],
            body['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', None,
                                              dest.hostname)
    assert usage(conn, source) == (src_before[0] - vcpus,
                                   src_before[1] - vcpus)
    listed = conn.compute.get('/servers/detail?all_tenants=1&host=%s'
                              % dest.hostname, microversion='2.47').json()
    assert inst.uuid in [s['id'] for s in listed['servers']]
    log = sim.writes.request_log()
    assert log[0]['method'] == 'POST'
    assert log[0]['microversion'] == '2.30'
    assert log[0]['body'] == {'os-migrateLive': {
        'host': dest.hostname, 'block_migration': 'auto'}}


def test_cold_migration_waits_for_confirm(sim, conn, clock, topology):
    inst, source, dest = pick(topology)
    src_before = usage(conn, source)
    response = conn.compute.post('/servers/%s/action' % inst.uuid,
                                 json={'migrate': {'host': dest.hostname}},
                                 microversion='2.56')
    assert response.status_code == 202
    assert server(conn, inst.uuid)['status'] == 'RESIZE'
    early = conn.compute.post('/servers/%s/action' % inst.uuid,
                              json={'confirmResize': None},
                              microversion='2.56')
    assert early.status_code == 409
    clock.now += 10
    body = server(conn, inst.uuid)
    assert (body['status'], body['OS-EXT-SRV-ATTR:host']) == (
        'VERIFY_RESIZE', dest.hostname)
    assert usage(conn, source) == src_before     # held until confirmed
    assert conn.compute.post('/servers/%s/action' % inst.uuid,
                             json={'confirmResize': None},
                             microversion='2.56').status_code == 202
    assert server(conn, inst.uuid)['status'] == 'ACTIVE'
    assert usage(conn, source)[0] == src_before[0] - inst.flavor.vcpus


def allocations(conn, host):
    return {consumer: entry['resources'] for consumer, entry in
            conn.placement.get('/resource_providers/%s/allocations'
                               % host.uuid, microversion='1.0').json()[
                'allocations'].items()}


def test_allocations_follow_the_migration_as_nova_moves_them(
        sim, conn, clock, topology):
    """Nova's migration-based allocations: while a server moves, its old
    allocation is the migration's on the source and the destination's is
    the server's; confirm (cold) or the end (live) deletes the
    migration's; a failed move gives it back to the server."""
    inst, source, dest = pick(topology)
    mine = allocations(conn, source)[inst.uuid]
    others = {c: r for c, r in allocations(conn, source).items()
              if c != inst.uuid}
    conn.compute.post('/servers/%s/action' % inst.uuid,
                      json={'migrate': {'host': dest.hostname}},
                      microversion='2.56')
    during = allocations(conn, source)
    assert inst.uuid not in during
    (migration, held), = [(c, r) for c, r in during.items()
                          if c not in others]
    assert held == mine
    assert allocations(conn, dest)[inst.uuid] == mine
    clock.now += 10        # VERIFY_RESIZE: still both
    assert allocations(conn, source) == during
    conn.compute.post('/servers/%s/action' % inst.uuid,
                      json={'confirmResize': None}, microversion='2.56')
    assert allocations(conn, source) == others
    assert allocations(conn, dest)[inst.uuid] == mine
    # Usages are the sums of the allocations.
    used = conn.placement.get('/resource_providers/%s/usages' % source.uuid,
                              microversion='1.9').json()['usages']
    assert {rc: n for rc, n in used.items() if n} == {
        rc: n for rc, n in _sums(others).items() if n}
    # A live migration back (from dest to source) that fails: everything
    # back to the server on dest.
    sim.writes.fail_servers = {inst.uuid}
    before = allocations(conn, source)
    live(conn, inst.uuid, source.hostname)
    assert inst.uuid not in allocations(conn, dest)
    assert allocations(conn, source)[inst.uuid] == mine
    clock.now += 10
    assert allocations(conn, dest)[inst.uuid] == mine
    assert allocations(conn, source) == before


def _sums(consumers):
    total = {}
    for resources in consumers.values():
        for rc, amount in resources.items():
            total[rc] = total.get(rc, 0) + amount
    return total


@pytest.mark.parametrize('case, status, words', [
    ('disabled', 400, 'No valid host'),
    ('unknown', 400, 'could not be found'),
    ('same', 400, 'current host'),
    ('locked', 409, 'locked'),
    ('full', 400, 'not enough'),
    ('old_auto', 400, '2.25'),
    ('force_gone', 400, 'force'),
    ('cold_host_old', 400, "'host' was unexpected"),
])
def test_nova_checks(sim, conn, topology, case, status, words):
    inst, source, dest = pick(topology)
    if case == 'disabled':
        response = live(conn, inst.uuid, topology.hosts[-1].hostname)
    elif case == 'unknown':
        response = live(conn, inst.uuid, 'compute-99')
    elif case == 'same':
        response = live(conn, inst.uuid, source.hostname)
    elif case == 'locked':
        inst.locked = True
        response = live(conn, inst.uuid, dest.hostname)
    elif case == 'full':
        dest.vcpus = 1
        dest.cpu_allocation_ratio = 1.0
        response = live(conn, inst.uuid, dest.hostname)
    elif case == 'old_auto':
        response = live(conn, inst.uuid, dest.hostname,
                        microversion='2.24')
    elif case == 'force_gone':
        response = live(conn, inst.uuid, dest.hostname,
                        microversion='2.68', force=False)
    else:
        response = conn.compute.post(
            '/servers/%s/action' % inst.uuid,
            json={'migrate': {'host': dest.hostname}},
            microversion='2.55')
    assert response.status_code == status, response.text
    assert words in response.text
    assert server(conn, inst.uuid)['OS-EXT-STS:task_state'] is None


def test_server_group_filters_refuse_as_nova_does(sim, conn, clock,
                                                  topology):
    inst, source, dest = pick(topology)
    other = next(i for i in topology.instances
                 if i.host == dest.hostname and i.uuid != inst.uuid)
    topology.server_groups.append(ServerGroup(
        uuid='g-anti', name='anti', policy='anti-affinity', project_id='p',
        user_id='u', members=[inst.uuid, other.uuid]))
    response = live(conn, inst.uuid, dest.hostname)
    assert response.status_code == 400, response.text
    assert 'anti-affinity server group g-anti' in response.text
    assert 'ServerGroupAntiAffinityFilter' in response.text
    # Forced (2.30 to 2.67), Nova's scheduler is not asked.
    response = live(conn, inst.uuid, dest.hostname, force=True)
    assert response.status_code == 202, response.text
    clock.now += 10
    # Now together: the rule allows two per host.
    topology.server_groups[-1].rules = {'max_server_per_host': 2}
    third = next(i for i in topology.instances
                 if i.host not in (dest.hostname, None)
                 and i.uuid not in (inst.uuid, other.uuid))
    topology.server_groups[-1].members.append(third.uuid)
    response = live(conn, third.uuid, dest.hostname)
    assert response.status_code == 400 and 'runs 2 member' in response.text
    # Affinity: a member goes only where a member of its group runs; its
    # own host counts, so a group holding together cannot be split.
    topology.server_groups[-1] = ServerGroup(
        uuid='g-aff', name='aff', policy='affinity', project_id='p',
        user_id='u', members=[third.uuid])
    free = next(h for h in topology.hosts[:-1]
                if h.hostname not in (third.host, dest.hostname))
    response = live(conn, third.uuid, free.hostname)
    assert response.status_code == 400, response.text
    assert 'ServerGroupAffinityFilter' in response.text


def traits(conn, host, microversion='1.6'):
    return conn.placement.get('/resource_providers/%s/traits' % host.uuid,
                              microversion=microversion)


def test_traits_as_placement_serves_them_and_the_scheduler_checks(
        sim, conn, clock, topology):
    inst, source, dest = pick(topology)
    dest.traits = ['CUSTOM_GPU']
    body = traits(conn, dest).json()
    assert body == {'resource_provider_generation': 1,
                    'traits': ['CUSTOM_GPU']}
    # Before 1.6 Placement has no such route; a disabled compute's
    # provider carries the trait Nova sets on it.
    assert traits(conn, dest, '1.5').status_code == 404
    assert traits(conn, topology.hosts[-1]).json()['traits'] == [
        'COMPUTE_STATUS_DISABLED']
    # The flavor requires a trait the destination lacks: no valid host.
    inst.flavor = dataclasses.replace(inst.flavor, extra_specs={
        'trait:CUSTOM_SSD': 'required'})
    response = live(conn, inst.uuid, dest.hostname)
    assert response.status_code == 400, response.text
    assert 'lacks trait CUSTOM_SSD' in response.text
    response = conn.compute.post('/servers/%s/action' % inst.uuid,
                                 json={'migrate': {'host': dest.hostname}},
                                 microversion='2.56')
    assert response.status_code == 400, response.text
    # A forbidden trait it has: refused too.
    inst.flavor.extra_specs = {'trait:CUSTOM_GPU': 'forbidden'}
    response = live(conn, inst.uuid, dest.hostname)
    assert response.status_code == 400 and 'has trait CUSTOM_GPU' in \
        response.text
    # Once the destination has the required trait (and not the
    # forbidden one), the move goes through.
    dest.traits = ['CUSTOM_SSD']
    inst.flavor.extra_specs = {'trait:CUSTOM_SSD': 'required',
                               'trait:CUSTOM_GPU': 'forbidden'}
    response = live(conn, inst.uuid, dest.hostname)
    assert response.status_code == 202, response.text
    clock.now += 10
    assert server(conn, inst.uuid)['OS-EXT-SRV-ATTR:host'] == dest.hostname


def test_live_migrations_queue_per_source_compute(sim, conn, clock,
                                                  topology):
    first, second = [i for i in topology.instances
                     if i.host == 'compute-1'][:2]
    assert live(conn, first.uuid, 'compute-2').status_code == 202
    assert live(conn, second.uuid, 'compute-3').status_code == 202
    clock.now += 10
    assert server(conn, first.uuid)['OS-EXT-SRV-ATTR:host'] == 'compute-2'
    body = server(conn, second.uuid)
    assert (body['status'], body['OS-EXT-SRV-ATTR:host']) == (
        'MIGRATING', 'compute-1')
    clock.now += 10
    moves = sim.writes.migrations()
    assert moves[1]['started'] == moves[0]['ended']
    assert server(conn, second.uuid)['OS-EXT-SRV-ATTR:host'] == 'compute-3'


def test_injected_failure_rolls_back_to_the_source(sim, conn, clock,
                                                   topology):
    inst, source, dest = pick(topology)
    dst_before = usage(conn, dest)
    sim.writes.configure(fail_ratio=1.0)
    assert live(conn, inst.uuid, dest.hostname).status_code == 202
    clock.now += 10
    body = server(conn, inst.uuid)
    assert (body['status'], body['OS-EXT-STS:task_state'],
            body['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', None,
                                              source.hostname)
    assert usage(conn, dest) == dst_before
    record = sim.writes.migrations()[0]
    assert record['outcome'] == 'error'
    assert 'rolled back' in record['fault']


def test_service_update_at_2_53(sim, conn, topology):
    host = topology.hosts[0]
    path = '/os-services/%s' % host.service_uuid
    response = conn.compute.put(path, json={
        'status': 'disabled', 'disabled_reason': 'maintenance'},
        microversion='2.53')
    assert response.status_code == 200
    assert response.json()['service']['status'] == 'disabled'
    listed = conn.compute.get('/os-services?host=%s' % host.hostname,
                              microversion='2.53').json()['services']
    assert [(s['status'], s['disabled_reason']) for s in listed] == [
        ('disabled', 'maintenance')]
    assert conn.compute.put(path, json={'status': 'enabled'},
                            microversion='2.52').status_code == 404
    bad = conn.compute.put(path, json={'status': 'enabled',
                                       'disabled_reason': 'x'},
                           microversion='2.53')
    assert bad.status_code == 400


def test_admin_endpoints_show_the_request_log(sim, conn, topology):
    inst, source, dest = pick(topology)
    live(conn, inst.uuid, dest.hostname)
    log = requests.get(sim.url + '/_sim/compute/requests',
                       timeout=10).json()['requests']
    assert [(e['method'], e['microversion']) for e in log] == [
        ('POST', '2.30')]
    settings = requests.put(sim.url + '/_sim/compute/settings',
                            json={'duration_s': 2, 'fail_ratio': 0.5},
                            timeout=10)
    assert settings.status_code == 200
    assert settings.json()['fail_ratio'] == 0.5
    bad = requests.put(sim.url + '/_sim/compute/settings',
                       json={'duration': 2}, timeout=10)
    assert bad.status_code == 400
    assert 'unknown setting' in bad.json()['error']


def test_command_line_sets_the_migration_behaviour(tmp_path):
    import json
    import subprocess
    import sys

    ready = tmp_path / 'ready.json'
    proc = subprocess.Popen(
        [sys.executable, '-m', 'decision_engine.simulator', '--quiet',
         '--hosts', '3', '--instances', '6', '--ready-file', str(ready),
         '--migration-s', '0.25', '--migration-jitter', '0',
         '--migration-fail-ratio', '0.5',
         '--max-concurrent-live-migrations', '2'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert 'listening on' in proc.stdout.readline()
        url = json.loads(ready.read_text())['url']
        settings = requests.get(url + '/_sim/compute/settings',
                                timeout=10).json()
        assert settings == {'duration_s': 0.25, 'jitter': 0.0,
                            'fail_ratio': 0.5,
                            'max_concurrent_live_migrations': 2,
                            'fail_servers': []}
    finally:
        proc.terminate()
        proc.wait(30)
