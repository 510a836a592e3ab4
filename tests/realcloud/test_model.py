"""The engine's model of a real cloud equals what Nova and Placement say.

Everything is read through the daemon's API, as an operator reads it:
``GET /v1/model`` gives the whole cloud's totals (as the model counts
them, with the usage source's used amounts), Watcher's ``GET
/v1/data_model`` (microversion 1.6) each host's capacities, service
status and state, and its servers with their amounts, names, projects,
vm_states and locks.

The engine finds Nova and Placement through Keystone's catalog (password
auth, no endpoint override) and serves its API behind Keystone tokens.
Servers of distinct flavors are booted on the four fake-driver computes,
whose allocation ratios (fractional ones included) and reserved amounts
all differ; the model's capacities, used amounts, instances and host
states must equal Nova's and Placement's, with both usage sources.
"""

import collections

import pytest

from tests.fixtures import figures
from tests.fixtures import realcloud_live as live
from tests.fixtures.openstack import engine as engine_mod

#: (vcpus, ram MB, disk GB) of the flavors booted, one per host per round.
FLAVORS = {'rc-tiny': (1, 512, 1), 'rc-small': (2, 1024, 5),
           'rc-medium': (3, 1536, 10), 'rc-wide': (4, 256, 0)}
ROUNDS = [
    {'compute-1': 'rc-tiny', 'compute-2': 'rc-small',
     'compute-3': 'rc-medium', 'compute-4': 'rc-wide'},
    {'compute-1': 'rc-medium', 'compute-2': 'rc-wide',
     'compute-3': 'rc-tiny'},
]


@pytest.fixture(scope='module')
def servers(cloud):
    flavors = {name: cloud.flavor(name, *size)
               for name, size in FLAVORS.items()}
    ids = cloud.boot_rounds([{host: flavors[name]
                              for host, name in round_.items()}
                             for round_ in ROUNDS], prefix='model')
    # One server stopped and one locked: the model must show their
    # vm_state and lock as Nova does.
    live.server_action(cloud, ids[0], {'os-stop': None})
    live.server_action(cloud, ids[1], {'lock': None})
    live.idle(cloud, ids[0], 'SHUTOFF')
    yield ids
    cloud.delete_all_servers()


@pytest.mark.parametrize('usage_source', ['flavors', 'placement'])
def test_model_equals_nova_and_placement(tmp_path, testbed, cloud, servers,
                                         usage_source):
    hosts = cloud.hosts()
    # The set-up is what the test means: the servers landed where asked
    # and every host's capacity differs.
    assert {host: len(h['servers']) for host, h in hosts.items()} == {
        'compute-1': 2, 'compute-2': 2, 'compute-3': 2, 'compute-4': 1}
    assert len({(h['vcpu_capacity'], h['memory_mb_capacity'])
                for h in hosts.values()}) == 4
    expected = cloud.totals()
    nova_servers = {s['id']: {
        'name': s['name'], 'state': s['OS-EXT-STS:vm_state'],
        'project': s['tenant_id'], 'locked': s['locked'],
        'host': s['OS-EXT-SRV-ATTR:host']} for s in cloud.compute(
            'GET', '/servers/detail?all_tenants=1')['servers']}

    engine = engine_mod.RealEngine(tmp_path, testbed,
                                   usage_source=usage_source)
    engine.start()
    try:
        neutron = cloud.standin_counts().get('neutron v2.0/ports', 0)
        audit = engine.run_audit({'strategy': 'dummy'})
        assert audit['state'] == 'SUCCEEDED', audit['state_reason']
        neutron = cloud.standin_counts().get(
            'neutron v2.0/ports', 0) - neutron
        model = engine.get('/v1/model')
        data_model = engine.get('/v1/data_model', version='1.6')
    finally:
        engine.stop()
    # NOTE: what the build cost the cloud downstream: nova-api asks
    # Neutron for the ports of the servers of each listing.
    figures.record('realcloud/model-build-%s' % usage_source,
                   build_s=audit['build_seconds'],
                   neutron_port_queries=neutron,
                   nova_hosts=len(hosts))
    summary = model['summary']
    assert summary['usage_source'] == usage_source
    assert summary['excluded_nodes'] == 0, summary['excluded']
    got = {key: summary[key] for key in expected}
    assert got == pytest.approx(expected), (got, expected)
    # What Placement holds is what the flavors say here (no migration in
    # progress): both sources see the same used amounts.
    assert summary['vcpus_used'] == sum(
        FLAVORS[name][0] for round_ in ROUNDS for name in round_.values())
    # Each host, through Watcher's data model: its capacities from the
    # inventories Placement has, its servers and their flavors' amounts
    # (what Placement holds for them: no migration is in progress).
    rows = data_model['context']
    assert per_host(rows) == hosts
    # Each server as Nova shows it.
    assert {row['server_uuid']: {
        'name': row['server_name'], 'state': row['server_state'],
        'project': row['server_project_id'], 'locked': row['server_locked'],
        'host': row['node_hostname']} for row in rows
        if 'server_uuid' in row} == nova_servers
    assert (nova_servers[servers[0]]['state'],
            nova_servers[servers[1]]['locked']) == ('stopped', True)


def per_host(rows):
    """hostname -> the data model's view of it, keyed as Cloud.hosts()
    keys Nova's and Placement's."""
    result = {}
    servers = collections.defaultdict(list)
    for row in rows:
        name = row['node_hostname']
        host = result.setdefault(name, {
            'status': row['node_status'], 'state': row['node_state'],
            'vcpu_used': 0, 'memory_mb_used': 0, 'disk_gb_used': 0})
        for field, total, reserved, ratio in (
                ('vcpu', 'node_vcpus', 'node_vcpu_reserved',
                 'node_vcpu_ratio'),
                ('memory_mb', 'node_memory', 'node_memory_mb_reserved',
                 'node_memory_ratio'),
                ('disk_gb', 'node_disk', 'node_disk_gb_reserved',
                 'node_disk_ratio')):
            host[field + '_capacity'] = (
                float(row[total]) - float(row[reserved])) * float(row[ratio])
        if 'server_uuid' in row:
            servers[name].append(row['server_uuid'])
            host['vcpu_used'] += int(row['server_vcpus'])
            host['memory_mb_used'] += int(row['server_memory'])
            host['disk_gb_used'] += int(row['server_disk'])
    for name, host in result.items():
        host['servers'] = sorted(servers[name])
    return result
