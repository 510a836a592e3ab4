"""Faults: a build equals the fault-free model or fails with one clear
error; never a partial model."""

import threading

import pytest

from decision_engine.collector import fetch
from decision_engine.model.errors import ModelBuildError
from decision_engine.model.errors import TransportError
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import truth


pytestmark = pytest.mark.topology(hosts=23, instances=300, aggregates=3, azs=2,
                                  seed=7)


@pytest.mark.parametrize('rule', [
    {'kind': 'error', 'status': 503, 'rate': 0.15, 'retry_after': 0},
    {'kind': 'error', 'status': 429, 'rate': 0.15, 'retry_after': 0},
    {'kind': 'error', 'status': 500, 'rate': 0.15},
    {'kind': 'error', 'status': 502, 'rate': 0.15},
    {'kind': 'reset', 'rate': 0.1},
    {'kind': 'malformed', 'rate': 0.1},
])
@pytest.mark.parametrize('transport_name', ['direct', 'sdk'])
def test_transient_faults_are_retried(harnesses, sim, topology, rule,
                                      transport_name):
    harness = harnesses(sim, transport_name=transport_name, max_retries=8)
    sim.set_faults([rule], seed=3)
    model = harness.build()
    assert sim.stats()['faults'], 'no fault was injected'
    truth.assert_same(model, truth.expected_model(topology))
    assert model.requests > len(topology.hosts) * 2


def test_persistent_fault_names_host_endpoint_and_status(harnesses, sim,
                                                         topology):
    host = topology.host('compute-5')
    harness = harnesses(sim, max_retries=2)
    sim.add_fault('error', status=500, path=host.uuid + '/inventories')
    with pytest.raises(ModelBuildError) as info:
        harness.build()
    message = str(info.value)
    assert 'compute-5' in message and 'inventories' in message
    assert 'HTTP 500' in message and '3 attempt' in message
    assert info.value.host == 'compute-5' and info.value.status == 500


def test_client_errors_are_not_retried(harnesses, sim):
    harness = harnesses(sim, max_retries=5)
    sim.add_fault('error', status=403, path='os-aggregates')
    sim.reset_stats()
    with pytest.raises(ModelBuildError, match='os-aggregates.*HTTP 403'):
        harness.build()
    assert sim.stats()['by_endpoint']['GET /compute/v2.1/os-aggregates'] \
        == 1


def test_zero_partial_models_under_heavy_faults(harnesses, sim, topology):
    expected = truth.expected_model(topology)
    harness = harnesses(sim, max_retries=1)
    outcomes = {'complete': 0, 'failed': 0}
    for seed in range(8):
        sim.set_faults([{'kind': 'error', 'status': 503, 'rate': 0.08,
                         'retry_after': 0},
                        {'kind': 'reset', 'rate': 0.02}], seed=seed)
        try:
            model = harness.build()
        except ModelBuildError as exc:
            assert 'failed after 2 attempt' in str(exc)
            outcomes['failed'] += 1
        else:
            truth.assert_same(model, expected)
            outcomes['complete'] += 1
    assert outcomes['failed'] > 0


@pytest.mark.parametrize('transport_name', ['direct', 'sdk'])
def test_token_expiry_during_a_build(harnesses, transport_name):
    topo = Topology.generate(hosts=30, instances=300, seed=9)
    with Simulator(topo, latency_ms=5) as sim:
        harness = harnesses(sim, pool_size=4, transport_name=transport_name,
                            max_retries=0)
        harness.build()
        sim.reset_stats()
        result = {}
        builder = threading.Thread(
            target=lambda: result.setdefault('model', harness.build()))
        builder.start()
        assert sim.wait_in_flight(3)
        sim.expire_tokens()
        builder.join()
        stats = sim.stats()
    truth.assert_same(result['model'], truth.expected_model(topo))
    assert stats['tokens_issued'] >= 1
    assert stats['by_status'].get('401', 0) >= 1


def test_deadline_bounds_a_stalled_build(harnesses, sim):
    harness = harnesses(sim, build_timeout=1)
    sim.add_fault('stall', path='servers/detail', rate=1.0)
    try:
        with pytest.raises(ModelBuildError, match='build_timeout'):
            harness.build()
    finally:
        sim.release_stalls()


class _ScriptedTransport:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0

    def get(self, service, path, params, microversion, timeout):
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class _RecordingEvent(threading.Event):
    def __init__(self):
        super().__init__()
        self.waits = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        return False


def _fetcher(answers, **settings):
    import time
    fetcher = fetch.Fetcher(_ScriptedTransport(answers),
                            fetch.FetchSettings(**settings),
                            time.monotonic() + 3600, 3600)
    fetcher.aborted = _RecordingEvent()
    return fetcher


def test_backoff_is_exponential_with_jitter_and_honours_retry_after():
    fetcher = _fetcher(
        [TransportError('reset'), (503, {}, b'{}'), (500, {}, b''),
         (429, {'Retry-After': '7'}, b'{}'), (200, {}, b'{"ok": 1}')],
        max_retries=4, retry_delay=1.0, max_retry_delay=30.0)
    assert fetcher.get_json('compute', '/x') == {'ok': 1}
    waits = fetcher.aborted.waits
    assert len(waits) == 4
    assert 0 <= waits[0] <= 1 and 0 <= waits[1] <= 2 and 0 <= waits[2] <= 4
    assert waits[3] == 7
    assert fetcher.requests == 5


def test_retry_after_is_capped_and_attempts_are_bounded():
    fetcher = _fetcher([(503, {'Retry-After': '120'}, b'{}')] * 3,
                       max_retries=2, retry_delay=0.1, max_retry_delay=5.0)
    with pytest.raises(ModelBuildError, match='failed after 3 attempt'):
        fetcher.get_json('placement', '/y', host='compute-2')
    assert fetcher.aborted.waits == [5.0, 5.0]
