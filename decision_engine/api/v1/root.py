"""``GET /`` and ``GET /v1``: version discovery, as Watcher answers it."""

from decision_engine.api.v1 import common
from decision_engine.api.v1 import microversion

DESCRIPTION = ('decision-engine serves OpenStack Watcher\'s REST API v1: '
               'audits of a live model of the cloud and the action plans '
               'they recommend.')

RESOURCES = ('goals', 'strategies', 'scoring_engines', 'services',
             'audit_templates', 'audits', 'action_plans', 'actions',
             'data_model', 'webhooks')


def _version(ctx):
    return {'id': 'v1', 'status': 'CURRENT',
            'min_version': microversion.MIN_VERSION,
            'max_version': microversion.MAX_VERSION,
            'links': [{'rel': 'self', 'href': ctx.base + '/v1/'}]}


def home(ctx):
    """Watcher's root document, and the engine's own ``name``."""
    version = _version(ctx)
    return common.json_response({
        'name': 'decision-engine', 'description': DESCRIPTION,
        'versions': [version], 'default_version': version})


def v1(ctx):
    base = ctx.base
    document = {
        'id': 'v1',
        'links': [{'rel': 'self', 'href': base + '/v1/'},
                  {'rel': 'describedby', 'type': 'text/html',
                   'href': 'https://docs.openstack.org/watcher/latest/'}],
        'media_types': [{'base': 'application/json',
                         'type': 'application/vnd.openstack.watcher.v1+json'
                         }],
    }
    for name in RESOURCES:
        document[name] = [
            {'rel': 'self', 'href': '%s/v1/%s/' % (base, name)},
            {'rel': 'bookmark', 'href': '%s/%s/' % (base, name)}]
    # NOTE: the engine's own resources, which Watcher has not.
    for name in ('model', 'status', 'openapi.json'):
        document[name.split('.')[0]] = [
            {'rel': 'self', 'href': '%s/v1/%s' % (base, name)}]
    return common.json_response(document)
