"""The OpenAPI 3 document served at ``GET /v1/openapi.json``."""

from decision_engine.audit import scope as scope_mod
from decision_engine.audit import service as audit_service
from decision_engine.common import states


def _ok(description, schema=None):
    body = {'description': description}
    if schema:
        body['content'] = {'application/json': {'schema': schema}}
    return body


_ERROR = {'$ref': '#/components/schemas/Error'}
_ERRORS = {'400': _ok('Invalid request', _ERROR),
           '401': _ok('Authentication required', _ERROR),
           '403': _ok('A valid Keystone token without any of [api] '
                      'admin_roles', _ERROR),
           '404': _ok('Unknown id', _ERROR)}


def _links(**links):
    """OpenAPI links: ``name=(operationId, runtime expression of uuid)``;
    clients (and schemathesis' stateful tests) follow them."""
    return {name: {'operationId': operation,
                   'parameters': {'uuid': expression}}
            for name, (operation, expression) in links.items()}


def _linked(response, **links):
    return dict(response, links=_links(**links))


def document():
    audit_ref = {'$ref': '#/components/schemas/Audit'}
    uuid_param = [{'name': 'uuid', 'in': 'path', 'required': True,
                   'schema': {'type': 'string'}}]
    create = dict(audit_service.CREATE_SCHEMA)
    create['properties'] = dict(create['properties'],
                                scope=scope_mod.SCHEMA)
    return {
        'openapi': '3.0.3',
        'info': {'title': 'decision-engine API', 'version': '1.0'},
        'paths': {
            '/': {'get': {'summary': 'API versions',
                          'responses': {'200': _ok('Versions')}}},
            '/v1': {'get': {'summary': 'Links to the v1 resources',
                            'responses': {'200': _ok('Links')}}},
            '/healthcheck': {'get': {'summary': 'Health check',
                                     'responses': {'200': _ok('OK')}}},
            '/metrics': {'get': {'summary': 'Prometheus metrics',
                                 'responses': {'200': _ok('Metrics')}}},
            '/v1/audits': {
                'get': {'summary': 'List audits',
                        'operationId': 'listAudits',
                        'parameters': [
                            {'name': 'state', 'in': 'query',
                             'schema': {'enum': list(states.STATES)}},
                            {'name': 'limit', 'in': 'query',
                             'schema': {'type': 'integer', 'minimum': 1}},
                            {'name': 'marker', 'in': 'query',
                             'schema': {'type': 'string'}}],
                        'responses': dict(_ERRORS, **{'200': _linked(_ok(
                            'Audits', {'type': 'object', 'properties': {
                                'audits': {'type': 'array',
                                           'items': audit_ref}}}),
                            ShowFirstAudit=(
                                'showAudit',
                                '$response.body#/audits/0/uuid'))})},
                'post': {'summary': 'Create an audit',
                         'operationId': 'createAudit',
                         'requestBody': {'required': True, 'content': {
                             'application/json': {'schema': create}}},
                         'responses': dict(_ERRORS, **{
                             '201': _linked(
                                 _ok('Created', audit_ref),
                                 ShowAudit=('showAudit',
                                            '$response.body#/uuid'),
                                 CancelAudit=('cancelAudit',
                                              '$response.body#/uuid')),
                             '409': _ok('The scope covers hosts of a '
                                        'running action plan (unless '
                                        '"force": true)', _ERROR),
                             '413': _ok('Body too large', _ERROR)})}},
            '/v1/audits/{uuid}': {
                'parameters': uuid_param,
                'get': {'summary': 'Show an audit and its action plans',
                        'operationId': 'showAudit',
                        'responses': dict(_ERRORS, **{
                            '200': _linked(
                                _ok('Audit', audit_ref),
                                ShowActionPlan=(
                                    'showActionPlan',
                                    '$response.body#/last_action_plan_uuid'
                                ))})},
                'delete': {'summary': 'Cancel an audit',
                           'operationId': 'cancelAudit',
                           'responses': dict(_ERRORS, **{
                               '200': _ok('Cancelled', audit_ref),
                               '409': _ok('Already ended', _ERROR)})}},
            '/v1/action_plans/{uuid}': {
                'parameters': uuid_param,
                'get': {'summary': 'Show an action plan with its actions '
                                   '(state, reason, start, end and '
                                   'duration of each)',
                        'operationId': 'showActionPlan',
                        'responses': dict(_ERRORS, **{
                            '200': _linked(
                                _ok('Action plan'),
                                StartActionPlan=('startActionPlan',
                                                 '$response.body#/uuid'),
                                CancelActionPlan=('cancelActionPlan',
                                                  '$response.body#/uuid'))
                        })}},
            '/v1/action_plans/{uuid}/start': {
                'parameters': uuid_param,
                'post': {'summary': 'Apply a RECOMMENDED action plan',
                         'operationId': 'startActionPlan',
                         'responses': dict(_ERRORS, **{
                             '202': _ok('Accepted: PENDING or ONGOING'),
                             '409': _ok('Not RECOMMENDED, or a running '
                                        'plan touches one of its hosts',
                                        _ERROR)})}},
            '/v1/action_plans/{uuid}/cancel': {
                'parameters': uuid_param,
                'post': {'operationId': 'cancelActionPlan',
                         'summary': 'Cancel an action plan: PENDING actions '
                                    'are CANCELLED, ONGOING ones finish',
                         'responses': dict(_ERRORS, **{
                             '202': _ok('Accepted: CANCELLING or '
                                        'CANCELLED'),
                             '409': _ok('Already ended', _ERROR)})}},
            '/v1/strategies': {'get': {'summary': 'Installed strategies',
                                       'responses': {'200': _ok('List')}}},
            '/v1/strategies/{name}': {
                'parameters': [
                    {'name': 'name', 'in': 'path', 'required': True,
                     'schema': {'type': 'string'}},
                    {'name': 'scope', 'in': 'query', 'required': False,
                     'description': 'an audit scope, as JSON',
                     'schema': {'type': 'string'}},
                    {'name': 'parameters', 'in': 'query',
                     'required': False,
                     'description': 'strategy parameters, as JSON',
                     'schema': {'type': 'string'}}],
                'get': {'summary': 'A strategy, and whether the metrics it '
                                   'needs exist for a scope',
                        'responses': dict(_ERRORS, **{
                            '200': _ok('Strategy')})}},
            '/v1/model': {'get': {'summary': 'Model summary and staleness',
                                  'responses': {'200': _ok('Model')}}},
            '/v1/status': {'get': {'summary': 'Pool, periodic and audit '
                                              'statistics',
                                   'responses': {'200': _ok('Status')}}},
            '/v1/openapi.json': {'get': {'summary': 'This document',
                                         'responses': {'200': _ok('OK')}}},
        },
        'components': {'schemas': {
            'Error': {'type': 'object', 'properties': {'error': {
                'type': 'object', 'properties': {
                    'code': {'type': 'integer'},
                    'title': {'type': 'string'},
                    'message': {'type': 'string'}}}}},
            'Audit': {'type': 'object', 'properties': {
                'uuid': {'type': 'string'},
                'name': {'type': 'string', 'nullable': True},
                'audit_type': {'enum': list(states.AUDIT_TYPES)},
                'state': {'enum': list(states.STATES)},
                'state_reason': {'type': 'string', 'nullable': True},
                'owner': {'type': 'string', 'nullable': True,
                          'description': '[DEFAULT] host of the engine '
                                         'running it'},
                'strategy': {'type': 'string'},
                'parameters': {'type': 'object'},
                'scope': {'type': 'object'},
                'last_action_plan_uuid': {'type': 'string',
                                          'nullable': True}}},
        }},
    }
