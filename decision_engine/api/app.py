"""The WSGI application: routing, JSON bodies and JSON errors.

Every error is ``{"error": {"code", "title", "message"}}`` with the right
status: 400 bad JSON or invalid audit, 404 unknown path or id, 405 wrong
method, 409 cancelling an ended audit or plan, or starting a plan that is
not RECOMMENDED or overlaps a running plan, 413 body over ``[api]
max_request_body_size``, 503 when the store cannot be reached.
"""

import json
import logging
import re

import webob
from webob import exc as webob_exc

from decision_engine.api import engine_api as engine_api_mod
from decision_engine.api import metrics as metrics_mod
from decision_engine.applier import applier as applier_mod
from decision_engine.api import openapi
from decision_engine.audit import service as audit_service
from decision_engine.common import states
from decision_engine.db import api as db_api

LOG = logging.getLogger(__name__)

_UUID = r'(?P<uuid>[^/]+)'


class HTTPError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Application:
    """The API. ``engine`` is an :class:`~.engine_api.EngineAPI`."""

    def __init__(self, engine, conf):
        self.engine = engine
        self.conf = conf
        self.metrics = metrics_mod.Metrics(engine)
        self.routes = [
            (re.compile(r'^/$'), {'GET': self.versions}),
            (re.compile(r'^/v1/?$'), {'GET': self.v1}),
            (re.compile(r'^/v1/audits/?$'), {'GET': self.list_audits,
                                             'POST': self.create_audit}),
            (re.compile(r'^/v1/audits/%s$' % _UUID),
             {'GET': self.get_audit, 'DELETE': self.cancel_audit}),
            (re.compile(r'^/v1/action_plans/%s$' % _UUID),
             {'GET': self.get_action_plan}),
            (re.compile(r'^/v1/action_plans/%s/start$' % _UUID),
             {'POST': self.start_action_plan}),
            (re.compile(r'^/v1/action_plans/%s/cancel$' % _UUID),
             {'POST': self.cancel_action_plan}),
            (re.compile(r'^/v1/strategies/?$'), {'GET': self.strategies}),
            (re.compile(r'^/v1/strategies/(?P<name>[^/]+)$'),
             {'GET': self.get_strategy}),
            (re.compile(r'^/v1/model/?$'), {'GET': self.model}),
            (re.compile(r'^/v1/status/?$'), {'GET': self.status}),
            (re.compile(r'^/v1/openapi.json$'), {'GET': self.openapi}),
            (re.compile(r'^/metrics$'), {'GET': self.prometheus}),
        ]

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        try:
            response = self._dispatch(request)
        except HTTPError as exc:
            response = _error(exc.code, exc.message)
        except db_api.NotFound as exc:
            response = _error(404, exc.args[0] if exc.args else str(exc))
        except db_api.StoreError as exc:
            response = _error(503, str(exc))
        except Exception:
            LOG.exception('API error on %s %s', request.method,
                          request.path)
            response = _error(500, 'internal error; see the engine log')
        self.metrics.count(request.method, response.status_code)
        return response(environ, start_response)

    def handles(self, path, method):
        """Whether one of these routes serves ``method`` on ``path``."""
        method = 'GET' if method == 'HEAD' else method
        return any(pattern.match(path) and method in methods
                   for pattern, methods in self.routes)

    def _dispatch(self, request):
        self._refuse_large_body(request)
        for pattern, methods in self.routes:
            match = pattern.match(request.path_info)
            if match is None:
                continue
            # NOTE: HEAD is GET without the body (webob drops it).
            method = 'GET' if request.method == 'HEAD' else request.method
            handler = methods.get(method)
            if handler is None:
                response = _error(405, 'method %s not allowed on %s; '
                                  'allowed: %s' % (
                                      request.method, request.path_info,
                                      ', '.join(sorted(methods))))
                response.allow = sorted(methods)
                return response
            return handler(request, **match.groupdict())
        raise HTTPError(404, 'no such resource: %s' % request.path_info)

    # -- helpers -----------------------------------------------------------

    def _refuse_large_body(self, request):
        """413 for a declared body over the limit, on every route.

        NOTE: cheroot reads whatever body a handler left unread before it
        keeps the connection for the next request; a 413 makes it close
        instead, so a route that takes no body cannot be made to read
        gigabytes.
        """
        limit = self.conf.api.max_request_body_size
        length = request.content_length
        if length is not None and length > limit:
            raise HTTPError(413, 'request body of %d bytes is over the '
                                 'limit of %d ([api] max_request_body_size)'
                            % (length, limit))

    def _body(self, request):
        limit = self.conf.api.max_request_body_size
        raw = request.body_file.read(limit + 1)
        if len(raw) > limit:
            raise HTTPError(413, 'request body is over the limit of %d '
                                 'bytes ([api] max_request_body_size)'
                            % limit)
        ctype = request.content_type
        if ctype and ctype != 'application/json':
            raise HTTPError(415, 'request body must be application/json, '
                                 'not %s' % ctype)
        try:
            return json.loads(raw.decode('utf-8'),
                              parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HTTPError(400, 'request body is not valid JSON: %s' % exc)

    # -- handlers ----------------------------------------------------------

    def versions(self, request):
        return _json({'name': 'decision-engine', 'versions': [{
            'id': 'v1', 'status': 'CURRENT',
            'links': [{'rel': 'self', 'href': request.host_url + '/v1/'}]}]})

    def v1(self, request):
        base = request.host_url + '/v1/'
        return _json({'id': 'v1', 'links': [
            {'rel': name, 'href': base + name} for name in (
                'audits', 'strategies', 'model', 'status',
                'openapi.json')]})

    def create_audit(self, request):
        body = self._body(request)
        try:
            audit = self.engine.create_audit(body)
        except audit_service.InvalidAudit as exc:
            raise HTTPError(400, str(exc))
        except audit_service.AuditConflict as exc:
            raise HTTPError(409, str(exc))
        response = _json(audit, status=201)
        response.location = '%s/v1/audits/%s' % (
            request.host_url, audit['uuid'])
        return response

    def list_audits(self, request):
        state = request.GET.get('state')
        if state is not None and state not in states.STATES:
            raise HTTPError(400, 'state must be one of %s, not %r'
                            % (', '.join(states.STATES), state))
        limit = self.conf.api.max_limit
        if 'limit' in request.GET:
            try:
                limit = int(request.GET['limit'])
                if limit < 1:
                    raise ValueError
            except ValueError:
                raise HTTPError(400, 'limit must be a positive integer, '
                                     'not %r' % request.GET['limit'])
            limit = min(limit, self.conf.api.max_limit)
        marker = request.GET.get('marker')
        try:
            audits = self.engine.list_audits(state=state, limit=limit,
                                             marker=marker)
        except db_api.NotFound:
            raise HTTPError(400, 'marker %s is not a known audit' % marker)
        result = {'audits': audits}
        if len(audits) == limit:
            result['next_marker'] = audits[-1]['uuid']
        return _json(result)

    def get_audit(self, request, uuid):
        return _json(self.engine.get_audit(uuid))

    def cancel_audit(self, request, uuid):
        try:
            return _json(self.engine.cancel_audit(uuid))
        except audit_service.AuditNotCancellable as exc:
            raise HTTPError(409, str(exc))

    def get_action_plan(self, request, uuid):
        return _json(self.engine.get_action_plan(uuid))

    def start_action_plan(self, request, uuid):
        """202: the plan is PENDING or ONGOING; 409 when it is not
        RECOMMENDED or a running plan touches one of its hosts."""
        try:
            plan = self.engine.start_action_plan(uuid)
        except (db_api.PlanConflict, db_api.PlanNotStartable) as exc:
            raise HTTPError(409, str(exc))
        except (applier_mod.ApplierStopped,
                engine_api_mod.ApplierUnavailable) as exc:
            raise HTTPError(503, str(exc))
        response = _json(plan, status=202)
        response.location = '%s/v1/action_plans/%s' % (request.host_url,
                                                       uuid)
        return response

    def cancel_action_plan(self, request, uuid):
        """202: PENDING actions are CANCELLED, ONGOING ones finish; 409
        when the plan has already ended."""
        try:
            plan = self.engine.cancel_action_plan(uuid)
        except applier_mod.PlanNotCancellable as exc:
            raise HTTPError(409, str(exc))
        except engine_api_mod.ApplierUnavailable as exc:
            raise HTTPError(503, str(exc))
        return _json(plan, status=202)

    def strategies(self, request):
        return _json({'strategies': self.engine.list_strategies()})

    def get_strategy(self, request, name):
        """A strategy's description and its metrics check for the scope
        and parameters given as JSON query parameters."""
        values = {}
        for key in ('scope', 'parameters'):
            raw = request.GET.get(key)
            if raw is None:
                continue
            try:
                values[key] = json.loads(raw, parse_constant=_refuse_constant)
            except ValueError as exc:
                raise HTTPError(400, 'query parameter %r is not valid '
                                     'JSON: %s' % (key, exc))
        try:
            return _json(self.engine.get_strategy(name, **values))
        except LookupError as exc:
            raise HTTPError(404, exc.args[0] if exc.args else str(exc))
        except ValueError as exc:
            raise HTTPError(400, str(exc))

    def model(self, request):
        return _json(self.engine.model_summary())

    def status(self, request):
        return _json(self.engine.status_document())

    def openapi(self, request):
        return _json(openapi.document())

    def prometheus(self, request):
        body, ctype = self.metrics.render()
        response = webob.Response(body=body)
        response.headers['Content-Type'] = ctype
        return response


def _refuse_constant(name):
    # NOTE: NaN and Infinity are not JSON (RFC 8259); stored, they would
    # make every later answer about the audit invalid JSON.
    raise ValueError('%s is not a JSON number' % name)


_TITLES = {400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found',
           405: 'Method Not Allowed', 409: 'Conflict',
           413: 'Request Entity Too Large', 415: 'Unsupported Media Type',
           500: 'Internal Server Error', 503: 'Service Unavailable'}


def _json(data, status=200):
    response = webob.Response(status=status, charset='utf-8',
                              content_type='application/json')
    response.text = json.dumps(data, sort_keys=True)
    return response


def _error(code, message):
    return _json({'error': {'code': code, 'title': _TITLES.get(
        code, webob_exc.status_map.get(code, webob_exc.HTTPError).title),
        'message': message}}, status=code)
