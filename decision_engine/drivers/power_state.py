"""What the engine knows of each node's power state, and its failures.

In a cluster the failures of each node are also written to a ledger (the
store, handed over by the manager), so the engine that polls a node after
a membership change goes on counting from where the last owner stopped
(:meth:`PowerStateTracker.adopt`): a node one failure away from
``power_failure`` does not start again at zero, and a flagged node stays
flagged until a poll succeeds.
"""

import logging
import threading
import time

LOG = logging.getLogger(__name__)

_NO_FAILURES = {'failures': 0, 'power_failure': False, 'last_error': None}

POWER_ON = 'power on'
POWER_OFF = 'power off'
POWER_STATES = (POWER_ON, POWER_OFF)


class NodePowerRecord:
    """The last known power state of one node and its polling history."""

    __slots__ = ('hostname', 'state', 'failures', 'last_error',
                 'power_failure', 'last_success', 'last_attempt')

    def __init__(self, hostname):
        self.hostname = hostname
        self.state = None
        self.failures = 0
        self.last_error = None
        self.power_failure = False
        self.last_success = None
        self.last_attempt = None

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}


class PowerStateTracker:
    """Power states of all nodes; thread-safe.

    A node whose poll fails ``max_retries`` times in a row is flagged
    ``power_failure`` (with the error) until a later poll succeeds.
    """

    def __init__(self, max_retries, ledger=None, engine=None):
        """:param ledger: where failures are shared (``load_power_failures``,
            ``save_power_failure``, ``clear_power_failure``), or None.
        :param engine: this engine's name, written with each failure.
        """
        self._max_retries = max_retries
        self._lock = threading.Lock()
        self._records = {}
        self._ledger = ledger
        self._engine = engine

    def adopt(self, hostnames):
        """Read the failures of nodes this engine polls from now on from
        the ledger (their last owner counted them).

        :returns: how many of them had failures.
        """
        if self._ledger is None or not hostnames:
            return 0
        try:
            found = self._ledger.load_power_failures(hostnames)
        except Exception as exc:
            LOG.warning('Cannot read the power-state failures of %d node(s) '
                        'from the store (counting them from zero): %s',
                        len(hostnames), exc)
            return 0
        with self._lock:
            for hostname in hostnames:
                # NOTE: the store, not what this engine remembers from
                # when it last owned the node, says how it fails now.
                row = found.get(hostname, _NO_FAILURES)
                if row is _NO_FAILURES and hostname not in self._records:
                    continue
                record = self._record(hostname)
                record.failures = row['failures']
                record.power_failure = row['power_failure']
                record.last_error = row['last_error']
        return len(found)

    def _share(self, call, *args):
        if self._ledger is None:
            return
        try:
            call(*args)
        except Exception as exc:
            # NOTE: a store outage must not stop the power sync.
            LOG.warning('Cannot write the power-state failures of node %s '
                        'to the store: %s', args[0], exc)

    def set_max_retries(self, max_retries):
        with self._lock:
            self._max_retries = max_retries

    def _record(self, hostname):
        record = self._records.get(hostname)
        if record is None:
            record = self._records[hostname] = NodePowerRecord(hostname)
        return record

    def record_success(self, hostname, state):
        with self._lock:
            record = self._record(hostname)
            failed = record.failures
            record.state = state
            record.failures = 0
            record.last_error = None
            record.power_failure = False
            record.last_success = record.last_attempt = time.time()
            result = record.as_dict()
        if failed and self._ledger is not None:
            self._share(self._ledger.clear_power_failure, hostname)
        return result

    def record_failure(self, hostname, error):
        """Count a failed poll; returns True when the node just flipped to
        ``power_failure``."""
        with self._lock:
            record = self._record(hostname)
            record.failures += 1
            record.last_error = error
            record.last_attempt = time.time()
            flipped = (not record.power_failure
                       and record.failures >= self._max_retries)
            if flipped:
                record.power_failure = True
            shared = (hostname, record.failures, record.power_failure,
                      error, self._engine)
        if self._ledger is not None:
            self._share(self._ledger.save_power_failure, *shared)
        return flipped

    def order_failed_first(self, nodes):
        """``nodes`` with those whose last poll failed first (stable)."""
        with self._lock:
            failing = {h for h, r in self._records.items() if r.failures}
        return sorted(nodes, key=lambda n: n.hostname not in failing)

    def get(self, hostname):
        with self._lock:
            record = self._records.get(hostname)
            return record.as_dict() if record else None

    def snapshot(self):
        with self._lock:
            return {h: r.as_dict() for h, r in self._records.items()}
