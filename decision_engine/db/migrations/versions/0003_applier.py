"""What the applier records: who runs a plan, when, and each action's
timestamps and reason.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Plans and actions already stored get NULLs: no plan was ever applied by
the engine before this revision.
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('action_plans') as batch:
        batch.add_column(sa.Column('state_reason', sa.Text))
        batch.add_column(sa.Column('owner', sa.String(255)))
        batch.add_column(sa.Column('started_at', sa.DateTime))
        batch.add_column(sa.Column('finished_at', sa.DateTime))
    op.create_index('action_plans_state_owner_idx', 'action_plans',
                    ['state', 'owner'])
    with op.batch_alter_table('actions') as batch:
        batch.add_column(sa.Column('state_reason', sa.Text))
        batch.add_column(sa.Column('started_at', sa.DateTime))
        batch.add_column(sa.Column('finished_at', sa.DateTime))
        batch.add_column(sa.Column('updated_at', sa.DateTime))
