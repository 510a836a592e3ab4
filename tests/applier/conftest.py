"""Fixtures of the applier tests: a real store (SQLite and PostgreSQL),
the real pool at its smallest size, the simulator over HTTP, and plans
stored the way the audit runner stores them."""

import pytest
from oslo_config import cfg

from decision_engine import conf as conf_mod
from decision_engine.applier import applier as applier_mod
from decision_engine.applier.actions import base
from decision_engine.cloud import connection
from decision_engine.concurrency import pool as pool_mod
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import dbfixtures

GUARD = 120


def make_conf(**groups):
    conf = cfg.ConfigOpts()
    for module in conf_mod.MODULES:
        module.register_opts(conf)
    conf([], project='decision-engine-test')
    conf.set_override('host', 'engine-a')
    conf.set_override('poll_interval', 0.02, group='applier')
    for group, values in groups.items():
        for name, value in values.items():
            conf.set_override(name, value,
                              group=None if group == 'DEFAULT' else group)
    return conf


@pytest.fixture
def store(url):
    store = dbfixtures.open_store(url)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_store(tmp_path):
    store = dbfixtures.open_store('sqlite:///%s' % (tmp_path / 's.sqlite'))
    yield store
    store.dispose()


@pytest.fixture
def pool():
    pool = pool_mod.WorkerPool(3)
    yield pool
    pool.shutdown(timeout=10)


@pytest.fixture
def topology():
    return Topology.generate(hosts=8, instances=40, aggregates=2, azs=1,
                             seed=3)


@pytest.fixture
def sim(topology):
    simulator = Simulator(topology, migrations={'duration_s': 0.1,
                                                'jitter': 0.5, 'seed': 1})
    simulator.start()
    yield simulator
    simulator.stop()


def store_plan(store, actions, strategy='test'):
    """A RECOMMENDED plan of ``actions``, stored as an audit run does."""
    audit = store.create_audit({'strategy': strategy})
    store.take(audit['uuid'], 'engine-a')
    _, plan_uuid = store.save_run(audit['uuid'], {'state': 'SUCCEEDED'},
                                  plan={'strategy': strategy,
                                        'actions': actions})
    return plan_uuid


class Harness:
    """An applier on the fixtures; ``applier(**conf)`` builds one."""

    def __init__(self, store, pool, sim):
        self.store = store
        self.pool = pool
        self.sim = sim
        self.appliers = []

    def applier(self, power_drivers=None, on_plan_end=None, **groups):
        conf = make_conf(**groups)
        connect = None
        if self.sim is not None:
            sim = self.sim
            connect = (lambda: connection.from_auth(conf, sim.auth(), 16))
        context = base.ActionContext(conf, connect, power_drivers)
        applier = applier_mod.Applier(conf, self.store, self.pool, context,
                                      on_plan_end=on_plan_end)
        applier.start()
        self.appliers.append(applier)
        return applier

    def close(self):
        for applier in self.appliers:
            applier.stop(timeout=10)


@pytest.fixture
def harness(store, pool, sim):
    h = Harness(store, pool, sim)
    yield h
    h.close()
