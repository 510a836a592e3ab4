"""Topology generation, JSON round trip and validation."""

import json

import pytest

from decision_engine.simulator import Topology
from decision_engine.simulator import TopologyError


def test_generate_is_deterministic():
    a = Topology.generate(hosts=30, instances=300, aggregates=3, azs=2,
                          seed=5)
    assert a == Topology.generate(hosts=30, instances=300, aggregates=3,
                                  azs=2, seed=5)
    assert a != Topology.generate(hosts=30, instances=300, aggregates=3,
                                  azs=2, seed=6)


def test_generate_is_awkward():
    topo = Topology.generate(hosts=60, instances=600, aggregates=3, azs=3,
                             seed=1)
    counts = {h.hostname: len(topo.instances_on(h.hostname))
              for h in topo.hosts}
    assert counts['compute-1'] > 0 and counts['compute-10'] > 0
    assert 0 in counts.values()                       # empty hosts
    assert max(counts.values()) > 2 * (600 / 60)      # uneven spread
    assert any(h.status == 'disabled' for h in topo.hosts)
    assert any(h.state == 'down' for h in topo.hosts)
    assert topo.availability_zones == ['az-1', 'az-2', 'az-3']
    assert len(topo.aggregates) == 6
    assert sum(len(i.metadata) > 0 for i in topo.instances) > 0
    assert sum(i.flavor.ephemeral > 0 for i in topo.instances) > 0


def test_opted_out_share_is_chosen_apart_from_the_rest():
    shape = dict(hosts=20, instances=400, aggregates=2, azs=2, seed=3)
    plain = Topology.generate(**shape)
    assert not any(i.metadata.get('optimize') == 'false'
                   for i in plain.instances)
    some = Topology.generate(opted_out=0.2, **shape)
    out = [i for i in some.instances if i.metadata.get('optimize') == 'false']
    assert 40 < len(out) < 120
    # Everything else, hosts and placement included, is the same cloud.
    for a, b in zip(plain.instances, some.instances):
        assert (a.uuid, a.host, a.flavor) == (b.uuid, b.host, b.flavor)
        assert {k: v for k, v in b.metadata.items() if k != 'optimize'} \
            == {k: v for k, v in a.metadata.items() if k != 'optimize'}
    assert plain.hosts == some.hosts
    assert some == Topology.generate(opted_out=0.2, **shape)


def test_host_traits_are_read_and_checked():
    doc = _minimal()
    doc['hosts'][0]['traits'] = ['CUSTOM_SSD', 'HW_CPU_X86_AVX2']
    assert Topology.from_dict(doc).hosts[0].traits == [
        'CUSTOM_SSD', 'HW_CPU_X86_AVX2']
    doc['hosts'][0]['traits'] = ['custom ssd']
    with pytest.raises(TopologyError, match=r'hosts\[0\]\.traits: expected '
                       r'a list of trait names'):
        Topology.from_dict(doc)


def test_no_azs_means_nova():
    topo = Topology.generate(hosts=3, instances=3, aggregates=0, azs=0)
    assert topo.availability_zones == ['nova']
    assert topo.aggregates == []


def test_json_round_trip(tmp_path):
    topo = Topology.generate(hosts=15, instances=100, aggregates=2, azs=2,
                             seed=2)
    assert Topology.from_json(topo.to_json()) == topo
    path = tmp_path / 'topo.json'
    path.write_text(topo.to_json(indent=2))
    assert Topology.load(str(path)) == topo


def _minimal():
    return {'hosts': [{'hostname': 'compute-1', 'uuid': 'u1', 'vcpus': 4,
                       'memory_mb': 1024, 'disk_gb': 10}],
            'instances': [{'uuid': 'i1', 'name': 'vm', 'host': 'compute-1',
                           'project_id': 'p',
                           'flavor': {'name': 'f', 'vcpus': 1, 'ram': 64,
                                      'disk': 1}}]}


def test_minimal_document_gets_defaults():
    topo = Topology.from_dict(_minimal())
    host = topo.hosts[0]
    assert (host.id, host.status, host.state, host.availability_zone) == (
        1, 'enabled', 'up', 'nova')
    assert topo.instances[0].vm_state == 'active'


@pytest.mark.parametrize('mutate,field', [
    (lambda d: d['hosts'][0].pop('vcpus'), 'hosts[0].vcpus'),
    (lambda d: d['hosts'][0].update(vcpus='4'), 'hosts[0].vcpus'),
    (lambda d: d['hosts'][0].update(vcpus=0), 'hosts[0].vcpus'),
    (lambda d: d['hosts'][0].update(status='off'), 'hosts[0].status'),
    (lambda d: d['hosts'].append(dict(d['hosts'][0], uuid='u2')),
     'hosts[1].hostname'),
    (lambda d: d['instances'][0].update(host='compute-9'),
     'instances[0].host'),
    (lambda d: d['instances'][0]['flavor'].update(ram=-1),
     'instances[0].flavor.ram'),
    (lambda d: d['instances'][0].update(created='yesterday'),
     'instances[0].created'),
    (lambda d: d['instances'][0].update(vm_state='happy'),
     'instances[0].vm_state'),
    (lambda d: d['instances'][0].update(metadata={'a': 1}),
     'instances[0].metadata'),
    (lambda d: d.update(aggregates=[{'name': 'a', 'hosts': ['x']}]),
     'aggregates[0].hosts[0]'),
    (lambda d: d['hosts'][0].update(availability_zone='az-9'),
     'hosts[0].availability_zone'),
    (lambda d: d.update(aggregates=[{'name': 'a', 'hosts': ['compute-1'],
                                     'availability_zone': 'az-1'}]),
     'aggregates[0].hosts[0]'),
    (lambda d: d['hosts'][0].update(cpu_allocation_ratio=float('inf')),
     'hosts[0].cpu_allocation_ratio'),
    (lambda d: d.pop('hosts'), 'topology.hosts'),
    (lambda d: d.update(version=2), 'version'),
    (lambda d: d.update(server_groups=[{'name': 'g', 'policy': 'often'}]),
     'server_groups[0].policy'),
    (lambda d: d.update(server_groups=[{'name': 'g', 'policy': 'affinity',
                                        'members': ['nope']}]),
     'server_groups[0].members[0]'),
    (lambda d: d.update(server_groups=[
        {'name': 'g', 'policy': 'affinity', 'members': ['i1']},
        {'name': 'h', 'policy': 'affinity', 'members': ['i1']}]),
     'server_groups[1].members[0]'),
    (lambda d: d.update(server_groups=[
        {'name': 'g', 'policy': 'affinity',
         'rules': {'max_server_per_host': 2}}]), 'server_groups[0].rules'),
    (lambda d: d.update(server_groups=[
        {'name': 'g', 'policy': 'anti-affinity',
         'rules': {'max_server_per_host': 0}}]),
     'server_groups[0].rules.max_server_per_host'),
])
def test_validation_names_the_field(mutate, field):
    doc = _minimal()
    mutate(doc)
    with pytest.raises(TopologyError) as info:
        Topology.from_dict(doc)
    message = str(info.value)
    assert message.startswith(field + ':'), message
    assert '\n' not in message


def test_server_groups_round_trip():
    doc = _minimal()
    doc['server_groups'] = [{'name': 'g', 'policy': 'anti-affinity',
                             'members': ['i1'],
                             'rules': {'max_server_per_host': 3}}]
    topo = Topology.from_dict(doc)
    assert topo.server_group_of('i1').rules == {'max_server_per_host': 3}
    again = Topology.from_json(topo.to_json())
    assert again.server_groups == topo.server_groups


def test_bad_json_and_missing_file(tmp_path):
    with pytest.raises(TopologyError, match='not valid JSON'):
        Topology.from_json('{')
    with pytest.raises(TopologyError, match='cannot read'):
        Topology.load(str(tmp_path / 'missing.json'))
    with pytest.raises(TopologyError, match='expected a JSON object'):
        Topology.from_json(json.dumps([1]))
    binary = tmp_path / 'binary.json'
    binary.write_bytes(b'\xff\xfe\x00{')
    with pytest.raises(TopologyError, match='binary.json: not UTF-8'):
        Topology.load(str(binary))


def test_generate_rejects_bad_counts():
    with pytest.raises(TopologyError, match='hosts'):
        Topology.generate(hosts=-1)
    with pytest.raises(TopologyError, match='instances'):
        Topology.generate(hosts=0, instances=5)
