"""The real drivers load through their entry points; bad driver_info stops
the load with one line naming the node and the field, and no secret."""

import textwrap

import pytest

from decision_engine.drivers import ipmi
from decision_engine.drivers import ironic
from decision_engine.drivers import loader
from decision_engine.drivers import redfish
from tests.fixtures import bmc_farm


def _inventory(conf, tmp_path, text):
    path = tmp_path / 'inventory.yaml'
    path.write_text(textwrap.dedent(text))
    conf.set_override('inventory_file', str(path), group='power')
    conf.set_override('enabled_power_drivers', ['redfish', 'ipmi', 'ironic'])
    return loader.load_nodes(conf)


def test_loads_every_real_driver(conf, pool, tracker, tmp_path):
    nodes = _inventory(conf, tmp_path, """
        - hostname: compute-1
          driver: redfish
          driver_info: {address: "https://10.0.0.1", username: admin,
                        password: "%s"}
        - {hostname: compute-2, driver: ipmi,
           driver_info: {address: 10.0.0.2, username: a, password: b}}
        - {hostname: compute-3, driver: ironic}
        """ % bmc_farm.PASSWORD)
    cloud = object()
    drivers = loader.load_drivers(conf, pool, tracker, nodes, cloud=cloud)
    assert isinstance(drivers['redfish'], redfish.RedfishPowerDriver)
    assert isinstance(drivers['ipmi'], ipmi.IPMIPowerDriver)
    assert isinstance(drivers['ironic'], ironic.IronicPowerDriver)
    assert drivers['ironic']._cloud is cloud
    assert [n.hostname for n in drivers['ipmi'].nodes] == ['compute-2']


@pytest.mark.parametrize('info, message', [
    ('{username: admin, password: "%s"}' % bmc_farm.PASSWORD,
     '"address" is required'),
    ('{address: "https://admin:%s@bmc"}' % bmc_farm.PASSWORD,
     'must not contain credentials'),
    ('{address: "ftp://bmc"}', "must use http or https, not 'ftp'"),
    ('{address: bmc, username: admin}', '"username" and "password" go'),
    ('{address: bmc, auth_type: digest}', '"auth_type" must be one of'),
    ('{address: bmc, verify_ca: /no/such/ca.pem}', 'CA bundle /no/such'),
    ('{address: bmc, system: 1}', 'unknown field(s) system'),
])
def test_bad_redfish_driver_info(conf, pool, tracker, tmp_path, info,
                                 message):
    nodes = _inventory(conf, tmp_path, """
        - {hostname: compute-1, driver: redfish, driver_info: %s}
        """ % info)
    with pytest.raises(loader.DriverLoadError) as err:
        loader.load_drivers(conf, pool, tracker, nodes)
    text = str(err.value)
    assert 'node compute-1: invalid driver_info for driver redfish' in text
    assert message in text
    assert bmc_farm.PASSWORD not in text
    assert '\n' not in text
