"""The power driver interface and the power-state sweep every driver gets.

A power driver is a class registered in the ``decision_engine.power_drivers``
stevedore namespace. The manager builds one instance per enabled driver,
handing it what it needs (drivers never import the manager)::

    driver = DriverClass(conf=CONF, pool=pool, nodes=[...], tracker=tracker)

and collects its periodic tasks (see :mod:`decision_engine.conductor.
periodics`). :meth:`PowerDriver.sync_power_states` is declared here, so
every driver polls its nodes every ``[power] sync_interval`` seconds: the
nodes fan out into the shared pool, at most ``[power] sync_workers`` at a
time, the ones that failed last time first.
"""

import abc
import logging
import time

from decision_engine.conductor import periodics

LOG = logging.getLogger(__name__)


class InvalidDriverInfo(ValueError):
    """A node's ``driver_info`` cannot be used by its driver."""


class PowerDriverError(RuntimeError):
    """A BMC call failed. The message must never contain credentials."""


class PowerDriver(metaclass=abc.ABCMeta):
    """Base class of power drivers."""

    #: name of the entry point; set by the loader.
    name = None

    def __init__(self, conf, pool, nodes, tracker):
        self.conf = conf
        self.pool = pool
        self.nodes = list(nodes)
        self.tracker = tracker
        self.sweeps = 0

    @abc.abstractmethod
    def validate(self, driver_info):
        """Check a node's ``driver_info``.

        :raises InvalidDriverInfo: naming the missing or bad field.
        """

    @abc.abstractmethod
    def get_power_state(self, node):
        """Return ``'power on'`` or ``'power off'`` for ``node``.

        :raises PowerDriverError: when the BMC cannot say.
        """

    @abc.abstractmethod
    def set_power_state(self, node, state):
        """Switch ``node`` to ``state`` (``'power on'``/``'power off'``)."""

    def _poll(self, node):
        try:
            state = self.get_power_state(node)
        except Exception as exc:
            # NOTE: str(exc) only: drivers raise PowerDriverError with
            # messages free of credentials; a traceback could show locals.
            error = '%s: %s' % (type(exc).__name__, exc)
            if self.tracker.record_failure(node.hostname, error):
                LOG.error('Node %s flagged power_failure after %d failed '
                          'power-state polls; last error: %s',
                          node.hostname, self.conf.power.max_retries, error)
            else:
                LOG.warning('Power-state poll of node %s failed: %s',
                            node.hostname, error)
            return False
        self.tracker.record_success(node.hostname, state)
        return True

    @periodics.periodic(spacing=lambda: _conf().power.sync_interval,
                        run_immediately=True)
    def sync_power_states(self):
        """Poll every node of this driver once (one sweep)."""
        if not self.nodes:
            return
        started = time.monotonic()
        nodes = self.tracker.order_failed_first(self.nodes)
        results = periodics.fan_out_nodes(
            self.pool, self._poll, nodes,
            max_workers=self.conf.conductor.periodic_max_workers,
            limit=self.conf.power.sync_workers)
        elapsed = time.monotonic() - started
        self.sweeps += 1
        failed = sum(1 for ok in results if ok is not True)
        interval = self.conf.power.sync_interval
        if elapsed > 3 * interval:
            LOG.warning('Power-state sweep of driver %s took %.1f s, more '
                        'than 3 x [power] sync_interval (%d s); raise '
                        '[power] sync_workers or the interval',
                        self.name, elapsed, interval)
        LOG.debug('Power-state sweep of driver %s: %d nodes, %d failed, '
                  '%.2f s', self.name, len(nodes), failed, elapsed)


def _conf():
    # NOTE: imported late so that this module stays importable (and its
    # decorators declarable) before the options are registered.
    from decision_engine.conf import CONF
    return CONF
