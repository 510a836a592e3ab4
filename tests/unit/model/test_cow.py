"""Snapshots that share elements and indexes: equal at first, and neither
side's later changes show in the other."""

import random

from decision_engine.model import cow
from decision_engine.model import elements


def _model(hosts=20, instances=500):
    model = elements.ComputeModel()
    for h in range(hosts):
        model.add_node(elements.ComputeNode('n%d' % h, 'host-%d' % h,
                                            vcpus=64))
    for i in range(instances):
        model.add_instance(elements.Instance(
            'i%d' % i, 'vm', 'active', 'p', 'host-%d' % (i % hosts), 1))
    return model


def test_sharded_map_behaves_as_a_dict():
    rng = random.Random(5)
    ref = {}
    smap = cow.ShardedMap()
    for _ in range(3000):
        key = 'k%d' % rng.randrange(400)
        if rng.random() < 0.3 and key in ref:
            assert smap.pop(key) == ref.pop(key)
        else:
            ref[key] = smap[key] = rng.random()
        assert len(smap) == len(ref)
    assert dict(smap.items()) == ref and smap == ref
    assert sorted(smap) == sorted(ref)
    assert sorted(smap.values()) == sorted(ref.values())


def test_sharded_map_snapshots_are_independent():
    smap = cow.ShardedMap({'a': 1, 'b': 2})
    snap = smap.snapshot()
    smap['a'] = 10
    del smap['b']
    snap['c'] = 3
    assert dict(smap.items()) == {'a': 10}
    assert dict(snap.items()) == {'a': 1, 'b': 2, 'c': 3}


def test_model_snapshot_isolation_both_ways():
    model = _model()
    snap = model.snapshot()
    assert snap == model
    expected_snap = model.copy()
    # The writer replaces elements, removes and adds.
    moved = model.get_instance('i1').copy()
    moved.host = 'host-5'
    moved.state = 'stopped'
    model.add_instance(moved)
    model.remove_instance('i2')
    model.add_instance(elements.Instance('new', 'vm', 'active', 'p',
                                         'host-3', 2))
    node = model.get_node('n4').copy()
    node.status = 'disabled'
    model.add_node(node)
    assert snap == expected_snap
    assert snap.get_instance('i1').host == 'host-1'
    assert 'i2' in [i.uuid for i in snap.instances_on('host-2')]
    assert snap.get_instance('new') is None
    assert snap.get_node('n4').status == 'enabled'
    assert snap.used('host-3') == expected_snap.used('host-3')
    # The snapshot's holder moves an instance (a what-if): the model and
    # a second snapshot do not see it.
    expected_model = model.copy()
    second = model.snapshot()
    snap.move_instance('i3', 'host-9')
    assert model == expected_model and second == expected_model
    assert model.get_instance('i3').host == 'host-3'
    assert [i.uuid for i in model.instances_on('host-9')
            if i.uuid == 'i3'] == []
