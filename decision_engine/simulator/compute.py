"""Nova v2.1 emulation (microversions 2.1 .. 2.96).

Served under ``/compute``; the catalog endpoint is ``/compute/v2.1``.

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

import bisect
import hashlib

from decision_engine.simulator import routing
from decision_engine.simulator.routing import HTTPError, Route, dumps
from decision_engine.simulator.topology import DEFAULT_AZ

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 96)
MAX_LIMIT = 1000
_UPDATED = '2013-07-23T11:33:21Z'
_POWER = {'active': 1, 'paused': 3, 'stopped': 4, 'suspended': 7,
          'shelved': 4, 'error': 0, 'building': 0, 'resized': 1}
_CONTROLLER_SERVICES = ('nova-scheduler', 'nova-conductor')
_TRUE = {'', '1', 't', 'true', 'on', 'y', 'yes'}
_FALSE = {'0', 'f', 'false', 'off', 'n', 'no'}


class ComputeService:
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
        self._cache = {False: [None] * len(self._servers),
                       True: [None] * len(self._servers)}
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
                  self.hypervisors_detail),
            Route('GET', r'/v2\.1/os-hypervisors',
                  '/compute/v2.1/os-hypervisors', self.hypervisors_index),
            Route('GET', r'/v2\.1/os-hypervisors/(?P<id>[^/]+)',
                  '/compute/v2.1/os-hypervisors/{id}',
                  self.hypervisor_show),
            Route('GET', r'/v2\.1/os-aggregates',
                  '/compute/v2.1/os-aggregates', self.aggregates),
            Route('GET', r'/v2\.1/os-availability-zone/detail',
                  '/compute/v2.1/os-availability-zone/detail',
                  self.azs_detail),
            Route('GET', r'/v2\.1/os-availability-zone',
                  '/compute/v2.1/os-availability-zone', self.azs_index),
            Route('GET', r'/v2\.1/os-services',
                  '/compute/v2.1/os-services', self.services),
        ]

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

    # -- servers -----------------------------------------------------------

    def preserialize(self, base_url, embedded=True):
        """Serialize every server now (called by Simulator.start once the
        address is known) so the first listing is not slower than the
        next; about 20 us per server."""
        base = base_url + '/compute/v2.1'
        for rank in range(len(self._servers)):
            self._server_bytes(rank, embedded, base)

    def _server_bytes(self, rank, embedded, base):
        cache = self._cache[embedded]
        data = cache[rank]
        if data is None:
            data = dumps(self._server_dict(self._servers[rank], embedded,
                                           base))
            cache[rank] = data
        return data

    def _server_dict(self, s, embedded, base):
        host = self._host_by_name.get(s.host) if s.host else None
        if embedded:
            f = s.flavor
            flavor = {'vcpus': f.vcpus, 'ram': f.ram, 'disk': f.disk,
                      'ephemeral': f.ephemeral, 'swap': f.swap,
                      'original_name': f.name,
                      'extra_specs': dict(f.extra_specs)}
        else:
            flavor = {'id': s.flavor.id or s.flavor.name, 'links': [{
                'rel': 'bookmark',
                'href': '%s/flavors/%s' % (base, s.flavor.id
                                           or s.flavor.name)}]}
        if host is None:
            host_status = ''
        elif host.state == 'down':
            host_status = 'DOWN'
        elif host.status == 'disabled':
            host_status = 'MAINTENANCE'
        else:
            host_status = 'UP'
        host_id = hashlib.sha224(
            (s.project_id + (s.host or '')).encode()).hexdigest() \
            if s.host else ''
        task_state = self.task_states.get(s.uuid)
        status = s.status
        if task_state == 'migrating':
            status = 'MIGRATING'
        elif task_state is not None and task_state.startswith('resize'):
            status = 'RESIZE'
        return {
            'id': s.uuid, 'name': s.name, 'status': status,
            'tenant_id': s.project_id, 'user_id': s.user_id,
            'metadata': dict(s.metadata), 'hostId': host_id,
            'image': '', 'flavor': flavor,
            'created': s.created, 'updated': s.created,
            'addresses': {}, 'accessIPv4': '', 'accessIPv6': '',
            'links': [{'rel': 'self',
                       'href': '%s/servers/%s' % (base, s.uuid)},
                      {'rel': 'bookmark',
                       'href': '%s/servers/%s' % (base, s.uuid)}],
            'OS-DCF:diskConfig': 'MANUAL', 'progress': 0,
            'OS-EXT-AZ:availability_zone': (host.availability_zone
                                            if host else ''),
            'config_drive': '', 'key_name': None,
            'OS-SRV-USG:launched_at': s.created.replace('Z', '.000000'),
            'OS-SRV-USG:terminated_at': None,
            'OS-EXT-SRV-ATTR:host': s.host,
            'OS-EXT-SRV-ATTR:instance_name': 'instance-%08x'
                                             % (self._rank[s.uuid] + 1),
            'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host,
            'OS-EXT-STS:task_state': task_state,
            'OS-EXT-STS:vm_state': s.vm_state,
            'OS-EXT-STS:power_state': _POWER.get(s.vm_state, 0),
            'os-extended-volumes:volumes_attached': [],
            'security_groups': [{'name': 'default'}],
            'locked': s.locked, 'locked_reason': None,
            'host_status': host_status, 'description': None, 'tags': [],
            'trusted_image_certificates': None,
            'pinned_availability_zone': None,
        }

    def _filtered(self, req):
        """Sorted ranks matching the request's filters."""
        all_tenants = req.arg('all_tenants')
        if all_tenants is not None:
            value = all_tenants.strip().lower()
            if value in _TRUE:
                all_tenants = True
            elif value in _FALSE:
                all_tenants = False
            else:
                raise HTTPError(400, "Invalid input for query parameter "
                                "'all_tenants'. Value: %s." % all_tenants)
        host = req.arg('host')
        node = req.arg('node')
        if host is not None and node is not None and host != node:
            return []
        host = host if host is not None else node
        if host is not None:
            ranks = self._by_host.get(host, [])
        elif all_tenants:
            ranks = self._all
        else:
            ranks = self._by_project.get(req.token['project_id'], [])
        project = req.arg('project_id', req.arg('tenant_id'))
        if not all_tenants:
            project = req.token['project_id']
        status = req.arg('status')
        uuid = req.arg('uuid')
        if project is not None or status is not None or uuid is not None:
            servers = self._servers
            status = status.upper() if status else None
            ranks = [r for r in ranks
                     if (project is None
                         or servers[r].project_id == project)
                     and (status is None or servers[r].status == status)
                     and (uuid is None or servers[r].uuid == uuid)]
        return ranks

    def _page(self, req, ranks):
        limit = self._limit(req)
        marker = req.arg('marker')
        start = 0
        if marker is not None:
            rank = self._rank.get(marker)
            if rank is None:
                raise HTTPError(400, 'marker [%s] not found' % marker)
            start = bisect.bisect_right(ranks, rank)
        page = ranks[start:start + limit]
        return page, (len(page) == limit and limit > 0)

    def _listing(self, req, collection, items, full, last_id):
        body = b'{"%s":[%s]' % (collection.encode(), b','.join(items))
        if full:
            link = '%s/%s?%s' % (self._base(req), req.path.split(
                '/v2.1/', 1)[1], req.query_with(marker=last_id))
            body += b',"%s_links":%s' % (
                collection.encode(), dumps([{'rel': 'next', 'href': link}]))
        return body + b'}'

    def servers_detail(self, req):
        version = self.microversion(req)
        embedded = version >= (2, 47)
        page, full = self._page(req, self._filtered(req))
        base = self._base(req)
        items = [self._server_bytes(r, embedded, base) for r in page]
        last = self._servers[page[-1]].uuid if page else None
        return routing.json_response(
            self._listing(req, 'servers', items, full, last),
            headers=self.response_headers(version))

    def servers_index(self, req):
        version = self.microversion(req)
        page, full = self._page(req, self._filtered(req))
        base = self._base(req)
        items = [dumps({'id': self._servers[r].uuid,
                        'name': self._servers[r].name,
                        'links': [{'rel': 'self', 'href': '%s/servers/%s'
                                   % (base, self._servers[r].uuid)}]})
                 for r in page]
        last = self._servers[page[-1]].uuid if page else None
        return routing.json_response(
            self._listing(req, 'servers', items, full, last),
            headers=self.response_headers(version))

    def server_show(self, req):
        version = self.microversion(req)
        rank = self._rank.get(req.params['id'])
        if rank is None:
            raise HTTPError(404, 'Instance %s could not be found.'
                            % req.params['id'])
        body = b'{"server":%s}' % self._server_bytes(
            rank, version >= (2, 47), self._base(req))
        return routing.json_response(body,
                                     headers=self.response_headers(version))

    # -- changes made by the write side (simulator/migrations.py) ----------

    def server(self, uuid):
        """The :class:`Instance` with that uuid, or None."""
        rank = self._rank.get(uuid)
        return None if rank is None else self._servers[rank]

    def server_changed(self, uuid, old_host=None):
        """Forget the cached bodies of a server (and re-index it when
        its host changed from ``old_host``)."""
        rank = self._rank[uuid]
        self._cache[False][rank] = self._cache[True][rank] = None
        new_host = self._servers[rank].host
        if old_host is not None and old_host != new_host:
            ranks = self._by_host.get(old_host, [])
            index = bisect.bisect_left(ranks, rank)
            if index < len(ranks) and ranks[index] == rank:
                del ranks[index]
            if new_host is not None:
                bisect.insort(self._by_host.setdefault(new_host, []), rank)

    def forget_server(self, uuid):
        """The server was deleted: no listing or show finds it again."""
        rank = self._rank.pop(uuid)
        s = self._servers[rank]
        for ranks in (self._by_host.get(s.host, []),
                      self._by_project.get(s.project_id, []), self._all):
            index = bisect.bisect_left(ranks, rank)
            if index < len(ranks) and ranks[index] == rank:
                del ranks[index]
        self.task_states.pop(uuid, None)

    def host_changed(self, hostname, usage=None):
        """Forget the cached hypervisor bodies (and the server bodies:
        ``host_status``) of a host; ``usage`` is its new
        ``(vcpus, ram, disk, count)``."""
        if usage is not None:
            self._usage[hostname] = tuple(usage)
        host = self._host_by_name[hostname]
        for key in [k for k in self._hyp_cache if k[0] == host.uuid]:
            del self._hyp_cache[key]
        for rank in self._by_host.get(hostname, ()):
            self._cache[False][rank] = self._cache[True][rank] = None

    # -- hypervisors -------------------------------------------------------

    def _host_usage(self, host):
        vcpus = ram = disk = count = 0
        for r in self._by_host.get(host.hostname, ()):
            f = self._servers[r].flavor
            vcpus += f.vcpus
            ram += f.ram
            disk += f.disk + f.ephemeral
            count += 1
        return vcpus, ram, disk, count

    def _hypervisor_dict(self, h, version, detail=True):
        uuids = version >= (2, 53)
        d = {'id': h.uuid if uuids else h.id,
             'hypervisor_hostname': h.hostname,
             'state': h.state, 'status': h.status}
        if not detail:
            return d
        d.update({
            'hypervisor_type': 'QEMU', 'hypervisor_version': 8002000,
            'host_ip': h.host_ip,
            'service': {'host': h.hostname,
                        'id': h.service_uuid if uuids else h.id,
                        'disabled_reason': h.disabled_reason},
        })
        if version < (2, 88):
            vcpus_used, ram_used, disk_used, count = \
                self._usage[h.hostname]
            ram_used += h.memory_mb_reserved
            d.update({
                'vcpus': h.vcpus, 'memory_mb': h.memory_mb,
                'local_gb': h.disk_gb, 'vcpus_used': vcpus_used,
                'memory_mb_used': ram_used, 'local_gb_used': disk_used,
                'free_ram_mb': h.memory_mb - ram_used,
                'free_disk_gb': h.disk_gb - disk_used,
                'current_workload': 0, 'running_vms': count,
                'disk_available_least': h.disk_gb - disk_used,
                'cpu_info': ({'arch': 'x86_64', 'model': 'host-model',
                              'vendor': 'Intel',
                              'topology': {'cores': h.vcpus, 'threads': 1,
                                           'sockets': 1}}
                             if version >= (2, 28) else
                             '{"arch": "x86_64", "vendor": "Intel"}'),
            })
        else:
            d['uptime'] = None
        return d

    def _hypervisor_bytes(self, h, version, detail=True):
        # Shape depends only on these version thresholds.
        key = (h.uuid, detail, version >= (2, 28), version >= (2, 53),
               version >= (2, 88))
        data = self._hyp_cache.get(key)
        if data is None:
            data = dumps(self._hypervisor_dict(h, version, detail))
            self._hyp_cache[key] = data
        return data

    def _hypervisor_listing(self, req, detail):
        version = self.microversion(req)
        hosts = self._hosts
        full = False
        pattern = req.arg('hypervisor_hostname_pattern') \
            if version >= (2, 53) else None
        if pattern is not None:
            if req.has_arg('limit') or req.has_arg('marker'):
                raise HTTPError(400, 'Paging over hypervisors with the '
                                'hypervisor_hostname_pattern query '
                                'parameter is not supported.')
            hosts = [h for h in hosts if pattern in h.hostname]
            if not hosts:
                raise HTTPError(404, "No hypervisor matching '%s' could "
                                "be found." % pattern)
        elif version >= (2, 33):
            limit = self._limit(req)
            marker = req.arg('marker')
            start = 0
            if marker is not None:
                h = (self._host_by_uuid if version >= (2, 53)
                     else self._host_by_id).get(marker)
                if h is None:
                    raise HTTPError(400, 'marker [%s] not found' % marker)
                start = bisect.bisect_right([x.id for x in hosts], h.id)
            hosts = hosts[start:start + limit]
            full = len(hosts) == limit
        items = [self._hypervisor_bytes(h, version, detail) for h in hosts]
        last = None
        if hosts:
            last = hosts[-1].uuid if version >= (2, 53) else hosts[-1].id
        return routing.json_response(
            self._listing(req, 'hypervisors', items, full, last),
            headers=self.response_headers(version))

    def hypervisors_detail(self, req):
        return self._hypervisor_listing(req, True)

    def hypervisors_index(self, req):
        return self._hypervisor_listing(req, False)

    def hypervisor_show(self, req):
        version = self.microversion(req)
        ident = req.params['id']
        h = (self._host_by_uuid if version >= (2, 53)
             else self._host_by_id).get(ident)
        if h is None:
            raise HTTPError(404, 'Hypervisor with ID %s could not be found.'
                            % ident)
        return routing.json_response(
            b'{"hypervisor":%s}' % self._hypervisor_bytes(h, version),
            headers=self.response_headers(version))

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

    def _zones(self):
        """zone -> {host: service dict} for enabled services, and the set
        of zones whose services are all disabled."""
        enabled, seen = {}, set()
        for h in self._hosts:
            seen.add(h.availability_zone)
            if h.status == 'enabled':
                enabled.setdefault(h.availability_zone, {})[h.hostname] = {
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
        for h in self._hosts:
            rows.append({
                'id': h.service_uuid if uuids else h.id,
                'binary': 'nova-compute', 'host': h.hostname,
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
