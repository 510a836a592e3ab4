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
import dataclasses
import logging
import time

from oslo_utils import strutils

from decision_engine.concurrency import periodics

LOG = logging.getLogger(__name__)


class InvalidDriverInfo(ValueError):
    """A node's ``driver_info`` cannot be used by its driver."""


class PowerDriverError(RuntimeError):
    """A BMC call failed. The message must never contain credentials."""


@dataclasses.dataclass(frozen=True)
class SweepStatistics:
    """A driver's power-state sweeps (``/v1/status``, ``/metrics``)."""

    #: completed sweeps.
    sweeps: int
    #: failed node polls (a sweep failing as a whole counts one).
    failures: int
    #: the last sweep's seconds, None before the first.
    last_duration: float | None
    #: nodes this driver knows.
    nodes: int
    #: of them, nodes this engine polls (all of them without a cluster).
    owned: int


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
        # NOTE: read by /metrics (sweep_statistics); written only by the
        # sweep, which never overlaps itself (_sweeping).
        self.sweep_failures = 0
        self.last_sweep_duration = None
        # NOTE: keeps a manual call (a test, an operator's "sync now") from
        # overlapping a scheduled sweep.
        self._sweeping = periodics.NonOverlapping()
        self._capped_logged = False
        #: ``owns(hostname)``: whether this engine polls that node. The
        #: manager replaces it with the cluster ring's answer when several
        #: engines share the nodes (a callable, so drivers know nothing of
        #: the coordination part).
        self.owns = _owns_everything
        self._owned = None

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

    def close(self):
        """Release what the driver holds (connections, sessions)."""

    def _poll(self, node):
        if not self.owns(node.hostname):
            # NOTE: the ring changed during the sweep: the node's new owner
            # polls it (at once, see poll_gained_nodes).
            return True
        try:
            state = self.get_power_state(node)
        except Exception as exc:
            # NOTE: str(exc) only: drivers raise PowerDriverError with
            # messages free of credentials; a traceback could show locals.
            error = '%s: %s' % (type(exc).__name__, exc)
        else:
            self.tracker.record_success(node.hostname, state)
            return True
        # NOTE: logged after the except block, never inside one: oslo.log
        # appends the exception being handled to the record (its
        # "error_summary"), a second copy that redact() never saw.
        self._record_failure(node, error)
        return False

    def owned_nodes(self):
        """The nodes this engine polls now."""
        return [node for node in self.nodes if self.owns(node.hostname)]

    def owned_count(self):
        return len(self.owned_nodes())

    def poll_gained_nodes(self):
        """Poll at once the nodes the ring gave this engine since the last
        sweep or call (after a membership change), so a node moved from an
        engine that died waits for no interval.

        :returns: how many nodes were polled.
        """
        owned = {node.hostname for node in self.owned_nodes()}
        gained = [node for node in self.nodes
                  if node.hostname in owned - (self._owned or set())]
        self._owned = owned
        if not gained:
            return 0
        self.tracker.adopt([node.hostname for node in gained])
        LOG.info('Driver %s: polling %d node(s) this engine now owns',
                 self.name, len(gained))
        self._sweep(self.tracker.order_failed_first(gained))
        return len(gained)

    def sweep_statistics(self):
        """This driver's :class:`SweepStatistics`."""
        return SweepStatistics(sweeps=self.sweeps,
                               failures=self.sweep_failures,
                               last_duration=self.last_sweep_duration,
                               nodes=len(self.nodes),
                               owned=self.owned_count())

    def _record_failure(self, node, error):
        """Count a failed poll of ``node`` and log it (without secrets).

        Call it outside any ``except`` block (see :meth:`_poll`).
        """
        error = redact(error, node)
        if self.tracker.record_failure(node.hostname, error):
            LOG.error('Node %s flagged power_failure after %d failed '
                      'power-state polls; last error: %s',
                      node.hostname, self.conf.power.max_retries, error)
        else:
            LOG.warning('Power-state poll of node %s failed: %s',
                        node.hostname, error)

    @periodics.periodic(spacing=lambda self: self.conf.power.sync_interval,
                        run_immediately=True)
    def sync_power_states(self):
        """Poll every node of this driver once (one sweep).

        A driver that can read every state at once (``ironic``) overrides
        :meth:`_sweep`, not this method, and keeps the rest: no overlap,
        timing, the slow-sweep warning.

        :returns: False when skipped because a sweep was already running.
        """
        if not self._sweeping.enter():
            LOG.debug('Power-state sweep of driver %s skipped: the previous '
                      'one is still running', self.name)
            return False
        try:
            self._timed_sweep()
        finally:
            self._sweeping.leave()
        return True

    def _sweep(self, nodes):
        """Poll ``nodes`` (failed ones first); return how many failed."""
        ceiling = self.conf.conductor.periodic_max_workers
        wanted = self.conf.power.sync_workers
        if wanted > ceiling and not self._capped_logged:
            # NOTE: once per driver instance: the bound is mutable, and a
            # warning every sweep would drown the log.
            self._capped_logged = True
            LOG.warning('[power] sync_workers is %d but [conductor] '
                        'periodic_max_workers caps every periodic fan-out '
                        'at %d; driver %s polls %d nodes at a time',
                        wanted, ceiling, self.name, ceiling)
        results = periodics.fan_out_nodes(
            self.pool, self._poll, nodes, max_workers=ceiling, limit=wanted)
        return sum(1 for ok in results if ok is not True)

    def _sweep_needed(self):
        """Whether a sweep has anything to do (a driver that discovers its
        nodes while sweeping says yes even with none known yet)."""
        return bool(self.nodes)

    def _timed_sweep(self):
        if not self._sweep_needed():
            return
        started = time.monotonic()
        owned = {node.hostname for node in self.owned_nodes()}
        # NOTE: nodes gained since the last sweep keep the failures their
        # last owner counted (a cluster; a no-op alone).
        self.tracker.adopt(sorted(owned - (self._owned or set())))
        self._owned = owned
        nodes = self.tracker.order_failed_first(self.owned_nodes())
        try:
            failed = self._sweep(nodes)
        except Exception:
            # NOTE: a sweep that fails as a whole counts as one failure.
            self.sweep_failures += 1
            self.last_sweep_duration = time.monotonic() - started
            raise
        elapsed = time.monotonic() - started
        self.sweeps += 1
        self.sweep_failures += failed
        self.last_sweep_duration = elapsed
        interval = self.conf.power.sync_interval
        if elapsed > 3 * interval:
            LOG.warning('Power-state sweep of driver %s took %.1f s, more '
                        'than 3 x [power] sync_interval (%d s); raise '
                        '[power] sync_workers or the interval',
                        self.name, elapsed, interval)
        LOG.debug('Power-state sweep of driver %s: %d nodes, %d failed, '
                  '%.2f s', self.name, len(nodes), failed, elapsed)


def _owns_everything(hostname):
    return True


def secret_values(node):
    """The values of ``node.driver_info`` that are secrets (passwords,
    keys, tokens: whatever oslo.utils masks)."""
    masked = strutils.mask_dict_password(node.driver_info)
    return [str(value) for key, value in node.driver_info.items()
            if masked.get(key) != value and value not in (None, '')]


def redact(text, node):
    """``text`` with every secret of ``node`` replaced by ``***``.

    A last line of defence for error strings built from library exceptions:
    drivers never put credentials in their messages on purpose.
    """
    text = strutils.mask_password(text)
    for secret in secret_values(node):
        text = text.replace(secret, '***')
    return text
