"""Rows of the store as plain dicts.

Rows leave the store as dicts (JSON-able but for datetimes), so no
session or lazy load escapes it. Used by :mod:`decision_engine.db.api`
and by the mixins it is made of.
"""

from typing import Any

#: an audit, plan or action row.
Row = dict[str, Any]

_AUDIT_FIELDS = ('uuid', 'name', 'audit_type', 'state', 'state_reason',
                 'strategy', 'parameters', 'scope', 'interval', 'cron',
                 'next_run_at', 'started_at', 'finished_at', 'runs',
                 'model_age', 'build_seconds', 'strategy_seconds',
                 'last_action_plan_uuid', 'owner', 'auto_trigger',
                 'start_time', 'end_time', 'created_at', 'updated_at')
_PLAN_FIELDS = ('uuid', 'state', 'strategy', 'indicators', 'message',
                'model_age', 'build_seconds', 'strategy_seconds',
                'created_at', 'updated_at', 'state_reason', 'owner',
                'started_at', 'finished_at')
_ACTION_FIELDS = ('uuid', 'position', 'action_type', 'input_parameters',
                  'description', 'state', 'state_reason', 'started_at',
                  'finished_at', 'parents')

#: the columns of an audit and of a plan, for the pages that select them.
AUDIT_FIELDS = _AUDIT_FIELDS
PLAN_FIELDS = _PLAN_FIELDS

_TEMPLATE_FIELDS = ('uuid', 'name', 'description', 'goal', 'strategy',
                    'scope', 'default_parameters', 'created_at',
                    'updated_at')


def _row(obj, fields):
    return {f: getattr(obj, f) for f in fields}


def audit_dict(audit):
    return _row(audit, _AUDIT_FIELDS)


def plan_dict(plan, with_actions=True):
    data = _row(plan, _PLAN_FIELDS)
    data['audit_uuid'] = plan.audit.uuid
    data['action_count'] = len(plan.actions)
    if with_actions:
        data['actions'] = [_row(a, _ACTION_FIELDS) for a in plan.actions]
    return data


def template_dict(template):
    return _row(template, _TEMPLATE_FIELDS)


def action_dict(action):
    """An action with its plan's uuid (the plan must be loaded)."""
    data = _row(action, _ACTION_FIELDS)
    data['action_plan_uuid'] = action.action_plan.uuid
    data['updated_at'] = action.updated_at
    return data
