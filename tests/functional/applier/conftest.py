"""Fixtures of the applier tests: the simulator over HTTP, its migrations
lasting 0.1 s (helpers in
tests/fixtures/applier_harness.py); the store, sqlite_store and pool
fixtures are tests/conftest.py's."""

import pytest

from decision_engine.simulator import Simulator
from tests.fixtures import applier_harness


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
