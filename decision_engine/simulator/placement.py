"""Placement emulation (microversions 1.0 .. 1.39), served under
``/placement``.

One resource provider per host that has one (``Host.resource_provider``):
uuid == hypervisor id (``Host.uuid``), name == hypervisor hostname, as
real Nova creates them.  Inventories hold VCPU, MEMORY_MB and DISK_GB
from the host's capacity, reserved amounts and allocation ratios, and PCPU
when the host has dedicated CPUs; an Ironic node's provider holds one
``CUSTOM_BAREMETAL``.  Allocations are what Nova would have written
(:mod:`.nova_allocations`: no root disk for volume-backed servers, swap
rounded up to GiB, PCPU for dedicated flavors, migration holds on the
source); usages are their sums.  Each provider's traits (1.6 and later)
are its host's ``traits``, plus ``COMPUTE_STATUS_DISABLED`` while the
compute service is disabled, as Nova's compute manager keeps them.
Unknown query parameters are a 400, as Placement's strict schemas make
them.  Bodies are pre-serialized.
"""

from decision_engine.simulator import nova_allocations
from decision_engine.simulator import routing
from decision_engine.simulator.routing import HTTPError, Route, dumps

MIN_VERSION = (1, 0)
MAX_VERSION = (1, 39)
#: GET /resource_providers/{uuid}/traits exists from this microversion
TRAITS_VERSION = (1, 6)
#: the trait Nova's compute manager sets on its provider while the
#: compute service is disabled (and its scheduler forbids)
STATUS_DISABLED_TRAIT = 'COMPUTE_STATUS_DISABLED'
_TITLES = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
           404: 'Not Found',
           406: 'Not Acceptable', 429: 'Too Many Requests',
           500: 'Internal Server Error', 502: 'Bad Gateway',
           503: 'Service Unavailable'}


class PlacementService:
    name = 'placement'
    prefix = '/placement'

    def __init__(self, sim):
        self.sim = sim
        topo = sim.topology
        self._hosts = sorted(topo.hosts, key=lambda h: h.id)
        self._by_uuid = {h.uuid: h for h in topo.hosts}
        self._aggs_of = {}
        for a in topo.aggregates:
            for hostname in a.hosts:
                self._aggs_of.setdefault(hostname, set()).add(a.uuid)
        self._hosts = [h for h in self._hosts if h.resource_provider]
        self._by_uuid = {h.uuid: h for h in self._hosts}
        allocations = nova_allocations.provider_allocations(topo)
        self._rp = {h.uuid: self._rp_dict(h) for h in self._hosts}
        self._rp_bytes = {u: dumps(d) for u, d in self._rp.items()}
        self._inventories = {h.uuid: dumps(self._inventory_dict(h))
                             for h in self._hosts}
        self._usages = {}
        self._allocations = {}
        for h in self._hosts:
            consumers = allocations.get(h.uuid, {})
            used = {}
            for resources in consumers.values():
                for rc, amount in resources.items():
                    used[rc] = used.get(rc, 0) + amount
            self._usages[h.uuid] = dumps({
                'resource_provider_generation': 1, 'usages': used})
            self._allocations[h.uuid] = dumps({
                'resource_provider_generation': 1,
                'allocations': {c: {'resources': r}
                                for c, r in consumers.items()}})
        self._all = b'{"resource_providers":[%s]}' % b','.join(
            self._rp_bytes[h.uuid] for h in self._hosts)

    def set_usage(self, host_uuid, usages, generation, consumers=None):
        """New ``{class: amount}`` usages of a provider and, when given,
        its ``{consumer: {class: amount}}`` allocations (written by
        simulator/migrations.py when allocations move)."""
        if host_uuid in self._usages:
            self._usages[host_uuid] = dumps({
                'resource_provider_generation': generation,
                'usages': dict(usages)})
        if consumers is not None and host_uuid in self._allocations:
            self._allocations[host_uuid] = dumps({
                'resource_provider_generation': generation,
                'allocations': {c: {'resources': dict(r)}
                                for c, r in consumers.items()}})

    def inventories_of(self, host):
        """``{class: inventory}`` of a host's provider, from its record
        as it is now (for the write side's capacity checks)."""
        return self._inventory_dict(host)['inventories']

    def routes(self):
        return [
            Route('GET', r'', '/placement', self.root, auth=False),
            Route('GET', r'/resource_providers',
                  '/placement/resource_providers', self.providers,
                  policy='placement:resource_providers:list'),
            Route('GET', r'/resource_providers/(?P<uuid>[^/]+)',
                  '/placement/resource_providers/{uuid}', self.provider,
                  policy='placement:resource_providers:show'),
            Route('GET', r'/resource_providers/(?P<uuid>[^/]+)/inventories',
                  '/placement/resource_providers/{uuid}/inventories',
                  self.inventories,
                  policy='placement:resource_providers:inventories:list'),
            Route('GET', r'/resource_providers/(?P<uuid>[^/]+)/usages',
                  '/placement/resource_providers/{uuid}/usages',
                  self.usages,
                  policy='placement:resource_providers:usages'),
            Route('GET', r'/resource_providers/(?P<uuid>[^/]+)/traits',
                  '/placement/resource_providers/{uuid}/traits',
                  self.traits,
                  policy='placement:resource_providers:traits:list'),
            Route('GET', r'/resource_providers/(?P<uuid>[^/]+)/allocations',
                  '/placement/resource_providers/{uuid}/allocations',
                  self.allocations,
                  policy='placement:resource_providers:allocations:list'),
        ]

    #: Placement's ``admin_or_service_api`` rule, the default of every
    #: route here.
    policy_roles = frozenset(['admin', 'service'])
    policy_message = 'Policy does not allow %s to be performed.'

    def error(self, status, message):
        return routing.json_response({'errors': [{
            'status': status, 'title': _TITLES.get(status, 'Error'),
            'detail': message, 'request_id': None}]}, status)

    def _version(self, req):
        version = routing.requested_microversion(
            req.headers, 'placement', None, MIN_VERSION, MAX_VERSION)
        return {'OpenStack-API-Version': 'placement %d.%d' % version,
                'Vary': 'OpenStack-API-Version'}

    def _rp_dict(self, h):
        base = '/placement/resource_providers/' + h.uuid
        return {
            'uuid': h.uuid, 'name': h.hostname, 'generation': 1,
            'parent_provider_uuid': None, 'root_provider_uuid': h.uuid,
            'links': [{'rel': 'self', 'href': base}] + [
                {'rel': rel, 'href': base + '/' + rel}
                for rel in ('inventories', 'usages', 'aggregates',
                            'traits', 'allocations')],
        }

    @staticmethod
    def _inventory_dict(h):
        def inv(total, reserved, ratio):
            return {'total': total, 'reserved': reserved,
                    'allocation_ratio': ratio, 'min_unit': 1,
                    'max_unit': total, 'step_size': 1}
        if h.is_ironic:
            # NOTE: Nova's ironic driver reports the node's resource class
            # only (one unit), no VCPU, MEMORY_MB or DISK_GB.
            return {'resource_provider_generation': 1, 'inventories': {
                nova_allocations.IRONIC_CLASS: inv(1, 0, 1.0)}}
        inventories = {
            'VCPU': inv(h.vcpus, h.vcpus_reserved, h.cpu_allocation_ratio),
            'MEMORY_MB': inv(h.memory_mb, h.memory_mb_reserved,
                             h.ram_allocation_ratio),
            'DISK_GB': inv(h.disk_gb, h.disk_gb_reserved,
                           h.disk_allocation_ratio),
        }
        if h.pcpus:
            # Nova fixes the PCPU allocation ratio at 1.0.
            inventories['PCPU'] = inv(h.pcpus, h.pcpus_reserved, 1.0)
        return {'resource_provider_generation': 1,
                'inventories': inventories}

    def root(self, req):
        return routing.json_response({'versions': [{
            'id': 'v1.0', 'status': 'CURRENT',
            'min_version': '%d.%d' % MIN_VERSION,
            'max_version': '%d.%d' % MAX_VERSION,
            'links': [{'rel': 'self', 'href': ''}]}]},
            headers=self._version(req))

    def providers(self, req):
        headers = self._version(req)
        allowed = {'name', 'uuid', 'member_of'}
        for key, _ in req.query:
            if key not in allowed:
                raise HTTPError(400, "Invalid query string parameters: "
                                "'%s' was unexpected" % key)
        name, uuid = req.arg('name'), req.arg('uuid')
        member_of = req.arg('member_of')
        if name is None and uuid is None and member_of is None:
            return routing.json_response(self._all, headers=headers)
        wanted = None
        if member_of is not None:
            wanted = set(member_of[3:].split(',')
                         if member_of.startswith('in:') else [member_of])
        hosts = [h for h in self._hosts
                 if (name is None or h.hostname == name)
                 and (uuid is None or h.uuid == uuid)
                 and (wanted is None
                      or wanted & self._aggs_of.get(h.hostname, set()))]
        body = b'{"resource_providers":[%s]}' % b','.join(
            self._rp_bytes[h.uuid] for h in hosts)
        return routing.json_response(body, headers=headers)

    def _lookup(self, req, table):
        uuid = req.params['uuid']
        data = table.get(uuid)
        if data is None:
            raise HTTPError(404, 'No resource provider with uuid %s found'
                            % uuid)
        return data

    def provider(self, req):
        headers = self._version(req)
        return routing.json_response(self._lookup(req, self._rp_bytes),
                                     headers=headers)

    def inventories(self, req):
        headers = self._version(req)
        return routing.json_response(self._lookup(req, self._inventories),
                                     headers=headers)

    def usages(self, req):
        headers = self._version(req)
        return routing.json_response(self._lookup(req, self._usages),
                                     headers=headers)

    def traits(self, req):
        headers = self._version(req)
        if routing.requested_microversion(
                req.headers, 'placement', None, MIN_VERSION,
                MAX_VERSION) < TRAITS_VERSION:
            # NOTE: Placement has no such route before 1.6
            raise HTTPError(404, 'The resource could not be found.')
        host = self._lookup(req, self._by_uuid)
        return routing.json_response({
            'resource_provider_generation': 1,
            'traits': provider_traits(host)}, headers=headers)

    def allocations(self, req):
        headers = self._version(req)
        return routing.json_response(self._lookup(req, self._allocations),
                                     headers=headers)


def provider_traits(host):
    """The sorted traits of a host's resource provider as they are now:
    those of its record, and ``COMPUTE_STATUS_DISABLED`` while its compute
    service is disabled (Nova sets and removes it)."""
    traits = set(host.traits)
    if host.status == 'disabled':
        traits.add(STATUS_DISABLED_TRAIT)
    return sorted(traits)
