"""The failed power-state polls of each node, shared by the engines of a
cluster, so a node that moves to another engine keeps its failure count
and its ``power_failure`` flag.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A new table; nothing existing changes. Only nodes whose last poll failed
have a row (a success deletes it).
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'node_power_failures',
        sa.Column('hostname', sa.String(255), primary_key=True),
        sa.Column('failures', sa.Integer, nullable=False),
        sa.Column('power_failure', sa.Boolean, nullable=False),
        sa.Column('last_error', sa.Text),
        sa.Column('engine', sa.String(255)),
        sa.Column('updated_at', sa.DateTime, nullable=False))
