"""scope.select: the scoped copy of a whole-cloud model."""

from decision_engine.model import elements
from decision_engine.model import scope as scope_mod


def _model(usage_source):
    model = elements.ComputeModel()
    model.usage_source = usage_source
    for uuid, hostname in (('n1', 'compute-1'), ('n2', 'compute-2')):
        model.add_node(elements.ComputeNode(uuid, hostname, vcpus=8,
                                            memory_mb=4096, disk_gb=100))
    model.add_instance(elements.Instance(
        'mine', 'vm1', 'active', 'p1', 'compute-1', vcpus=2,
        memory_mb=1024, disk_gb=10))
    model.add_instance(elements.Instance(
        'theirs', 'vm2', 'active', 'p2', 'compute-1', vcpus=1,
        memory_mb=512, disk_gb=5))
    return model


def test_select_keeps_the_hosts_and_projects_in_scope():
    whole = _model('flavors')
    scoped = scope_mod.select(whole, scope_mod.Scope(
        include_hosts=['compute-1'], include_projects=['p1']))
    assert sorted(scoped.nodes) == ['n1']
    assert [i.uuid for i in scoped.instances_on('compute-1')] == ['mine']
    assert scoped.get_node_by_hostname('compute-1') is not \
        whole.get_node_by_hostname('compute-1')
    assert scoped.used('compute-1') == (2, 1024, 10)


def test_placement_usage_holds_what_other_projects_use():
    whole = _model('placement')
    scoped = scope_mod.select(whole, scope_mod.Scope(
        include_projects=['p1']))
    assert [i.uuid for i in scoped.instances_on('compute-1')] == ['mine']
    # the other project's instance still holds its resources there, as
    # a scoped build reads them from Placement
    assert scoped.used('compute-1') == whole.used('compute-1')
    assert not whole.get_node_by_hostname('compute-1').held
    assert not scoped.get_node_by_hostname('compute-2').held
