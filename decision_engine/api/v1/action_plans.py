"""``/v1/action_plans``: the engine's plans, started and cancelled by its
applier.

State rules as Watcher's: a plan starts only from RECOMMENDED (``POST
.../start``, or a PATCH of ``/state`` to PENDING); a PATCH may also take
RECOMMENDED or PENDING to CANCELLED and ONGOING to CANCELLING. The engine
cancels a PENDING plan through CANCELLING (its actions not yet started
are CANCELLED at once). A plan is deleted only once it has ended or while
RECOMMENDED.
"""

from decision_engine.api import engine_api as engine_api_mod
from decision_engine.api.v1 import catalog
from decision_engine.api.v1 import common
from decision_engine.api.v1 import efficacy
from decision_engine.api.v1 import microversion
from decision_engine.applier import applier as applier_mod
from decision_engine.cloud import watcher_notifications
from decision_engine.common import plan_states as st
from decision_engine.db import api as db_api

SORT_KEYS = ('id', 'uuid', 'state', 'created_at')
PATCH_TRANSITIONS = {(st.RECOMMENDED, st.PENDING),
                     (st.RECOMMENDED, st.CANCELLED),
                     (st.ONGOING, st.CANCELLING),
                     (st.PENDING, st.CANCELLED)}
DELETABLE = (st.SUCCEEDED, st.RECOMMENDED, st.FAILED, st.SUPERSEDED,
             st.CANCELLED)


def efficacy_indicators(ctx, plan):
    """Watcher's ``efficacy_indicators``: each indicator the strategy
    computed, with its description and unit."""
    try:
        cls = ctx.catalog.find_strategy(plan['strategy'])['cls']
    except LookupError:
        cls = None
    return efficacy.indicators_of(cls, plan.get('indicators'))


def view(ctx, plan, detail):
    data = {
        'uuid': plan['uuid'], 'audit_uuid': plan['audit_uuid'],
        'strategy_uuid': catalog.strategy_uuid(plan['strategy']),
        'strategy_name': plan['strategy'], 'state': plan['state'],
        'efficacy_indicators': efficacy_indicators(ctx, plan),
        'global_efficacy': efficacy.global_efficacy(plan.get('indicators')),
        'updated_at': plan['updated_at'],
    }
    if detail:
        data.update(hostname=plan['owner'], created_at=plan['created_at'],
                    deleted_at=None)
        if ctx.at_least(microversion.SKIPPED_ACTION):
            data['status_message'] = plan['state_reason']
    data['links'] = common.links(ctx, 'action_plans', plan['uuid'])
    return data


def _list(ctx, detail):
    page = common.paging(ctx, SORT_KEYS)
    params = ctx.request.GET
    strategies = None
    try:
        if params.get('strategy'):
            strategies = [
                ctx.catalog.find_strategy(params['strategy'])['name']]
        audit_uuid = params.get('audit_uuid')
        if audit_uuid:
            audit_uuid = ctx.store.find_audit(audit_uuid)['uuid']
        plans = ctx.store.page_action_plans(
            limit=page.limit, marker=page.marker, sort_key=page.sort_key,
            sort_dir=page.sort_dir, audit_uuid=audit_uuid,
            strategies=strategies)
    except (LookupError, db_api.NotFound) as exc:
        raise common.bad_request(str(exc.args[0] if exc.args else exc))
    return common.collection(ctx, 'action_plans', [
        view(ctx, p, detail) for p in plans], page)


def list_plans(ctx):
    ctx.authorize('action_plan:get_all')
    return _list(ctx, False)


def list_detail(ctx):
    ctx.authorize('action_plan:detail')
    return _list(ctx, True)


def _plan(ctx, ident):
    try:
        return ctx.store.get_action_plan(ident)
    except db_api.NotFound:
        raise common.not_found('Action plan %s could not be found' % ident)


def show(ctx, ident):
    ctx.authorize('action_plan:get')
    return common.json_response(view(ctx, _plan(ctx, ident), True))


def _start(ctx, plan):
    if plan['state'] != st.RECOMMENDED:
        raise common.bad_request(
            'State transition not allowed: (%s -> %s)'
            % (plan['state'], st.PENDING))
    try:
        return ctx.engine.start_action_plan(plan['uuid'])
    except db_api.PlanConflict as exc:
        raise common.APIError(409, str(exc))
    except db_api.PlanNotStartable as exc:
        raise common.bad_request(str(exc))
    except (applier_mod.ApplierStopped,
            engine_api_mod.ApplierUnavailable) as exc:
        raise common.APIError(503, str(exc))


def start(ctx, ident):
    """``POST /v1/action_plans/{plan}/start``: the plan, PENDING (or
    already ONGOING)."""
    ctx.authorize('action_plan:start')
    plan = _start(ctx, _plan(ctx, ident))
    return common.json_response(view(ctx, _reread(ctx, plan), True))


def _reread(ctx, plan):
    # NOTE: the engine's answers carry its own fields; read the row again
    # for Watcher's.
    return ctx.store.get_action_plan(plan['uuid'])


def update(ctx, ident):
    ctx.authorize('action_plan:update')
    plan = _plan(ctx, ident)
    values = {'state': plan['state']}
    common.apply_patch(values, common.read_body(ctx), {'state'})
    wanted = values['state']
    if wanted == plan['state']:
        return common.json_response(view(ctx, plan, True))
    if (plan['state'], wanted) not in PATCH_TRANSITIONS:
        raise common.bad_request('State transition not allowed: (%s -> %s)'
                                 % (plan['state'], wanted))
    if wanted == st.PENDING:
        _start(ctx, plan)
    else:
        try:
            ctx.engine.cancel_action_plan(plan['uuid'])
        except applier_mod.PlanNotCancellable as exc:
            raise common.bad_request(str(exc))
        except engine_api_mod.ApplierUnavailable as exc:
            raise common.APIError(503, str(exc))
    return common.json_response(view(ctx, _reread(ctx, plan), True))


def delete(ctx, ident):
    ctx.authorize('action_plan:delete')
    plan = _plan(ctx, ident)
    notify = watcher_notifications.get()
    audit = (ctx.store.get_audit(plan['audit_uuid']) if notify.enabled
             else None)
    if not ctx.store.delete_plan(plan['uuid'], DELETABLE):
        current = ctx.store.get_action_plan(plan['uuid'])
        raise common.bad_request("Couldn't delete when state is '%s'."
                                 % current['state'])
    if audit is not None:
        notify.action_plan('delete', plan, audit)
    return common.empty_response()
