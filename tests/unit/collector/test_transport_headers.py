"""The direct transport builds a token's headers once and asks keystoneauth
again whenever keystoneauth would hand out another token."""

from keystoneauth1 import session as ks_session
import pytest

from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import truth


@pytest.fixture
def auth_header_calls(monkeypatch):
    """How many times keystoneauth's session was asked for headers (the
    real method still answers)."""
    calls = []
    real = ks_session.Session.get_auth_headers

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ks_session.Session, 'get_auth_headers', counted)
    return calls


def test_headers_of_a_token_are_built_once(harnesses, auth_header_calls):
    topo = Topology.generate(hosts=20, instances=200, seed=3)
    with Simulator(topo, latency_ms=0) as sim:
        harness = harnesses(sim, pool_size=4, transport_name='direct')
        harness.build()
        sim.reset_stats()
        asked = len(auth_header_calls)
        model = harness.build()
        stats = sim.stats()
    truth.assert_same(model, truth.expected_model(topo))
    # The second build sends every request with the headers the first
    # one built: keystoneauth is not asked again, no token is issued.
    assert stats['total'] > 40
    assert len(auth_header_calls) == asked
    assert stats['tokens_issued'] == 0
    assert set(stats['by_status']) == {'200'}


def test_a_token_keystoneauth_would_renew_is_not_kept(harnesses,
                                                      auth_header_calls):
    # NOTE: keystoneauth renews a token that expires within
    # MIN_TOKEN_LIFE_SECONDS (120 s): with 60 s tokens it renews at each
    # request, and the transport must not keep any of them.
    topo = Topology.generate(hosts=10, instances=50, seed=3)
    with Simulator(topo, latency_ms=0, token_ttl_s=60) as sim:
        harness = harnesses(sim, pool_size=2, transport_name='direct')
        harness.build()
        sim.reset_stats()
        asked = len(auth_header_calls)
        model = harness.build()
        stats = sim.stats()
    truth.assert_same(model, truth.expected_model(topo))
    requests = stats['total'] - stats['tokens_issued']
    assert len(auth_header_calls) - asked == requests
    assert stats['tokens_issued'] == requests
