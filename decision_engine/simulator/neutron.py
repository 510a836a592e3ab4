"""What Nova's API costs Neutron when it lists or shows servers.

The simulator has no Neutron, but real nova-api asks Neutron for every
page of ``GET /servers/detail`` and every ``GET /servers/{id}`` it
answers (nova 34: ``api/openstack/compute/views/servers.py``
``_add_security_grps`` -> ``network/security_group_api.py``
``get_instances_security_groups_bindings``), one after the other in the
request's own thread:

* ``GET /v2.0/ports?device_id=...&fields=security_groups&fields=device_id``
  once per 150 servers of the page (``MAX_SEARCH_IDS``: the ids go in the
  URL);
* ``GET /v2.0/security-groups?id=...&fields=id&fields=name`` once per 150
  distinct security groups of those ports (none when no port has one);
* nothing for an empty page (and nothing for ``GET /servers``, the list
  without details).

Here every server has one port in its project's default security group
(what its body shows), so a page of ``n`` servers of ``p`` projects costs
``ceil(n / 150) + ceil(p / 150)`` queries. They are counted in the
simulator's stats under ``downstream`` (not in ``total``: the engine did
not send them), and each one adds the Neutron latency to the Nova request
that caused it.
"""

import threading

from decision_engine.simulator.faults import ConfigError

#: Nova's ``nova.network.security_group_api.MAX_SEARCH_IDS``.
MAX_SEARCH_IDS = 150
PORTS = 'GET /v2.0/ports'
SECURITY_GROUPS = 'GET /v2.0/security-groups'


def _chunks(count):
    return -(-count // MAX_SEARCH_IDS)


def page_queries(servers):
    """``{endpoint: queries}`` Nova sends Neutron for these servers."""
    if not servers:
        return {}
    projects = {s.project_id for s in servers}
    return {PORTS: _chunks(len(servers)),
            SECURITY_GROUPS: _chunks(len(projects))}


class NeutronCost:
    """Counts (into ``stats``) and waits out the Neutron queries of Nova's
    server listings; the latency may change at any time.

    :param latency_ms: added per Neutron query, >= 0.
    :param sleep: how a delay is waited out (the simulator's).
    """

    def __init__(self, stats, latency_ms=0.0, sleep=None):
        self._stats = stats
        self._sleep = sleep
        self._lock = threading.Lock()
        self.set_latency(latency_ms)

    def set_latency(self, latency_ms):
        if isinstance(latency_ms, bool) or not isinstance(
                latency_ms, (int, float)) or latency_ms < 0:
            raise ConfigError('neutron latency must be a number of '
                              'milliseconds >= 0, got %r' % (latency_ms,))
        with self._lock:
            self._latency_s = latency_ms / 1000.0

    @property
    def latency_ms(self):
        return self._latency_s * 1000.0

    def charge(self, servers):
        """Count the queries listing ``servers`` costs Neutron and wait
        their latency (in the calling request's thread, as nova-api
        does)."""
        queries = page_queries(servers)
        if not queries:
            return 0
        total = sum(queries.values())
        self._stats.downstream('neutron', queries)
        if self._latency_s and self._sleep is not None:
            self._sleep(self._latency_s * total)
        return total
