"""Cloud API faults during metric gathering (issue 15, part 1).

The Prometheus datasource gathers every host and instance metric of a
small cloud from a real Prometheus (scraping the simulator's load
exporter) through a proxy that injects the simulator's seeded faults
(tests/fixtures/fault_proxy.py). The evaluation time is pinned, so a
gathering either equals the fault-free one or fails with one
:class:`GatheringError`; one that returns other values is "silently
partial", and there must be none. Token expiry has no meaning here (no
Keystone in front of this Prometheus).
"""

import time
import types

import pytest

from decision_engine.concurrency import pool as pool_mod
from decision_engine.datasources import gather as gather_mod
from tests.fixtures import fault_proxy
from tests.fixtures import figures
from tests.fixtures import load_env

STALL_S = 5.0
QUERY_TIMEOUT = 0.5
SEEDS = (1, 2, 3)

# NOTE: the faults are drawn per request and the queries run in
# parallel, so which query meets which fault varies from run to run. The
# retries are chosen so that a query failing every try is out of reach
# (10 % with 5 retries: 1e-6 a query; 30 % with 10: 2e-6), and a retried
# gathering must then equal the fault-free one; without retries it must
# fail clearly.
RETRIES = 5
MATRIX = {
    '5xx-5pct': ([{'kind': 'error', 'status': 500, 'rate': 0.05}],
                 RETRIES),
    '5xx-30pct': ([{'kind': 'error', 'status': 503, 'rate': 0.30,
                    'retry_after': 0}], 10),
    '5xx-30pct-no-retries': (
        [{'kind': 'error', 'status': 502, 'rate': 0.30}], 0),
    '429-retry-after': ([{'kind': 'error', 'status': 429, 'rate': 0.2,
                          'retry_after': 1}], RETRIES),
    'reset': ([{'kind': 'reset', 'rate': 0.1}], RETRIES),
    'stall': ([{'kind': 'stall', 'rate': 0.1, 'stall_s': STALL_S}],
              RETRIES),
    'malformed': ([{'kind': 'malformed', 'rate': 0.1}], RETRIES),
    'truncated': ([{'kind': 'truncated', 'rate': 0.1}], RETRIES),
}


@pytest.fixture(scope='module')
def env():
    e = load_env.Env().start()
    yield e
    e.stop()


@pytest.fixture
def pool():
    pool = pool_mod.WorkerPool(6)
    yield pool
    pool.shutdown(timeout=10)


def test_gatherings_under_faults_are_complete_or_fail_clearly(
        env, pool, monkeypatch):
    # NOTE: one evaluation time for every gathering, well inside what
    # Prometheus has scraped: the fault-free values are the reference.
    at = time.time() - 2
    monkeypatch.setattr(gather_mod, 'time', types.SimpleNamespace(
        time=lambda: at, monotonic=time.monotonic))
    wanted = load_env.wanted(env)
    proxy = fault_proxy.FaultProxy(env.prometheus.url)
    gatherers = {}
    totals = dict(gatherings_tried=0, equal=0, failed_clearly=0,
                  silently_partial=0, unclear=0)
    problems = []
    healed = []
    try:
        for retries in sorted({r for _, r in MATRIX.values()}):
            gatherers[retries] = load_env.make_gatherer(
                pool, proxy.url, max_retries=retries, cache_ttl=0,
                query_chunk_size=2, query_timeout=QUERY_TIMEOUT)
        expected = gatherers[RETRIES].gather(wanted).values
        assert all(expected.values())
        for case, (rules, retries) in MATRIX.items():
            row = dict(tried=0, equal=0, failed=0, partial=0, unclear=0,
                       faults=0)
            for seed in SEEDS:
                proxy.plan.set(rules, seed=seed)
                try:
                    values = gatherers[retries].gather(wanted).values
                except gather_mod.GatheringError as exc:
                    kind = 'failed' if str(exc) and '\n' not in str(exc) \
                        else 'unclear'
                    message = str(exc)
                except Exception as exc:
                    kind, message = 'unclear', '%s: %s' % (
                        type(exc).__name__, exc)
                else:
                    kind = 'equal' if values == expected else 'partial'
                    message = None
                row['faults'] += sum(proxy.plan.fired().values())
                proxy.plan.set([])
                proxy.release.set()
                proxy.release.clear()
                row['tried'] += 1
                row[kind] += 1
                if kind not in ('equal', 'failed'):
                    problems.append((case, seed, kind, message))
            assert row['faults'], '%s: no fault injected' % case
            if retries:
                healed.append((case, row['equal'] == row['tried']))
            else:
                healed.append((case, row['failed'] >= 1))
            figures.record('cloud-faults/metric-gathering/%s' % case, **row)
            totals['gatherings_tried'] += row['tried']
            totals['equal'] += row['equal']
            totals['failed_clearly'] += row['failed']
            totals['silently_partial'] += row['partial']
            totals['unclear'] += row['unclear']
    finally:
        for g in gatherers.values():
            g.close() if hasattr(g, 'close') else None
        proxy.stop()
    figures.record('cloud-faults/metric-gathering', **totals)
    assert not problems, problems
    assert totals['silently_partial'] == 0
    assert all(ok for _, ok in healed), healed
