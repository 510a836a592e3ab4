"""The coordination service (both backends) and the shared PostgreSQL
store of the cluster tests."""

import pytest

from tests.fixtures import coordination
from tests.fixtures import dbfixtures


@pytest.fixture(params=coordination.BACKENDS)
def backend(request, tmp_path):
    """The tooz URL of a running backend: the module runs on each."""
    with coordination.backend_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store_url():
    """A PostgreSQL schema of the test's own, at the migrations' head."""
    with dbfixtures.postgres_url() as url:
        dbfixtures.open_store(url).dispose()
        yield url
