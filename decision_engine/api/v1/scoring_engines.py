"""``/v1/scoring_engines``: the engine has no scoring engines; the
collection is empty and every lookup 404."""

from decision_engine.api.v1 import common


def list_engines(ctx):
    ctx.authorize('scoring_engine:get_all')
    return common.json_response({'scoring_engines': []})


def list_detail(ctx):
    ctx.authorize('scoring_engine:detail')
    return common.json_response({'scoring_engines': []})


def show(ctx, ident):
    ctx.authorize('scoring_engine:get')
    raise common.not_found('ScoringEngine %s could not be found' % ident)
