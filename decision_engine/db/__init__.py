"""The store of audits, action plans and their actions (SQLAlchemy).

:mod:`~decision_engine.db.models` declares the tables,
:mod:`~decision_engine.db.migration` runs the alembic migrations
(``decision-engine-manage db sync``), and :mod:`~decision_engine.db.api`
is the only way the rest of the engine reads and writes them.
"""
