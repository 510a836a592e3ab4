"""Audits, action plans and actions.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime)]


def upgrade():
    op.create_table(
        'audits',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('audit_type', sa.String(16), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('state_reason', sa.Text),
        sa.Column('strategy', sa.String(255), nullable=False),
        sa.Column('parameters', sa.JSON, nullable=False),
        sa.Column('scope', sa.JSON, nullable=False),
        sa.Column('interval', sa.Integer),
        sa.Column('cron', sa.String(255)),
        sa.Column('next_run_at', sa.DateTime),
        sa.Column('started_at', sa.DateTime),
        sa.Column('finished_at', sa.DateTime),
        sa.Column('runs', sa.Integer, nullable=False),
        sa.Column('model_age', sa.Float),
        sa.Column('build_seconds', sa.Float),
        sa.Column('strategy_seconds', sa.Float),
        sa.Column('last_action_plan_uuid', sa.String(36)),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_audits0uuid'),
    )
    op.create_index('audits_state_idx', 'audits', ['state'])
    op.create_index('audits_next_run_at_idx', 'audits', ['next_run_at'])
    op.create_table(
        'action_plans',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('audit_id', sa.Integer,
                  sa.ForeignKey('audits.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('strategy', sa.String(255), nullable=False),
        sa.Column('indicators', sa.JSON, nullable=False),
        sa.Column('message', sa.Text),
        sa.Column('model_age', sa.Float),
        sa.Column('build_seconds', sa.Float),
        sa.Column('strategy_seconds', sa.Float),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_action_plans0uuid'),
    )
    op.create_index('action_plans_audit_id_idx', 'action_plans',
                    ['audit_id'])
    op.create_table(
        'actions',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('action_plan_id', sa.Integer,
                  sa.ForeignKey('action_plans.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('position', sa.Integer, nullable=False),
        sa.Column('action_type', sa.String(64), nullable=False),
        sa.Column('input_parameters', sa.JSON, nullable=False),
        sa.Column('description', sa.Text),
        sa.Column('state', sa.String(16), nullable=False),
        sa.UniqueConstraint('action_plan_id', 'position',
                            name='uniq_actions0plan0position'),
    )
