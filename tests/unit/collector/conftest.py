"""Fixtures of the collector's unit tests: the parsed global config and
builder harnesses against the in-process simulator."""

import pytest

from decision_engine.conf import CONF
from tests.fixtures import truth


@pytest.fixture(scope='session', autouse=True)
def parsed_conf():
    CONF([], project='decision-engine')
    yield CONF


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
