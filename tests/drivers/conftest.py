"""Fixtures of the power driver tests: config, pool, tracker, BMC farm,
and a log capture that sees every logger at DEBUG."""

import logging

import pytest

from decision_engine.concurrency import pool as pool_mod
from decision_engine.drivers import power_state
from decision_engine.simulator import bmc
from tests import BACKEND
from tests import fresh_conf
from tests.fixtures import bmc_farm


@pytest.fixture
def power_read():
    """``[redfish] power_read``; a module overrides it to run both."""
    return 'lean'


@pytest.fixture
def conf(power_read):
    c = fresh_conf()
    c.set_override('connect_timeout', 2.0, group='redfish')
    c.set_override('read_timeout', 2.0, group='redfish')
    c.set_override('power_read', power_read, group='redfish')
    return c


@pytest.fixture
def pool():
    p = pool_mod.WorkerPool(20, backend=BACKEND, reserved=2)
    yield p
    p.shutdown(timeout=10)


@pytest.fixture
def tracker(conf):
    return power_state.PowerStateTracker(conf.power.max_retries)


@pytest.fixture
def farm():
    f = bmc.BMCFarm(8, username='admin', password=bmc_farm.PASSWORD).start()
    yield f
    f.stop()


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        # NOTE: formatted now, as a real handler would: args rendered.
        self.records.append(self.format(record))


@pytest.fixture
def all_logs():
    """Every log line of every logger (sushy, pyghmi, urllib3,
    keystoneauth included), formatted, at DEBUG."""
    handler = _Capture()
    handler.setFormatter(logging.Formatter(
        '%(name)s %(levelname)s %(message)s'))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # NOTE: some libraries set their own level; open them all up.
    touched = []
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level > \
                logging.DEBUG:
            touched.append((logger, logger.level))
            logger.setLevel(logging.DEBUG)
    yield handler.records
    root.removeHandler(handler)
    root.setLevel(old_level)
    for logger, level in touched:
        logger.setLevel(level)
