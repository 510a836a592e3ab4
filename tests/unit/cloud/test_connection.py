"""The cloud connection against the simulator: only the services a
feature uses are asked for, catalog-less set-ups work, and errors name the
section and option that were used."""

import socket

from keystoneauth1 import loading as ks_loading
import pytest

from decision_engine.cloud import connection
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests import fresh_conf
from tests.fixtures import catalogless


@pytest.fixture
def sim():
    server = Simulator(Topology.generate(hosts=4, instances=10, seed=2),
                       noauth=True).start()
    yield server
    server.stop()


def _catalogless(conf, sim, services=('nova', 'placement')):
    catalogless.configure(conf, sim, services)


def _password_auth(conf, group, auth_url):
    # NOTE: keystoneauth registers a plugin's options when it loads the
    # plugin; register them first so the test can set them.
    conf.register_opts(ks_loading.get_auth_plugin_conf_options('password'),
                       group)
    conf.set_override('auth_type', 'password', group)
    conf.set_override('auth_url', auth_url, group)
    conf.set_override('username', 'engine', group)
    conf.set_override('password', 'x', group)
    conf.set_override('project_name', 'admin', group)


def _closed_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_catalogless_model_services_without_baremetal(sim):
    conf = fresh_conf()
    _catalogless(conf, sim)
    cloud = connection.from_conf(conf, 4)
    try:
        assert cloud.service_types == ('compute', 'placement')
        resp = cloud.compute.get('/os-hypervisors', microversion='2.53')
        assert resp.status_code == 200
        assert len(resp.json()['hypervisors']) == 4
        resp = cloud.placement.get('/resource_providers')
        assert resp.status_code == 200
        assert len(resp.json()['resource_providers']) == 4
        # No [ironic] endpoint, no catalog: never asked for.
        assert not any(e.startswith('GET /baremetal')
                       for e in sim.stats()['by_endpoint'])
        with pytest.raises(connection.CloudConfigError,
                           match='baremetal service was not asked for'):
            cloud.baremetal
    finally:
        cloud.close()


def test_catalogless_baremetal_for_the_ironic_driver(sim):
    conf = fresh_conf()
    _catalogless(conf, sim, ('nova', 'ironic'))
    cloud = connection.from_conf(conf, 4, service_types=('baremetal',))
    try:
        resp = cloud.baremetal.get('/nodes', microversion='1.46')
        assert resp.status_code == 200
        assert len(resp.json()['nodes']) == 4
        assert not any(e.startswith(('GET /compute/v2.1/', 'GET /placement/'))
                       for e in sim.stats()['by_endpoint'])
    finally:
        cloud.close()


def test_no_catalog_and_no_endpoint_names_the_option(sim):
    conf = fresh_conf()
    conf.set_override('auth_type', 'none', 'nova')
    conf.set_override('endpoint_override', sim.url + '/compute/v2.1', 'nova')
    with pytest.raises(connection.CloudConfigError) as info:
        connection.from_conf(conf, 4)
    assert str(info.value) == (
        '[placement] endpoint_override is required for the placement '
        'service: [nova] auth_type is none, so there is no service catalog '
        'to find it in')


def test_placement_noauth2_takes_the_admin_token_at_its_endpoint(sim):
    """``admin_token`` with its own ``endpoint`` is catalog-less too: the
    token ``admin`` is what Placement's noauth2 makes an admin; the
    ``none`` plugin's ``notused`` gets 403."""
    conf = fresh_conf()
    _catalogless(conf, sim)
    conf.clear_override('endpoint_override', 'placement')
    conf.set_override('endpoint', sim.url + '/placement', 'placement')
    assert connection.service_source(conf, 'placement') == (
        '[placement] endpoint %s/placement' % sim.url)
    cloud = connection.from_conf(conf, 4)
    try:
        assert cloud.placement.get('/resource_providers').status_code == 200
    finally:
        cloud.close()
    conf.clear_override('endpoint', 'placement')
    with pytest.raises(connection.CloudConfigError) as info:
        connection.from_conf(conf, 4)
    assert str(info.value) == (
        '[placement] endpoint_override is required for the placement '
        'service: [placement] auth_type is admin_token, so there is no '
        'service catalog to find it in')
    conf = fresh_conf()
    _catalogless(conf, sim, ('nova',))
    conf.set_override('auth_type', 'none', 'placement')
    conf.set_override('endpoint_override', sim.url + '/placement',
                      'placement')
    cloud = connection.from_conf(conf, 4)
    try:
        assert cloud.placement.get(
            '/resource_providers', raise_exc=False).status_code == 403
    finally:
        cloud.close()


def test_unreachable_endpoint_names_its_option(sim):
    conf = fresh_conf()
    _catalogless(conf, sim)
    dead = 'http://127.0.0.1:%d/placement' % _closed_port()
    conf.set_override('endpoint_override', dead, 'placement')
    cloud = connection.from_conf(conf, 4)
    try:
        assert cloud.compute.get('/os-hypervisors').status_code == 200
        with pytest.raises(connection.CloudConnectError) as info:
            cloud.placement
        assert str(info.value).startswith(
            '[placement] endpoint_override %s: the placement service: '
            % dead)
    finally:
        cloud.close()


def test_sources_name_the_catalog_of_the_auth_used():
    conf = fresh_conf()
    _password_auth(conf, 'nova', 'http://keystone.example:5000/v3')
    assert connection.service_source(conf, 'compute') == (
        '[nova] auth_url http://keystone.example:5000/v3 as user engine '
        '(service catalog, compute)')
    assert connection.service_source(conf, 'placement') == (
        '[nova] auth_url http://keystone.example:5000/v3 as user engine '
        '(service catalog, placement)')
    conf.set_override('auth_type', 'none', 'ironic')
    conf.set_override('endpoint_override', 'http://ironic.example:6385',
                      'ironic')
    assert connection.service_source(conf, 'baremetal') == \
        '[ironic] endpoint_override http://ironic.example:6385'


def test_unreachable_keystone_error_names_the_auth_url():
    conf = fresh_conf()
    url = 'http://127.0.0.1:%d/identity/v3' % _closed_port()
    _password_auth(conf, 'nova', url)
    conf.set_override('timeout', 2, 'nova')
    cloud = connection.from_conf(conf, 4)
    try:
        with pytest.raises(connection.CloudConnectError) as info:
            cloud.compute
        assert str(info.value).startswith(
            '[nova] auth_url %s as user engine (service catalog, compute): '
            'the compute service: ' % url)
    finally:
        cloud.close()


def test_services_are_those_of_the_enabled_features():
    assert connection.services_for(fresh_conf()) == ('compute', 'placement')
    conf = fresh_conf(enabled_power_drivers=['fake', 'ironic'])
    assert connection.services_for(conf) == ('compute', 'placement',
                                             'baremetal')
    conf.set_override('enabled', False, 'collector')
    assert connection.services_for(conf) == ('baremetal',)
    assert connection.CloudConnector(conf).service_types == ('baremetal',)
