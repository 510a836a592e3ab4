"""Keep-alive connections the real API servers closed while idle cost a
warm build nothing (issue 23, D7).

nova-api and Placement run under gunicorn, which closes a keep-alive
connection idle for 2 s. The engine's collector (``direct`` transport,
catalog discovery, password auth) builds once, which leaves connections
kept open; the test waits until gunicorn has closed every one of them
(the test process's sockets to both services are no longer ESTABLISHED),
then builds again. That second build must back off nowhere (every back-off
of the build's retry policy is counted) and its request figures, per
service, must equal what the services received: the lines of their
gunicorn access logs with the engine's user agent.

Without the idle-close handling of decision_engine/common/http_pool.py
(urllib3's ``is_connection_dropped`` check before reuse, and the one
immediate re-send of a GET the server closed under us) the reused dead
connections fail with ``RemoteDisconnected``: back-offs and a request
figure above what the services received.
"""

import uuid

import psutil
import requests

from decision_engine.cloud import connection
from decision_engine.collector import collector as collector_mod
from decision_engine.concurrency.pool import WorkerPool
from tests.fixtures import backoffs as backoffs_mod
from tests.fixtures import collector_config
from tests.fixtures import figures
from tests.fixtures import waiting

SERVICES = {'compute': 'nova-api', 'placement': 'placement'}


def _ports(testbed):
    return {testbed.state['ports']['nova'],
            testbed.state['ports']['placement']}


def _established(ports):
    """This process's connections to ``ports`` that are still open both
    ways (one the server closed is CLOSE_WAIT here)."""
    return [c for c in psutil.Process().net_connections(kind='tcp')
            if c.raddr and c.raddr.port in ports
            and c.status == psutil.CONN_ESTABLISHED]


def _served(testbed, offsets, marker):
    """{service: requests with the engine's user agent} the access logs
    got since ``offsets``, once each log has the ``marker`` request sent
    after the build (so the build's lines are all written)."""
    urls = {'compute': testbed.state['urls']['nova'],
            'placement': testbed.state['urls']['placement']}
    for url in urls.values():
        requests.get(url, headers={'User-Agent': marker}, timeout=30)
    texts = {}

    def logged():
        for service, name in SERVICES.items():
            with open(testbed.access_log(name), 'rb') as log:
                log.seek(offsets[service])
                texts[service] = log.read().decode()
        return all(marker in text for text in texts.values())

    waiting.until(logged, 'the marker requests in the access logs',
                  timeout=30)
    return {service: sum(1 for line in text.splitlines()
                         if line.endswith('"decision-engine"'))
            for service, text in texts.items()}


def test_warm_build_after_idle_close_retries_nothing(
        tmp_path, testbed, made, monkeypatch):
    backoffs = backoffs_mod.counted(monkeypatch)
    auth = ''.join('%s = %s\n' % item for item in sorted(
        testbed.credentials('admin').items()))
    conf = collector_config.make(tmp_path, '\n'.join([
        '[nova]', 'auth_type = password',
        'region_name = %s' % testbed.state['region'], auth,
        '[placement]', 'region_name = %s' % testbed.state['region'],
        '[collector]', 'usage_source = placement',
        'http_transport = direct', '']))
    # NOTE: the back-offs this test counts are real ones.
    conf.clear_override('retry_delay', group='collector')
    conf.clear_override('max_retry_delay', group='collector')
    pool = WorkerPool(8)
    made.append(lambda: pool.shutdown(timeout=30))
    shared = connection.SharedCloud(conf, 8, connection.CloudConnector(conf))
    made.append(shared.close)
    collector = collector_mod.ModelCollector(conf, pool, shared)
    made.append(collector.stop)
    ports = _ports(testbed)

    collector.get_model(max_age=0)      # cold: opens kept connections
    http = collector.transport().http
    opened = http.opened
    # The set-up is what the test means: connections were kept open.
    assert http.idle_count() >= 2 and _established(ports)
    for _ in range(2):
        waiting.until(lambda: not _established(ports),
                      'gunicorn closing the idle keep-alive connections',
                      timeout=30)
        offsets = {service: testbed.access_log(name).stat().st_size
                   for service, name in SERVICES.items()}
        model = collector.get_model(max_age=0)
        served = _served(testbed, offsets, 'marker-%s' % uuid.uuid4().hex)
        assert backoffs == []
        assert model.requests_by_service == served
        assert model.requests == sum(served.values())
    # The closed connections were opened again, not reused.
    assert http.opened > opened
    figures.record('realcloud/idle-keepalive',
                   warm_build_requests=model.requests,
                   resent=http.resent, opened=http.opened)
