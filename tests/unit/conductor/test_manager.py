"""The manager as composition root, in this process: it builds the pool
and hands it to every part, collects the periodics of itself and of the
drivers, starts the periodics last, releases what it built in the reverse
order when a start fails or it stops, and applies a SIGHUP's mutable
options without interrupting anything."""

import threading

import pytest

from decision_engine.applier import applier as applier_mod
from decision_engine.collector import collector as collector_mod
from decision_engine.conductor import manager as manager_mod
from decision_engine.concurrency import pool as pool_mod
from tests import BACKEND
from tests import fresh_conf
from tests.fixtures.inventory_files import write_inventory

#: the order in which stop() releases the parts (manager._release): the
#: API stops serving, the applier stops dispatching before the engine
#: leaves the cluster, the audits stop, the listener, the pool is drained,
#: then what the tasks used is closed, the store last.
RELEASE_ORDER = ['api_server.stop', 'applier.stop', 'cluster.stop',
                 'audits.stop', 'listener.stop', 'pool.shutdown',
                 'collector.stop', 'datasource.close', 'driver.close',
                 'cloud.close', 'store.dispose']


@pytest.fixture
def conf(tmp_path):
    conf = fresh_conf()
    conf.set_override('workers_pool_size', 3, group='conductor')
    conf.set_override('state_path', str(tmp_path))
    conf.set_override('enabled', False, group='api')
    conf.set_override('enabled', False, group='collector')
    conf.set_override('inventory_file', write_inventory(
        tmp_path, '- {hostname: c1, driver: fake}'), group='power')
    return conf


@pytest.fixture
def whole_conf(tmp_path, sim):
    """Every part on: the API on a free loopback port, the collector
    building from the in-process simulator, the listener on oslo.messaging's
    in-memory transport."""
    from oslo_config import cfg

    from decision_engine import conf as conf_mod
    from tests.fixtures import engine_process

    path = tmp_path / 'engine.conf'
    path.write_text(engine_process.cloud_options(sim.auth_url) + f"""
[DEFAULT]
state_path = {tmp_path}
[conductor]
workers_pool_size = 4
[api]
port = 0
[notifications]
transport_url = fake:/
[datasource]
prometheus_url = http://127.0.0.1:1
[power]
inventory_file = {write_inventory(tmp_path, '- {hostname: c1, driver: fake}')}
""")
    conf = cfg.ConfigOpts()
    conf_mod.register_opts(conf)
    conf([], project='decision-engine', default_config_files=[str(path)])
    return conf


def _spy(manager, calls):
    """Record, in ``calls``, each release call of the manager's parts."""
    def wrap(owner, method, label):
        original = getattr(owner, method)

        def recorded(*args, **kwargs):
            calls.append(label)
            return original(*args, **kwargs)
        setattr(owner, method, recorded)

    wrap(manager.api_server, 'stop', 'api_server.stop')
    wrap(manager.applier, 'stop', 'applier.stop')
    wrap(manager.cluster, 'stop', 'cluster.stop')
    wrap(manager.audits, 'stop', 'audits.stop')
    wrap(manager.listener, 'stop', 'listener.stop')
    wrap(manager.pool, 'shutdown', 'pool.shutdown')
    wrap(manager.collector, 'stop', 'collector.stop')
    wrap(manager.metrics.datasource, 'close', 'datasource.close')
    for driver in manager.drivers.values():
        wrap(driver, 'close', 'driver.close')
    wrap(manager.cloud, 'close', 'cloud.close')
    wrap(manager.store, 'dispose', 'store.dispose')


def test_manager_collects_periodics_from_itself_and_drivers(conf):
    manager = manager_mod.ConductorManager(conf, backend=BACKEND)
    manager.start()
    try:
        names = set(manager.periodic_statistics())
        assert {'manager.log_statistics',
                'power_driver.fake.sync_power_states'} <= names
        # Every part the manager built was handed its one pool.
        assert manager.drivers['fake'].pool is manager.pool
        assert manager.audits.runner.pool is manager.pool
        assert manager.pool.size == 3
    finally:
        assert manager.stop(timeout=10) == []
    with pytest.raises(pool_mod.PoolShutDown):
        manager.pool.submit(lambda: None)


@pytest.mark.topology(hosts=3, instances=6, aggregates=1, azs=1, seed=1)
def test_every_part_gets_the_one_pool_and_stop_releases_in_order(
        whole_conf, sim):
    manager = manager_mod.ConductorManager(whole_conf, backend=BACKEND)
    manager.start()
    calls = []
    try:
        assert manager.started
        for part in (manager.collector, manager.listener, manager.applier,
                     manager.drivers['fake']):
            assert part.pool is manager.pool, part
        assert manager.audits.runner.pool is manager.pool
        assert {'collector.refresh_model', 'audit.run_due_continuous_audits',
                'manager.log_statistics'} <= set(
                    manager.periodic_statistics())
        # The model is built from the simulator through the shared cloud.
        assert len(manager.collector.get_model().nodes) == 3
        _spy(manager, calls)
    finally:
        assert manager.stop(timeout=10) == []
    assert calls == RELEASE_ORDER
    assert not manager.started
    # A second stop has nothing left to do.
    assert manager.stop(timeout=10) == []
    assert calls == RELEASE_ORDER


def test_a_failed_start_releases_what_it_built_and_starts_no_periodic(
        conf, monkeypatch):
    from decision_engine.audit import service as audit_service
    from decision_engine.cloud import connection
    from decision_engine.db import api as db_api

    def refuse(self):
        raise RuntimeError('applier refused to start')

    calls = []
    for owner, method, label in (
            (applier_mod.Applier, 'stop', 'applier.stop'),
            (audit_service.AuditService, 'stop', 'audits.stop'),
            (pool_mod.WorkerPool, 'shutdown', 'pool.shutdown'),
            (connection.SharedCloud, 'close', 'cloud.close'),
            (db_api.Store, 'dispose', 'store.dispose')):
        original = getattr(owner, method)
        monkeypatch.setattr(owner, method, lambda self, *a, _o=original,
                            _l=label, **k: (calls.append(_l),
                                            _o(self, *a, **k))[1])
    monkeypatch.setattr(applier_mod.Applier, 'start', refuse)
    manager = manager_mod.ConductorManager(conf, backend=BACKEND)
    with pytest.raises(RuntimeError, match='applier refused to start'):
        manager.start()
    assert not manager.started
    # What was built before the failure is released, in the reverse
    # order, and no periodic ever ran.
    assert calls == ['applier.stop', 'audits.stop', 'pool.shutdown',
                     'cloud.close', 'store.dispose']
    with pytest.raises(pool_mod.PoolShutDown):
        manager.pool.submit(lambda: None)
    assert all(stats.runs == 0
               for stats in manager.periodic_statistics().values())
    assert manager.stop(timeout=10) == []


def test_stop_and_reset_before_start_do_nothing(conf):
    manager = manager_mod.ConductorManager(conf, backend=BACKEND)
    manager.reset()
    assert manager.stop(timeout=1) == []
    assert manager.pool is None


def test_reset_applies_mutable_options_without_interrupting(
        conf, monkeypatch):
    manager = manager_mod.ConductorManager(conf, backend=BACKEND)
    manager.start()
    retries = []
    monkeypatch.setattr(manager.tracker, 'set_max_retries', retries.append)
    running, release = threading.Event(), threading.Event()
    try:
        first_worker = manager._worker
        # Nothing changed: the periodic worker is kept.
        manager.reset()
        assert manager._worker is first_worker
        # A running task is not interrupted by the reset.
        manager.pool.submit(lambda: (running.set(), release.wait(10)))
        assert running.wait(10)
        conf.set_override('stats_interval', 7, group='conductor')
        conf.set_override('periodic_max_workers', 2, group='conductor')
        conf.set_override('max_retries', 9, group='power')
        manager.reset()
        assert manager._worker is not first_worker
        spacing = {task.name: task.spacing
                   for task in manager.periodic_tasks}
        assert spacing['manager.log_statistics'] == 7
        assert manager.pool.default_fan_out == 2
        assert retries[-1] == 9
        assert manager.pool.statistics().busy >= 1
    finally:
        release.set()
        assert manager.stop(timeout=10) == []


def test_a_disabled_collector_is_a_null_object_not_none(conf):
    """``[collector] enabled = false``: the manager, the audit service and
    the applier hold one DisabledCollector (never None), before the start
    too, and a stop releases it like any collector."""
    manager = manager_mod.ConductorManager(conf, backend=BACKEND)
    assert isinstance(manager.collector, collector_mod.DisabledCollector)
    manager.start()
    try:
        assert isinstance(manager.collector, collector_mod.DisabledCollector)
        assert manager.audits.collector is manager.collector
        # NOTE: no model to refresh after a plan ends.
        assert manager.applier.on_plan_end is None
    finally:
        assert manager.stop(timeout=10) == []
