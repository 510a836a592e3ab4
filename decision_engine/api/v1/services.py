"""``/v1/services``: one ``decision-engine`` service per live engine of
the cluster (this engine alone without ``[coordination]``), numbered in
host order."""

from decision_engine.api.v1 import common
from decision_engine.common import timeutils

SERVICE_NAME = 'decision-engine'


def _services(ctx):
    cluster = ctx.engine.audits.cluster
    hosts = sorted(cluster.live_members() or {ctx.conf.host})
    now = timeutils.utcnow()
    return [{'id': number, 'name': SERVICE_NAME, 'host': host,
             'status': 'ACTIVE', 'last_seen_up': now}
            for number, host in enumerate(hosts, 1)]


def _view(ctx, service, detail):
    data = {k: service[k] for k in ('id', 'name', 'host', 'status')}
    if detail:
        data.update(last_seen_up=service['last_seen_up'], created_at=None,
                    updated_at=None, deleted_at=None)
    data['links'] = common.links(ctx, 'services', service['id'])
    return data


def _list(ctx, detail):
    page = common.paging(ctx, ('id', 'name', 'host', 'status'))
    services = common.page_of(_services(ctx), page, key='id')
    return common.collection(ctx, 'services', [
        _view(ctx, s, detail) for s in services], page, key='id')


def list_services(ctx):
    ctx.authorize('service:get_all')
    return _list(ctx, False)


def list_detail(ctx):
    ctx.authorize('service:detail')
    return _list(ctx, True)


def show(ctx, ident):
    ctx.authorize('service:get')
    for service in _services(ctx):
        if ident in (str(service['id']), service['name']):
            return common.json_response(_view(ctx, service, True))
    raise common.not_found('Service %s could not be found' % ident)
