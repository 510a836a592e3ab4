"""The simulator's Placement lists the providers with (or without)
traits as Placement does: ``required`` from 1.18, ``!TRAIT`` from 1.22, a
400 for a custom trait nobody created."""

import pytest

from decision_engine.simulator import Simulator
from tests.fixtures import traits as traits_fixture

pytestmark = pytest.mark.topology(hosts=12, instances=60, aggregates=1,
                                  azs=1, seed=5,
                                  edit=traits_fixture.give_traits)

RPS = '/placement/resource_providers'


def _mv(version):
    return {'OpenStack-API-Version': 'placement %s' % version}


def _uuids(client, query, version='1.22'):
    status, _, body = client.json('GET', RPS + query, headers=_mv(version))
    assert status == 200, body
    return {rp['uuid'] for rp in body['resource_providers']}


def test_required_lists_the_providers_with_every_trait(client, topology):
    hosts = [h for h in topology.hosts if h.resource_provider]
    ssd = {h.uuid for h in hosts if traits_fixture.SSD in h.traits}
    gpu = {h.uuid for h in hosts if traits_fixture.GPU in h.traits}
    assert ssd and gpu and ssd != gpu
    assert _uuids(client, '?required=CUSTOM_SSD', '1.18') == ssd
    assert _uuids(client, '?required=CUSTOM_SSD,CUSTOM_GPU') == ssd & gpu
    assert _uuids(client, '?required=CUSTOM_SSD,!CUSTOM_GPU') == ssd - gpu
    # A standard trait nobody has: known, no provider.
    assert _uuids(client, '?required=HW_GPU_API_VULKAN') == set()


def test_required_is_refused_where_placement_refuses_it(client):
    # Before 1.18 the parameter is unknown to the listing's schema.
    status, _, body = client.json('GET', RPS + '?required=CUSTOM_SSD',
                                  headers=_mv('1.17'))
    assert status == 400 and 'required' in body['errors'][0]['detail']
    # Before 1.22 '!' is part of a name, which no trait has.
    status, _, body = client.json('GET', RPS + '?required=!CUSTOM_GPU',
                                  headers=_mv('1.21'))
    assert status == 400
    assert 'No such trait(s): !CUSTOM_GPU' in body['errors'][0]['detail']
    status, _, body = client.json(
        'GET', RPS + '?required=' + traits_fixture.NEVER, headers=_mv('1.22'))
    assert status == 400
    assert traits_fixture.NEVER in body['errors'][0]['detail']
    status, _, body = client.json('GET', RPS + '?required=',
                                  headers=_mv('1.22'))
    assert status == 400


def test_a_disabled_service_shows_in_the_listing(topology, make_client):
    host = next(h for h in topology.hosts
                if h.resource_provider and h.status == 'enabled')
    host.status = 'disabled'
    with Simulator(topology) as sim:
        client = make_client(sim)
        assert host.uuid in _uuids(
            client, '?required=COMPUTE_STATUS_DISABLED')
        assert host.uuid not in _uuids(
            client, '?required=!COMPUTE_STATUS_DISABLED')
