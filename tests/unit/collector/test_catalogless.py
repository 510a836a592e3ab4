"""A cloud without a service catalog, set up as the real services allow
(tests/fixtures/catalogless.py: [nova] with Keystone password auth,
[placement] with ``auth_type = admin_token`` and ``token = admin`` for its
``noauth2``, both with ``endpoint_override``), is modelled completely,
through both transports, and the baremetal service is never asked
for."""

import pytest

from decision_engine.cloud import connection
from decision_engine.simulator import Simulator
from tests import fresh_conf
from tests.fixtures import catalogless
from tests.fixtures import truth


pytestmark = pytest.mark.topology(hosts=23, instances=300, aggregates=3, azs=2,
                                  seed=7)


@pytest.mark.parametrize('transport_name', ['direct', 'sdk'])
def test_catalogless_build_is_complete(topology, harnesses, transport_name):
    with Simulator(topology, noauth=True, max_limit=50) as sim:
        conf = fresh_conf()
        catalogless.configure(conf, sim)
        cloud = connection.from_conf(conf, 8)
        harness = harnesses(sim, pool_size=8, transport_name=transport_name,
                            cloud=cloud, hypervisors_page_size=10)
        model = harness.build()
        truth.assert_same(model, truth.expected_model(topology))
        stats = sim.stats()
        endpoints = stats['by_endpoint']
        assert not any(e.startswith('GET /baremetal')
                       for e in endpoints), endpoints
        # Placement took its noauth2 admin token, Nova one Keystone token.
        assert any(e.startswith('GET /placement/resource_providers/')
                   for e in endpoints), endpoints
        assert not {'401', '403'} & set(stats['by_status']), stats
        assert stats['tokens_issued'] == 1
