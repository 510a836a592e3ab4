"""Fixtures of the applier tests: the simulator over HTTP (helpers in
tests/fixtures/applier_harness.py); the store, sqlite_store and pool
fixtures are tests/conftest.py's."""

import pytest

from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import applier_harness


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
