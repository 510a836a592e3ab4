"""``/v1/audits``: Watcher's audits over the engine's audit service.

An audit created here is the engine's audit (the same row, run by the
same runner, listed by the engine's own routes too). Its goal is its
strategy's goal; ``status_message`` is its state reason, ``hostname`` the
engine that ran it last.

An EVENT audit waits PENDING until ``POST /v1/webhooks/{audit}`` (1.4)
triggers one run (:mod:`.webhooks`). ``start_time`` and ``end_time`` (1.1)
bound a CONTINUOUS audit's runs; times without an offset are UTC. A PATCH
of ``/state`` may cancel a PENDING or ONGOING audit, suspend a CONTINUOUS
one (SUSPENDED) and resume it (to ONGOING, which the engine shows as
PENDING until the next run starts); from 1.1 a PATCH may also change a
CONTINUOUS audit's ``start_time`` and ``end_time`` until it ends. Any
other change is refused with 400 and changes nothing.
"""

import re

from decision_engine.api.v1 import catalog
from decision_engine.api.v1 import common
from decision_engine.api.v1 import microversion
from decision_engine.api.v1 import scope as scope_mod
from decision_engine.audit import service as audit_service
from decision_engine.cloud import watcher_notifications
from decision_engine.common import states
from decision_engine.common import timeutils
from decision_engine.db import api as db_api

LIST_FIELDS = ('uuid', 'name', 'audit_type', 'state', 'goal_uuid',
               'goal_name', 'strategy_uuid', 'strategy_name', 'interval',
               'scope', 'auto_trigger', 'next_run_time')
SORT_KEYS = ('id', 'uuid', 'name', 'audit_type', 'state', 'created_at')
CREATE_FIELDS = {'audit_template_uuid', 'goal', 'strategy', 'name',
                 'parameters', 'audit_type', 'interval', 'scope',
                 'auto_trigger', 'hostname'}
#: Watcher's: an audit is deleted only once it has ended, or while
#: SUSPENDED.
DELETABLE = (states.SUCCEEDED, states.FAILED, states.CANCELLED,
             states.SUSPENDED)
AUDIT_TYPES = ('ONESHOT', 'CONTINUOUS', 'EVENT')


def _goal_of(ctx, strategy):
    try:
        return ctx.catalog.find_strategy(strategy)['goal_name']
    except LookupError:
        return None


def _interval(audit):
    if audit['cron']:
        return audit['cron']
    if audit['interval'] is not None:
        return str(audit['interval'])
    return None


def view(ctx, audit, detail):
    goal = _goal_of(ctx, audit['strategy'])
    data = {
        'uuid': audit['uuid'], 'name': audit['name'],
        'audit_type': audit['audit_type'], 'state': audit['state'],
        'goal_uuid': catalog.goal_uuid(goal) if goal else None,
        'goal_name': goal,
        'strategy_uuid': catalog.strategy_uuid(audit['strategy']),
        'strategy_name': audit['strategy'],
        'interval': _interval(audit),
        'scope': scope_mod.to_watcher(audit['scope']),
        'auto_trigger': bool(audit.get('auto_trigger')),
        'next_run_time': audit['next_run_at'],
    }
    if detail:
        data.update(parameters=audit['parameters'],
                    hostname=audit['owner'],
                    created_at=audit['created_at'],
                    updated_at=audit['updated_at'], deleted_at=None)
        if ctx.at_least(microversion.START_END_TIME):
            data.update(start_time=audit.get('start_time'),
                        end_time=audit.get('end_time'))
        if ctx.at_least(microversion.FORCE):
            data['force'] = False
        if ctx.at_least(microversion.SKIPPED_ACTION):
            data['status_message'] = audit['state_reason']
    data['links'] = common.links(ctx, 'audits', audit['uuid'])
    return data


def _strategy_filter(ctx, params):
    """The strategies an audit list is limited to, or None for all."""
    try:
        if params.get('strategy'):
            return [ctx.catalog.find_strategy(params['strategy'])['name']]
        if params.get('goal'):
            goal = ctx.catalog.find_goal(params['goal'])['name']
            return [s['name'] for s in ctx.catalog.strategies_of(goal)]
    except LookupError as exc:
        raise common.bad_request(str(exc))
    return None


def _list(ctx, detail):
    page = common.paging(ctx, SORT_KEYS)
    try:
        audits = ctx.store.page_audits(
            limit=page.limit, marker=page.marker, sort_key=page.sort_key,
            sort_dir=page.sort_dir,
            strategies=_strategy_filter(ctx, ctx.request.GET),
            detail=detail)
    except db_api.NotFound as exc:
        raise common.bad_request(str(exc))
    return common.collection(ctx, 'audits', [
        view(ctx, a, detail) for a in audits], page)


def list_audits(ctx):
    ctx.authorize('audit:get_all')
    return _list(ctx, False)


def list_detail(ctx):
    ctx.authorize('audit:detail')
    return _list(ctx, True)


def show(ctx, ident):
    ctx.authorize('audit:get')
    return common.json_response(view(ctx, ctx.store.find_audit(ident),
                                     True))


def _accepted(ctx):
    fields = set(CREATE_FIELDS)
    if ctx.at_least(microversion.START_END_TIME):
        fields |= {'start_time', 'end_time'}
    if ctx.at_least(microversion.FORCE):
        fields.add('force')
    return fields


def engine_body(ctx, body):
    """The engine's audit request for Watcher's ``body``.

    :raises common.APIError: 400 naming what is wrong or not supported.
    """
    if not isinstance(body, dict):
        raise common.bad_request('the request body must be a JSON object')
    unknown = sorted(set(body) - _accepted(ctx))
    if unknown:
        raise common.bad_request('audit: unknown attribute(s) %s'
                                 % ', '.join(unknown))
    audit_type = body.get('audit_type') or states.ONESHOT
    if audit_type not in AUDIT_TYPES:
        raise common.bad_request('audit: audit_type must be one of %s, not '
                                 '%r' % (', '.join(AUDIT_TYPES), audit_type))
    if body.get('auto_trigger') not in (None, True, False):
        raise common.bad_request('audit: auto_trigger must be true or false')
    template = None
    if body.get('audit_template_uuid'):
        try:
            template = ctx.store.find_template(body['audit_template_uuid'])
        except db_api.NotFound as exc:
            raise common.bad_request(str(exc))
    goal = body.get('goal') or (template['goal'] if template else None)
    strategy = body.get('strategy') or (template['strategy']
                                        if template else None)
    try:
        if strategy:
            strategy = ctx.catalog.find_strategy(strategy)
        if goal:
            goal = ctx.catalog.find_goal(goal)
    except LookupError as exc:
        raise common.bad_request(str(exc))
    if strategy is None:
        if goal is None:
            raise common.bad_request('audit: a goal, a strategy or an audit '
                                     'template is required')
        # NOTE: Watcher lets its planner choose; the engine takes the
        # goal's first strategy by name.
        strategy = ctx.catalog.strategies_of(goal['name'])[0]
    elif goal is not None and strategy['goal_name'] != goal['name']:
        raise common.bad_request("'%s' strategy does not relate to the "
                                 "'%s' goal" % (strategy['name'],
                                                goal['name']))
    parameters = dict(template['default_parameters']) if template else {}
    if body.get('parameters') is not None:
        if not isinstance(body['parameters'], dict):
            raise common.bad_request('audit: parameters must be an object')
        parameters.update(body['parameters'])
    scope = body.get('scope')
    if scope is None and template is not None:
        scope = template['scope']
    name = body.get('name') or '%s-%s' % (
        strategy['name'], timeutils.utcnow().isoformat())
    result = {'name': name, 'strategy': strategy['name'],
              'audit_type': audit_type, 'parameters': parameters,
              'scope': scope_mod.to_engine(scope)}
    interval = body.get('interval')
    if audit_type == states.CONTINUOUS:
        if interval in (None, ''):
            raise common.bad_request('audit: a CONTINUOUS audit needs an '
                                     'interval (seconds or a cron '
                                     'expression)')
        text = str(interval).strip()
        if re.fullmatch(r'\d+', text):
            result['interval'] = int(text)
        else:
            result['cron'] = text
    elif interval not in (None, ''):
        raise common.bad_request('audit: interval is only for CONTINUOUS '
                                 'audits')
    for name in ('start_time', 'end_time'):
        if body.get(name) is not None:
            result[name] = body[name]
    if body.get('force'):
        result['force'] = True
    if body.get('auto_trigger'):
        result['auto_trigger'] = True
    return result


def create(ctx):
    ctx.authorize('audit:create')
    values = engine_body(ctx, common.read_body(ctx))
    try:
        audit = ctx.engine.audits.create(values)
    except audit_service.InvalidAudit as exc:
        raise common.bad_request(str(exc))
    except audit_service.AuditConflict as exc:
        raise common.APIError(409, str(exc))
    response = common.json_response(view(ctx, audit, True), status=201)
    response.location = '%s/v1/audits/%s' % (ctx.base, audit['uuid'])
    return response


def _change_state(ctx, audit, wanted):
    """Watcher's transitions a request may ask for; :returns: the audit
    after the change. :raises common.APIError: 400, nothing changed."""
    service = ctx.engine.audits
    try:
        if wanted == states.CANCELLED:
            return service.cancel(audit['uuid'])
        if wanted == states.SUSPENDED:
            return service.suspend(audit['uuid'])
        if wanted == states.ONGOING and audit['state'] == states.SUSPENDED:
            return service.resume(audit['uuid'])
    except audit_service.InvalidTransition as exc:
        raise common.bad_request(str(exc))
    except audit_service.AuditNotCancellable:
        pass
    raise common.bad_request("State transition not allowed: (%s -> %s)"
                             % (audit['state'], wanted))


def update(ctx, ident):
    """A PATCH of ``/state`` (see the module docstring) or of ``/name``;
    both are checked before either is applied."""
    ctx.authorize('audit:update')
    audit = ctx.store.find_audit(ident)
    values = {'state': audit['state'], 'name': audit['name']}
    allowed = {'state', 'name'}
    if ctx.at_least(microversion.START_END_TIME):
        window = {name: audit[name].isoformat() if audit[name] else None
                  for name in ('start_time', 'end_time')}
        values.update(window)
        allowed |= set(window)
    common.apply_patch(values, common.read_body(ctx), allowed)
    if values['name'] != audit['name'] and (
            not isinstance(values['name'], str)
            or len(values['name']) > 255):
        raise common.bad_request('audit: name must be a string of at '
                                 'most 255 characters')
    if 'start_time' in values and (values['start_time'],
                                   values['end_time']) != (
            window['start_time'], window['end_time']):
        if values['state'] != audit['state']:
            raise common.bad_request('audit: change the state and the time '
                                     'window in two requests')
        try:
            audit = ctx.engine.audits.set_window(
                audit['uuid'], values['start_time'], values['end_time'])
        except (audit_service.InvalidAudit,
                audit_service.InvalidTransition) as exc:
            raise common.bad_request(str(exc))
    if values['state'] != audit['state']:
        audit = _change_state(ctx, audit, values['state'])
    if values['name'] != audit['name']:
        renamed = ctx.store.transition(audit['uuid'], states.STATES,
                                       name=values['name'])
        if renamed is not None:
            watcher_notifications.get().audit('update', renamed,
                                              old_state=audit['state'])
            audit = renamed
    return common.json_response(view(ctx, audit, True))


def delete(ctx, ident):
    ctx.authorize('audit:delete')
    audit = ctx.store.find_audit(ident)
    if not ctx.store.delete_audit(audit['uuid'], DELETABLE):
        current = ctx.store.get_audit(audit['uuid'])
        raise common.bad_request("Couldn't delete when state is '%s'."
                                 % current['state'])
    watcher_notifications.get().audit('delete', audit)
    return common.empty_response()
