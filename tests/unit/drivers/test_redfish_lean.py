"""The lean power read of the redfish driver against the BMC farm and a
small misbehaving Redfish service: it fails exactly as sushy's path does,
reuses its connections, follows sushy's session, leaves the poll to sushy
behind a proxy, and never shows a credential."""

import base64
import gc
import http.server
import json
import threading
import urllib.request

import pytest

from decision_engine.drivers import base
from decision_engine.drivers import inventory
from decision_engine.drivers import redfish
from tests.fixtures import bmc_farm

SECRET = bmc_farm.PASSWORD


def _driver(conf, pool, tracker, nodes, power_read):
    conf.set_override('power_read', power_read, group='redfish')
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool,
                                        nodes=list(nodes), tracker=tracker)
    driver.name = 'redfish'
    return driver


def _error_after_connect(conf, pool, tracker, farm, power_read, fault,
                         auth_type='basic'):
    """Connect node 0, set ``fault``, poll again: (error, GETs of it)."""
    node = bmc_farm.farm_nodes(farm, auth_type=auth_type, count=1)[0]
    ident = farm.system_ids[0]
    driver = _driver(conf, pool, tracker, [node], power_read)
    assert driver.get_power_state(node) == 'power on'
    farm.set_fault(ident, fault)
    farm.reset_stats()
    try:
        with pytest.raises(base.PowerDriverError) as err:
            driver.get_power_state(node)
    finally:
        farm.set_fault(ident, None)
        farm.release_hangs()
        driver.close()
        # NOTE: sushy's Sushy.__del__ deletes its Redfish session, and a
        # dropped client is a reference cycle: collected here, not in a
        # thread of the in-process farm that holds the farm's lock (its
        # DELETE would then wait for that lock until the read timeout).
        gc.collect()
    return str(err.value), farm.stats().get('GET system', 0)


@pytest.mark.parametrize('fault', [401, 403, 404, 400, 500, 503])
@pytest.mark.parametrize('auth_type', ['basic', 'session'])
def test_http_errors_are_those_of_the_sushy_path(conf, pool, tracker, farm,
                                                 fault, auth_type):
    lean = _error_after_connect(conf, pool, tracker, farm, 'lean', fault,
                                auth_type)
    sushy = _error_after_connect(conf, pool, tracker, farm, 'sushy', fault,
                                 auth_type)
    # The same message, word for word, after as many GETs (a 5xx is
    # retried once; a refused session token is re-established and retried
    # once); the lean read hands a refused token to sushy: one GET more.
    assert lean[0] == sushy[0]
    extra = 1 if auth_type == 'session' and fault in (401, 403) else 0
    assert lean[1] == sushy[1] + extra
    assert (('returned code %d' % fault) in lean[0]
            or fault == 404 and lean[0].endswith(' not found')), lean[0]
    assert SECRET not in lean[0]


def test_timeout_is_a_connection_error_on_both_paths(conf, pool, tracker,
                                                     farm):
    conf.set_override('read_timeout', 0.5, group='redfish')
    url = farm.url + farm.system_path(farm.system_ids[0])
    for power_read in bmc_farm.POWER_READS:
        error, gets = _error_after_connect(conf, pool, tracker, farm,
                                           power_read, 'hang')
        assert ('Redfish BMC of node compute-0: Unable to connect to %s. '
                'Error: ' % url) in error, error
        assert 'Read timed out. (read timeout=0.5)' in error, error
        assert gets == 1, power_read


def test_failures_are_counted_and_recovered_alike(conf, pool, tracker,
                                                  farm):
    node = bmc_farm.farm_nodes(farm, count=1)[0]
    driver = _driver(conf, pool, tracker, [node], 'lean')
    driver.sync_power_states()
    farm.set_fault(farm.system_ids[0], 401)
    driver.sync_power_states()
    record = tracker.get('compute-0')
    assert record['failures'] == 1 and '401' in record['last_error']
    farm.set_fault(farm.system_ids[0], None)
    farm.set_power(farm.system_ids[0], 'Off')
    driver.sync_power_states()
    assert tracker.get('compute-0')['state'] == 'power off'
    assert tracker.get('compute-0')['failures'] == 0


def test_connections_are_kept_between_sweeps(conf, pool, tracker, farm):
    conf.set_override('sync_workers', 2, group='power')
    conf.set_override('lean_connections_per_bmc', 8, group='redfish')
    nodes = bmc_farm.farm_nodes(farm)
    driver = _driver(conf, pool, tracker, nodes, 'lean')
    driver.sync_power_states()      # sushy connects every node
    assert driver._http.opened == 0
    farm.reset_stats()
    for _ in range(4):
        driver.sync_power_states()
    # Four sweeps of 8 nodes: 32 GETs over as many connections as polls
    # ran at once (2 workers, and the sweep's own thread when the lane is
    # full), never one per poll.
    assert farm.stats()['GET system'] == 4 * len(nodes)
    assert farm.stats().get('GET root', 0) == 0
    assert 1 <= driver._http.opened <= 3
    assert driver._http.idle_count() == driver._http.opened
    assert all(tracker.get(n.hostname)['failures'] == 0 for n in nodes)
    driver.close()
    assert driver._http.idle_count() == 0


def test_idle_connections_are_bounded(conf, pool, tracker, farm):
    conf.set_override('sync_workers', 4, group='power')
    conf.set_override('lean_connections_per_bmc', 1, group='redfish')
    nodes = bmc_farm.farm_nodes(farm)
    driver = _driver(conf, pool, tracker, nodes, 'lean')
    driver.sync_power_states()
    driver.sync_power_states()
    assert driver._http.idle_count() == 1
    conf.set_override('lean_connections_per_bmc', 3, group='redfish')
    conf.set_override('lean_idle_connections', 2, group='redfish')
    driver.sync_power_states()
    assert driver._http.idle_count() <= 2
    assert all(tracker.get(n.hostname)['failures'] == 0 for n in nodes)


def test_session_token_is_sushys_and_renewed_through_sushy(conf, pool,
                                                           tracker, farm):
    node = bmc_farm.farm_nodes(farm, auth_type='session', count=1)[0]
    driver = _driver(conf, pool, tracker, [node], 'lean')
    driver.sync_power_states()
    client = driver._clients['compute-0']
    token = client.auth.get_session_key()
    assert token and client.lean_headers()['X-Auth-Token'] == token
    assert 'Authorization' not in client.lean_headers()
    farm.reset_stats()
    driver.sync_power_states()
    assert farm.stats()['GET system'] == 1
    # The BMC forgets the session (expired, or deleted by an admin).
    request = urllib.request.Request(
        farm.url + client.auth.get_session_resource_id(), method='DELETE',
        headers={'X-Auth-Token': token})
    urllib.request.urlopen(request, timeout=10).close()
    farm.reset_stats()
    driver.sync_power_states()
    assert tracker.get('compute-0')['failures'] == 0
    new_token = client.auth.get_session_key()
    assert new_token and new_token != token
    # lean GET (401), then sushy: GET (401), new session, GET.
    assert farm.stats()['GET system'] == 3
    assert farm.stats()['POST other'] == 1
    farm.reset_stats()
    driver.sync_power_states()
    assert farm.stats()['GET system'] == 1
    assert driver._clients['compute-0'].lean_headers()['X-Auth-Token'] \
        == new_token


def test_auto_auth_that_fell_back_to_basic_sends_basic(conf, pool, tracker,
                                                       farm):
    node = bmc_farm.farm_nodes(farm, auth_type='auto', count=1)[0]
    driver = _driver(conf, pool, tracker, [node], 'lean')
    driver.sync_power_states()
    headers = driver._clients['compute-0'].lean_headers()
    # The farm offers sessions: "auto" took one.
    assert 'X-Auth-Token' in headers


def test_sushy_session_api_is_still_there():
    """NOTE: the lean read takes the token and the errors through these
    public sushy functions; if sushy renames them, this fails before any
    BMC does."""
    from sushy import auth as sushy_auth
    assert callable(getattr(sushy_auth.SessionAuth, 'get_session_key'))
    auth = sushy_auth.SessionOrBasicAuth('u', 'p')
    assert isinstance(auth, sushy_auth.SessionAuth)
    assert auth.get_session_key() is None
    from sushy import exceptions as sushy_exc
    assert callable(sushy_exc.raise_for_response)
    # requests.utils (no underscore, not in requests' API docs): how the
    # driver decides that a proxy applies, as requests itself does.
    import requests.utils
    assert requests.utils.get_environ_proxies(
        'http://127.0.0.1', no_proxy='127.0.0.1') == {}


def test_proxy_leaves_the_poll_to_sushy(conf, pool, tracker, farm,
                                        monkeypatch, caplog):
    node = bmc_farm.farm_nodes(farm, count=1)[0]
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    monkeypatch.setenv('http_proxy', 'http://127.0.0.1:9')
    driver = _driver(conf, pool, tracker, [node], 'lean')
    driver.sync_power_states()
    driver.sync_power_states()
    assert driver._http.opened == 1     # no_proxy matches: lean
    monkeypatch.delenv('no_proxy')
    other = _driver(conf, pool, tracker, [node], 'lean')
    with caplog.at_level('INFO', 'decision_engine'):
        other.sync_power_states()
    # sushy went to the (dead) proxy, as requests does.
    assert 'ProxyError' in tracker.get('compute-0')['last_error']
    assert other._http.opened == 0


class _OddBMC(http.server.ThreadingHTTPServer):
    """A Redfish service whose one system answers ``body`` (bytes); it
    closes every connection after its answer when ``drop`` is set,
    without saying so (a BMC timing idle connections out)."""

    daemon_threads = True

    def __init__(self):
        self.body = json.dumps({'@odata.id': '/redfish/v1/Systems/1',
                                'Id': '1', 'PowerState': 'On'}).encode()
        self.drop = False
        self.connections = 0
        super().__init__(('127.0.0.1', 0), _OddHandler)
        self.url = 'http://127.0.0.1:%d' % self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


class _OddHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def setup(self):
        super().setup()
        self.server.connections += 1

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path.rstrip('/') == '/redfish/v1':
            body = json.dumps({
                '@odata.id': '/redfish/v1/', 'Id': 'RootService',
                'RedfishVersion': '1.6.0',
                'Systems': {'@odata.id': '/redfish/v1/Systems'}}).encode()
        else:
            body = self.server.body
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        if self.close_connection:
            # NOTE: sushy asks for it; say so, or requests would reuse a
            # socket this side closes.
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)
        if self.server.drop:
            self.close_connection = True


@pytest.fixture
def odd_bmc():
    server = _OddBMC()
    yield server
    server.stop()


def _odd_error(conf, pool, tracker, odd_bmc, power_read, body):
    odd_bmc.body = json.dumps({'@odata.id': '/redfish/v1/Systems/1',
                               'Id': '1', 'PowerState': 'On'}).encode()
    node = inventory.Node('odd', 'redfish', {
        'address': odd_bmc.url, 'system_id': '/redfish/v1/Systems/1',
        'username': 'admin', 'password': SECRET, 'auth_type': 'basic'})
    driver = _driver(conf, pool, tracker, [node], power_read)
    assert driver.get_power_state(node) == 'power on'
    odd_bmc.body = body
    with pytest.raises(base.PowerDriverError) as err:
        driver.get_power_state(node)
    return str(err.value)


@pytest.mark.parametrize('body', [
    b'<html>garbage</html>',
    b'{"PowerState": "On"',
    b'{"Id": "1"}',
    b'{"Id": "1", "PowerState": null}',
])
def test_garbage_is_one_clear_error_on_both_paths(conf, pool, tracker,
                                                  odd_bmc, body):
    lean = _odd_error(conf, pool, tracker, odd_bmc, 'lean', body)
    sushy = _odd_error(conf, pool, tracker, odd_bmc, 'sushy', body)
    assert lean == sushy
    assert lean.startswith('Redfish BMC of node odd')
    assert '\n' not in lean
    assert 'not valid JSON' in lean or 'no known PowerState' in lean


@pytest.mark.parametrize('body, words', [
    (b'{"Id": "1", "PowerState": "Sleeping"}',
     "reports PowerState 'Sleeping', which is not a Redfish power state"),
    (b'[1, 2]', 'the system resource is not a JSON object'),
    (b'{"Id": "1", "PowerState": 1}',
     'reports a PowerState that is not a string'),
])
def test_lean_names_what_is_wrong(conf, pool, tracker, odd_bmc, body,
                                  words):
    error = _odd_error(conf, pool, tracker, odd_bmc, 'lean', body)
    assert error.startswith('Redfish BMC of node odd'), error
    assert words in error and '\n' not in error, error


@pytest.mark.parametrize('value, state', [
    ('On', 'power on'), ('PoweringOn', 'power on'), ('Paused', 'power on'),
    ('Off', 'power off'), ('PoweringOff', 'power off')])
def test_every_redfish_power_state(conf, pool, tracker, odd_bmc, value,
                                   state):
    node = inventory.Node('odd', 'redfish', {
        'address': odd_bmc.url, 'system_id': '/redfish/v1/Systems/1',
        'auth_type': 'basic'})
    driver = _driver(conf, pool, tracker, [node], 'lean')
    driver.get_power_state(node)
    odd_bmc.body = json.dumps({'Id': '1', 'PowerState': value}).encode()
    assert driver.get_power_state(node) == state
    assert driver._http.opened == 1


def test_bmc_closing_idle_connections_costs_no_failure(conf, pool, tracker,
                                                       odd_bmc):
    node = inventory.Node('odd', 'redfish', {
        'address': odd_bmc.url, 'system_id': '/redfish/v1/Systems/1',
        'auth_type': 'basic'})
    driver = _driver(conf, pool, tracker, [node], 'lean')
    driver.get_power_state(node)
    odd_bmc.drop = True
    for _ in range(4):
        assert driver.get_power_state(node) == 'power on'
    # Each poll found its kept connection closed by the BMC and sent its
    # GET again, once, on a new one.
    assert driver._http.opened == 4


def test_lean_read_never_shows_a_credential(conf, pool, tracker, farm,
                                            all_logs):
    conf.set_override('read_timeout', 0.5, group='redfish')
    nodes = (bmc_farm.farm_nodes(farm, auth_type='basic', count=4)
             + [inventory.Node('compute-s%d' % i, 'redfish',
                               farm.driver_info(ident, auth_type='session'))
                for i, ident in enumerate(farm.system_ids[4:8])])
    driver = _driver(conf, pool, tracker, nodes, 'lean')
    driver.sync_power_states()
    tokens = [driver._clients[n.hostname].auth.get_session_key()
              for n in nodes[4:]]
    assert all(tokens)
    basic = base64.b64encode(('admin:' + SECRET).encode()).decode()
    for i, fault in ((1, 401), (2, 500), (3, 'hang'), (5, 403), (6, 404)):
        farm.set_fault(farm.system_ids[i], fault)
    driver.sync_power_states()
    farm.release_hangs()
    errors = [tracker.get(n.hostname)['last_error'] for n in nodes]
    assert sum(1 for e in errors if e) == 5, errors
    secrets = [SECRET, basic] + tokens
    for line in all_logs + [e for e in errors if e] + [repr(nodes)]:
        for secret in secrets:
            assert secret not in line
    assert not any(secret in repr(driver._clients) for secret in secrets)
