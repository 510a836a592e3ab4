"""Schema migrations (alembic), run by ``decision-engine-manage db sync``.

The migration scripts live in ``decision_engine/db/migrations``; alembic
runs on a connection of the store's own engine, so the URL is read once,
from ``[database] connection`` (or the embedded SQLite default).
"""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

_SCRIPTS = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(connection=None):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', _SCRIPTS)
    cfg.attributes['connection'] = connection
    return cfg


def head():
    """The newest revision shipped with this code."""
    return alembic_script.ScriptDirectory.from_config(
        _config()).get_current_head()


def current(engine):
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return alembic_migration.MigrationContext.configure(
            conn).get_current_revision()


def upgrade(engine, revision='head'):
    """Bring the schema up to ``revision``, in one transaction."""
    with engine.begin() as conn:
        command.upgrade(_config(conn), revision)


class SchemaOutOfDate(RuntimeError):
    pass


def check_current(engine):
    """:raises SchemaOutOfDate: unless the database is at :func:`head`."""
    at, want = current(engine), head()
    if at != want:
        raise SchemaOutOfDate(
            'the database schema is at revision %s, this code needs %s: run '
            '"decision-engine-manage db sync"' % (at or 'none (empty)', want))
