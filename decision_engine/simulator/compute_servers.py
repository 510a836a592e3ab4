"""Nova's servers API for the simulator (``/servers``, ``/servers/detail``,
``/servers/{id}``), mixed into :class:`~.compute.ComputeService`.

``host`` (and ``node``) filter by EXACT match; without ``all_tenants`` only
the token's project is listed; sorted by ``created`` then ``id``, both
descending (Nova's default); an unknown ``marker`` is a 400.  From 2.47 the
flavor is embedded.  Server bodies are serialized once per server and
variant (< 2.47, >= 2.47) on first use and reused; listings are index
slices joined as bytes.

Each detailed listing page and each show also costs what real nova-api
would ask Neutron for those servers (:mod:`.neutron`): counted in the
stats' ``downstream`` and, with a Neutron latency set, waited out before
the answer.
"""

import bisect
import hashlib

from decision_engine.simulator import identity
from decision_engine.simulator import routing
from decision_engine.simulator.routing import HTTPError, dumps

_POWER = {'active': 1, 'paused': 3, 'stopped': 4, 'suspended': 7,
          'shelved': 4, 'error': 0, 'building': 0, 'resized': 1}
_TRUE = {'', '1', 't', 'true', 'on', 'y', 'yes'}
_FALSE = {'0', 'f', 'false', 'off', 'n', 'no'}


def server_variant(version):
    """The microversion thresholds a server body's shape depends on:
    embedded flavor (2.47), trusted_image_certificates (2.63),
    locked_reason (2.73), pinned_availability_zone (2.96)."""
    return (version >= (2, 47), version >= (2, 63), version >= (2, 73),
            version >= (2, 96))


class ServersAPI:
    """The server routes' handlers; needs the indexes ComputeService builds
    (``_servers``, ``_rank``, ``_by_host``, ``_by_project``, ``_all``,
    ``_cache``, ``_host_by_name``) and its plumbing (``microversion``,
    ``response_headers``, ``_limit``, ``_base``, ``_listing``)."""

    def preserialize(self, base_url, version=(2, 53)):
        """Serialize every server now (called by Simulator.start once the
        address is known) so the first listing is not slower than the
        next; about 20 us per server.  2.53 is what the model build asks
        for."""
        base = base_url + '/compute/v2.1'
        variant = server_variant(version)
        for rank in range(len(self._servers)):
            self._server_bytes(rank, variant, base)

    def _server_bytes(self, rank, variant, base):
        cache = self._cache.get(variant)
        if cache is None:
            cache = self._cache.setdefault(variant,
                                           [None] * len(self._servers))
        data = cache[rank]
        if data is None:
            data = dumps(self._server_dict(self._servers[rank], variant,
                                           base))
            cache[rank] = data
        return data

    def _server_dict(self, s, variant, base):
        host = self._host_by_name.get(s.host) if s.host else None
        embedded, certificates, locked_reason, pinned_az = variant
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
        # Nova shows "" for a server booted from a volume, else the image
        # id and its bookmark link.
        image = {'id': s.image_id, 'links': [{
            'rel': 'bookmark',
            'href': '%s/images/%s' % (base.rsplit('/v2.1', 1)[0],
                                      s.image_id)}]} if s.image_id else ''
        host_id = hashlib.sha224(
            (s.project_id + (s.host or '')).encode()).hexdigest() \
            if s.host else ''
        task_state = self.task_states.get(s.uuid)
        status = s.status
        if task_state == 'migrating':
            status = 'MIGRATING'
        elif task_state is not None and task_state.startswith('resize'):
            status = 'RESIZE'
        d = {
            'id': s.uuid, 'name': s.name, 'status': status,
            'tenant_id': s.project_id, 'user_id': s.user_id,
            'metadata': dict(s.metadata), 'hostId': host_id,
            'image': image, 'flavor': flavor,
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
            'OS-EXT-SRV-ATTR:host': host.compute_host if host else None,
            'OS-EXT-SRV-ATTR:instance_name': 'instance-%08x'
                                             % (self._rank[s.uuid] + 1),
            'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host,
            'OS-EXT-STS:task_state': task_state,
            'OS-EXT-STS:vm_state': s.vm_state,
            'OS-EXT-STS:power_state': _POWER.get(s.vm_state, 0),
            'os-extended-volumes:volumes_attached': [],
            'security_groups': [{'name': 'default'}],
            'OS-EXT-SRV-ATTR:hostname': s.name,
            'OS-EXT-SRV-ATTR:kernel_id': '',
            'OS-EXT-SRV-ATTR:ramdisk_id': '',
            'OS-EXT-SRV-ATTR:launch_index': 0,
            'OS-EXT-SRV-ATTR:reservation_id': 'r-%08x'
                                              % (self._rank[s.uuid] + 1),
            'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
            'OS-EXT-SRV-ATTR:user_data': None,
            'locked': s.locked,
            'host_status': host_status, 'description': None, 'tags': [],
        }
        # Fields that later microversions add, as Nova adds them.
        if certificates:
            d['trusted_image_certificates'] = None
        if locked_reason:
            d['locked_reason'] = None
        if pinned_az:
            d['pinned_availability_zone'] = None
        return d

    def _filtered(self, req, listing='detail'):
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
        admin = identity.is_admin(req.token)
        if all_tenants and not admin:
            raise self.forbidden('os_compute_api:servers:%s:get_all_tenants'
                                 % listing)
        # NOTE: as Nova, which drops the filters a non-admin may not use
        # (host and node among them) instead of refusing the request.
        host = req.arg('host') if admin else None
        node = req.arg('node') if admin else None
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

    def servers_detail(self, req):
        version = self.microversion(req)
        variant = server_variant(version)
        page, full = self._page(req, self._filtered(req))
        servers = self._servers
        self.sim.neutron.charge([servers[r] for r in page])
        base = self._base(req)
        items = [self._server_bytes(r, variant, base) for r in page]
        last = self._servers[page[-1]].uuid if page else None
        return routing.json_response(
            self._listing(req, 'servers', items, full, last),
            headers=self.response_headers(version))

    def servers_index(self, req):
        version = self.microversion(req)
        page, full = self._page(req, self._filtered(req, 'index'))
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
        if rank is not None and not (
                identity.is_admin(req.token) or self._servers[rank]
                .project_id == req.token['project_id']):
            rank = None
        if rank is None:
            raise HTTPError(404, 'Instance %s could not be found.'
                            % req.params['id'])
        self.sim.neutron.charge([self._servers[rank]])
        body = b'{"server":%s}' % self._server_bytes(
            rank, server_variant(version), self._base(req))
        return routing.json_response(body,
                                     headers=self.response_headers(version))

    # -- changes made by the write side (simulator/migrations.py) ----------

    def server(self, uuid):
        """The :class:`Instance` with that uuid, or None."""
        rank = self._rank.get(uuid)
        return None if rank is None else self._servers[rank]

    def forget_bodies(self, rank):
        """Drop the cached bodies (every variant) of the server at
        ``rank``."""
        for cache in self._cache.values():
            cache[rank] = None

    def server_changed(self, uuid, old_host=None):
        """Forget the cached bodies of a server (and re-index it when
        its host changed from ``old_host``)."""
        rank = self._rank[uuid]
        self.forget_bodies(rank)
        new_host = self._servers[rank].host
        if old_host is not None and old_host != new_host:
            _unindex(self._by_host.get(old_host, []), rank)
            if new_host is not None:
                bisect.insort(self._by_host.setdefault(new_host, []), rank)

    def forget_server(self, uuid):
        """The server was deleted: no listing or show finds it again."""
        rank = self._rank.pop(uuid)
        s = self._servers[rank]
        for ranks in (self._by_host.get(s.host, []),
                      self._by_project.get(s.project_id, []), self._all):
            _unindex(ranks, rank)
        self.task_states.pop(uuid, None)


def _unindex(ranks, rank):
    index = bisect.bisect_left(ranks, rank)
    if index < len(ranks) and ranks[index] == rank:
        del ranks[index]
