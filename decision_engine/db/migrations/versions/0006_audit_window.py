"""Watcher's audit time window (API 1.1): ``start_time`` and ``end_time``
of CONTINUOUS audits; the ``parents`` of each action.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``audits`` gains two nullable columns (naive UTC); the audits already
stored have no window. ``actions`` gains ``parents`` (the uuids of the
actions each one waits for, space-separated), filled in here for the
actions already stored, plan by plan, by the rule the store applies to
new plans (:mod:`decision_engine.common.action_graph`). EVENT audits and the
SUSPENDED state need no schema change (the type and state columns are
strings).
"""

import json

from alembic import op
import sqlalchemy as sa

from decision_engine.common import action_graph

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
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        'SELECT id, action_plan_id, uuid, input_parameters FROM actions '
        'ORDER BY action_plan_id, position')).all()
    plans = {}
    for row in rows:
        plans.setdefault(row.action_plan_id, []).append(row)
    for actions in plans.values():
        parents = action_graph.parents_of([
            {'input_parameters': _json(a.input_parameters)}
            for a in actions])
        for action, mine in zip(actions, parents):
            conn.execute(
                sa.text('UPDATE actions SET parents = :parents '
                        'WHERE id = :id'),
                {'parents': ' '.join(actions[p].uuid
                                     for p in sorted(mine)),
                 'id': action.id})


def _json(value):
    # NOTE: a text query returns a JSON column as text on SQLite.
    return json.loads(value) if isinstance(value, str) else value
