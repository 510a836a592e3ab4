"""``/v1/goals``: the goals of the engine's strategies."""

from decision_engine.api.v1 import common

LIST_FIELDS = ('uuid', 'name', 'display_name', 'efficacy_specification')
SORT_KEYS = ('id', 'uuid', 'name', 'display_name')


def _view(ctx, goal, detail):
    data = {k: goal[k] for k in LIST_FIELDS}
    if detail:
        data.update(created_at=None, updated_at=None, deleted_at=None)
    data['links'] = common.links(ctx, 'goals', goal['uuid'])
    return data


def _list(ctx, detail):
    page = common.paging(ctx, SORT_KEYS)
    goals = common.page_of(ctx.catalog.goals(), page)
    return common.collection(ctx, 'goals',
                             [_view(ctx, g, detail) for g in goals], page)


def list_goals(ctx):
    ctx.authorize('goal:get_all')
    return _list(ctx, False)


def list_detail(ctx):
    ctx.authorize('goal:detail')
    return _list(ctx, True)


def show(ctx, ident):
    ctx.authorize('goal:get')
    try:
        goal = ctx.catalog.find_goal(ident)
    except LookupError as exc:
        raise common.not_found(str(exc))
    return common.json_response(_view(ctx, goal, True))
