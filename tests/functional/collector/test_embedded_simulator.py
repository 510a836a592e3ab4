"""The embedded simulator ([simulator] embedded): the collector starts the
simulator as a child process of its own session, builds from it, and says
why when the child cannot start."""

import os
import sys

import pytest

from decision_engine.cloud import connection
from decision_engine.collector import collector as collector_mod
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.model.errors import ModelBuildError
from decision_engine.simulator import Topology
from tests.fixtures import collector_config
from tests.fixtures import truth

_conf = collector_config.make


def test_embedded_simulator_is_started_and_stopped(tmp_path, made):
    conf = _conf(tmp_path, '\n'.join([
        '[simulator]', 'embedded = true', 'hosts = 7', 'instances = 30',
        'seed = 2', '']))
    pool = WorkerPool(4)
    made.append(lambda: pool.shutdown(timeout=30))
    connector = connection.CloudConnector(conf)
    shared = connection.SharedCloud(conf, 4, connector)
    collector = collector_mod.ModelCollector(conf, pool, shared)
    made.append(collector.stop)
    made.append(shared.close)
    model = collector.get_model()
    truth.assert_same(model, truth.expected_model(
        Topology.generate(hosts=7, instances=30, aggregates=3, azs=2,
                          seed=2)))
    process = connector.simulator.process
    assert process.poll() is None
    assert os.getpgid(process.pid) != os.getpgid(0)   # own session
    collector.stop()
    # The collector leaves the shared cloud to its owner (the manager).
    assert process.poll() is None
    shared.close()
    assert process.poll() is not None


def test_embedded_simulator_with_a_bad_topology_says_why(tmp_path, made):
    topology_file = tmp_path / 'topology.json'
    topology_file.write_text('{"hosts": [{"hostname": "h"}]}')
    conf = _conf(tmp_path, '\n'.join([
        '[simulator]', 'embedded = true',
        'topology_file = %s' % topology_file, '']))
    pool = WorkerPool(4)
    made.append(lambda: pool.shutdown(timeout=30))
    shared = connection.SharedCloud(conf, 4)
    collector = collector_mod.ModelCollector(conf, pool, shared)
    made.append(collector.stop)
    made.append(shared.close)
    with pytest.raises(ModelBuildError) as info:
        collector.get_model()
    message = str(info.value)
    assert 'the simulator did not start' in message
    assert 'hosts[0].uuid: is required' in message
    assert '\n' not in message


def test_embedded_start_failure_waits_for_the_child_s_reason():
    # A child that closes stdout, says why on stderr and exits a moment
    # later (EOF on stdout comes before the child can be reaped).
    from decision_engine.cloud import embedded

    class Failing(embedded.EmbeddedSimulator):
        def command(self):
            return [sys.executable, '-c', 'import os, sys, time; '
                    'os.close(1); sys.stderr.write("boom: bad\\n"); '
                    'sys.stderr.flush(); time.sleep(0.5)']

    with pytest.raises(embedded.SimulatorStartError,
                       match='did not start: boom: bad$'):
        Failing(start_timeout=60).start()
