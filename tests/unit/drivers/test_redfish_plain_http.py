"""A Redfish address without TLS: an explicit per-node ``verify_ca`` on an
``http://`` address is refused at start with one line, and a driver whose
nodes use ``http://`` says so once, at its first sweep."""

import logging

import pytest

from decision_engine.drivers import base
from decision_engine.drivers import loader
from decision_engine.drivers import redfish
from tests.fixtures import bmc_farm


@pytest.fixture(params=bmc_farm.POWER_READS)
def power_read(request):
    return request.param


def _driver(conf, pool, tracker, nodes=()):
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool,
                                        nodes=list(nodes), tracker=tracker)
    driver.name = 'redfish'
    return driver


@pytest.mark.parametrize('verify', [True, 'true', 'CA'])
def test_explicit_verify_on_http_is_refused(conf, pool, tracker, tmp_path,
                                            verify):
    if verify == 'CA':
        verify = str(tmp_path / 'ca.pem')
        (tmp_path / 'ca.pem').write_text('')
    driver = _driver(conf, pool, tracker)
    with pytest.raises(base.InvalidDriverInfo) as err:
        driver.validate({'address': 'http://10.0.0.1:8000',
                         'username': 'admin',
                         'password': bmc_farm.PASSWORD,
                         'verify_ca': verify})
    text = str(err.value)
    assert '"verify_ca" asks for TLS verification but "address" is ' \
        'http://' in text
    assert bmc_farm.PASSWORD not in text and '\n' not in text


@pytest.mark.parametrize('info', [
    {'address': 'http://10.0.0.1', 'verify_ca': False},
    {'address': 'http://10.0.0.1', 'verify_ca': 'false'},
    {'address': 'http://10.0.0.1'},
    {'address': 'https://10.0.0.1', 'verify_ca': True},
    {'address': '10.0.0.1', 'verify_ca': True},
])
def test_consistent_tls_settings_are_accepted(conf, pool, tracker, info):
    _driver(conf, pool, tracker).validate(info)


def test_loader_names_the_node(conf, pool, tracker, tmp_path):
    path = tmp_path / 'inventory.yaml'
    path.write_text('- {hostname: compute-1, driver: redfish, driver_info: '
                    '{address: "http://bmc", verify_ca: true}}\n')
    conf.set_override('inventory_file', str(path), group='power')
    conf.set_override('enabled_power_drivers', ['redfish'])
    with pytest.raises(loader.DriverLoadError) as err:
        loader.load_drivers(conf, pool, tracker, loader.load_nodes(conf))
    assert 'node compute-1: invalid driver_info for driver redfish: ' \
        '"verify_ca" asks for TLS' in str(err.value)


def test_plain_http_nodes_are_named_once(conf, pool, tracker, farm,
                                         caplog):
    nodes = bmc_farm.farm_nodes(farm, count=3)
    assert all(n.driver_info['address'].startswith('http://')
               for n in nodes)
    driver = _driver(conf, pool, tracker, nodes)
    with caplog.at_level(logging.WARNING, 'decision_engine'):
        driver.sync_power_states()
        driver.sync_power_states()
    plain = [r.getMessage() for r in caplog.records
             if 'plain http://' in r.getMessage()]
    assert plain == [
        'Redfish BMC address of 3 node(s) is plain http:// (compute-0, '
        'compute-1, compute-2): no TLS, so [redfish] verify_ca does not '
        'apply and their credentials and power states cross the network '
        'unencrypted; use https://']
    assert tracker.get('compute-0')['state'] == 'power on'


def test_no_plain_http_warning_for_https_nodes(conf, pool, tracker, caplog):
    from decision_engine.drivers import inventory
    node = inventory.Node('compute-9', 'redfish',
                          {'address': 'https://127.0.0.1:1'})
    driver = _driver(conf, pool, tracker, [node])
    with caplog.at_level(logging.WARNING, 'decision_engine'):
        driver.sync_power_states()
    assert not [r for r in caplog.records
                if 'plain http://' in r.getMessage()]
    assert tracker.get('compute-9')['failures'] == 1
