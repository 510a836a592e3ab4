"""Request counters for tests and benchmarks.

Every served request (not ``/_sim/``) is counted under its *endpoint*: the
method plus the route template, ids normalized, e.g.
``GET /placement/resource_providers/{uuid}/inventories``; unmatched paths
count as ``<METHOD> <unknown>``.  Times are ``time.monotonic()`` of the
simulator process (CLOCK_MONOTONIC on Linux, so comparable across
processes on one machine).

Snapshot (``Stats.snapshot()``, also ``GET /_sim/stats``)::

    {"total": int, "by_endpoint": {endpoint: int}, "by_status": {"200": int},
     "in_flight": int, "peak_in_flight": int, "tokens_issued": int,
     "faults": {"error": int, "reset": int, ...},
     "downstream": {"neutron": {endpoint: int}},
     "log": [{"method", "endpoint", "path", "query", "status",
              "start", "end"}, ...]}        # only when asked for

``downstream`` counts the requests a real service would have sent another
one on the engine's behalf (Nova's Neutron queries for server listings, see
:mod:`.neutron`); they are not in ``total``, which counts what the
simulator itself received.

``status`` in the log is None for a reset connection.  The log keeps the
last ``log_limit`` requests in start order.
"""

import collections
import threading


_LOG_KEYS = ('method', 'endpoint', 'path', 'query', 'status', 'start',
             'end')


class Stats:
    def __init__(self, log_limit=200_000):
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._log_limit = log_limit
        self.reset()

    def reset(self):
        """Zero everything except the current in-flight count."""
        with self._lock:
            self._total = 0
            self._by_endpoint = collections.Counter()
            self._by_status = collections.Counter()
            self._faults = collections.Counter()
            self._tokens = 0
            self._downstream = {}
            self._log = collections.deque(maxlen=self._log_limit)
            self._in_flight = getattr(self, '_in_flight', 0)
            self._peak = self._in_flight

    def begin(self, method, endpoint, path, query, now):
        """Count a request in; returns the log entry to pass to end()."""
        # A list, not a dict: a long log of dicts costs ~3x the memory.
        entry = [method, endpoint, path, query, None, now, None]
        with self._lock:
            self._total += 1
            self._by_endpoint[endpoint] += 1
            self._in_flight += 1
            if self._in_flight > self._peak:
                self._peak = self._in_flight
            self._log.append(entry)
            self._changed.notify_all()
        return entry

    def end(self, entry, status, now, fault=None, token_issued=False):
        with self._lock:
            entry[4] = status
            entry[6] = now
            self._in_flight -= 1
            self._by_status[str(status) if status else 'reset'] += 1
            if fault:
                self._faults[fault] += 1
            if token_issued:
                self._tokens += 1
            self._changed.notify_all()

    def downstream(self, service, queries):
        """Count ``{endpoint: n}`` queries sent to ``service`` on behalf of
        a request."""
        with self._lock:
            counts = self._downstream.setdefault(service,
                                                 collections.Counter())
            counts.update(queries)

    def wait_in_flight(self, n, timeout=10.0):
        """Block until at least n requests are in flight; True if reached."""
        with self._lock:
            return self._changed.wait_for(lambda: self._in_flight >= n,
                                          timeout)

    def snapshot(self, log=False):
        with self._lock:
            snap = {
                'total': self._total,
                'by_endpoint': dict(self._by_endpoint),
                'by_status': dict(self._by_status),
                'in_flight': self._in_flight,
                'peak_in_flight': self._peak,
                'tokens_issued': self._tokens,
                'faults': dict(self._faults),
                'downstream': {service: dict(counts) for service, counts
                               in self._downstream.items()},
            }
            if log:
                snap['log'] = [dict(zip(_LOG_KEYS, e)) for e in self._log]
            return snap
