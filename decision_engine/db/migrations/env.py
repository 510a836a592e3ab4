"""alembic environment: runs on the connection the caller hands over.

:func:`decision_engine.db.migration.upgrade` puts an open connection in
``config.attributes['connection']``; nothing here reads a URL or a file.
"""

from alembic import context

from decision_engine.db import models

config = context.config


def run_migrations_online():
    connection = config.attributes['connection']
    context.configure(connection=connection,
                      target_metadata=models.Base.metadata,
                      render_as_batch=connection.dialect.name == 'sqlite')
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
