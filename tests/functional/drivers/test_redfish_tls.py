"""The lean read over HTTPS verifies as sushy does: a CA bundle from
``verify_ca``, the default bundle, or no check; host names checked."""

import datetime
import http.server
import ipaddress
import json
import ssl
import threading
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest

from decision_engine.common import http_pool
from decision_engine.drivers import base
from decision_engine.drivers import inventory
from decision_engine.drivers import redfish

SYSTEM = '/redfish/v1/Systems/1'


def _self_signed(tmp_path, ip='127.0.0.1'):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'test-bmc')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / 'bmc.pem', tmp_path / 'bmc.key'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path.rstrip('/') == '/redfish/v1':
            doc = {'@odata.id': '/redfish/v1/', 'Id': 'RootService',
                   'RedfishVersion': '1.6.0',
                   'Systems': {'@odata.id': '/redfish/v1/Systems'}}
        else:
            doc = {'@odata.id': SYSTEM, 'Id': '1', 'PowerState': 'Off'}
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)


def _serve(tmp_path, ip):
    cert, key = _self_signed(tmp_path, ip)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, 'https://127.0.0.1:%d' % server.server_address[1], cert


@pytest.fixture
def tls_bmc(tmp_path):
    """A BMC whose self-signed certificate is for 127.0.0.1."""
    server, url, cert = _serve(tmp_path, '127.0.0.1')
    yield url, cert
    server.shutdown()
    server.server_close()


@pytest.fixture
def misnamed_bmc(tmp_path):
    """A BMC on 127.0.0.1 whose certificate is for 10.9.9.9."""
    server, url, cert = _serve(tmp_path, '10.9.9.9')
    yield url, cert
    server.shutdown()
    server.server_close()


def test_lean_read_over_tls_with_the_nodes_ca_bundle(conf, pool, tracker,
                                                     tls_bmc):
    url, cert = tls_bmc
    node = inventory.Node('tls', 'redfish', {
        'address': url, 'system_id': SYSTEM, 'verify_ca': cert,
        'auth_type': 'basic'})
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=[node],
                                        tracker=tracker)
    driver.validate(node.driver_info)
    for _ in range(3):
        assert driver.get_power_state(node) == 'power off'
    # The first poll connected through sushy (verifying with the bundle),
    # the next two were lean reads on one verified connection.
    assert driver._http.opened == 1


def test_unverified_polls_do_not_warn_at_each_poll(conf, pool, tracker,
                                                   tls_bmc):
    url, cert = tls_bmc
    node = inventory.Node('tls', 'redfish', {
        'address': url, 'system_id': SYSTEM, 'verify_ca': False,
        'auth_type': 'basic'})
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=[node],
                                        tracker=tracker)
    driver.get_power_state(node)        # connects through sushy
    with warnings.catch_warnings(record=True) as caught:
        for _ in range(5):
            assert driver.get_power_state(node) == 'power off'
    assert driver._http.opened == 1
    # urllib3 would warn at each poll; sushy, connecting a node with
    # verification off, turned that warning off for the process.
    insecure = [w for w in caught
                if w.category.__name__ == 'InsecureRequestWarning']
    assert len(insecure) <= 1, [str(w.message) for w in insecure]


def test_default_bundle_refuses_an_unknown_ca_on_both_paths(conf, pool,
                                                            tracker,
                                                            tls_bmc):
    url, cert = tls_bmc
    node = inventory.Node('tls', 'redfish', {
        'address': url, 'system_id': SYSTEM, 'auth_type': 'basic'})
    driver = redfish.RedfishPowerDriver(conf=conf, pool=pool, nodes=[node],
                                        tracker=tracker)
    with pytest.raises(base.PowerDriverError) as err:
        driver.get_power_state(node)
    assert 'CERTIFICATE_VERIFY_FAILED' in str(err.value)
    pool_ = http_pool.HttpPool(1, 1)
    host, port = '127.0.0.1', int(url.rsplit(':', 1)[1])
    with pytest.raises(http_pool.TransportError) as err:
        pool_.get('https', host, port, SYSTEM, {}, True, 2.0, 2.0)
    assert 'CERTIFICATE_VERIFY_FAILED' in str(err.value)
    # With the node's bundle, or with no check at all, it answers.
    for verify in (cert, False):
        answer = pool_.get('https', host, port, SYSTEM, {}, verify, 2.0,
                           2.0)
        assert answer.status_code == 200
        assert answer.json()['PowerState'] == 'Off'
    pool_.close()


def test_host_name_is_checked(misnamed_bmc):
    url, cert = misnamed_bmc
    port = int(url.rsplit(':', 1)[1])
    pool_ = http_pool.HttpPool(1, 1)
    # Its CA is trusted (the bundle), but the certificate names another
    # address: refused.
    with pytest.raises(http_pool.TransportError) as err:
        pool_.get('https', '127.0.0.1', port, SYSTEM, {}, cert, 2.0, 2.0)
    assert 'mismatch' in str(err.value), str(err.value)
    # With verification off, no name is checked either (as requests).
    assert pool_.get('https', '127.0.0.1', port, SYSTEM, {}, False, 2.0,
                     2.0).status_code == 200
    pool_.close()
