"""The model elements and the model's indexes and snapshot copies."""

from decision_engine.model import elements


def _model():
    model = elements.ComputeModel()
    model.add_node(elements.ComputeNode(
        'n1', 'compute-1', vcpus=10, vcpus_reserved=2,
        vcpu_allocation_ratio=2.0, memory_mb=4096, memory_mb_reserved=512,
        memory_allocation_ratio=1.5, disk_gb=100, disk_gb_reserved=10,
        disk_allocation_ratio=1.0))
    model.add_node(elements.ComputeNode('n10', 'compute-10', vcpus=4))
    model.add_instance(elements.Instance(
        'i1', 'vm1', 'active', 'p1', 'compute-1', vcpus=2, memory_mb=1024,
        disk_gb=10, ephemeral_gb=5, swap_mb=1, metadata={'a': '1'}))
    model.add_instance(elements.Instance(
        'i2', 'vm2', 'active', 'p1', 'compute-10', vcpus=1))
    return model


def test_capacity_and_disk_total():
    model = _model()
    node = model.get_node('n1')
    assert node.vcpu_capacity == 16.0
    assert node.memory_mb_capacity == (4096 - 512) * 1.5
    assert node.disk_gb_capacity == 90.0
    # swap of 1 MB rounds up to a whole GB, as Nova claims it in Placement
    assert model.get_instance('i1').disk_gb_total == 16


def test_exact_host_index_and_free():
    model = _model()
    assert [i.uuid for i in model.instances_on('compute-1')] == ['i1']
    assert [i.uuid for i in model.instances_on('compute-10')] == ['i2']
    assert model.instances_on('compute-') == []
    assert model.get_node_by_hostname('compute-1').uuid == 'n1'
    assert model.used('compute-1') == (2, 1024, 16)
    assert model.free('compute-1') == (14.0, 3584 * 1.5 - 1024, 74.0)


def test_copy_is_independent():
    model = _model()
    snap = model.copy()
    assert snap == model
    snap.get_node('n1').vcpus = 99
    snap.get_instance('i1').metadata['b'] = '2'
    snap.move_instance('i1', 'compute-10')
    assert model.get_node('n1').vcpus == 10
    assert model.get_instance('i1').metadata == {'a': '1'}
    assert [i.uuid for i in model.instances_on('compute-1')] == ['i1']
    assert sorted(i.uuid for i in snap.instances_on('compute-10')) == \
        ['i1', 'i2']
    assert snap != model


def test_duplicate_hostname_refused():
    model = _model()
    try:
        model.add_node(elements.ComputeNode('other', 'compute-1'))
    except ValueError as exc:
        assert 'compute-1' in str(exc)
    else:
        raise AssertionError('duplicate hostname accepted')


def test_to_dict():
    model = _model()
    data = model.get_node('n1').to_dict()
    assert data['aggregates'] == [] and data['hostname'] == 'compute-1'
    assert model.get_instance('i1').to_dict()['metadata'] == {'a': '1'}
    assert model.summary()['instances'] == 2
