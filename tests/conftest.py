"""Test-wide set-up.

``DECISION_ENGINE_TEST_BACKEND=eventlet`` runs the tests in an
eventlet-patched process, the way the daemon runs with
``concurrency_backend = eventlet`` (``tox -e py3-eventlet``).
"""

import pytest

from tests import BACKEND

if BACKEND == 'eventlet':
    import eventlet
    eventlet.monkey_patch()


@pytest.fixture
def sim(topology):
    """The simulated cloud (real HTTP on loopback) serving ``topology``,
    which each test folder defines."""
    from decision_engine.simulator import Simulator

    simulator = Simulator(topology, latency_ms=0, token_ttl_s=3600)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(params=['sqlite', 'postgresql'])
def url(request, tmp_path):
    """A fresh store database of each kind (PostgreSQL at 127.0.0.1:5432,
    database ``test``, a schema of its own; absent means a loud failure)."""
    from tests.fixtures import dbfixtures

    with dbfixtures.database_url(request.param, tmp_path) as url:
        yield url
