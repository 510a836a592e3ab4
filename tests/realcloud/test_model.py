"""The engine's model of a real cloud equals what Nova and Placement say.

The daemon's ``GET /v1/model`` gives the whole cloud's totals; the same
collector built in the test process is compared host by host.

The engine finds Nova and Placement through Keystone's catalog (password
auth, no endpoint override) and serves its API behind Keystone tokens.
Servers of distinct flavors are booted on the four fake-driver computes,
whose allocation ratios (fractional ones included) and reserved amounts
all differ; the model's capacities, used amounts, instances and host
states must equal Nova's and Placement's, with both usage sources.
"""

import pytest

from decision_engine.cloud import connection
from decision_engine.collector import collector as collector_mod
from decision_engine.concurrency.pool import WorkerPool
from tests.fixtures import collector_config
from tests.fixtures import figures
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


def per_host(model):
    """hostname -> the model's view, keyed as Cloud.hosts() keys Nova's
    and Placement's."""
    result = {}
    for node in model.nodes.values():
        used = model.used(node.hostname)
        result[node.hostname] = {
            'servers': sorted(i.uuid for i in
                              model.instances_on(node.hostname)),
            'status': node.status, 'state': node.state,
            'vcpu_capacity': node.vcpu_capacity,
            'memory_mb_capacity': node.memory_mb_capacity,
            'disk_gb_capacity': node.disk_gb_capacity,
            'vcpu_used': used[0], 'memory_mb_used': used[1],
            'disk_gb_used': used[2]}
    return result


@pytest.mark.parametrize('usage_source', ['flavors', 'placement'])
def test_each_host_equals_nova_and_placement(tmp_path, testbed, cloud,
                                             servers, made, usage_source):
    """The engine's collector (catalog discovery, password auth) in the
    test process: each host's capacities, used amounts, servers and
    service state as Nova and Placement give them."""
    auth = ''.join('%s = %s\n' % item for item in sorted(
        testbed.credentials('admin').items()))
    conf = collector_config.make(tmp_path, '\n'.join([
        '[nova]', 'auth_type = password',
        'region_name = %s' % testbed.state['region'], auth,
        '[placement]', 'region_name = %s' % testbed.state['region'],
        '[collector]', 'usage_source = %s' % usage_source, '']))
    pool = WorkerPool(8)
    made.append(lambda: pool.shutdown(timeout=30))
    shared = connection.SharedCloud(conf, 8, connection.CloudConnector(conf))
    made.append(shared.close)
    collector = collector_mod.ModelCollector(conf, pool, shared)
    made.append(collector.stop)
    model = collector.get_model()
    assert model.usage_source == usage_source
    assert not model.excluded
    assert per_host(model) == cloud.hosts()
