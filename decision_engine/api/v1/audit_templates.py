"""``/v1/audit_templates``: a goal, maybe a strategy, a scope and (1.7)
default parameters, to create audits from."""

from decision_engine.api.v1 import catalog
from decision_engine.api.v1 import common
from decision_engine.api.v1 import microversion
from decision_engine.api.v1 import scope as scope_mod
from decision_engine.db import api as db_api
from decision_engine.strategies import base as strategy_base

LIST_FIELDS = ('uuid', 'name', 'goal_uuid', 'goal_name', 'strategy_uuid',
               'strategy_name', 'scope')
FIELDS = ('name', 'description', 'goal', 'strategy', 'scope',
          'default_parameters')
SORT_KEYS = ('id', 'uuid', 'name', 'created_at')
NAME_MAX = 63


def _view(ctx, template, detail):
    goal, strategy = template['goal'], template['strategy']
    data = {
        'uuid': template['uuid'], 'name': template['name'],
        'goal_uuid': catalog.goal_uuid(goal), 'goal_name': goal,
        'strategy_uuid': catalog.strategy_uuid(strategy)
        if strategy else None,
        'strategy_name': strategy, 'scope': template['scope'],
    }
    if detail:
        data.update(description=template['description'],
                    created_at=template['created_at'],
                    updated_at=template['updated_at'], deleted_at=None)
        if ctx.at_least(microversion.TEMPLATE_DEFAULT_PARAMETERS):
            data['default_parameters'] = template['default_parameters']
    data['links'] = common.links(ctx, 'audit_templates', template['uuid'])
    return data


def _list(ctx, detail):
    page = common.paging(ctx, SORT_KEYS)
    params = ctx.request.GET
    goal = strategy = None
    try:
        if params.get('goal'):
            goal = ctx.catalog.find_goal(params['goal'])['name']
        if params.get('strategy'):
            strategy = ctx.catalog.find_strategy(params['strategy'])['name']
    except LookupError as exc:
        raise common.bad_request(str(exc))
    try:
        templates = ctx.store.page_templates(
            limit=page.limit, marker=page.marker, sort_key=page.sort_key,
            sort_dir=page.sort_dir, goal=goal, strategy=strategy)
    except db_api.NotFound as exc:
        raise common.bad_request(str(exc))
    # NOTE: python-watcherclient sends ``name`` too; Watcher ignores it.
    return common.collection(ctx, 'audit_templates', [
        _view(ctx, t, detail) for t in templates], page)


def list_templates(ctx):
    ctx.authorize('audit_template:get_all')
    return _list(ctx, False)


def list_detail(ctx):
    ctx.authorize('audit_template:detail')
    return _list(ctx, True)


def show(ctx, ident):
    ctx.authorize('audit_template:get')
    return common.json_response(_view(ctx, ctx.store.find_template(ident),
                                      True))


def _validate(ctx, values):
    """Check and normalize a template's values (goal and strategy as
    names); :raises common.APIError: 400 naming what is wrong."""
    name = values.get('name')
    if not isinstance(name, str) or not name.strip():
        raise common.bad_request('audit template: name is required')
    if len(name) > NAME_MAX:
        raise common.bad_request('audit template: name is longer than %d '
                                 'characters' % NAME_MAX)
    if values.get('description') is not None and not isinstance(
            values['description'], str):
        raise common.bad_request('audit template: description must be a '
                                 'string')
    if not values.get('goal'):
        raise common.bad_request('audit template: goal is required')
    try:
        goal = ctx.catalog.find_goal(values['goal'])
        strategy = ctx.catalog.find_strategy(values['strategy']) \
            if values.get('strategy') else None
    except LookupError as exc:
        raise common.bad_request(str(exc))
    if strategy is not None and strategy['goal_name'] != goal['name']:
        raise common.bad_request("'%s' strategy does not relate to the "
                                 "'%s' goal" % (strategy['name'],
                                                goal['name']))
    values['goal'] = goal['name']
    values['strategy'] = strategy['name'] if strategy else None
    values['scope'] = values.get('scope') or []
    scope_mod.to_engine(values['scope'])
    params = values.get('default_parameters') or {}
    if not isinstance(params, dict):
        raise common.bad_request('audit template: default_parameters must '
                                 'be an object')
    if params:
        if strategy is None:
            raise common.bad_request('audit template: default_parameters '
                                     'need a strategy')
        try:
            strategy['cls'].validate_parameters(params)
        except strategy_base.InvalidParameters as exc:
            raise common.bad_request(str(exc))
    values['default_parameters'] = params
    return values


def _accepted(ctx):
    fields = set(FIELDS)
    if not ctx.at_least(microversion.TEMPLATE_DEFAULT_PARAMETERS):
        fields.discard('default_parameters')
    return fields


def create(ctx):
    ctx.authorize('audit_template:create')
    body = common.read_body(ctx)
    if not isinstance(body, dict):
        raise common.bad_request('the request body must be a JSON object')
    unknown = sorted(set(body) - _accepted(ctx))
    if unknown:
        raise common.bad_request('audit template: unknown attribute(s) %s'
                                 % ', '.join(unknown))
    values = _validate(ctx, dict(body))
    try:
        template = ctx.store.create_template(values)
    except db_api.TemplateConflict as exc:
        raise common.APIError(409, str(exc))
    response = common.json_response(_view(ctx, template, True), status=201)
    response.location = '%s/v1/audit_templates/%s' % (ctx.base,
                                                      template['uuid'])
    return response


def update(ctx, ident):
    ctx.authorize('audit_template:update')
    template = ctx.store.find_template(ident)
    values = {k: template[k] for k in FIELDS}
    common.apply_patch(values, common.read_body(ctx), _accepted(ctx))
    values = _validate(ctx, values)
    changed = {k: v for k, v in values.items() if v != template[k]}
    if changed:
        try:
            template = ctx.store.update_template(template['uuid'], changed)
        except db_api.TemplateConflict as exc:
            raise common.APIError(409, str(exc))
    return common.json_response(_view(ctx, template, True))


def delete(ctx, ident):
    ctx.authorize('audit_template:delete')
    ctx.store.delete_template(ctx.store.find_template(ident)['uuid'])
    return common.empty_response()
