"""The engine's model of a real cloud equals what Nova and Placement say.

The engine finds Nova and Placement through Keystone's catalog (password
auth, no endpoint override) and serves its API behind Keystone tokens.
Servers of distinct flavors are booted on the four fake-driver computes,
whose allocation ratios (fractional ones included) and reserved amounts
all differ; the model's capacities, used amounts, instances and host
states must equal Nova's and Placement's, with both usage sources.
"""

import pytest

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
        audit = engine.run_audit({'strategy': 'dummy'})
        assert audit['state'] == 'SUCCEEDED', audit['state_reason']
        model = engine.get('/v1/model')
    finally:
        engine.stop()
    summary = model['summary']
    assert summary['usage_source'] == usage_source
    assert summary['excluded_nodes'] == 0, summary['excluded']
    got = {key: summary[key] for key in expected}
    assert got == pytest.approx(expected), (got, expected)
    # What Placement holds is what the flavors say here (no migration in
    # progress): both sources see the same used amounts.
    assert summary['vcpus_used'] == sum(
        FLAVORS[name][0] for round_ in ROUNDS for name in round_.values())
