"""What Watcher's REST API v1 needs: audit templates, a uuid for each
action, and the audits' ``auto_trigger``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A new table ``audit_templates``; ``actions`` gains a unique ``uuid``
(Watcher's API names actions by uuid). The actions already stored get a
uuid derived from their plan's uuid and their position, so the same
action keeps the same uuid on every engine of a cluster. ``audits`` gains
``auto_trigger`` (false for the audits already stored).
"""

import uuid as uuid_mod

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

#: the namespace of the uuids given to actions stored before 0005.
ACTION_NAMESPACE = uuid_mod.UUID('6d1bcb1e-55a3-4a53-9d8e-6f0a4c3e2b70')


def upgrade():
    op.create_table(
        'audit_templates',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.Text),
        sa.Column('goal', sa.String(255), nullable=False),
        sa.Column('strategy', sa.String(255)),
        sa.Column('scope', sa.JSON, nullable=False),
        sa.Column('default_parameters', sa.JSON, nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime),
        sa.UniqueConstraint('uuid', name='uniq_audit_templates0uuid'),
        sa.UniqueConstraint('name', name='uniq_audit_templates0name'))
    with op.batch_alter_table('audits') as batch:
        batch.add_column(sa.Column('auto_trigger', sa.Boolean,
                                   nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('actions') as batch:
        batch.add_column(sa.Column('uuid', sa.String(36)))
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        'SELECT actions.id, action_plans.uuid, actions.position FROM '
        'actions JOIN action_plans ON actions.action_plan_id = '
        'action_plans.id')).all()
    for action_id, plan_uuid, position in rows:
        conn.execute(
            sa.text('UPDATE actions SET uuid = :uuid WHERE id = :id'),
            {'uuid': str(uuid_mod.uuid5(ACTION_NAMESPACE, '%s/%d' % (
                plan_uuid, position))), 'id': action_id})
    with op.batch_alter_table('actions') as batch:
        batch.alter_column('uuid', existing_type=sa.String(36),
                           nullable=False)
        batch.create_unique_constraint('uniq_actions0uuid', ['uuid'])
