"""A failed poll is logged as one line through oslo.log's formatter: the
error once, redacted, and nothing of the raw exception appended.

oslo.log appends the exception being handled (its "error_summary") to any
record emitted inside an ``except`` block. Logged there, a poll failure
would show its error twice and the second copy would bypass
:func:`decision_engine.drivers.base.redact`.
"""

import logging

from oslo_config import cfg
from oslo_log import formatters
from oslo_log import log as oslo_logging

from decision_engine.drivers import base
from decision_engine.drivers import inventory
from tests.fixtures import bmc_farm


class _LeakyDriver(base.PowerDriver):
    """A third-party driver that puts the password in its exception."""

    def validate(self, driver_info):
        pass

    def get_power_state(self, node):
        raise RuntimeError('login %s refused'
                           % node.driver_info['password'])

    def set_power_state(self, node, state):
        pass


class _OsloCapture(logging.Handler):
    def __init__(self, conf):
        super().__init__(logging.DEBUG)
        self.lines = []
        self.setFormatter(formatters.ContextFormatter(
            project='decision-engine', version='test', config=conf))

    def emit(self, record):
        self.lines.append(self.format(record))


def test_poll_failure_is_one_redacted_line_under_oslo_log(conf, pool,
                                                          tracker):
    node = inventory.Node('compute-1', 'leaky',
                          {'username': 'admin',
                           'password': bmc_farm.PASSWORD})
    driver = _LeakyDriver(conf=conf, pool=pool, nodes=[node],
                          tracker=tracker)
    driver.name = 'leaky'
    log_conf = cfg.ConfigOpts()
    oslo_logging.register_options(log_conf)
    log_conf([], project='decision-engine')
    capture = _OsloCapture(log_conf)
    logger = logging.getLogger('decision_engine.drivers.base')
    logger.addHandler(capture)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        driver.sync_power_states()
    finally:
        logger.removeHandler(capture)
        logger.setLevel(old_level)
    failures = [line for line in capture.lines
                if 'Power-state poll of node compute-1 failed' in line]
    assert len(failures) == 1, capture.lines
    assert bmc_farm.PASSWORD not in failures[0]
    assert failures[0].count('refused') == 1, failures[0]
    assert tracker.get('compute-1')['failures'] == 1
