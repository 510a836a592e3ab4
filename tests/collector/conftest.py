"""Fixtures: a simulator (real HTTP on loopback, in this process) and a
builder harness against it."""

import pytest

from decision_engine.conf import CONF
from decision_engine.simulator import Topology
from tests.fixtures import truth


@pytest.fixture(scope='session', autouse=True)
def parsed_conf():
    CONF([], project='decision-engine')
    yield CONF


@pytest.fixture
def topology():
    # 23 hosts: compute-1 is a prefix of compute-10..19; some hosts empty.
    return Topology.generate(hosts=23, instances=300, aggregates=3, azs=2,
                             seed=7)


@pytest.fixture
def harnesses():
    made = []

    def make(sim, **kwargs):
        harness = truth.Harness(sim, **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
