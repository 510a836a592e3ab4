"""No credential in any log line (every logger, DEBUG), error, record or
repr, on the success and the failure paths."""

import pytest

from decision_engine.drivers import base
from decision_engine.drivers import inventory
from decision_engine.drivers import ironic
from decision_engine.drivers import redfish
from decision_engine.simulator import silent_bmc
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import bmc_farm


@pytest.fixture(params=bmc_farm.POWER_READS)
def power_read(request):
    return request.param


SECRET = bmc_farm.PASSWORD


def _check_clean(all_logs, tracker, *objects):
    assert all_logs, 'nothing was logged: the capture is broken'
    leaks = [line for line in all_logs if SECRET in line]
    assert not leaks, leaks[:3]
    assert SECRET not in repr(tracker.snapshot())
    for obj in objects:
        assert SECRET not in repr(obj)


@pytest.mark.parametrize('auth_type', ['basic', 'session', 'auto'])
def test_redfish_never_logs_the_password(conf, pool, tracker, farm,
                                         all_logs, auth_type):
    # NOTE: 1 s, not less: under the eventlet backend a stalled hub (pyghmi
    # retransmitting for an earlier test) could time out a healthy call.
    conf.set_override('read_timeout', 1.0, group='redfish')
    nodes = bmc_farm.farm_nodes(farm, auth_type=auth_type, count=4)
    # Failure paths too: wrong password (401), 500, a hang (timeout).
    nodes[1].driver_info['password'] = SECRET + '-wrong'
    farm.set_fault(farm.system_ids[2], 500)
    farm.set_fault(farm.system_ids[3], 'hang')
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=nodes,
                                        tracker=tracker)
    driver.name = 'redfish'
    driver.sync_power_states()
    driver.set_power_state(nodes[0], 'power off')
    errors = []
    for node in nodes[1:]:
        with pytest.raises(base.PowerDriverError) as err:
            driver.get_power_state(node)
        errors.append(err.value)
    farm.release_hangs()
    assert tracker.get('compute-0')['state'] == 'power on'
    assert [tracker.get('compute-%d' % i)['failures'] for i in (1, 2, 3)] \
        == [1, 1, 1]
    assert any(line.startswith('sushy') for line in all_logs)
    assert any(line.startswith('urllib3') for line in all_logs)
    _check_clean(all_logs, tracker, nodes, driver._clients, *errors)
    assert all(SECRET not in str(e) for e in errors)


def test_credentials_in_the_address_are_refused_without_echo(
        conf, pool, tracker):
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=[],
                                        tracker=tracker)
    with pytest.raises(base.InvalidDriverInfo) as err:
        driver.validate({'address': 'https://admin:%s@10.0.0.1' % SECRET})
    assert SECRET not in str(err.value)
    assert 'must not contain credentials' in str(err.value)


def test_redact_masks_every_secret_field():
    node = inventory.Node('h', 'redfish', {'password': SECRET,
                                           'kg_key': 'k3y-val'})
    text = base.redact('failed with %s and k3y-val, password=%s'
                       % (SECRET, SECRET), node)
    assert SECRET not in text and '***' in text


def test_silent_bmc_error_has_no_secret(conf, pool, tracker, all_logs):
    conf.set_override('read_timeout', 0.3, group='redfish')
    with silent_bmc.SilentBMC() as silent:
        node = inventory.Node('h', 'redfish', {
            'address': silent.url, 'username': 'admin', 'password': SECRET})
        driver = redfish.RedfishPowerDriver(conf=conf, pool=pool,
                                            nodes=[node], tracker=tracker)
        driver.sync_power_states()
    assert 'timed out' in tracker.get('h')['last_error']
    _check_clean(all_logs, tracker, node)


def test_ironic_never_logs_the_cloud_password(conf, pool, tracker,
                                              all_logs):
    sim = Simulator(Topology.generate(hosts=3, instances=3),
                    password=SECRET).start()
    try:
        nodes = [inventory.Node(h.hostname, 'ironic')
                 for h in sim.topology.hosts]
        nodes.append(inventory.Node('ghost', 'ironic'))
        driver = ironic.IronicPowerDriver(conf=conf, pool=pool, nodes=nodes,
                                          tracker=tracker,
                                          cloud=sim.connection())
        driver.name = 'ironic'
        driver.sync_power_states()
        driver.set_power_state(nodes[0], 'power off')
        sim.expire_tokens()     # re-authentication is logged too
        driver.sync_power_states()
    finally:
        sim.stop()
    assert tracker.get(nodes[0].hostname)['state'] == 'power off'
    assert any(line.startswith('keystoneauth') for line in all_logs)
    _check_clean(all_logs, tracker, nodes)
