"""The ipmi driver against an IPMI BMC served locally by pyghmi's own BMC
server class (tests/fixtures/ipmi_bmc.py, in a process of its own)."""

import os
import socket
import subprocess
import sys

import pytest

from decision_engine.drivers import base
from decision_engine.drivers import inventory
from decision_engine.drivers import ipmi
from decision_engine.drivers import power_state
from tests.fixtures import bmc_farm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


class _Bmc:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'tests.fixtures.ipmi_bmc', 'admin',
             bmc_farm.PASSWORD], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith('READY '), 'IPMI BMC did not start: %r' % line
        self.port = int(line.split()[1])

    def command(self, word):
        self.proc.stdin.write(word + '\n')
        self.proc.stdin.flush()
        return self.proc.stdout.readline().split()[1]

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(30)
        self.proc.stdout.close()


@pytest.fixture
def ipmi_bmc():
    server = _Bmc()
    yield server
    server.stop()


def _driver(conf, pool, tracker, nodes):
    driver = ipmi.IPMIPowerDriver(conf=conf, pool=pool, nodes=nodes,
                                  tracker=tracker)
    driver.name = 'ipmi'
    for node in nodes:
        driver.validate(node.driver_info)
    return driver


def test_reads_sets_and_notices_changes(conf, pool, tracker, ipmi_bmc,
                                        all_logs):
    node = inventory.Node('compute-1', 'ipmi', {
        'address': '127.0.0.1', 'port': ipmi_bmc.port, 'username': 'admin',
        'password': bmc_farm.PASSWORD})
    driver = _driver(conf, pool, tracker, [node])
    driver.sync_power_states()
    assert tracker.get('compute-1')['state'] == power_state.POWER_ON
    # Changed at the BMC, noticed by the next sweep.
    assert ipmi_bmc.command('off') == 'off'
    driver.sync_power_states()
    assert tracker.get('compute-1')['state'] == power_state.POWER_OFF
    # Set through the driver, seen by the BMC.
    driver.set_power_state(node, power_state.POWER_ON)
    assert ipmi_bmc.command('state') == 'on'
    driver.sync_power_states()
    assert tracker.get('compute-1')['state'] == power_state.POWER_ON
    # A wrong password is a counted failure.
    bad = inventory.Node('compute-2', 'ipmi', dict(
        node.driver_info, password='x' + bmc_farm.PASSWORD))
    driver.nodes.append(bad)
    driver.sync_power_states()
    assert 'Incorrect password' in tracker.get('compute-2')['last_error']
    assert all(bmc_farm.PASSWORD not in line for line in all_logs)


def test_silent_bmc_fails_at_command_timeout(conf, pool, tracker):
    conf.set_override('command_timeout', 1.0, group='ipmi')
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(('127.0.0.1', 0))
        node = inventory.Node('compute-9', 'ipmi', {
            'address': '127.0.0.1', 'port': silent.getsockname()[1],
            'username': 'admin', 'password': bmc_farm.PASSWORD})
        driver = _driver(conf, pool, tracker, [node])
        driver.sync_power_states()
        # The client did talk to it (it is not a refused port) ...
        assert silent.recv(4096)
    record = tracker.get('compute-9')
    assert record['failures'] == 1
    assert 'did not answer within [ipmi] command_timeout (1.0 s)' in \
        record['last_error']


@pytest.mark.parametrize('info, message', [
    ({}, '"address" is required'),
    ({'address': 'h', 'port': 0}, '"port" must be a port number'),
    ({'address': 'h', 'username': 'u'}, '"username" and "password" go'),
    ({'address': 'h', 'bmc': 1}, 'unknown field(s) bmc'),
])
def test_validate(conf, pool, tracker, info, message):
    driver = _driver(conf, pool, tracker, [])
    with pytest.raises(base.InvalidDriverInfo) as err:
        driver.validate(info)
    assert message in str(err.value)
