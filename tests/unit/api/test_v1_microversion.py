"""Microversion negotiation of API v1 (``OpenStack-API-Version:
infra-optim 1.N``), alone and through the WSGI application."""

import json

import pytest
import webob

from decision_engine.api.v1 import microversion
from decision_engine.api.v1 import router
from tests.fixtures import fakes

HEADER = 'OpenStack-API-Version'


def negotiated(value):
    headers = {} if value is None else {HEADER: value}
    return str(microversion.negotiate(headers))


@pytest.mark.parametrize('value', [
    None, '', 'infra-optim', 'infra-optim one.two', 'infra-optim 1',
    'infra-optim 1.x', 'compute 2.90'])
def test_missing_malformed_or_another_service_is_1_0(value):
    assert negotiated(value) == '1.0'


@pytest.mark.parametrize('minor', range(0, 8))
def test_each_step_is_served_as_asked(minor):
    assert negotiated('infra-optim 1.%d' % minor) == '1.%d' % minor


def test_latest_is_the_maximum():
    assert negotiated('infra-optim latest') == '1.7'
    assert negotiated('compute 2.1, infra-optim latest') == '1.7'


@pytest.mark.parametrize('value', ['infra-optim 1.8', 'infra-optim 2.0',
                                   'infra-optim 0.9', 'infra-optim 1.70'])
def test_out_of_range_is_refused(value):
    with pytest.raises(microversion.NotAcceptable, match=r'\[1.0, 1.7\]'):
        negotiated(value)


def test_version_dependent_checks():
    v15 = microversion.negotiate({HEADER: 'infra-optim 1.5'})
    assert microversion.at_least(v15, microversion.SKIPPED_ACTION)
    assert not microversion.at_least(
        v15, microversion.TEMPLATE_DEFAULT_PARAMETERS)


@pytest.fixture
def app():
    return router.WatcherAPI(None, fakes.make_conf())


def call(app, path='/', version=None):
    request = webob.Request.blank(path)
    if version is not None:
        request.headers[HEADER] = version
    return request.get_response(app)


@pytest.mark.parametrize('asked, served', [
    (None, '1.0'), ('infra-optim 1.3', '1.3'), ('infra-optim latest', '1.7'),
    ('infra-optim garbage', '1.0')])
def test_every_answer_says_the_range_and_the_version(app, asked, served):
    response = call(app, '/v1/goals', asked)
    assert response.status_int == 200
    assert response.headers['OpenStack-API-Minimum-Version'] == '1.0'
    assert response.headers['OpenStack-API-Maximum-Version'] == '1.7'
    assert response.headers[HEADER] == 'infra-optim ' + served
    assert response.headers['Vary'] == HEADER


def test_out_of_range_is_406_in_watchers_shape(app):
    response = call(app, '/v1/goals', 'infra-optim 1.8')
    assert response.status_int == 406
    assert HEADER not in response.headers
    assert response.headers['OpenStack-API-Maximum-Version'] == '1.7'
    fault = json.loads(response.json['error_message'])
    assert fault['faultcode'] == 'Client'
    assert 'Version 1.8 was requested' in fault['faultstring']


def test_root_document_gives_the_range(app):
    document = call(app, '/').json
    assert document['versions'][0]['min_version'] == '1.0'
    assert document['versions'][0]['max_version'] == '1.7'
    assert document['default_version']['id'] == 'v1'
