"""Coordination faults: three engines' cluster memberships (the real
:class:`~decision_engine.coordination.cluster.Cluster`, with its heartbeat
threads) on a Redis server of the test's own, each sweeping 40 nodes with
its ring as the power sync does, while the server is restarted (no
persistence: every key is lost, as in a crash), then one engine dies
without leaving (what SIGKILL does to its membership).

Figures: rounds and seconds until the ring settles after the restart,
polls duplicated and nodes missed while it settles and once it has
settled (all 0: a member that rejoins keeps the members it had on its
ring for membership_timeout, the time the others need to rejoin), leaders
once settled (1), and the takeover of the dead engine's nodes (all of
them, by the survivors, none polled twice).
"""

import threading
import time

import pytest

from decision_engine.coordination import cluster as cluster_mod
from tests import fresh_conf
from tests.fixtures import coordination
from tests.fixtures import figures

NODES = ['compute-%02d' % i for i in range(40)]
MEMBERSHIP_TIMEOUT = 3
GUARD = 60
SETTLED_ROUNDS = 10


@pytest.fixture
def redis(tmp_path):
    server = coordination.own_server('redis', tmp_path).start()
    yield server
    server.stop()


class Engine:
    """A member sweeping: each round it runs its watcher (the periodic)
    and polls the nodes its ring gives it."""

    def __init__(self, host, url, prefix):
        conf = fresh_conf(host=host)
        for name, value in (('backend_url', url), ('group_prefix', prefix),
                            ('membership_timeout', MEMBERSHIP_TIMEOUT),
                            ('heartbeat_interval', 0.3),
                            ('watcher_interval', 0.3)):
            conf.set_override(name, value, 'coordination')
        self.host = host
        self.cluster = cluster_mod.Cluster(conf, {}, version='test')
        self.watch_errors = 0

    def sweep(self):
        try:
            self.cluster.watch()
        except Exception:
            # NOTE: the periodic wrapper logs and counts this; the sweep
            # goes on with the last ring.
            self.watch_errors += 1
        return {n for n in NODES if self.cluster.owns(n)}


def _round(engines):
    """One sweep of every engine, in parallel: ``(duplicated, missed)``."""
    polled = {}

    def run(engine):
        polled[engine.host] = engine.sweep()

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD)
    counts = {n: sum(n in p for p in polled.values()) for n in NODES}
    return (sum(c - 1 for c in counts.values() if c > 1),
            sum(1 for c in counts.values() if c == 0))


def _settle(engines, members):
    """Rounds until every engine's ring is ``members`` and stays so for
    SETTLED_ROUNDS rounds; returns (rounds, duplicated, missed) before."""
    rounds = duplicated = missed = steady = 0
    deadline = time.monotonic() + GUARD
    while steady < SETTLED_ROUNDS:
        assert time.monotonic() < deadline, [
            e.cluster.live_members() for e in engines]
        dup, miss = _round(engines)
        rounds += 1
        if all(e.cluster.live_members() == members for e in engines):
            steady += 1
        else:
            steady = 0
            duplicated += dup
            missed += miss
        time.sleep(0.1)
    return rounds, duplicated, missed


def _after(engines, rounds=SETTLED_ROUNDS):
    duplicated = missed = 0
    for _ in range(rounds):
        dup, miss = _round(engines)
        duplicated += dup
        missed += miss
        time.sleep(0.1)
    return duplicated, missed


def _leaders(engines):
    deadline = time.monotonic() + GUARD
    while True:
        leaders = [e.host for e in engines if e.cluster.is_leader()]
        if len(leaders) == 1 or time.monotonic() > deadline:
            return leaders
        _round(engines)
        time.sleep(0.1)


def test_backend_restart_and_takeover_poll_each_node_once(redis):
    prefix = coordination.unique_prefix()
    engines = [Engine('engine-%d' % i, redis.url, prefix) for i in range(3)]
    hosts = {e.host for e in engines}
    try:
        for engine in engines:
            engine.cluster.start()
        _settle(engines, hosts)
        assert _after(engines) == (0, 0)
        assert len(_leaders(engines)) == 1

        redis.stop()
        # NOTE: a short outage: the engines' calls retry through it.
        time.sleep(1)
        redis.start()
        restarted = time.monotonic()
        rounds, dup_settling, missed_settling = _settle(engines, hosts)
        settle_s = time.monotonic() - restarted
        dup_after, missed_after = _after(engines)
        leaders = _leaders(engines)

        victim, survivors = engines[0], engines[1:]
        # NOTE: what SIGKILL does to a member: no heartbeat, no leave.
        victim.cluster._stopping.set()
        victim.cluster._heart.join(GUARD)
        killed = time.monotonic()
        _settle(survivors, {e.host for e in survivors})
        takeover_s = time.monotonic() - killed
        dup_takeover, missed_takeover = _after(survivors)
        figures.record(
            'coordination-faults/redis-restart', engines=len(engines),
            nodes=len(NODES), settle_rounds=rounds, settle_s=settle_s,
            duplicated_while_settling=dup_settling,
            missed_while_settling=missed_settling,
            duplicated_after_settle=dup_after,
            missed_after_settle=missed_after, leaders_after=len(leaders),
            watch_errors=sum(e.watch_errors for e in engines),
            heartbeat_failures=sum(e.cluster.heartbeat_failures
                                   for e in engines))
        figures.record(
            'coordination-faults/takeover', survivors=len(survivors),
            takeover_s=takeover_s, duplicated_after=dup_takeover,
            missed_after=missed_takeover,
            leaders_after=len(_leaders(survivors)))
        assert (dup_after, missed_after) == (0, 0)
        # The members back first keep the others on their ring meanwhile.
        assert (dup_settling, missed_settling) == (0, 0)
        assert len(leaders) == 1, leaders
        assert (dup_takeover, missed_takeover) == (0, 0)
        assert len(_leaders(survivors)) == 1
        assert takeover_s <= MEMBERSHIP_TIMEOUT + GUARD / 4
    finally:
        for engine in engines:
            try:
                engine.cluster.stop()
            except Exception:
                pass
