"""Nova v2.1 emulation (microversions 2.1 .. 2.96).

Served under ``/compute``; the catalog endpoint is ``/compute/v2.1``.
This module holds the service plumbing, versions, aggregates, zones and
services; the servers API is :mod:`.compute_servers` and the hypervisors
API :mod:`.compute_hypervisors`.

Behaviour copied from real Nova because clients trip on it:

* ``servers/detail``: ``host`` (and ``node``) filter by EXACT match;
  without ``all_tenants`` only the token's project is listed; sorted by
  ``created`` then ``id``, both descending (Nova's default); ``limit`` is
  capped at ``max_limit`` (1000, Nova's ``[api] max_limit``) and a
  ``servers_links`` next link is added whenever a page is full, so a
  listing of exactly ``limit`` servers costs a second, empty request;
  an unknown ``marker`` is a 400.  From 2.47 the flavor is embedded.
* ``os-hypervisors``: limit/marker from 2.33 (``hypervisors_links``), uuid
  ids from 2.53, and from 2.88 the capacity/usage fields (vcpus,
  memory_mb, local_gb, *_used, free_*, running_vms...) are gone, as in
  Nova; ``hypervisor_hostname_pattern`` is a SUBSTRING match (the trap
  that makes ``compute-1`` find ``compute-10``).
* ``os-availability-zone/detail`` lists, per available zone, only hosts
  whose services are enabled (a disabled host is not in any ``hosts``
  map); zones with no enabled service have ``available: false`` and
  ``hosts: null``; the ``internal`` zone holds the controller services.
  ``os-services`` is the place where every host's zone is visible.

Server bodies are serialized once per server and variant (< 2.47,
>= 2.47) on first use and reused; listings are index slices joined as
bytes.
"""

from decision_engine.simulator import routing
from decision_engine.simulator.compute_hypervisors import HypervisorsAPI
from decision_engine.simulator.compute_servers import ServersAPI
from decision_engine.simulator.routing import HTTPError, Route, dumps
from decision_engine.simulator.records import DEFAULT_AZ

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 96)
MAX_LIMIT = 1000
_UPDATED = '2013-07-23T11:33:21Z'
_CONTROLLER_SERVICES = ('nova-scheduler', 'nova-conductor')


class ComputeService(ServersAPI, HypervisorsAPI):
    name = 'compute'
    prefix = '/compute'

    def __init__(self, sim, max_limit=MAX_LIMIT):
        self.sim = sim
        self.max_limit = max_limit
        topo = sim.topology
        self._hosts = sorted(topo.hosts, key=lambda h: h.id)
        self._host_by_name = {h.hostname: h for h in topo.hosts}
        self._host_by_uuid = {h.uuid: h for h in topo.hosts}
        self._host_by_id = {str(h.id): h for h in topo.hosts}
        # Nova's default order: created_at desc, id desc.  A server's rank
        # is its index in that order; every index below is a sorted list
        # of ranks, so a marker is a bisect, not a scan.
        self._servers = sorted(topo.instances,
                               key=lambda i: (i.created, i.uuid),
                               reverse=True)
        self._rank = {s.uuid: r for r, s in enumerate(self._servers)}
        self._by_host = {}
        self._by_project = {}
        for r, s in enumerate(self._servers):
            if s.host is not None:
                self._by_host.setdefault(s.host, []).append(r)
            self._by_project.setdefault(s.project_id, []).append(r)
        self._all = list(range(len(self._servers)))
        self._cache = {}    # server_variant -> [body bytes | None]
        self._hyp_cache = {}
        self._usage = {h.hostname: self._host_usage(h) for h in topo.hosts}
        # Written by the write side (``migrations.ComputeWrites``): the
        # task state of servers being moved (None = absent).
        self.task_states = {}

    # -- plumbing ----------------------------------------------------------

    def routes(self):
        return [
            Route('GET', r'', '/compute', self.versions, auth=False),
            Route('GET', r'/v2\.1', '/compute/v2.1', self.version,
                  auth=False),
            Route('GET', r'/v2\.1/servers/detail',
                  '/compute/v2.1/servers/detail', self.servers_detail),
            Route('GET', r'/v2\.1/servers', '/compute/v2.1/servers',
                  self.servers_index),
            Route('GET', r'/v2\.1/servers/(?P<id>[^/]+)',
                  '/compute/v2.1/servers/{id}', self.server_show),
            Route('GET', r'/v2\.1/os-hypervisors/detail',
                  '/compute/v2.1/os-hypervisors/detail',
                  self.hypervisors_detail,
                  policy='os_compute_api:os-hypervisors:list-detail'),
            Route('GET', r'/v2\.1/os-hypervisors',
                  '/compute/v2.1/os-hypervisors', self.hypervisors_index,
                  policy='os_compute_api:os-hypervisors:list'),
            Route('GET', r'/v2\.1/os-hypervisors/(?P<id>[^/]+)',
                  '/compute/v2.1/os-hypervisors/{id}',
                  self.hypervisor_show,
                  policy='os_compute_api:os-hypervisors:show'),
            Route('GET', r'/v2\.1/os-aggregates',
                  '/compute/v2.1/os-aggregates', self.aggregates,
                  policy='os_compute_api:os-aggregates:index'),
            Route('GET', r'/v2\.1/os-availability-zone/detail',
                  '/compute/v2.1/os-availability-zone/detail',
                  self.azs_detail,
                  policy='os_compute_api:os-availability-zone:detail'),
            Route('GET', r'/v2\.1/os-availability-zone',
                  '/compute/v2.1/os-availability-zone', self.azs_index),
            Route('GET', r'/v2\.1/os-services',
                  '/compute/v2.1/os-services', self.services,
                  policy='os_compute_api:os-services:list'),
        ]

    #: Nova's ``context_is_admin`` rule (``role:admin``), the default of
    #: its admin APIs.
    policy_roles = frozenset(['admin'])
    policy_message = "Policy doesn't allow %s to be performed."

    def forbidden(self, rule):
        return HTTPError(403, self.policy_message % rule)

    def error(self, status, message):
        kinds = {400: 'badRequest', 401: 'unauthorized', 403: 'forbidden',
                 404: 'itemNotFound', 406: 'notAcceptable',
                 409: 'conflictingRequest', 413: 'overLimit',
                 429: 'overLimit'}
        if status == 401:   # keystonemiddleware answers before Nova does
            return routing.json_response({'error': {
                'code': 401, 'title': 'Unauthorized', 'message': message}},
                401)
        kind = kinds.get(status, 'computeFault')
        return routing.json_response(
            {kind: {'code': status, 'message': message}}, status)

    def microversion(self, req):
        return routing.requested_microversion(
            req.headers, 'compute', 'X-OpenStack-Nova-API-Version',
            MIN_VERSION, MAX_VERSION)

    def response_headers(self, version):
        text = '%d.%d' % version
        return {'OpenStack-API-Version': 'compute ' + text,
                'X-OpenStack-Nova-API-Version': text,
                'Vary': 'OpenStack-API-Version, X-OpenStack-Nova-API-Version'}

    def _limit(self, req):
        limit = req.int_arg('limit')
        return min(limit or self.max_limit, self.max_limit)

    def _base(self, req):
        return req.base_url + '/compute/v2.1'

    # -- versions ----------------------------------------------------------

    def _version_doc(self, req):
        return {
            'id': 'v2.1', 'status': 'CURRENT', 'updated': _UPDATED,
            'version': '%d.%d' % MAX_VERSION,
            'min_version': '%d.%d' % MIN_VERSION,
            'links': [{'rel': 'self', 'href': self._base(req) + '/'},
                      {'rel': 'describedby', 'type': 'text/html',
                       'href': 'http://docs.openstack.org/'}],
            'media-types': [{
                'base': 'application/json',
                'type': 'application/vnd.openstack.compute+json;version=2.1'
            }],
        }

    def versions(self, req):
        v20 = {'id': 'v2.0', 'status': 'SUPPORTED', 'version': '',
               'min_version': '', 'updated': '2011-01-21T11:33:21Z',
               'links': [{'rel': 'self',
                          'href': req.base_url + '/compute/v2/'}]}
        doc = self._version_doc(req)
        return routing.json_response({'versions': [v20, {
            k: doc[k] for k in ('id', 'status', 'version', 'min_version',
                                'updated', 'links')}]})

    def version(self, req):
        return routing.json_response({'version': self._version_doc(req)})

    def _listing(self, req, collection, items, full, last_id):
        body = b'{"%s":[%s]' % (collection.encode(), b','.join(items))
        if full:
            link = '%s/%s?%s' % (self._base(req), req.path.split(
                '/v2.1/', 1)[1], req.query_with(marker=last_id))
            body += b',"%s_links":%s' % (
                collection.encode(), dumps([{'rel': 'next', 'href': link}]))
        return body + b'}'

    def host_changed(self, hostname, usage=None):
        """Forget the cached hypervisor bodies (and the server bodies:
        ``host_status``) of a host; ``usage`` is its new
        ``(vcpus, ram, disk, count)`` (written by simulator/migrations.py).
        """
        if usage is not None:
            self._usage[hostname] = tuple(usage)
        host = self._host_by_name[hostname]
        for key in [k for k in self._hyp_cache if k[0] == host.uuid]:
            del self._hyp_cache[key]
        for rank in self._by_host.get(hostname, ()):
            self.forget_bodies(rank)

    # -- aggregates, AZs, services -----------------------------------------

    def aggregates(self, req):
        version = self.microversion(req)
        aggs = [{'id': a.id, 'uuid': a.uuid, 'name': a.name,
                 'availability_zone': a.availability_zone,
                 'hosts': list(a.hosts),
                 'metadata': dict(a.metadata),
                 'created_at': '2024-01-01T00:00:00.000000',
                 'updated_at': None, 'deleted_at': None, 'deleted': False}
                for a in self.sim.topology.aggregates]
        return routing.json_response({'aggregates': aggs},
                                     headers=self.response_headers(version))

    def _compute_services(self):
        """One nova-compute service per service host (Ironic nodes share
        theirs), in host id order: ``[(host record, service host)]``."""
        seen = {}
        for h in self._hosts:
            seen.setdefault(h.compute_host, h)
        return [(h, name) for name, h in seen.items()]

    def _zones(self):
        """zone -> {host: service dict} for enabled services, and the set
        of zones whose services are all disabled."""
        enabled, seen = {}, set()
        for h, name in self._compute_services():
            seen.add(h.availability_zone)
            if h.status == 'enabled':
                enabled.setdefault(h.availability_zone, {})[name] = {
                    'nova-compute': {'available': h.state == 'up',
                                     'active': True,
                                     'updated_at': '2024-01-01T00:00:00.0'}}
        return enabled, sorted(seen - set(enabled))

    def azs_index(self, req):
        version = self.microversion(req)
        enabled, unavailable = self._zones()
        info = [{'zoneName': z, 'zoneState': {'available': True},
                 'hosts': None} for z in sorted(enabled)]
        info += [{'zoneName': z, 'zoneState': {'available': False},
                  'hosts': None} for z in unavailable]
        return routing.json_response({'availabilityZoneInfo': info},
                                     headers=self.response_headers(version))

    def azs_detail(self, req):
        version = self.microversion(req)
        enabled, unavailable = self._zones()
        internal = {'controller': {
            b: {'available': True, 'active': True,
                'updated_at': '2024-01-01T00:00:00.0'}
            for b in _CONTROLLER_SERVICES}}
        info = [{'zoneName': 'internal', 'zoneState': {'available': True},
                 'hosts': internal}]
        info += [{'zoneName': z, 'zoneState': {'available': True},
                  'hosts': enabled[z]} for z in sorted(enabled)]
        info += [{'zoneName': z, 'zoneState': {'available': False},
                  'hosts': None} for z in unavailable]
        return routing.json_response({'availabilityZoneInfo': info},
                                     headers=self.response_headers(version))

    def services(self, req):
        version = self.microversion(req)
        uuids = version >= (2, 53)
        rows = []
        for i, b in enumerate(_CONTROLLER_SERVICES):
            rows.append({
                'id': ('00000000-0000-4000-8000-%012d' % (i + 1)) if uuids
                else 100000 + i,
                'binary': b, 'host': 'controller', 'zone': 'internal',
                'status': 'enabled', 'state': 'up',
                'disabled_reason': None, 'forced_down': False,
                'updated_at': '2024-01-01T00:00:00.000000'})
        for h, name in self._compute_services():
            rows.append({
                'id': h.service_uuid if uuids else h.id,
                'binary': 'nova-compute', 'host': name,
                'zone': h.availability_zone or DEFAULT_AZ,
                'status': h.status, 'state': h.state,
                'disabled_reason': h.disabled_reason,
                'forced_down': h.state == 'down',
                'updated_at': '2024-01-01T00:00:00.000000'})
        host = req.arg('host')
        binary = req.arg('binary')
        rows = [r for r in rows if (host is None or r['host'] == host)
                and (binary is None or r['binary'] == binary)]
        return routing.json_response({'services': rows},
                                     headers=self.response_headers(version))
