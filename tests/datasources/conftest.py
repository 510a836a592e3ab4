"""The real thing for datasource tests: the simulator's load exporter
scraped by a real Prometheus (Debian package ``prometheus``; absent means a
loud failure, see tests/fixtures/prometheus.py)."""

import pytest

from decision_engine.concurrency import pool as pool_mod
from decision_engine.simulator import exporter as exporter_mod
from decision_engine.simulator import load as load_mod
from decision_engine.simulator.topology import Topology
from tests.fixtures import prometheus as prometheus_fixture

#: the averaging window of these tests, in seconds; scrapes every second.
WINDOW = 10

RENAMED = {
    'node_cpu_seconds_total': 'sim_node_cpu_seconds_total',
    'node_memory_MemTotal_bytes': 'sim_memory_total_bytes',
    'node_memory_MemAvailable_bytes': 'sim_memory_available_bytes',
    'ceilometer_cpu': 'sim_vm_cpu_ns',
    'ceilometer_memory_usage': 'sim_vm_memory_mb',
    'resource': 'vm_uuid',
    'mode': 'cpu_mode',
}


class Env:
    """A topology, its exporter and the Prometheus scraping it."""

    def __init__(self, names=None, host_label='fqdn', hidden=()):
        self.topology = Topology.generate(hosts=6, instances=30, seed=3)
        self.exporter = exporter_mod.LoadExporter(
            self.topology, load_mod.LoadModel(seed=7, day_s=600.0,
                                              burst_s=30.0),
            names=names, host_label=host_label)
        self.exporter.hidden.update(hidden)
        self.server = exporter_mod.ExporterServer(self.exporter)
        self.prometheus = prometheus_fixture.Prometheus(self.server.address)

    def start(self):
        self.server.start()
        try:
            self.prometheus.start()
            self.prometheus.wait_for_samples(WINDOW + 3)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        self.prometheus.stop()
        self.server.stop()

    @property
    def hostnames(self):
        return sorted(h.hostname for h in self.topology.hosts)

    @property
    def running(self):
        return sorted(i.uuid for i in self.topology.instances
                      if i.host is not None
                      and i.vm_state in exporter_mod.RUNNING)


def _hidden_default():
    topo = Topology.generate(hosts=6, instances=30, seed=3)
    running = sorted(i.uuid for i in topo.instances
                     if i.host is not None and i.vm_state == 'active')
    return {'compute-6', running[0], running[1]}


HIDDEN = _hidden_default()


@pytest.fixture(scope='package')
def env():
    """Default names (fqdn, resource); one host and two instances never
    exported (``HIDDEN``)."""
    e = Env(hidden=HIDDEN).start()
    yield e
    e.stop()


@pytest.fixture(scope='package')
def renamed_env():
    """Every metric and label renamed, hosts labelled only by
    ``instance="<host>:9100"``."""
    e = Env(names=RENAMED, host_label='instance').start()
    yield e
    e.stop()


@pytest.fixture
def pool():
    pool = pool_mod.WorkerPool(6)
    yield pool
    pool.shutdown(timeout=10)
