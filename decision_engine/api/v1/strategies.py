"""``/v1/strategies``: the engine's strategy plugins, and
``/v1/strategies/{strategy}/state``: whether what one needs is there."""

from decision_engine.api.v1 import common

LIST_FIELDS = ('uuid', 'name', 'display_name', 'goal_uuid', 'goal_name')
SORT_KEYS = ('id', 'uuid', 'name', 'display_name', 'goal_uuid',
             'goal_name')


def _view(ctx, strategy, detail):
    data = {k: strategy[k] for k in LIST_FIELDS}
    if detail:
        data['parameters_spec'] = strategy['parameters_spec']
    data['links'] = common.links(ctx, 'strategies', strategy['uuid'])
    return data


def _list(ctx, detail):
    page = common.paging(ctx, SORT_KEYS)
    strategies = ctx.catalog.strategies()
    goal = ctx.request.GET.get('goal')
    if goal:
        strategies = [s for s in strategies
                      if goal in (s['goal_uuid'], s['goal_name'])]
    strategies = common.page_of(
        [{k: v for k, v in s.items() if k != 'cls'} for s in strategies],
        page)
    return common.collection(ctx, 'strategies', [
        _view(ctx, s, detail) for s in strategies], page)


def list_strategies(ctx):
    ctx.authorize('strategy:get_all')
    return _list(ctx, False)


def list_detail(ctx):
    ctx.authorize('strategy:detail')
    return _list(ctx, True)


def _find(ctx, ident):
    try:
        return ctx.catalog.find_strategy(ident)
    except LookupError as exc:
        raise common.not_found(str(exc))


def show(ctx, ident):
    ctx.authorize('strategy:get')
    return common.json_response(_view(ctx, _find(ctx, ident), True))


def state(ctx, ident):
    """Watcher's four checks (datasource, metrics, model, name) from the
    engine's metrics check of the strategy with its default parameters."""
    ctx.authorize('strategy:state')
    strategy = _find(ctx, ident)
    check = ctx.engine.get_strategy(strategy['name'])['metrics_check']
    required = check['required']
    report = check.get('metrics') or {}
    if check['datasource']:
        source = check['datasource']
        if isinstance(source, dict):
            source = source.get('name') or source.get('url') or str(source)
        source_state = '%s: %s' % (source, 'available' if check['error']
                                   is None else 'not available')
    else:
        source_state = 'none: not needed' if not required else \
            'none: not available'
    metrics = [{name: 'available' if check['available'] or not report.get(
        name, {}).get('missing_count') else 'not available'}
        for name in required]
    collector = ctx.engine.collector
    return common.json_response([
        {'type': 'Datasource', 'state': source_state,
         'mandatory': bool(required), 'comment': check['error'] or ''},
        {'type': 'Metrics', 'state': metrics, 'mandatory': False,
         'comment': ''},
        {'type': 'CDM', 'state': [
            {'compute_model': 'available' if collector.enabled
             else 'not available'},
            {'storage_model': 'not available'},
            {'baremetal_model': 'not available'}],
         'mandatory': True, 'comment': ''},
        {'type': 'Name', 'state': strategy['name'], 'mandatory': '',
         'comment': ''},
    ])
