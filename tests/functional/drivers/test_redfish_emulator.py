"""The redfish driver against a real Redfish peer: ``sushy-emulator --fake``
(package sushy-tools), started here on a free loopback port with HTTP basic
authentication on."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import bcrypt
import pytest

from decision_engine.drivers import inventory
from decision_engine.drivers import power_state
from decision_engine.drivers import redfish
from tests.fixtures import bmc_farm


@pytest.fixture(params=bmc_farm.POWER_READS)
def power_read(request):
    return request.param


SYSTEM = '27946b59-9e44-4fa7-8e91-f3527a1ef094'


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def emulator(tmp_path):
    auth = tmp_path / 'htpasswd'
    auth.write_text('admin:%s\n' % bcrypt.hashpw(
        bmc_farm.PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode())
    config = tmp_path / 'emulator.conf'
    config.write_text(
        'SUSHY_EMULATOR_FAKE_DRIVER = True\n'
        'SUSHY_EMULATOR_AUTH_FILE = %r\n'
        # NOTE: the fake driver persists its systems; a fresh state dir
        # per test, or the last run's power state leaks in.
        'SUSHY_EMULATOR_STATE_DIR = %r\n'
        'SUSHY_EMULATOR_FAKE_SYSTEMS = [{"uuid": %r, "name": "fake", '
        '"power_state": "On", "nics": []}]\n'
        % (str(auth), str(tmp_path / 'state'), SYSTEM))
    exe = os.path.join(os.path.dirname(sys.executable), 'sushy-emulator')
    assert os.path.exists(exe), 'sushy-tools is not installed (%s)' % exe
    port = _free_port()
    proc = subprocess.Popen(
        [exe, '--fake', '--config', str(config), '-i', '127.0.0.1',
         '-p', str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # Flask says "Running on ..." on stderr once it listens.
        for line in proc.stderr:
            if 'Running on' in line:
                break
        else:
            pytest.fail('sushy-emulator exited with %s' % proc.wait())
        yield 'http://127.0.0.1:%d' % port
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stderr.close()


def _emulator_request(url, method='GET', body=None):
    request = urllib.request.Request(url, method=method, data=(
        json.dumps(body).encode() if body is not None else None))
    request.add_header('Content-Type', 'application/json')
    import base64
    request.add_header('Authorization', 'Basic ' + base64.b64encode(
        ('admin:' + bmc_farm.PASSWORD).encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as answer:
        data = answer.read()
    return json.loads(data) if data else None


def test_reads_state_and_notices_change_made_through_emulator(
        conf, pool, tracker, emulator, all_logs, power_read):
    node = inventory.Node('compute-1', 'redfish', {
        'address': emulator, 'system_id': '/redfish/v1/Systems/' + SYSTEM,
        'username': 'admin', 'password': bmc_farm.PASSWORD})
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=[node],
                                        tracker=tracker)
    driver.name = 'redfish'
    driver.validate(node.driver_info)
    driver.sync_power_states()
    assert tracker.get('compute-1')['state'] == power_state.POWER_ON, \
        tracker.get('compute-1')

    # Change it through the emulator's own API, behind the engine's back.
    system_url = emulator + '/redfish/v1/Systems/' + SYSTEM
    _emulator_request(system_url + '/Actions/ComputerSystem.Reset', 'POST',
                      {'ResetType': 'ForceOff'})
    # NOTE: the fake driver applies a power change 1 to 11 s later; wait
    # until the emulator itself reports it (no event to wait on from
    # another process).
    deadline = time.monotonic() + 30
    while _emulator_request(system_url)['PowerState'] != 'Off':
        assert time.monotonic() < deadline, 'the emulator never powered off'
        time.sleep(0.2)
    assert tracker.get('compute-1')['state'] == power_state.POWER_ON
    driver.sync_power_states()
    assert tracker.get('compute-1')['state'] == power_state.POWER_OFF
    # The second poll was the lean read on its kept connection, or sushy.
    assert (driver._http.opened == 1) == (power_read == 'lean')

    # A wrong password is a counted failure with no secret in it.
    bad = inventory.Node('compute-2', 'redfish', dict(
        node.driver_info, password='not-' + bmc_farm.PASSWORD))
    driver.nodes.append(bad)
    driver.sync_power_states()
    record = tracker.get('compute-2')
    assert record['failures'] == 1 and '401' in record['last_error']
    assert bmc_farm.PASSWORD not in record['last_error']
    assert all(bmc_farm.PASSWORD not in line for line in all_logs)
    assert any(line.startswith('sushy') for line in all_logs)
