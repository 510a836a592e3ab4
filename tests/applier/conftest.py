"""Fixtures of the applier tests: a real store (SQLite and PostgreSQL),
the real pool at its smallest size and the simulator over HTTP (helpers in
tests/fixtures/applier_harness.py)."""

import pytest

from decision_engine.concurrency import pool as pool_mod
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import applier_harness
from tests.fixtures import dbfixtures


@pytest.fixture
def store(url):
    store = dbfixtures.open_store(url)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_store(tmp_path):
    store = dbfixtures.open_store('sqlite:///%s' % (tmp_path / 's.sqlite'))
    yield store
    store.dispose()


@pytest.fixture
def pool():
    pool = pool_mod.WorkerPool(3)
    yield pool
    pool.shutdown(timeout=10)


@pytest.fixture
def topology():
    return Topology.generate(hosts=8, instances=40, aggregates=2, azs=1,
                             seed=3)


@pytest.fixture
def sim(topology):
    simulator = Simulator(topology, migrations={'duration_s': 0.1,
                                                'jitter': 0.5, 'seed': 1})
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def harness(store, pool, sim):
    h = applier_harness.Harness(store, pool, sim)
    yield h
    h.close()
