"""``/v1/actions``: the actions of the engine's plans.

``parents`` are the actions an action waits for, stored with its plan
(:mod:`decision_engine.common.action_graph` at one action per host:
on each host the plan's order is
kept, actions on other hosts run in parallel; the applier may further
overlap consecutive migrations leaving, or arriving on, a host when
``[applier] max_migrations_per_host`` is above 1). ``created_at`` is its
plan's. From 1.5 an action may be set SKIPPED (with a ``status_message``)
while its plan is RECOMMENDED or PENDING, and a SKIPPED action's message
changed.
"""

from decision_engine.api.v1 import common
from decision_engine.api.v1 import microversion
from decision_engine.cloud import watcher_notifications
from decision_engine.common import plan_states as st
from decision_engine.db import api as db_api

SORT_KEYS = ('id', 'uuid', 'state', 'action_type')
SKIPPABLE_PLAN_STATES = (st.RECOMMENDED, st.PENDING)


def parents(action):
    """The uuids of the actions ``action`` waits for."""
    return (action.get('parents') or '').split()


def view(ctx, action, detail):
    data = {'uuid': action['uuid'],
            'action_plan_uuid': action['action_plan_uuid'],
            'action_type': action['action_type'], 'state': action['state'],
            'parents': parents(action)}
    if detail:
        data.update(description=action['description'],
                    input_parameters=action['input_parameters'],
                    created_at=action['created_at'],
                    updated_at=action['updated_at'], deleted_at=None)
        if ctx.at_least(microversion.SKIPPED_ACTION):
            data['status_message'] = action['state_reason']
    data['links'] = common.links(ctx, 'actions', action['uuid'])
    return data


def _list(ctx, detail):
    page = common.paging(ctx, SORT_KEYS)
    params = ctx.request.GET
    plan_uuid = params.get('action_plan_uuid')
    audit_uuid = params.get('audit_uuid')
    if plan_uuid and audit_uuid:
        raise common.bad_request('give action_plan_uuid or audit_uuid, not '
                                 'both')
    try:
        actions = ctx.store.page_actions(
            limit=page.limit, marker=page.marker, sort_key=page.sort_key,
            sort_dir=page.sort_dir, action_plan_uuid=plan_uuid,
            audit_uuid=audit_uuid, detail=detail)
    except db_api.NotFound as exc:
        raise common.bad_request(str(exc))
    return common.collection(ctx, 'actions', [
        view(ctx, a, detail) for a in actions], page)


def list_actions(ctx):
    ctx.authorize('action:get_all')
    return _list(ctx, False)


def list_detail(ctx):
    ctx.authorize('action:detail')
    return _list(ctx, True)


def show(ctx, ident):
    ctx.authorize('action:get')
    return common.json_response(view(ctx, ctx.store.get_action(ident),
                                     True))


def update(ctx, ident):
    """A PATCH of ``/state`` to SKIPPED and of ``/status_message`` (1.5)."""
    ctx.authorize('action:update')
    if not ctx.at_least(microversion.SKIPPED_ACTION):
        raise common.APIError(
            405, 'updating an action needs API version 1.5 or later')
    action = ctx.store.get_action(ident)
    values = {'state': action['state'],
              'status_message': action['state_reason']}
    common.apply_patch(values, common.read_body(ctx),
                       {'state', 'status_message'})
    if values['status_message'] is not None and not isinstance(
            values['status_message'], str):
        raise common.bad_request('status_message must be a string')
    plan = ctx.store.get_action_plan(action['action_plan_uuid'])
    if values['state'] != action['state']:
        if values['state'] != st.SKIPPED or action['state'] != st.PENDING:
            raise common.bad_request(
                'State transition not allowed: (%s -> %s)'
                % (action['state'], values['state']))
        if plan['state'] not in SKIPPABLE_PLAN_STATES:
            raise common.APIError(
                409, 'an action can be skipped only while its action plan '
                     'is RECOMMENDED or PENDING, not %s' % plan['state'])
        from_states = [st.PENDING]
    elif values['status_message'] != action['state_reason']:
        if action['state'] != st.SKIPPED:
            raise common.bad_request('status_message can be changed only '
                                     'for a SKIPPED action')
        from_states = [st.SKIPPED]
    else:
        return common.json_response(view(ctx, action, True))
    message = values['status_message'] or 'skipped by request'
    if not ctx.store.transition_action(
            plan['uuid'], action['position'], from_states,
            state=values['state'], state_reason=message):
        current = ctx.store.get_action(ident)
        raise common.APIError(409, 'action %s is now %s' % (
            ident, current['state']))
    updated = ctx.store.get_action(ident)
    watcher_notifications.get().action('update', updated, plan,
                                       old_state=action['state'])
    return common.json_response(view(ctx, updated, True))
