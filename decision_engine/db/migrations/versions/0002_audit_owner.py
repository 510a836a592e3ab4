"""The engine that owns (runs) an audit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Audits already in the database get no owner (NULL): an engine settles an
ONGOING audit without owner at start as before this revision, since it
was left by code that supported one engine per database.
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audits', sa.Column('owner', sa.String(255)))
    op.create_index('audits_state_owner_idx', 'audits', ['state', 'owner'])
