"""Stores of several engines on one database."""

import pytest

from tests.fixtures import dbfixtures


@pytest.fixture
def stores(url):
    """Two engines' stores (each its own db/api.Store) on the database
    ``url`` (each kind in turn); the first migrated it to head."""
    first = dbfixtures.open_store(url)
    second = dbfixtures.open_store(url, upgrade=False)
    yield first, second
    first.dispose()
    second.dispose()
