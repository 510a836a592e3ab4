"""The real thing for datasource tests: the simulator's load exporter
scraped by a real Prometheus (Debian package ``prometheus``; absent means a
loud failure, see tests/fixtures/prometheus.py)."""

import pytest

from decision_engine.concurrency import pool as pool_mod
from tests.fixtures.load_env import Env
from tests.fixtures.load_env import HIDDEN
from tests.fixtures.load_env import RENAMED


@pytest.fixture(scope='package')
def env():
    """Default names (fqdn, resource); one host and two instances never
    exported (``HIDDEN``)."""
    e = Env(hidden=HIDDEN).start()
    yield e
    e.stop()


@pytest.fixture(scope='package')
def renamed_env():
    """Every metric and label renamed, hosts labelled only by
    ``instance="<host>:9100"``."""
    e = Env(names=RENAMED, host_label='instance').start()
    yield e
    e.stop()


@pytest.fixture
def pool():
    pool = pool_mod.WorkerPool(6)
    yield pool
    pool.shutdown(timeout=10)
