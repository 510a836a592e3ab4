"""Creating the SQLAlchemy engine from ``[database]`` options."""

import os

import sqlalchemy as sa
from sqlalchemy import event

SQLITE_NAME = 'decision-engine.sqlite'


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
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == 'sqlite':
        database = parsed.database
        if database and database != ':memory:':
            directory = os.path.dirname(os.path.abspath(database))
            if not os.path.isdir(directory):
                raise ValueError(
                    'the directory of the SQLite store %s does not exist; '
                    'create it or set [DEFAULT] state_path' % directory)
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
