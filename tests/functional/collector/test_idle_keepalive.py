"""A cloud whose API servers close idle keep-alive connections (gunicorn
after 2 s; Apache, uwsgi and haproxy alike) costs a warm build nothing:
after an idle gap longer than the server's idle timeout, every request of
the next build succeeds at the first attempt, with no back-off, and the
build's request figure is what the server received (issue 23, D7).

The simulator serves over real HTTP on loopback and closes a connection
idle for ``IDLE`` seconds, as those servers do."""

from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import backoffs as backoffs_mod
from tests.fixtures import truth
from tests.fixtures import waiting

IDLE = 0.3
MODEL_PREFIXES = ('GET /compute/', 'GET /placement/')


def _model_requests(stats):
    """Requests of the model's services the server answered."""
    return sum(count for endpoint, count in stats['by_endpoint'].items()
               if endpoint.startswith(MODEL_PREFIXES))


def test_warm_builds_after_idle_gaps_retry_nothing(monkeypatch):
    backoffs = backoffs_mod.counted(monkeypatch)
    topo = Topology.generate(hosts=6, instances=60, seed=3)
    truth_model = truth.expected_model(topo)
    with Simulator(topo, idle_timeout=IDLE) as sim:
        harness = truth.Harness(sim, pool_size=4, transport_name='direct',
                                retry_delay=2.0, max_retry_delay=2.0)
        try:
            harness.build()         # cold: opens the kept connections
            opened = harness.transport.http.opened
            assert harness.transport.http.idle_count() >= 2
            for _ in range(3):
                waiting.until(lambda: sim.open_connections() == 0,
                              'the simulator closing idle connections',
                              timeout=30)
                sim.reset_stats()
                model = harness.build()
                served = _model_requests(sim.stats())
                truth.assert_same(model, truth_model)
                # Not one attempt failed: no back-off, and the build's
                # figure counts exactly what the server answered.
                assert backoffs == []
                assert model.requests == served
                # 3 (services, aggregates, server groups) + pages + 2 x
                # hosts (inventories, and truth.servers_requests: one
                # listing per host, one more for a full last page); no
                # flavor asks for a trait, so no trait request.
                assert served == 3 + truth.hypervisor_requests(
                    len(topo.hosts), 1000) + len(topo.hosts) + \
                    truth.servers_requests(
                        topo, [h.hostname for h in topo.hosts], 1000)
            # The closed connections were opened again, not kept.
            assert harness.transport.http.opened > opened
        finally:
            harness.close()
