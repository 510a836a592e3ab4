"""Creating the SQLAlchemy engine from ``[database]`` options."""

import os

import sqlalchemy as sa
from sqlalchemy import event

from decision_engine.common import files

SQLITE_NAME = 'decision-engine.sqlite'

# The pip requirement that provides each SQLAlchemy driver, and the extra
# of this package that brings it (SQLAlchemy 2.1 maps ``postgresql://`` to
# psycopg 3; ``postgresql+psycopg2://`` keeps psycopg2).
_DRIVER_PACKAGES = {
    'psycopg': ('psycopg[binary]', 'postgresql'),
    'psycopg2': ('psycopg2-binary', None),
    'pg8000': ('pg8000', None),
    'asyncpg': ('asyncpg', None),
    'pymysql': ('PyMySQL', None),
    'mysqldb': ('mysqlclient', None),
}


class MissingDriver(ValueError):
    """The database driver a URL names is not installed."""


def import_driver(url):
    """Import the database driver (the DBAPI module) of ``url``.

    :raises MissingDriver: one line naming the URL's dialect, the Python
        package to install and, when there is one, this package's extra.
    :raises ValueError: for a URL SQLAlchemy does not understand.
    """
    try:
        parsed = sa.engine.make_url(url)
        dialect = parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ValueError('unknown database dialect %r in the database URL'
                         % url.split(':', 1)[0])
    except sa.exc.ArgumentError as exc:
        raise ValueError('invalid database URL: %s' % exc)
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        name = '%s+%s' % (parsed.get_backend_name(), parsed.get_driver_name())
        requirement, extra = _DRIVER_PACKAGES.get(
            parsed.get_driver_name(), (exc.name or parsed.get_driver_name(),
                                       None))
        if isinstance(exc, ModuleNotFoundError):
            why = 'which is not installed'
        else:
            # e.g. psycopg without its binary part and without libpq.
            why = 'which cannot be imported (%s)' % (
                str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MissingDriver(
            'the database URL\'s dialect %s needs the Python package %s, '
            '%s: pip install "%s"%s' % (
                name, exc.name or requirement, why, requirement,
                ', or pip install "decision-engine[%s]"' % extra
                if extra else ''))


def url_from_conf(conf):
    """``[database] connection``, or SQLite under ``[DEFAULT] state_path``."""
    if conf.database.connection:
        return conf.database.connection
    return 'sqlite:///%s' % os.path.join(conf.state_path, SQLITE_NAME)


def create_engine(url, timeout=10, pool_size=10):
    """An engine for ``url``.

    SQLite gets foreign keys on, WAL journaling (readers do not block the
    writer) and a busy timeout, so the API's threads and the audit runner
    can share one file.

    :raises MissingDriver: when the URL's database driver is not installed.
    """
    import_driver(url)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == 'sqlite':
        database = parsed.database
        if database and database != ':memory:':
            directory = os.path.dirname(os.path.abspath(database))
            if not os.path.isdir(directory):
                raise ValueError(
                    'the directory of the SQLite store %s does not exist; '
                    'create it or set [DEFAULT] state_path' % directory)
            # NOTE: SQLite creates the file with the process umask, and
            # its -wal and -shm files with the file's own mode: 0600 here
            # keeps every audit and plan the engine's own.
            files.touch_private_file(database)
        engine = sa.create_engine(
            url, connect_args={'timeout': timeout,
                               'check_same_thread': False})

        @event.listens_for(engine, 'connect')
        def _pragmas(dbapi_conn, record):
            cursor = dbapi_conn.cursor()
            cursor.execute('PRAGMA foreign_keys=ON')
            cursor.execute('PRAGMA journal_mode=WAL')
            cursor.close()
        return engine
    connect_args = {}
    if parsed.get_backend_name() == 'postgresql':
        connect_args['connect_timeout'] = timeout
    return sa.create_engine(url, pool_size=pool_size, pool_pre_ping=True,
                            connect_args=connect_args)
