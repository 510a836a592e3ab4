"""What the engine knows of each node's power state, and its failures."""

import threading
import time

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

    def __init__(self, max_retries):
        self._max_retries = max_retries
        self._lock = threading.Lock()
        self._records = {}

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
            record.state = state
            record.failures = 0
            record.last_error = None
            record.power_failure = False
            record.last_success = record.last_attempt = time.time()
            return record.as_dict()

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
