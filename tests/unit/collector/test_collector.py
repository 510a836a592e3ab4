"""The collector: snapshots, shared builds, staleness, periodic, config."""

import threading

from oslo_config import cfg
import pytest

from decision_engine.cloud import connection
from decision_engine.concurrency import periodics
from decision_engine.concurrency.pool import WorkerPool
from decision_engine.collector import collector as collector_mod
from decision_engine.model import scope as scope_mod
from decision_engine.model.errors import ModelBuildError
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import collector_config
from tests.fixtures import truth


pytestmark = pytest.mark.topology(hosts=23, instances=300, aggregates=3, azs=2,
                                  seed=7)

_conf = collector_config.make


def _collector(conf, sim, made, pool_size=8):
    pool = WorkerPool(pool_size)
    collector = collector_mod.ModelCollector(
        conf, pool, lambda size: connection.from_auth(conf, sim.auth(),
                                                      size))
    made.append(lambda: pool.shutdown(timeout=30))
    made.append(collector.stop)
    return collector


def test_snapshots_are_fresh_enough_copies(tmp_path, sim, topology, made):
    collector = _collector(_conf(tmp_path), sim, made)
    first = collector.get_model()
    truth.assert_same(first, truth.expected_model(topology))
    sim.reset_stats()
    second = collector.get_model(max_age=3600)
    assert sim.stats()['total'] == 0          # served from the kept model
    assert second == first and second is not first
    node = next(iter(second.nodes.values()))
    node.vcpus += 1
    victim = next(iter(second.instances))
    second.move_instance(victim, 'compute-1')
    third = collector.get_model(max_age=3600)
    truth.assert_same(third, truth.expected_model(topology))
    collector.get_model(max_age=0)
    assert sim.stats()['by_endpoint']['GET /compute/v2.1/os-services'] == 1


def test_scoped_request_is_served_from_the_whole_model(tmp_path, sim,
                                                       topology, made):
    collector = _collector(_conf(tmp_path), sim, made)
    collector.get_model()
    scope = scope_mod.Scope(include_azs=['az-1'])
    sim.reset_stats()
    model = collector.get_model(max_age=3600, scope=scope)
    assert sim.stats()['total'] == 0
    truth.assert_same(model, truth.expected_model(topology, scope))
    # an old whole model: a scoped build, kept for that scope
    built = collector.get_model(max_age=0, scope=scope)
    truth.assert_same(built, truth.expected_model(topology, scope))
    assert sim.stats()['total'] > 0
    assert collector.status().scoped[0].scope == {
        'include_azs': ['az-1']}


def test_concurrent_requests_share_one_build(tmp_path, made):
    topo = Topology.generate(hosts=20, instances=200, seed=4)
    with Simulator(topo, latency_ms=20) as sim:
        collector = _collector(_conf(tmp_path), sim, made)
        collector.get_model()       # token and discovery out of the way
        sim.reset_stats()
        results = []
        first = threading.Thread(
            target=lambda: results.append(collector.get_model(max_age=0)))
        first.start()
        assert sim.wait_in_flight(1)
        others = [threading.Thread(
            target=lambda: results.append(collector.get_model(max_age=0)))
            for _ in range(5)]
        for t in others:
            t.start()
        for t in [first] + others:
            t.join()
        stats = sim.stats()
    assert len(results) == 6
    assert stats['by_endpoint']['GET /compute/v2.1/os-aggregates'] == 1
    assert all(r == results[0] for r in results)
    assert len({id(r) for r in results}) == 6       # each its own copy
    truth.assert_same(results[0], truth.expected_model(topo))


def test_failed_build_keeps_the_old_model_and_reports_stale(
        tmp_path, sim, topology, made):
    conf = _conf(tmp_path)
    conf.set_override('max_retries', 1, group='collector')
    collector = _collector(conf, sim, made)
    good = collector.get_model()
    status = collector.status()
    assert status.stale is False and status.requests > 0
    host = topology.host('compute-3')
    sim.add_fault('error', status=503, retry_after=0,
                  path=host.uuid + '/inventories')
    with pytest.raises(ModelBuildError, match='compute-3'):
        collector.get_model(max_age=0)
    collector.refresh_model()       # logs, does not raise
    status = collector.status()
    assert status.stale is True
    assert 'compute-3' in status.reason and 'HTTP 503' in status.reason
    assert status.failures == 2
    assert collector.current_model() == good
    assert collector.get_model(max_age=3600) == good
    sim.clear_faults()
    collector.refresh_model()
    assert collector.status().stale is False


def test_refresh_is_a_periodic_with_a_mutable_spacing(tmp_path, sim, made):
    conf = _conf(tmp_path)
    collector = _collector(conf, sim, made)
    assert periodics.collect(collector) == []     # no cloud configured
    # The spacing and the switch come from the collector's own conf, not
    # from the process's global CONF.
    conf.set_override('period', 123, group='collector')
    conf.set_override('cloud_name', 'somewhere', group='cloud')
    tasks = periodics.collect(collector, prefix='collector')
    assert [t.name for t in tasks] == ['collector.refresh_model']
    assert tasks[0].spacing == 123
    conf.set_override('period', 45, group='collector')
    assert tasks[0].refresh() is True
    assert tasks[0].spacing == 45
    conf.clear_override('cloud_name', group='cloud')
    collector.refresh_model()
    assert collector.status().nodes == 23


def test_connection_from_nova_options(tmp_path, sim, topology, made):
    conf = _conf(tmp_path, '\n'.join([
        '[nova]', 'auth_type = password', 'auth_url = %s' % sim.auth_url,
        'username = admin', 'password = secret', 'project_name = admin',
        'user_domain_name = Default', 'project_domain_name = Default',
        'region_name = RegionOne', '[placement]',
        'region_name = RegionOne', '']))
    pool = WorkerPool(8)
    made.append(lambda: pool.shutdown(timeout=30))
    collector = collector_mod.ModelCollector(conf, pool)
    made.append(collector.stop)
    truth.assert_same(collector.get_model(), truth.expected_model(topology))
    cloud = connection.from_conf(conf, 40)
    adapter = cloud.sessions()[0].session.get_adapter('http://')
    assert adapter._pool_maxsize == 40
    cloud.close()


def test_connection_from_clouds_yaml(tmp_path, sim, topology, made,
                                     monkeypatch):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(sim.clouds_yaml('sim'))
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(clouds))
    conf = _conf(tmp_path, '[cloud]\ncloud_name = sim\n')
    pool = WorkerPool(8)
    made.append(lambda: pool.shutdown(timeout=30))
    collector = collector_mod.ModelCollector(conf, pool)
    made.append(collector.stop)
    truth.assert_same(collector.get_model(), truth.expected_model(topology))


def test_no_cloud_configured_is_one_clear_error(tmp_path, made):
    conf = _conf(tmp_path)
    pool = WorkerPool(4)
    made.append(lambda: pool.shutdown(timeout=30))
    collector = collector_mod.ModelCollector(conf, pool)
    with pytest.raises(ModelBuildError, match=r'no cloud configured'):
        collector.get_model()
    assert 'no cloud configured' in collector.status().reason


def test_snapshots_carry_the_tracked_power_states(tmp_path, sim, made):
    conf = _conf(tmp_path)
    pool = WorkerPool(4)
    made.append(lambda: pool.shutdown(timeout=30))
    states = {'compute-2': {'state': 'power off', 'power_failure': True}}
    collector = collector_mod.ModelCollector(
        conf, pool, lambda size: connection.from_auth(conf, sim.auth(), size),
        power_states=lambda: states)
    made.append(collector.stop)
    model = collector.get_model()
    node = model.get_node_by_hostname('compute-2')
    assert (node.power_state, node.power_failure) == ('power off', True)
    assert model.get_node_by_hostname('compute-3').power_state is None
    states['compute-2'] = {'state': 'power on', 'power_failure': False}
    node = collector.get_model().get_node_by_hostname('compute-2')
    assert (node.power_state, node.power_failure) == ('power on', False)


def _nova_conf(tmp_path, sim, password='secret'):
    return _conf(tmp_path, '\n'.join([
        '[nova]', 'auth_type = password', 'auth_url = %s' % sim.auth_url,
        'username = admin', 'password = %s' % password,
        'project_name = admin',
        'user_domain_name = Default', 'project_domain_name = Default', '']))


def test_a_stalled_identity_endpoint_fails_by_the_request_timeout(
        tmp_path, sim, made):
    # An auth_url that accepts connections but never answers (a black
    # hole, a hung Keystone) must not hold the build, and the periodic
    # that runs it, forever: [nova] timeout is unset here, as by default.
    conf = _nova_conf(tmp_path, sim)
    conf.set_override('request_timeout', 0.5, group='collector')
    sim.add_fault('stall', service='identity')
    pool = WorkerPool(4)
    made.append(lambda: pool.shutdown(timeout=30))
    collector = collector_mod.ModelCollector(conf, pool)
    made.append(collector.stop)
    made.append(lambda: (sim.clear_faults(), sim.release_stalls()))
    outcome = []
    done = threading.Event()

    def build():
        try:
            collector.get_model()
        except ModelBuildError as exc:
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=build, daemon=True).start()
    # NOTE: a liveness bound, not a speed target: without a timeout the
    # build never ends.
    assert done.wait(60), 'the build hung on a stalled identity endpoint'
    assert len(outcome) == 1
    assert 'cannot connect to the cloud' in str(outcome[0])
    assert 'timed out' in str(outcome[0])
    assert collector.status().stale is True


def test_a_failed_refresh_is_logged_on_one_line_once(tmp_path, made):
    # oslo.log appends the active exception to a WARNING logged inside an
    # ``except`` block: the reason would be printed twice on the line.
    import io
    import logging

    from oslo_log import formatters
    from oslo_log import log as oslo_logging
    log_conf = cfg.ConfigOpts()
    oslo_logging.register_options(log_conf)
    log_conf([], project='decision-engine')
    conf = _conf(tmp_path)
    pool = WorkerPool(4)
    made.append(lambda: pool.shutdown(timeout=30))
    collector = collector_mod.ModelCollector(conf, pool)
    made.append(collector.stop)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatters.ContextFormatter(config=log_conf))
    logger = logging.getLogger(collector_mod.__name__)
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.WARNING
    made.append(lambda: (logger.removeHandler(handler),
                         logger.setLevel(level)))
    collector.refresh_model()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].count('no cloud configured') == 1, lines[0]


def test_wrong_credentials_name_the_options_used(tmp_path, sim, made,
                                                 monkeypatch):
    conf = _nova_conf(tmp_path, sim, password='wrong')
    pool = WorkerPool(4)
    made.append(lambda: pool.shutdown(timeout=30))
    collector = collector_mod.ModelCollector(conf, pool)
    made.append(collector.stop)
    with pytest.raises(ModelBuildError) as info:
        collector.get_model()
    message = str(info.value)
    assert message.startswith(
        'cannot connect to the cloud: [nova] auth_url %s as user admin '
        '(service catalog, compute): the compute service: '
        % sim.auth_url), message
    assert 'HTTP 401' in message and '\n' not in message

    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(sim.clouds_yaml('sim').replace('secret', 'wrong'))
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(clouds))
    conf = _conf(tmp_path, '[cloud]\ncloud_name = sim\n')
    collector = collector_mod.ModelCollector(conf, pool)
    made.append(collector.stop)
    with pytest.raises(ModelBuildError) as info:
        collector.get_model()
    message = str(info.value)
    assert message.startswith("cannot connect to the cloud: [cloud] "
                              "cloud_name 'sim': "), message
    assert 'HTTP 401' in message


def test_direct_transport_keeps_a_connection_per_concurrent_request(
        tmp_path, sim, made):
    # As many kept connections per endpoint as requests may run at once,
    # the number the SDK's own pools get: none is closed after its
    # request, none is kept beyond.
    conf = _conf(tmp_path)
    conf.set_override('build_workers', 5, group='collector')
    collector = _collector(conf, sim, made, pool_size=12)
    assert collector.transport().http.per_host == 12
    conf.set_override('build_workers', 20, group='collector')
    collector.stop()
    collector = _collector(conf, sim, made, pool_size=12)
    assert collector.transport().http.per_host == 20
