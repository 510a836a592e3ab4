"""The simulator's answers have the shapes of Nova's published API samples
and Placement's API reference, for the microversions the model build uses
(the expected shapes are test data: tests/unit/simulator/data/)."""

import json
import pathlib

import pytest
import requests

from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology


pytestmark = pytest.mark.topology(hosts=12, instances=120, aggregates=2, azs=2,
                                  seed=3)

SHAPES = json.loads((pathlib.Path(__file__).parent / 'data'
                     / 'api_sample_shapes.json').read_text())
_TYPES = {'string': str, 'integer': int, 'number': (int, float),
          'boolean': bool, 'null': type(None), 'object': dict,
          'array': list}


def mismatch(value, shape, where='$'):
    """The first place where ``value`` does not have ``shape``, or None."""
    if isinstance(shape, str):
        for name in shape.split('|'):
            kind = _TYPES[name]
            if isinstance(value, kind) and not (
                    name in ('integer', 'number')
                    and isinstance(value, bool)):
                return None
        return '%s: %r is not %s' % (where, value, shape)
    if isinstance(shape, list):
        if not isinstance(value, list):
            return '%s: %r is not an array' % (where, value)
        for i, item in enumerate(value):
            problem = mismatch(item, shape[0], '%s[%d]' % (where, i))
            if problem:
                return problem
        return None
    if 'oneOf' in shape:
        problems = [mismatch(value, s, where) for s in shape['oneOf']]
        return None if None in problems else ' or '.join(problems)
    if not isinstance(value, dict):
        return '%s: %r is not an object' % (where, value)
    if '*' in shape:
        for key, item in value.items():
            problem = mismatch(item, shape['*'], '%s.%s' % (where, key))
            if problem:
                return problem
        return None
    required = {k for k in shape if not k.endswith('?')}
    allowed = {k.rstrip('?') for k in shape}
    if not required <= set(value) or not set(value) <= allowed:
        return '%s: keys %s missing, %s unexpected' % (
            where, sorted(required - set(value)),
            sorted(set(value) - allowed))
    for key, item in value.items():
        sub = shape.get(key, shape.get(key + '?'))
        problem = mismatch(item, sub, '%s.%s' % (where, key))
        if problem:
            return problem
    return None


@pytest.fixture(scope='module')
def sim():
    topo = Topology.generate(hosts=12, instances=150, seed=11, azs=2,
                             volume_backed=0.3, providerless=1, ironic=3)
    server = Simulator(topo, max_limit=100).start()
    yield server
    server.stop()


def _get(sim, service, path, version, **params):
    headers = {'X-Auth-Token': sim.token_for(),
               'OpenStack-API-Version': '%s %s' % (service, version)}
    base = {'compute': '/compute/v2.1', 'placement': '/placement'}[service]
    resp = requests.get(sim.url + base + path, params=params,
                        headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_the_shape_checker_fails_on_a_wrong_shape():
    shape = SHAPES['compute /os-services 2.53']
    good = {'services': [{'id': 'u', 'binary': 'nova-compute',
                          'disabled_reason': None, 'host': 'h',
                          'state': 'up', 'status': 'enabled',
                          'updated_at': None, 'forced_down': False,
                          'zone': 'nova'}]}
    assert mismatch(good, shape) is None
    good['services'][0]['id'] = 7
    assert 'is not string' in mismatch(good, shape)
    del good['services'][0]['zone']
    assert "['zone'] missing" in mismatch(good, shape)


@pytest.mark.parametrize('name,params', [
    ('compute /servers/detail 2.53', {'all_tenants': 1}),
    ('compute /os-hypervisors/detail 2.53', {'limit': 5}),
    ('compute /os-services 2.53', {}),
    ('compute /os-aggregates 2.53', {}),
])
def test_compute_answers_have_the_sample_shapes(sim, name, params):
    service, path, version = name.split(' ')
    doc = _get(sim, service, path, version, **params)
    assert mismatch(doc, SHAPES[name]) is None, mismatch(doc, SHAPES[name])
    if path == '/servers/detail':
        images = [s['image'] for s in doc['servers']]
        assert '' in images and any(isinstance(i, dict) for i in images)
    if path == '/os-hypervisors/detail':
        assert 'hypervisors_links' in doc


def test_ironic_hypervisors_share_a_service_host(sim):
    doc = _get(sim, 'compute', '/os-hypervisors/detail', '2.53')
    ironic = [h for h in doc['hypervisors']
              if h['hypervisor_type'] == 'ironic']
    assert len(ironic) == 3
    assert len({h['service']['host'] for h in ironic}) == 1
    assert len({h['hypervisor_hostname'] for h in ironic}) == 3
    services = _get(sim, 'compute', '/os-services', '2.53')['services']
    hosts = [s['host'] for s in services if s['binary'] == 'nova-compute']
    assert hosts.count(ironic[0]['service']['host']) == 1


@pytest.mark.parametrize('what', ['inventories', 'usages', 'allocations'])
def test_placement_answers_have_the_reference_shapes(sim, what):
    name = 'placement /resource_providers/{uuid}/%s 1.0' % what
    hosts = [h for h in sim.topology.hosts if h.resource_provider]
    for host in hosts:
        doc = _get(sim, 'placement',
                   '/resource_providers/%s/%s' % (host.uuid, what), '1.0')
        assert mismatch(doc, SHAPES[name]) is None, (
            host.hostname, mismatch(doc, SHAPES[name]))


def test_provider_traits_have_the_reference_shape(sim):
    shape = SHAPES['placement /resource_providers/{uuid}/traits 1.6']
    for host in sim.topology.hosts:
        if not host.resource_provider:
            continue
        doc = _get(sim, 'placement',
                   '/resource_providers/%s/traits' % host.uuid, '1.6')
        assert mismatch(doc, shape) is None, (host.hostname,
                                              mismatch(doc, shape))


def test_a_hypervisor_without_provider_is_not_in_placement(sim):
    host = next(h for h in sim.topology.hosts if not h.resource_provider)
    url = '%s/placement/resource_providers/%s/inventories' % (
        sim.url, host.uuid)
    resp = requests.get(url, headers={'X-Auth-Token': sim.token_for()},
                        timeout=30)
    assert resp.status_code == 404
    assert resp.json()['errors'][0]['status'] == 404
    doc = _get(sim, 'compute', '/os-hypervisors/detail', '2.53')
    assert host.uuid in {h['id'] for h in doc['hypervisors']}


def test_dedicated_servers_allocate_pcpu_on_a_pcpu_inventory(sim):
    topo = sim.topology
    found = 0
    for inst in topo.instances:
        if inst.flavor.extra_specs.get('hw:cpu_policy') != 'dedicated':
            continue
        host = topo.host(inst.host)
        doc = _get(sim, 'placement',
                   '/resource_providers/%s/allocations' % host.uuid, '1.0')
        resources = doc['allocations'][inst.uuid]['resources']
        assert resources['PCPU'] == inst.flavor.vcpus
        assert 'VCPU' not in resources
        inventories = _get(sim, 'placement', '/resource_providers/%s/'
                           'inventories' % host.uuid, '1.0')['inventories']
        assert inventories['PCPU']['total'] >= resources['PCPU']
        found += 1
    assert found


def test_volume_backed_servers_allocate_no_root_disk(sim):
    topo = sim.topology
    checked = 0
    for inst in topo.instances:
        host = topo.host(inst.host)
        if host.is_ironic or not host.resource_provider:
            continue
        doc = _get(sim, 'placement',
                   '/resource_providers/%s/allocations' % host.uuid, '1.0')
        f = inst.flavor
        local = f.ephemeral + -(-f.swap // 1024) + (
            0 if inst.volume_backed else f.disk)
        assert doc['allocations'][inst.uuid]['resources'].get(
            'DISK_GB', 0) == local, inst
        checked += inst.volume_backed
    assert checked > 10
