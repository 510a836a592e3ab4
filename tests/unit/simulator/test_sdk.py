"""openstacksdk against the simulator: the calls the engine makes."""

import pytest

from decision_engine.simulator.records import DEFAULT_AZ


pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2, azs=2,
                                  seed=3)


def test_auth_and_catalog(conn, sim):
    catalog = {e['type']: e for e in conn.session.auth.get_access(
        conn.session).service_catalog.catalog}
    assert {'identity', 'compute', 'placement', 'baremetal'} <= set(catalog)
    urls = {e['interface']: e['url'] for e in catalog['compute']['endpoints']}
    assert urls == {i: sim.url + '/compute/v2.1'
                    for i in ('public', 'internal', 'admin')}
    assert sim.stats()['tokens_issued'] == 1


def test_hypervisors_match_topology(conn, topology):
    hypervisors = list(conn.compute.hypervisors(details=True))
    assert sorted(h.name for h in hypervisors) == sorted(
        h.hostname for h in topology.hosts)
    by_name = {h.hostname: h for h in topology.hosts}
    for hv in hypervisors:
        truth = by_name[hv.name]
        assert hv.id == truth.uuid          # negotiated >= 2.53
        assert hv.state == truth.state
        assert hv.status == truth.status
        assert hv.service_details['disabled_reason'] == truth.disabled_reason


def test_all_servers_listing(conn, topology):
    servers = list(conn.compute.servers(all_projects=True, details=True))
    assert sorted(s.id for s in servers) == sorted(
        i.uuid for i in topology.instances)
    truth = {i.uuid: i for i in topology.instances}
    for s in servers:
        inst = truth[s.id]
        assert s.compute_host == inst.host
        assert s.project_id == inst.project_id
        assert s.vm_state == inst.vm_state
        assert s.flavor.vcpus == inst.flavor.vcpus
        assert s.flavor.swap == inst.flavor.swap
        assert s.metadata == inst.metadata
        assert s.is_locked == inst.locked


def test_host_filter_is_exact(conn, topology):
    def listed(host):
        resp = conn.compute.get(
            '/servers/detail?host=%s&all_tenants=1' % host,
            microversion='2.47')
        assert resp.status_code == 200
        return resp.json()['servers']

    one, ten = listed('compute-1'), listed('compute-10')
    assert one and ten
    assert {s['id'] for s in one} == {
        i.uuid for i in topology.instances_on('compute-1')}
    assert {s['OS-EXT-SRV-ATTR:host'] for s in one} == {'compute-1'}
    assert {s['id'] for s in ten} == {
        i.uuid for i in topology.instances_on('compute-10')}
    assert listed('compute') == []


def test_embedded_flavor_needs_2_47(conn, topology):
    inst = topology.instances_on('compute-1')[0]
    new = conn.compute.get('/servers/%s' % inst.uuid,
                           microversion='2.47').json()['server']
    assert new['flavor'] == {
        'vcpus': inst.flavor.vcpus, 'ram': inst.flavor.ram,
        'disk': inst.flavor.disk, 'ephemeral': inst.flavor.ephemeral,
        'swap': inst.flavor.swap, 'original_name': inst.flavor.name,
        'extra_specs': inst.flavor.extra_specs}
    old = conn.compute.get('/servers/%s' % inst.uuid,
                           microversion='2.46')
    assert set(old.json()['server']['flavor']) == {'id', 'links'}
    assert old.headers['OpenStack-API-Version'] == 'compute 2.46'


def test_aggregates_and_azs(conn, topology):
    aggs = {a.name: a for a in conn.compute.aggregates()}
    assert set(aggs) == {a.name for a in topology.aggregates}
    for truth in topology.aggregates:
        assert sorted(aggs[truth.name].hosts) == sorted(truth.hosts)
        assert aggs[truth.name].availability_zone == truth.availability_zone
    zones = {z.name: z for z in conn.compute.availability_zones(
        details=True)}
    assert set(zones) - {'internal'} == set(topology.availability_zones)
    for host in topology.hosts:
        listed = (zones[host.availability_zone].hosts or {})
        # Nova lists only enabled services in a zone's host map.
        assert (host.hostname in listed) == (host.status == 'enabled')
    services = {s.host: s for s in conn.compute.services()
                if s.binary == 'nova-compute'}
    for host in topology.hosts:
        assert services[host.hostname].availability_zone == \
            host.availability_zone
        assert services[host.hostname].status == host.status
        assert services[host.hostname].state == host.state
    assert DEFAULT_AZ not in zones     # every generated host is in az-N


def test_placement(conn, topology):
    rps = conn.placement.get('/resource_providers').json()
    assert {(r['uuid'], r['name']) for r in rps['resource_providers']} == {
        (h.uuid, h.hostname) for h in topology.hosts}
    host = topology.hosts[0]
    one = conn.placement.get('/resource_providers?name=%s' % host.hostname)
    assert [r['uuid'] for r in one.json()['resource_providers']] == [
        host.uuid]
    inv = conn.placement.get('/resource_providers/%s/inventories'
                             % host.uuid).json()['inventories']
    assert inv['VCPU']['total'] == host.vcpus
    assert inv['VCPU']['reserved'] == host.vcpus_reserved
    assert inv['VCPU']['allocation_ratio'] == host.cpu_allocation_ratio
    assert inv['MEMORY_MB']['total'] == host.memory_mb
    assert inv['MEMORY_MB']['reserved'] == host.memory_mb_reserved
    assert inv['DISK_GB']['allocation_ratio'] == host.disk_allocation_ratio
    missing = conn.placement.get('/resource_providers/nope/inventories')
    assert missing.status_code == 404


def test_baremetal_nodes_and_power(conn, topology):
    nodes = {n.name: n for n in conn.baremetal.nodes(details=True)}
    assert set(nodes) == {h.hostname for h in topology.hosts}
    host = topology.host('compute-1')
    assert nodes['compute-1'].power_state == host.power_state == 'power on'
    conn.baremetal.set_node_power_state(nodes['compute-1'], 'power off')
    assert conn.baremetal.get_node('compute-1').power_state == 'power off'
    assert host.power_state == 'power off'
    conn.baremetal.set_node_power_state(nodes['compute-1'], 'rebooting')
    assert host.power_state == 'power on'


def test_sdk_follows_next_links(topology):
    from decision_engine.simulator import Simulator
    sim = Simulator(topology, max_limit=5).start()
    conn = sim.connection()
    try:
        assert len(list(conn.compute.hypervisors(details=True))) == len(
            topology.hosts)
        servers = list(conn.compute.servers(all_projects=True,
                                            details=True))
        assert sorted(s.id for s in servers) == sorted(
            i.uuid for i in topology.instances)
        nodes = list(conn.baremetal.nodes())
        assert len(nodes) == len(topology.hosts)
        by = sim.stats()['by_endpoint']
        # 120 servers / 5 per page: 24 full pages and the empty one after.
        assert by['GET /compute/v2.1/servers/detail'] == 25
    finally:
        conn.close()
        sim.stop()
