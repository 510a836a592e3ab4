"""Real databases for tests: a SQLite file and a PostgreSQL schema.

PostgreSQL is the one at 127.0.0.1:5432, database ``test`` (trust auth);
each test gets a schema of its own, dropped afterwards. If PostgreSQL is not
there the test fails (it does not skip).
"""

import contextlib
import os
import uuid

import sqlalchemy as sa

from decision_engine.db import api as db_api
from decision_engine.db import session as session_mod

PG_URL = os.environ.get(
    'DECISION_ENGINE_TEST_PG',
    'postgresql+psycopg2://postgres@127.0.0.1:5432/test')


@contextlib.contextmanager
def postgres_url(scheme=None):
    """The URL of a fresh schema; ``scheme`` replaces the URL's
    ``dialect+driver`` (``postgresql`` is psycopg 3 in SQLAlchemy 2.1)."""
    schema = 'de_test_%s' % uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL, connect_args={'connect_timeout': 5})
    try:
        with admin.begin() as conn:
            conn.execute(sa.text('CREATE SCHEMA %s' % schema))
    except sa.exc.OperationalError as exc:
        raise AssertionError(
            'PostgreSQL is needed at %s for the store tests: %s'
            % (PG_URL, str(exc.orig).strip().splitlines()[0]))
    try:
        base = PG_URL if scheme is None else (
            scheme + PG_URL[PG_URL.index('://'):])
        yield '%s?options=-csearch_path%%3D%s' % (base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text('DROP SCHEMA %s CASCADE' % schema))
        admin.dispose()


@contextlib.contextmanager
def database_url(kind, tmp_path):
    if kind == 'sqlite':
        yield 'sqlite:///%s' % (tmp_path / 'store.sqlite')
    else:
        with postgres_url() as url:
            yield url


def open_store(url, upgrade=True):
    store = db_api.Store(session_mod.create_engine(url))
    if upgrade:
        store.upgrade()
    return store
