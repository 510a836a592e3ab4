"""The ``ironic`` power driver: power states as Ironic knows them.

Ironic already polls the BMCs of its nodes; this driver reads the result
with ONE node listing per sweep (paged by ``[ironic_power] page_size``,
``fields`` limited to what it needs), instead of one request per node, and
switches power through Ironic's power-state API.

``driver_info``::

    node: <uuid or name>    # optional; default: the node whose name or
                            # extra.compute_host is the inventory hostname

With ``[ironic_power] discover_nodes``, every Ironic node of the listing is
tracked too, under its compute host name (``extra.compute_host``, else its
name, else its uuid): the inventory file may then be empty.

The connection is the engine's shared openstacksdk cloud (``[ironic]``
adapter options, see :mod:`decision_engine.cloud.connection`); the loader
hands it over as ``cloud=``, or the driver builds it on first use. Its
timeouts are the ``[ironic]`` keystoneauth ``timeout`` option.
"""

import logging
from urllib import parse as urlparse

from decision_engine.drivers import base
from decision_engine.drivers import driver_info as info_checks
from decision_engine.drivers import inventory
from decision_engine.drivers import power_state

LOG = logging.getLogger(__name__)

KNOWN_FIELDS = ('node',)
# NOTE: 1.8 is the first version with ``fields`` on the node listing.
MICROVERSION = '1.8'
_FIELDS = 'uuid,name,power_state,extra'
_TARGETS = {power_state.POWER_ON: 'power on',
            power_state.POWER_OFF: 'power off'}
_STATES = {'power on': power_state.POWER_ON,
           'power off': power_state.POWER_OFF}


class IronicPowerDriver(base.PowerDriver):
    """Power states read from Ironic; see the module docstring."""

    #: the loader passes the engine's shared cloud to drivers that say so.
    accepts_cloud = True

    def __init__(self, conf, pool, nodes, tracker, cloud=None):
        super().__init__(conf, pool, nodes, tracker)
        self._cloud = cloud
        self.listings = 0

    def validate(self, driver_info):
        info_checks.check_known(driver_info, KNOWN_FIELDS, 'ironic')
        info_checks.string(driver_info, 'node')

    # -- connection --------------------------------------------------------

    @property
    def baremetal(self):
        if self._cloud is None:
            # NOTE: imported late: the cloud package pulls in openstacksdk,
            # which a deployment without this driver never needs.
            from decision_engine.cloud import connection
            self._cloud = connection.from_conf(
                self.conf, pool_maxsize=self.conf.power.sync_workers,
                service_types=('baremetal',))
        return self._cloud.baremetal

    def _call(self, method, path, **kwargs):
        try:
            response = getattr(self.baremetal, method)(
                path, microversion=MICROVERSION, raise_exc=True, **kwargs)
        except base.PowerDriverError:
            raise
        except Exception as exc:
            raise base.PowerDriverError('Ironic %s %s failed: %s: %s' % (
                method.upper(), path, type(exc).__name__, exc))
        return response

    def list_nodes(self):
        """Every Ironic node as ``{uuid, name, power_state, extra}``, in as
        few requests as the page size allows."""
        page_size = self.conf.ironic_power.page_size
        nodes = []
        marker = None
        while True:
            query = {'fields': _FIELDS, 'limit': page_size}
            if marker:
                query['marker'] = marker
            body = self._call('get', '/nodes?' + urlparse.urlencode(query))
            try:
                doc = body.json()
                page = doc['nodes']
                if not isinstance(page, list):
                    raise TypeError(type(page).__name__)
            except (ValueError, KeyError, TypeError):
                raise base.PowerDriverError(
                    'Ironic node listing: the answer has no "nodes" list')
            nodes.extend(page)
            self.listings += 1
            # NOTE: Ironic caps ``limit`` at its own max_limit; a "next"
            # link (or a full page) means there may be more.
            if not page or ('next' not in doc and len(page) < page_size):
                return nodes
            marker = page[-1].get('uuid')
            if not marker:
                return nodes

    # -- the sweep: one listing for all nodes ------------------------------

    def _sweep_needed(self):
        return bool(self.nodes) or self.conf.ironic_power.discover_nodes

    def _sweep(self, nodes):
        try:
            listed = self.list_nodes()
        except base.PowerDriverError as exc:
            listing_error = str(exc)
        else:
            listing_error = None
        if listing_error is not None:
            # NOTE: outside the except block: see PowerDriver._poll.
            for node in nodes:
                self._record_failure(node, listing_error)
            return len(nodes)
        index = {}
        for entry in listed:
            for key in (entry.get('uuid'), entry.get('name'),
                        (entry.get('extra') or {}).get('compute_host')):
                if key:
                    index.setdefault(key, entry)
        if self.conf.ironic_power.discover_nodes:
            nodes = nodes + [node for node in self._discover(listed)
                             if self.owns(node.hostname)]
        failed = 0
        for node in nodes:
            entry = index.get(node.driver_info.get('node') or node.hostname)
            error = None
            if entry is None:
                error = ('no Ironic node named %s'
                         % (node.driver_info.get('node') or node.hostname))
            else:
                try:
                    state = _state_of(entry)
                except base.PowerDriverError as exc:
                    error = str(exc)
            if error is not None:
                # NOTE: outside the except block: see PowerDriver._poll.
                self._record_failure(node, error)
                failed += 1
                continue
            self.tracker.record_success(node.hostname, state)
        return failed

    def _discover(self, listed):
        known = {node.hostname for node in self.nodes}
        found = []
        for entry in listed:
            extra = entry.get('extra') or {}
            hostname = (extra.get('compute_host') or entry.get('name')
                        or entry.get('uuid'))
            if not hostname or hostname in known:
                continue
            known.add(hostname)
            found.append(inventory.Node(hostname, self.name or 'ironic',
                                        {'node': entry.get('uuid')}))
        if found:
            # NOTE: safe: the sweep lock is held, and nothing else changes
            # the list.
            self.nodes.extend(found)
            LOG.info('Ironic power driver discovered %d node(s)', len(found))
        return found

    # -- the interface (one node) ------------------------------------------

    def _ident(self, node):
        return urlparse.quote(node.driver_info.get('node') or node.hostname,
                              safe='')

    def get_power_state(self, node):
        body = self._call('get', '/nodes/%s?fields=uuid,power_state'
                          % self._ident(node))
        try:
            return _state_of(body.json())
        except ValueError:
            raise base.PowerDriverError('Ironic node %s: the answer is not '
                                        'JSON' % node.hostname)

    def set_power_state(self, node, state):
        if state not in _TARGETS:
            raise base.InvalidDriverInfo('unknown power state %r' % (state,))
        self._call('put', '/nodes/%s/states/power' % self._ident(node),
                   json={'target': _TARGETS[state]})
        LOG.info('Requested %s of node %s through Ironic', state,
                 node.hostname)


def _state_of(entry):
    state = _STATES.get(entry.get('power_state'))
    if state is None:
        raise base.PowerDriverError(
            'Ironic reports power state %r for node %s'
            % (entry.get('power_state'), entry.get('name')
               or entry.get('uuid')))
    return state
