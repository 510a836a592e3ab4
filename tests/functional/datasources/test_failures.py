"""Prometheus slow or answering errors: one clear error, no partial data.

The fault proxy (tests/fixtures/fault_proxy.py) in front of the real
Prometheus injects what cannot be made to happen on demand in the real
one: a 503 with Prometheus's error envelope, an answer slower than the
query timeout, a cut body, a failure of only the queries naming one
instance (so the other chunks succeed and the gathering must still fail
as a whole), and a 429 or 503 with ``Retry-After``.
"""

import threading
import time

import pytest

from decision_engine.common import measurements as m
from decision_engine.datasources import gather
from tests.fixtures import fault_proxy
from tests.fixtures import load_env

#: a 503 without Retry-After (with one, the retry would wait for it).
ERROR = {'kind': 'error', 'status': 503, 'retry_after': 0}


@pytest.fixture
def proxy(env):
    p = fault_proxy.FaultProxy(env.prometheus.url)
    yield p
    p.stop()


def test_errors_are_retried_then_one_error(proxy, pool):
    proxy.plan.set([ERROR])
    g = load_env.make_gatherer(pool, proxy.url, max_retries=2)
    with pytest.raises(gather.GatheringError) as err:
        g.gather({m.HOST_RAM: ['compute-1']})
    message = str(err.value)
    assert 'node_memory_MemTotal_bytes{fqdn=~"compute-1"}' in message
    assert 'HTTP 503' in message and 'execution: injected fault' in message
    assert '(after 3 attempts)' in message
    assert proxy.requests == 3


def test_slow_prometheus_times_out_as_one_error(proxy, pool):
    # NOTE: held until the proxy stops, far past the client's timeout: an
    # event, not a sleep of a guessed length.
    proxy.plan.set([{'kind': 'stall', 'stall_s': None}])
    g = load_env.make_gatherer(pool, proxy.url, max_retries=0,
                               query_timeout=0.5)
    with pytest.raises(gather.GatheringError,
                       match=r'failed: no answer from .*ReadTimeout'):
        g.gather({m.HOST_CPU: ['compute-1']})


def test_truncated_answer_is_retried_then_one_error(proxy, pool):
    proxy.plan.set([{'kind': 'malformed'}])
    g = load_env.make_gatherer(pool, proxy.url, max_retries=1)
    with pytest.raises(gather.GatheringError, match='HTTP 200 from .* '
                       r'\(after 2 attempts\)'):
        g.gather({m.HOST_CPU: ['compute-1']})


def test_one_failing_chunk_fails_the_gathering(env, proxy, pool):
    poisoned = env.running[-1]
    # NOTE: the query holds the uuid regex-escaped; its first group has no
    # character to escape.
    poison = poisoned.split('-')[0]
    proxy.plan.set([dict(ERROR, path=poison)])
    g = load_env.make_gatherer(pool, proxy.url, max_retries=1,
                               query_chunk_size=3, parallelism=4)
    with pytest.raises(gather.GatheringError) as err:
        g.gather(load_env.wanted(env))
    # The error names the failing query (its chunk holds the poisoned
    # uuid), and nothing was returned for the chunks that succeeded.
    assert poison in str(err.value)


def test_recovers_after_a_transient_error(env, proxy, pool):
    # The first attempt errors, the retry is forwarded.
    proxy.plan.set([dict(ERROR, count=1)])
    g = load_env.make_gatherer(pool, proxy.url, max_retries=2)
    ms = g.gather({m.HOST_CPU: ['compute-1']})
    assert ms.get(m.HOST_CPU, 'compute-1') is not None
    assert proxy.plan.fired() == {'error': 1}
    assert g.statistics().retries == 1


def test_concurrent_gatherings_share_queries_in_flight(env, proxy, pool):
    # Every query held until released, then forwarded.
    proxy.plan.set([{'kind': 'stall', 'stall_s': None}])
    # One query per metric, all in flight at once on the pool of 6.
    g = load_env.make_gatherer(pool, proxy.url, cache_ttl=600,
                               query_chunk_size=100)
    # (Nothing hidden in this scope: no second wave by instance label.)
    scope = load_env.wanted(
        env, [h for h in env.hostnames if h not in load_env.HIDDEN],
        [u for u in env.running if u not in load_env.HIDDEN])
    n = len(scope)
    results = []
    first = threading.Thread(target=lambda: results.append(g.gather(scope)))
    first.start()
    with proxy.arrived:
        assert proxy.arrived.wait_for(lambda: proxy.requests >= n, 30)
    second = threading.Thread(target=lambda: results.append(
        g.gather(scope)))
    second.start()
    # The second gathering waits on the first one's queries; only then
    # are they answered.
    proxy.release.set()
    first.join(30)
    second.join(30)
    assert proxy.requests == n
    assert len(results) == 2 and results[0].values == results[1].values
    assert g.statistics().cache_hits == n


def test_retry_after_is_waited_before_the_next_try(proxy, pool):
    proxy.plan.set([{'kind': 'error', 'status': 429, 'retry_after': 1,
                     'count': 1}])
    # NOTE: no backoff of our own: only the server's Retry-After can make
    # the retry wait.
    g = load_env.make_gatherer(pool, proxy.url, max_retries=1)
    started = time.monotonic()
    ms = g.gather({m.HOST_RAM: ['compute-1']})
    waited = time.monotonic() - started
    assert ms.get(m.HOST_RAM, 'compute-1') is not None
    assert proxy.plan.fired() == {'error': 1}
    assert g.statistics().retries == 1
    assert waited >= 1.0


def test_retry_after_past_the_deadline_fails_at_once(proxy, pool):
    proxy.plan.set([{'kind': 'error', 'status': 503, 'retry_after': 600}])
    g = load_env.make_gatherer(pool, proxy.url, max_retries=3,
                               gather_timeout=30)
    with pytest.raises(gather.GatheringError) as err:
        g.gather({m.HOST_RAM: ['compute-1']})
    message = str(err.value)
    assert 'HTTP 503' in message
    assert 'Retry-After of 600.0 s is past the deadline of [datasource] ' \
        'gather_timeout (30.0 s)' in message
    assert proxy.plan.fired() == {'error': 1}
