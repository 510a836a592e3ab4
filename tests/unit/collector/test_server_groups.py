"""Server groups and pinned zones: what the build reads of them (in its
parallel step 1, counted)."""

import pytest

from decision_engine.collector import builder
from tests.fixtures import truth
from tests.fixtures.server_groups import add_groups


pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2,
                                  azs=2, seed=5, edit=add_groups)


def test_build_reads_groups_and_zones_in_step_one(harnesses, sim, topology,
                                                  monkeypatch):
    monkeypatch.setattr(builder, 'SERVER_GROUPS_PAGE_SIZE', 2)
    harness = harnesses(sim)
    harness.build()
    sim.reset_stats()
    model = harness.build()
    truth.assert_same(model, truth.expected_model(topology))
    assert sorted(model.server_groups) == sorted(
        g.uuid for g in topology.server_groups)
    group = model.server_groups[topology.server_groups[4].uuid]
    assert group.policy == 'anti-affinity'
    assert group.max_server_per_host == 2
    assert group.members == tuple(topology.server_groups[4].members)
    # 5 groups, pages of 2: offsets 0, 2 and 4 (the last one short).
    stats = sim.stats()
    assert stats['by_endpoint']['GET /compute/v2.1/os-server-groups'] == 3
    assert model.requests == stats['total']
    assert model.summary()['server_groups'] == 5
    for inst in model.instances.values():
        node = model.get_node_by_hostname(inst.host)
        assert inst.availability_zone == node.availability_zone


def test_a_bad_group_fails_the_build_naming_it(harnesses, sim, topology):
    topology.server_groups[0].policy = 'sometimes'
    with pytest.raises(Exception, match=r"os-server-groups: unexpected "
                                        r"response: server group .* has "
                                        r"unknown policy 'sometimes'"):
        harnesses(sim).build()
