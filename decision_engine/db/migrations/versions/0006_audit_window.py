"""Watcher's audit time window (API 1.1): ``start_time`` and ``end_time``
of CONTINUOUS audits; the ``parents`` of each action.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``audits`` gains two nullable columns (naive UTC); the audits already
stored have no window. ``actions`` gains ``parents`` (the uuids of the
actions each one waits for, space-separated; NULL for the actions stored
before, whose parents the API computes when asked). EVENT audits and the
SUSPENDED state need no schema change (the type and state columns are
strings).
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audits') as batch:
        batch.add_column(sa.Column('start_time', sa.DateTime))
        batch.add_column(sa.Column('end_time', sa.DateTime))
    with op.batch_alter_table('actions') as batch:
        batch.add_column(sa.Column('parents', sa.Text))
