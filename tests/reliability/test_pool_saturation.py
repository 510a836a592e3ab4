"""Pool saturation (part 2 of the reliability suite).

The real engine in this process (ConductorManager: one pool, periodics,
audit service, applier, notification listener on RabbitMQ, API) at pool
sizes 3, 4 and 8, with ten times more submissions than the pool holds
coming at once from: the power sweep periodic over 10 x size fake BMCs,
audits created through the API, a plan applying, Nova notifications of a
churning simulator, API calls (status, metrics, audits), and tasks
submitted straight to the pool from outside it.

What must hold: work refused is reported (``NoFreeWorker`` naming the
pool's numbers to who submitted it, ``rejected`` in the pool statistics
and ``decision_engine_pool_rejected_total`` in /metrics, the same
number); nothing deadlocks (every audit, the plan, the listener's backlog
and the load threads end within :data:`GUARD`); once the pool drains, new
work is accepted at once.
"""

import re
import threading
import time

import pytest

from decision_engine.concurrency import pool as pool_mod
from decision_engine.simulator import churn as churn_mod
from decision_engine.simulator import notifier as notifier_mod
from tests.fixtures import figures
from tests.fixtures import loaded_engine
from tests.fixtures import saturation

#: deadlock guard: every wait of this test ends within it or fails.
GUARD = 60
LOAD_S = 2.0
FACTOR = 10


@pytest.fixture
def sim():
    simulator = loaded_engine.simulator(duration_s=0.2)
    yield simulator
    simulator.stop()


def metric(text, name):
    match = re.search(r'^%s (\S+)$' % re.escape(name), text, re.M)
    return float(match.group(1)) if match else None


def submitted_total(stats):
    return stats.submitted + stats.rejected + stats.caller_ran


@pytest.mark.parametrize('size', [3, 4, 8])
def test_ten_times_the_pool_from_every_source(tmp_path, sim, size):
    with saturation.rabbit_vhost() as transport_url:
        conf = saturation.engine_conf(tmp_path, sim, transport_url,
                                      pool_size=size, nodes=FACTOR * size)
        manager = saturation.start_manager(conf)
        notifier = notifier_mod.NovaNotifier(transport_url)
        try:
            figures_line = saturate(manager, conf, sim, notifier, size)
        finally:
            notifier_close = getattr(notifier, 'close', None)
            abandoned = manager.stop(timeout=GUARD)
            if notifier_close:
                notifier_close()
    assert abandoned == []
    figures.record('pool-saturation/size-%d' % size, **figures_line)


def saturate(manager, conf, sim, notifier, size):
    api = saturation.api_url(conf)
    pool = manager.pool
    first = loaded_engine.ApiClient(api)
    plan = first.plan_of(first.create_audits(1)[0])
    before = pool.statistics()

    refused = []
    release = threading.Event()

    def direct(session):
        # NOTE: a task that holds its worker until the load ends, or for
        # at most a moment: the pool fills up with them.
        try:
            pool.submit(release.wait, 0.2)
            return 'accepted'
        except pool_mod.NoFreeWorker as exc:
            refused.append(str(exc))
            # NOTE: pacing, not synchronization: a submitter spinning on
            # the pool's lock would only starve the other sources.
            time.sleep(0.001)
            return 'NoFreeWorker'

    created = iter(range(FACTOR * size))

    def audits(session):
        if next(created, None) is None:
            return None
        response = session.post(api + '/v1/audits', json={
            'strategy': 'server_consolidation', 'force': True}, timeout=30)
        return 'audit %d' % response.status_code

    def reads(session):
        path = '/metrics' if time.monotonic() % 2 < 1 else '/v1/status'
        return 'get %d' % session.get(api + path, timeout=30).status_code

    churn = churn_mod.Churn(sim, notifier, rate_per_s=40 * size, seed=size)
    hammers = [saturation.Hammer(direct, 2), saturation.Hammer(audits, 1),
               saturation.Hammer(reads, 2)]
    first.start_plan(plan['uuid'])
    churn.start()
    for hammer in hammers:
        hammer.start()
    # NOTE: the load runs for a while on purpose; what ends it is time.
    time.sleep(LOAD_S)
    churn.stop()
    release.set()
    assert all(hammer.stop(GUARD) for hammer in hammers)
    during = pool.statistics()

    # Nothing deadlocks: everything submitted ends within the guard.
    t0 = time.monotonic()
    first.wait('/v1/action_plans/%s' % plan['uuid'],
               lambda p: p['state'] in loaded_engine.TERMINAL, GUARD)
    first.wait('/v1/status', lambda s: s['audits']['queued']
               + s['audits']['running'] == 0, GUARD)
    assert manager.listener.wait_idle(GUARD)
    settled_s = time.monotonic() - t0
    listened = manager.listener.status()

    # Served as soon as it drains: the default lane's reserved workers
    # are free of periodic work, so a submission now must be accepted.
    deadline = time.monotonic() + GUARD
    while pool.statistics().free < 1:
        assert time.monotonic() < deadline, pool.statistics()
        time.sleep(0.01)
    assert pool.submit(lambda: 'served').result(GUARD) == 'served'
    after_audit = first.plan_of(first.create_audits(1, force=True)[0])
    assert after_audit['state'] == 'RECOMMENDED'

    stats = pool.statistics()
    text = first.get_text('/metrics')
    # NOTE: the sweeps go on every second and may be refused meanwhile.
    latest = pool.statistics()
    exported = metric(text, 'decision_engine_pool_rejected_total')
    counts = {}
    for hammer in hammers:
        counts.update(hammer.counts)
    submissions = submitted_total(during) - submitted_total(before)
    line = dict(
        pool=size, submissions=submissions,
        direct_refused=counts.get('NoFreeWorker', 0),
        rejected=stats.rejected - before.rejected,
        caller_ran=stats.caller_ran - before.caller_ran,
        failed=stats.failed - before.failed,
        audits_created=counts.get('audit 201', 0),
        api_calls=sum(v for k, v in counts.items()
                      if k.startswith(('get', 'audit'))),
        events_applied=listened.applied, events_failed=listened.failed,
        churn_changes=churn.stats.changes, settled_s=settled_s)
    # 10x the pool, from every source.
    assert submissions >= FACTOR * size, line
    assert counts.get('audit 201', 0) >= 1 and listened.applied >= 1
    # Refused work is reported: to the submitter, in the statistics and
    # in /metrics, with the same number.
    assert refused and all('No free worker' in r and 'pool size %d' % size
                           in r for r in refused), refused[:3]
    assert stats.rejected >= len(refused)
    assert stats.rejected <= exported <= latest.rejected, (exported, stats)
    # No API call failed for the load: a full pool is never a 5xx, nor a
    # refused connection (an exception's name would be a key here).
    assert set(counts) <= {'accepted', 'NoFreeWorker', 'audit 201',
                           'get 200'}, counts
    assert listened.failed == 0, listened
    return line
