"""Ironic v1 emulation (microversions 1.1 .. 1.99), served under
``/baremetal``.

One node per host: uuid ``Host.node_uuid``, name == hostname (so a power
driver can go from a compute host to its node by name).  Listings are
sorted by host id; ``limit`` must be positive and is capped at
``max_limit`` (1000), a ``next`` link is present whenever a page is full,
and an unknown ``marker`` is a 404 (Ironic looks the marker node up).
``fields`` restricts the returned fields (unknown field -> 400).

``PUT /nodes/{uuid or name}/states/power`` with ``{"target": ...}`` answers
202 and changes ``Host.power_state`` at once (``rebooting`` and ``soft
rebooting`` end in ``power on``).  Nodes are serialized per request: they
are mutable and few.
"""

import json
import threading

from decision_engine.simulator import routing
from decision_engine.simulator.routing import HTTPError, Route

MIN_VERSION = (1, 1)
MAX_VERSION = (1, 99)
MAX_LIMIT = 1000
_TARGETS = {'power on': 'power on', 'power off': 'power off',
            'rebooting': 'power on', 'soft power off': 'power off',
            'soft rebooting': 'power on'}
_LIST_FIELDS = ('uuid', 'name', 'instance_uuid', 'power_state',
                'provision_state', 'maintenance', 'links')


class BaremetalService:
    name = 'baremetal'
    prefix = '/baremetal'

    def __init__(self, sim, max_limit=MAX_LIMIT):
        self.sim = sim
        self.max_limit = max_limit
        self._hosts = sorted(sim.topology.hosts, key=lambda h: h.id)
        self._by_ident = {}
        for h in self._hosts:
            self._by_ident[h.node_uuid] = h
            self._by_ident[h.hostname] = h
        self._position = {h.node_uuid: i for i, h in enumerate(self._hosts)}
        # Serializes power changes against readers of the same node.
        self._lock = threading.Lock()

    def routes(self):
        return [
            Route('GET', r'', '/baremetal', self.root, auth=False),
            Route('GET', r'/v1', '/baremetal/v1', self.v1, auth=False),
            Route('GET', r'/v1/nodes', '/baremetal/v1/nodes', self.nodes,
                  policy='baremetal:node:list'),
            Route('GET', r'/v1/nodes/detail', '/baremetal/v1/nodes/detail',
                  self.nodes_detail, policy='baremetal:node:list_all'),
            Route('GET', r'/v1/nodes/(?P<id>[^/]+)',
                  '/baremetal/v1/nodes/{id}', self.node_show,
                  policy='baremetal:node:get'),
            Route('GET', r'/v1/nodes/(?P<id>[^/]+)/states',
                  '/baremetal/v1/nodes/{id}/states', self.node_states,
                  policy='baremetal:node:get_states'),
            Route('PUT', r'/v1/nodes/(?P<id>[^/]+)/states/power',
                  '/baremetal/v1/nodes/{id}/states/power', self.set_power,
                  policy='baremetal:node:set_power_state'),
        ]

    #: simplified: Ironic's node rules also let a project reader see the
    #: nodes its project owns; the simulator's nodes belong to no project.
    policy_roles = frozenset(['admin', 'service'])
    policy_message = '%s is disallowed by policy'

    def error(self, status, message):
        # Ironic nests a JSON document in a string.
        return routing.json_response({'error_message': json.dumps({
            'faultstring': message,
            'faultcode': 'Client' if status < 500 else 'Server',
            'debuginfo': None})}, status)

    def _headers(self, req):
        version = routing.requested_microversion(
            req.headers, 'baremetal', 'X-OpenStack-Ironic-API-Version',
            MIN_VERSION, MAX_VERSION)
        return {
            'X-OpenStack-Ironic-API-Minimum-Version': '%d.%d' % MIN_VERSION,
            'X-OpenStack-Ironic-API-Maximum-Version': '%d.%d' % MAX_VERSION,
            'X-OpenStack-Ironic-API-Version': '%d.%d' % version,
            'OpenStack-API-Version': 'baremetal %d.%d' % version,
        }

    def _version_doc(self, req):
        return {'id': 'v1', 'status': 'CURRENT',
                'min_version': '%d.%d' % MIN_VERSION,
                'version': '%d.%d' % MAX_VERSION,
                'links': [{'rel': 'self',
                           'href': req.base_url + '/baremetal/v1/'}]}

    def root(self, req):
        doc = self._version_doc(req)
        return routing.json_response({
            'name': 'OpenStack Ironic API',
            'description': 'Ironic is an OpenStack project which enables '
                           'the provision and management of baremetal '
                           'machines.',
            'versions': [doc], 'default_version': doc},
            headers=self._headers(req))

    def v1(self, req):
        base = req.base_url + '/baremetal/v1/'
        doc = {'id': 'v1',
               'links': [{'rel': 'self', 'href': base}],
               'media_types': [{'base': 'application/json',
                                'type': 'application/vnd.openstack.ironic.'
                                        'v1+json'}],
               'nodes': [{'rel': 'self', 'href': base + 'nodes'}],
               'version': self._version_doc(req)}
        return routing.json_response(doc, headers=self._headers(req))

    def _node(self, req, h):
        link = '%s/baremetal/v1/nodes/%s' % (req.base_url, h.node_uuid)
        return {
            'uuid': h.node_uuid, 'name': h.hostname, 'instance_uuid': None,
            'power_state': h.power_state, 'target_power_state': None,
            'provision_state': h.provision_state,
            'target_provision_state': None,
            'maintenance': h.maintenance, 'maintenance_reason': None,
            'driver': h.driver, 'last_error': None,
            'console_enabled': False, 'resource_class': 'baremetal',
            'properties': {'cpus': h.vcpus, 'memory_mb': h.memory_mb,
                           'local_gb': h.disk_gb, 'cpu_arch': 'x86_64'},
            'driver_info': {}, 'extra': {'compute_host': h.hostname},
            'created_at': '2024-01-01T00:00:00+00:00', 'updated_at': None,
            'links': [{'rel': 'self', 'href': link},
                      {'rel': 'bookmark', 'href': link}],
        }

    def _fields(self, req, detail):
        fields = req.arg('fields')
        if fields is None:
            return None if detail else _LIST_FIELDS
        if detail:
            raise HTTPError(400, "Can not specify ?fields=... on "
                            "/nodes/detail")
        wanted = [f.strip() for f in fields.split(',') if f.strip()]
        known = set(self._node(req, self._hosts[0])) if self._hosts \
            else set(_LIST_FIELDS)
        for f in wanted:
            if f not in known:
                raise HTTPError(400, 'Field(s) "%s" are not valid' % f)
        return wanted

    def _listing(self, req, detail):
        headers = self._headers(req)
        fields = self._fields(req, detail)
        limit = req.arg('limit')
        if limit is not None:
            try:
                limit = int(limit)
            except ValueError:
                raise HTTPError(400, 'Invalid limit %r' % limit)
            if limit <= 0:
                raise HTTPError(400, 'Limit must be positive: %d' % limit)
        limit = min(limit or self.max_limit, self.max_limit)
        marker = req.arg('marker')
        start = 0
        if marker is not None:
            if marker not in self._position:
                raise HTTPError(404, 'Node %s could not be found.' % marker)
            start = self._position[marker] + 1
        page = self._hosts[start:start + limit]
        with self._lock:
            nodes = [self._node(req, h) for h in page]
        if fields is not None:
            nodes = [{k: n[k] for k in fields} for n in nodes]
        doc = {'nodes': nodes}
        if page and len(page) == limit:
            doc['next'] = '%s/baremetal/v1/nodes%s?%s' % (
                req.base_url, '/detail' if detail else '',
                req.query_with(limit=str(limit), marker=page[-1].node_uuid))
        return routing.json_response(doc, headers=headers)

    def nodes(self, req):
        return self._listing(req, False)

    def nodes_detail(self, req):
        return self._listing(req, True)

    def _lookup(self, req):
        h = self._by_ident.get(req.params['id'])
        if h is None:
            raise HTTPError(404, 'Node %s could not be found.'
                            % req.params['id'])
        return h

    def node_show(self, req):
        headers = self._headers(req)
        h = self._lookup(req)
        with self._lock:
            node = self._node(req, h)
        fields = req.arg('fields')
        if fields:
            node = {k: node[k] for k in self._fields(req, False)}
        return routing.json_response(node, headers=headers)

    def node_states(self, req):
        headers = self._headers(req)
        h = self._lookup(req)
        return routing.json_response({
            'power_state': h.power_state, 'target_power_state': None,
            'provision_state': h.provision_state,
            'target_provision_state': None, 'last_error': None,
            'console_enabled': False, 'raid_config': {},
            'target_raid_config': {}}, headers=headers)

    def set_power(self, req):
        headers = self._headers(req)
        h = self._lookup(req)
        body = req.json()
        target = body.get('target') if isinstance(body, dict) else None
        if target not in _TARGETS:
            raise HTTPError(400, 'Invalid power state target %r; expected '
                            'one of %s' % (target, sorted(_TARGETS)))
        with self._lock:
            h.power_state = _TARGETS[target]
        headers['Location'] = '%s/baremetal/v1/nodes/%s/states' % (
            req.base_url, h.node_uuid)
        return routing.Response(202, b'', headers)
