"""A cloud without a service catalog: [nova] and [placement] with
``auth_type = none`` and ``endpoint_override`` (Nova and Placement with
``auth_strategy = noauth2``) are modelled completely, through both
transports, and the baremetal service is never asked for."""

import pytest

from decision_engine.cloud import connection
from decision_engine.simulator import Simulator
from tests import fresh_conf
from tests.fixtures import truth


pytestmark = pytest.mark.topology(hosts=23, instances=300, aggregates=3, azs=2,
                                  seed=7)


@pytest.mark.parametrize('transport_name', ['direct', 'sdk'])
def test_catalogless_build_is_complete(topology, harnesses, transport_name):
    with Simulator(topology, noauth=True, max_limit=50) as sim:
        conf = fresh_conf()
        for group, path in (('nova', '/compute/v2.1'),
                            ('placement', '/placement')):
            conf.set_override('auth_type', 'none', group)
            conf.set_override('endpoint_override', sim.url + path, group)
        cloud = connection.from_conf(conf, 8)
        harness = harnesses(sim, pool_size=8, transport_name=transport_name,
                            cloud=cloud, hypervisors_page_size=10)
        model = harness.build()
        truth.assert_same(model, truth.expected_model(topology))
        endpoints = sim.stats()['by_endpoint']
        assert not any(e.startswith(('GET /baremetal', 'POST /identity',
                                     'GET /identity'))
                       for e in endpoints), endpoints
