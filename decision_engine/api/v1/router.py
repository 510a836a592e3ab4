"""The route table of API v1 and the WSGI application serving it.

As Placement's: :data:`ROUTE_DECLARATIONS` maps each path (a ``routes``
template) to its handlers by method; a path served with another method
answers 405 with ``Allow``. Every answer carries the microversion headers
(:mod:`.microversion`); every error is in Watcher's shape
(:func:`.common.error_response`).
"""

import logging

import routes
import webob

from decision_engine.api.v1 import action_plans
from decision_engine.api.v1 import actions
from decision_engine.api.v1 import audit_templates
from decision_engine.api.v1 import audits
from decision_engine.api.v1 import common
from decision_engine.api.v1 import data_model
from decision_engine.api.v1 import goals
from decision_engine.api.v1 import microversion
from decision_engine.api.v1 import policy
from decision_engine.api.v1 import root
from decision_engine.api.v1 import scoring_engines
from decision_engine.api.v1 import services
from decision_engine.api.v1 import strategies
from decision_engine.api.v1 import webhooks
from decision_engine.db import api as db_api

LOG = logging.getLogger(__name__)

# NOTE: a literal segment (``detail``) is declared before the template
# that would also match it.
ROUTE_DECLARATIONS = {
    '/': {'GET': root.home},
    '/v1': {'GET': root.v1},
    '/v1/goals': {'GET': goals.list_goals},
    '/v1/goals/detail': {'GET': goals.list_detail},
    '/v1/goals/{ident}': {'GET': goals.show},
    '/v1/strategies': {'GET': strategies.list_strategies},
    '/v1/strategies/detail': {'GET': strategies.list_detail},
    '/v1/strategies/{ident}': {'GET': strategies.show},
    '/v1/strategies/{ident}/state': {'GET': strategies.state},
    '/v1/scoring_engines': {'GET': scoring_engines.list_engines},
    '/v1/scoring_engines/detail': {'GET': scoring_engines.list_detail},
    '/v1/scoring_engines/{ident}': {'GET': scoring_engines.show},
    '/v1/services': {'GET': services.list_services},
    '/v1/services/detail': {'GET': services.list_detail},
    '/v1/services/{ident}': {'GET': services.show},
    '/v1/audit_templates': {'GET': audit_templates.list_templates,
                            'POST': audit_templates.create},
    '/v1/audit_templates/detail': {'GET': audit_templates.list_detail},
    '/v1/audit_templates/{ident}': {'GET': audit_templates.show,
                                    'PATCH': audit_templates.update,
                                    'DELETE': audit_templates.delete},
    '/v1/audits': {'GET': audits.list_audits, 'POST': audits.create},
    '/v1/audits/detail': {'GET': audits.list_detail},
    '/v1/audits/{ident}': {'GET': audits.show, 'PATCH': audits.update,
                           'DELETE': audits.delete},
    '/v1/action_plans': {'GET': action_plans.list_plans},
    '/v1/action_plans/detail': {'GET': action_plans.list_detail},
    '/v1/action_plans/{ident}': {'GET': action_plans.show,
                                 'PATCH': action_plans.update,
                                 'DELETE': action_plans.delete},
    '/v1/action_plans/{ident}/start': {'POST': action_plans.start},
    '/v1/actions': {'GET': actions.list_actions},
    '/v1/actions/detail': {'GET': actions.list_detail},
    '/v1/actions/{ident}': {'GET': actions.show, 'PATCH': actions.update},
    '/v1/data_model': {'GET': data_model.list_model},
    '/v1/webhooks/{ident}': {'POST': webhooks.trigger},
}


def _method_not_allowed(methods):
    def handler(ctx, **kwargs):
        response = common.error_response(
            405, 'The method specified is not allowed for this resource: '
                 '%s %s; allowed: %s' % (ctx.request.method,
                                         ctx.request.path_info,
                                         ', '.join(methods)))
        response.allow = methods
        return response
    handler.refusal = True
    return handler


def make_map(declarations):
    mapper = routes.Mapper()
    for path, methods in declarations.items():
        for method, handler in methods.items():
            mapper.connect(path, action=handler,
                           conditions={'method': [method]})
        mapper.connect(path,
                       action=_method_not_allowed(sorted(methods)))
    return mapper


def normalize(path):
    """``path`` without its trailing slashes (``/`` stays)."""
    return path.rstrip('/') or '/'


class WatcherAPI:
    """The WSGI application of API v1.

    :param engine: the :class:`~decision_engine.api.engine_api.EngineAPI`.
    :param count: called with ``(method, status code)`` of each answer.
    """

    def __init__(self, engine, conf, count=None):
        self.engine = engine
        self.conf = conf
        self.mapper = make_map(ROUTE_DECLARATIONS)
        self.enforcer = policy.make_enforcer(conf)
        self._count = count

    def serves(self, path, method=None):
        """Whether ``path`` is one of API v1's (with ``method``, or with
        any method)."""
        match = self._match(path, 'GET' if method == 'HEAD' else
                            method or 'GET')
        if match is None:
            return False
        return method is None or not getattr(match['action'],
                                             'refusal', False)

    def _match(self, path, method):
        return self.mapper.match(environ={
            'PATH_INFO': normalize(path), 'REQUEST_METHOD': method})

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        version = None
        try:
            version = microversion.negotiate(request.headers)
            response = self._dispatch(request, version)
        except microversion.NotAcceptable as exc:
            response = common.error_response(406, str(exc))
        except common.APIError as exc:
            response = common.error_response(exc.code, exc.message)
        except db_api.NotFound as exc:
            response = common.error_response(
                404, exc.args[0] if exc.args else str(exc))
        except db_api.StoreError as exc:
            response = common.error_response(503, str(exc))
        except Exception:
            LOG.exception('API v1 error on %s %s', request.method,
                          request.path)
            response = common.error_response(
                500, 'internal error; see the engine log')
        for name, value in microversion.response_headers(version):
            response.headers[name] = value
        if self._count is not None:
            self._count(request.method, response.status_code)
        return response(environ, start_response)

    def _dispatch(self, request, version):
        limit = self.conf.api.max_request_body_size
        if request.content_length is not None and \
                request.content_length > limit:
            raise common.APIError(
                413, 'request body of %d bytes is over the limit of %d '
                     '([api] max_request_body_size)'
                % (request.content_length, limit))
        # NOTE: HEAD is GET without the body (webob drops it).
        method = 'GET' if request.method == 'HEAD' else request.method
        match = self._match(request.path_info, method)
        if match is None:
            raise common.not_found('The resource could not be found: %s'
                                   % request.path_info)
        handler = match.pop('action')
        ctx = common.Context(
            request=request, version=version,
            creds=policy.credentials(request.environ,
                                     self.conf.api.auth_strategy),
            enforcer=self.enforcer, engine=self.engine, conf=self.conf)
        return handler(ctx, **match)
