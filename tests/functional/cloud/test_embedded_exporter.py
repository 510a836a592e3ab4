"""``[simulator] exporter_port``: the embedded simulator also serves its
load exporter (the test that Prometheus sees migrations move the load is
tests/functional/datasources/test_load_follows_migration.py)."""

import socket
import urllib.request

import pytest

from decision_engine.cloud import embedded
from tests import fresh_conf


def test_exporter_port_serves_the_load_of_the_simulated_cloud():
    conf = fresh_conf()
    for name, value in (('hosts', 2), ('instances', 6), ('seed', 4),
                        ('exporter_port', 0), ('load_seed', 3)):
        conf.set_override(name, value, group='simulator')
    sim = embedded.EmbeddedSimulator.from_conf(conf)
    at = sim.args.index('--exporter-port')
    assert sim.args[at:at + 4] == ['--exporter-port', '0', '--load-seed',
                                   '3']
    with sim:
        host, port = sim.exporter_address.rsplit(':', 1)
        assert host == '127.0.0.1' and int(port) > 0
        with urllib.request.urlopen(
                'http://%s/metrics' % sim.exporter_address,
                timeout=30) as resp:
            text = resp.read().decode()
    assert 'node_cpu_seconds_total{cpu="0",fqdn="compute-1",mode="idle"}' \
        in text
    assert 'ceilometer_memory_usage{resource="' in text


def test_no_exporter_unless_asked_and_a_taken_port_says_why():
    sim = embedded.EmbeddedSimulator(hosts=1, instances=1)
    assert '--exporter-port' not in sim.args
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(embedded.SimulatorStartError,
                           match=r'did not start: .*--exporter-port %d: '
                                 % port):
            embedded.EmbeddedSimulator(hosts=1, instances=1,
                                       exporter_port=port).start()
