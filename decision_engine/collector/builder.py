"""The parallel, three-step build of the compute model, on the shared pool.

Steps (the seed's)::

    1. os-aggregates  ||  os-services (nova-compute: zone, status)
       ||  os-server-groups?all_projects=True (2.64, limit/offset pages)
    2. os-hypervisors/detail, page after page (limit/marker)
         -> per hypervisor: its Placement inventories      } no barrier:
    3.      -> as soon as a node has its inventories:      } each node is
               servers/detail?all_tenants=1&host=<exact>    } chained alone
               (and, with usage_source = placement, at the same time
               the provider's allocations)
            -> and the provider's traits (Placement 1.6), alongside

Requests for step 1 and the first hypervisor page start together. Each
finished request chains its follow-ups at once (next page, a node's
inventories, a node's instances): a node's instances are fetched while
other nodes' inventories and later hypervisor pages are still on the wire.
Only a scope that selects hosts by aggregate or AZ makes per-host requests
wait for step 1 (they need its answer to know which hosts to ask about).

NOTE: zones come from ``os-services``, not ``os-availability-zone/detail``:
the latter leaves out every host whose service is disabled, which would put
those hosts in no zone.

Concurrency: at most ``[collector] build_workers`` requests run at once, on
workers of the shared :class:`~decision_engine.concurrency.pool.WorkerPool`;
the calling thread only merges results. Work is handed to the pool as slots
free up (``for_each_completed``), so the build never floods the pool and
never meets ``NoFreeWorker`` for more than a moment; a build started from a
pool worker when the pool is full runs its next request inline.

Completeness: a build returns a complete model or raises one
:class:`~decision_engine.model.errors.ModelBuildError` naming what failed.
Every request is retried (:mod:`decision_engine.collector.fetch`) within one
deadline (``[collector] build_timeout``); the first request that still
fails aborts the whole build. Instances are those listed under an in-scope
host; servers with no host (never scheduled) are not in the model.

Hypervisors that decisions must not use are kept out explicitly, not
fatally: an Ironic hypervisor (``hypervisor_type`` ironic; several share
one service host) is not asked about further, and a hypervisor whose
resource provider Placement does not know (its inventories answer 404: a
compute node still registering) has no capacity to plan with. Both are
listed in :attr:`ComputeModel.excluded` with the reason.

Instance listing (``[collector] servers_listing``): ``per_host`` is step 3
above, one listing per host (parallel, but each page costs nova-api its
Neutron queries, so the cloud pays Neutron at least one query per host per
build); ``all_servers`` lists ``servers/detail?all_tenants=1`` page after
page from the start of the build, alongside steps 1 and 2, and groups the
servers by host here: about ``instances / servers_page_size`` requests and
few Neutron queries, but one page after the other. A listed server waits
for its host's node (and is dropped if that node never comes: out of
scope, excluded, unknown). With ``usage_source = placement`` a host's
allocations are applied once the whole listing is in.

Cost (``ComputeModel.requests_by_service``,
``ComputeModel.neutron_queries_estimate``): the requests sent to each
service, and the Neutron queries nova-api made to answer the server
listings, estimated from the pages received
(:mod:`decision_engine.collector.downstream`).

Traits: every node's resource provider traits (``GET
/resource_providers/{uuid}/traits``, one request per host, in parallel
with its server listing), for the required and forbidden traits of the
instances' flavors (:mod:`decision_engine.strategies.constraints`).

Usage (``[collector] usage_source``): ``flavors`` derives each instance's
allocation from its embedded flavor by Nova's rules
(:mod:`decision_engine.model.allocation`), at no extra request;
``placement`` reads ``GET /resource_providers/{uuid}/allocations`` once
per host (one more request per host, in parallel with its server listing)
and uses what Placement holds: exact for migrations in progress, resize
reservations, PCPU and custom resource classes.
"""

import collections
import logging
import time

from decision_engine.concurrency import pool as pool_mod
from decision_engine.model import elements
from decision_engine.collector import downstream
from decision_engine.collector import fetch
from decision_engine.model import parse
from decision_engine.model.errors import ModelBuildError

LOG = logging.getLogger(__name__)

COMPUTE_MICROVERSION = '2.53'   # uuid hypervisor ids; flavor embedded 2.47
#: os-server-groups with one ``policy`` and ``rules`` per group
SERVER_GROUPS_MICROVERSION = '2.64'
#: groups asked for per page (Nova's default [api] max_limit)
SERVER_GROUPS_PAGE_SIZE = 1000
PLACEMENT_MICROVERSION = '1.0'
#: GET /resource_providers/{uuid}/traits exists from 1.6
TRAITS_MICROVERSION = '1.6'
USAGE_SOURCES = ('flavors', 'placement')
SERVERS_LISTINGS = ('per_host', 'all_servers')


class BuildSettings:
    """The ``[collector]`` options a build reads, fixed for the build."""

    def __init__(self, build_timeout=300, build_workers=64,
                 hypervisors_page_size=1000, servers_page_size=1000,
                 fetch_settings=None, usage_source='flavors',
                 servers_listing='per_host',
                 default_zone=elements.DEFAULT_ZONE):
        if usage_source not in USAGE_SOURCES:
            raise ValueError('usage_source must be one of %s, not %r'
                             % (', '.join(USAGE_SOURCES), usage_source))
        if servers_listing not in SERVERS_LISTINGS:
            raise ValueError('servers_listing must be one of %s, not %r'
                             % (', '.join(SERVERS_LISTINGS),
                                servers_listing))
        self.usage_source = usage_source
        self.servers_listing = servers_listing
        self.default_zone = default_zone
        self.build_timeout = build_timeout
        self.build_workers = build_workers
        self.hypervisors_page_size = hypervisors_page_size
        self.servers_page_size = servers_page_size
        self.fetch = fetch_settings or fetch.FetchSettings()

    @classmethod
    def from_conf(cls, conf):
        group = conf.collector
        return cls(group.build_timeout, group.build_workers,
                   group.hypervisors_page_size, group.servers_page_size,
                   fetch.FetchSettings.from_conf(group),
                   group.usage_source, group.servers_listing,
                   group.default_availability_zone)


class ModelBuilder:
    """Builds :class:`~decision_engine.model.elements.ComputeModel` s.

    :param transport: a transport of :mod:`decision_engine.collector.transport`
        (it holds the cloud connection).
    :param pool: the shared :class:`WorkerPool`.
    :param settings: :class:`BuildSettings`.
    """

    def __init__(self, transport, pool, settings):
        self.transport = transport
        self.pool = pool
        self.settings = settings

    def build(self, scope=None):
        """A complete model of ``scope`` (None: the whole cloud).

        :raises ModelBuildError: naming what failed.
        """
        return _Build(self, scope).run()


class _Build:
    """The state of one build; its methods run in the calling thread,
    except those named ``_fetch_*`` which run on pool workers."""

    def __init__(self, builder, scope):
        settings = builder.settings
        self.pool = builder.pool
        self.settings = settings
        self.scope = None if scope is None or scope.is_everything else scope
        self.started = time.monotonic()
        self.fetcher = fetch.Fetcher(
            builder.transport, settings.fetch,
            self.started + settings.build_timeout, settings.build_timeout)
        self.limit = max(1, min(settings.build_workers, self.pool.size))
        self.queue = collections.deque()
        self.running = {}
        self.model = elements.ComputeModel()
        self.aggregates = None
        self.aggregate_zones = {}
        self.aggregate_uuids = {}
        self.services = None
        self.server_groups = {}
        self.held = []          # hypervisors waiting for step 1 (scope)
        self.nodes = {}         # hostname -> hypervisor uuid (asked for)
        self.excluded = {}      # hypervisor uuid -> model.excluded entry
        # hostname -> {consumer: resources}, until the host's servers are in
        self.allocations = {}
        self.listed = set()     # hostnames whose servers are all in
        # servers_listing = all_servers: True once the last page is in;
        # hostname -> instances listed before their node was added.
        self.all_listed = False
        self.last_page_in = False
        self.pages_unparsed = 0
        self.unplaced = {}
        self.neutron_queries = 0    # estimate, see collector/downstream
        self.strings = {}
        self.error = None       # first failure; aborts the build

    # -- scheduling ----------------------------------------------------------

    def _add(self, fn, arg, then):
        self.queue.append((fn, arg, then))

    def _add_first(self, fn, arg, then):
        """Queue ahead of everything else: for the listing over all
        servers, whose pages follow one another (each one waiting behind
        thousands of per-host requests would stretch the whole chain)."""
        self.queue.appendleft((fn, arg, then))

    def _refill(self):
        """Submit queued work while fewer than ``limit`` run."""
        new = []
        while self.queue and len(self.running) < self.limit:
            fn, arg, then = self.queue.popleft()
            try:
                fut = self.pool.submit(fn, arg)
            except pool_mod.NoFreeWorker:
                if self.running or new:
                    # A worker frees when one of ours ends; retry then.
                    self.queue.appendleft((fn, arg, then))
                    break
                # NOTE: nothing of ours runs and the pool is full of other
                # work: run this request here rather than wait blindly.
                fut = self.pool.run_in_caller(fn, arg)
            self.running[fut] = then
            new.append(fut)
        return new

    def _completed(self, fut):
        then = self.running.pop(fut)
        if self.error is not None:
            return ()       # aborted: let the running requests drain
        try:
            if fut.cancelled():
                raise ModelBuildError('a build request was cancelled')
            then(fut.result())      # re-raises the task's ModelBuildError
        except Exception as exc:
            # NOTE: the callback does not raise: for_each_completed would
            # cancel the futures of ours not started yet, and a future
            # cancelled before it starts never gives its pool slot back.
            # Instead every worker sees the abort flag before its next
            # attempt or page, and the loop ends when they have.
            self.error = exc
            self.fetcher.aborted.set()
            self.queue.clear()
            return ()
        return self._refill()

    def run(self):
        self._add(self._fetch_aggregates, None, self._got_aggregates)
        self._add(self._fetch_services, None, self._got_services)
        self._add(self._fetch_hypervisors, None, self._got_hypervisors)
        self._add(self._fetch_server_groups, 0, self._got_server_groups)
        if self.settings.servers_listing == 'all_servers':
            self._add(self._fetch_all_servers, None,
                      self._got_all_servers_page)
        # NOTE: every request times out by the deadline, so the loop ends
        # by then; the grace only covers a request stuck past its timeout.
        grace = 5.0
        try:
            self.pool.for_each_completed(
                self._refill(), self._completed,
                timeout=self.fetcher.deadline - time.monotonic() + grace)
        except pool_mod.PoolTimeout:
            self.fetcher.aborted.set()
            raise ModelBuildError(
                'model build did not finish within [collector] '
                'build_timeout (%s s): %d request(s) still running'
                % (self.settings.build_timeout, len(self.running)))
        except BaseException:
            self.fetcher.aborted.set()
            raise
        if self.error is not None:
            if isinstance(self.error, ModelBuildError):
                raise self.error
            raise ModelBuildError('model build failed: %s: %s' % (
                type(self.error).__name__, self.error)) from self.error
        return self._finish()

    # -- step 1 --------------------------------------------------------------

    def _fetch_aggregates(self, _):
        doc = self.fetcher.get_json('compute', '/os-aggregates',
                                    microversion=COMPUTE_MICROVERSION)
        return (_parsed(parse.aggregates, doc, 'compute /os-aggregates'),
                _parsed(parse.aggregate_zones, doc,
                        'compute /os-aggregates'),
                parse.aggregate_uuids(doc))

    def _fetch_services(self, _):
        doc = self.fetcher.get_json('compute', '/os-services',
                                    {'binary': 'nova-compute'},
                                    microversion=COMPUTE_MICROVERSION)
        return _parsed(parse.compute_services, doc, 'compute /os-services')

    def _fetch_server_groups(self, offset):
        params = {'all_projects': 'True', 'limit': SERVER_GROUPS_PAGE_SIZE}
        if offset:
            params['offset'] = offset
        doc = self.fetcher.get_json('compute', '/os-server-groups', params,
                                    microversion=SERVER_GROUPS_MICROVERSION)
        return offset, _parsed(parse.server_groups, doc,
                               'compute /os-server-groups')

    def _got_server_groups(self, result):
        offset, groups = result
        # NOTE: the listing has no next link: a full page means there
        # may be more.
        if len(groups) >= SERVER_GROUPS_PAGE_SIZE:
            self._add(self._fetch_server_groups, offset + len(groups),
                      self._got_server_groups)
        for group in groups:
            self.server_groups[group.uuid] = group

    def _got_aggregates(self, result):
        self.aggregates, self.aggregate_zones, self.aggregate_uuids = result
        self._release_held()

    def _got_services(self, result):
        self.services = result
        self._release_held()

    def _release_held(self):
        if self.aggregates is None or self.services is None or \
                not self.held:
            return
        held, self.held = self.held, []
        for hyp in held:
            self._want_node(hyp)

    def _groups_of(self, hostname):
        names = tuple(name for name, hosts in self.aggregates
                      if hostname in hosts)
        service = self.services.get(hostname)
        return names, service[0] if service else None

    # -- step 2 --------------------------------------------------------------

    def _fetch_hypervisors(self, marker):
        params = {'limit': self.settings.hypervisors_page_size}
        if marker is not None:
            params['marker'] = marker
        doc = self.fetcher.get_json('compute', '/os-hypervisors/detail',
                                    params,
                                    microversion=COMPUTE_MICROVERSION)
        return _parsed(parse.hypervisors, doc,
                       'compute /os-hypervisors/detail')

    def _got_hypervisors(self, result):
        hypervisors, marker = result
        if marker is not None:
            self._add(self._fetch_hypervisors, marker, self._got_hypervisors)
        scope = self.scope
        for hyp in hypervisors:
            if scope is not None and not scope.host_by_name(hyp[1]):
                continue
            if scope is not None and scope.needs_host_groups and (
                    self.aggregates is None or self.services is None):
                self.held.append(hyp)
            else:
                self._want_node(hyp)

    def _want_node(self, hyp):
        scope = self.scope
        if scope is not None and scope.needs_host_groups and \
                not scope.host_by_groups(*self._groups_of(hyp[1])):
            return
        if len(hyp) > 5 and (hyp[5] or '').lower() == 'ironic':
            # NOTE: several Ironic nodes share one service host; they are
            # bare metal, not hosts for instances to move to.
            self._exclude(hyp, elements.IRONIC_HYPERVISOR)
            return
        if hyp[1] in self.nodes:
            raise ModelBuildError('two hypervisors have hostname %s (%s '
                                  'and %s)' % (hyp[1], self.nodes[hyp[1]],
                                               hyp[0]), host=hyp[1])
        self.nodes[hyp[1]] = hyp[0]
        self._add(self._fetch_node, hyp, self._got_node)

    def _exclude(self, hyp, reason):
        self.excluded[hyp[0]] = {
            'uuid': hyp[0], 'hostname': hyp[1], 'reason': reason,
            'hypervisor_type': hyp[5] if len(hyp) > 5 else None,
            'aggregates': [], 'availability_zone': None}

    def _fetch_node(self, hyp):
        path = '/resource_providers/%s/inventories' % hyp[0]
        try:
            doc = self.fetcher.get_json('placement', path,
                                        microversion=PLACEMENT_MICROVERSION,
                                        host=hyp[1])
        except ModelBuildError as exc:
            if exc.status == 404:
                return hyp      # Placement has no such provider (yet)
            raise
        return _parsed(parse.node, (hyp, doc),
                       'placement ' + path, host=hyp[1], star=True)

    def _got_node(self, node):
        if isinstance(node, tuple):
            del self.nodes[node[1]]
            self._exclude(node, elements.NO_RESOURCE_PROVIDER)
            return
        self.model.add_node(node)
        if self.settings.servers_listing == 'all_servers':
            add = self.model.add_instance
            for inst in self.unplaced.pop(node.hostname, ()):
                add(inst)
        else:
            # Step 3 for this node, at once.
            self._add(self._fetch_servers, (node.hostname, None),
                      self._got_servers)
        if self.settings.usage_source == 'placement':
            self._add(self._fetch_allocations, (node.uuid, node.hostname),
                      self._got_allocations)
        self._add(self._fetch_traits, node, self._got_traits)

    def _fetch_traits(self, node):
        path = '/resource_providers/%s/traits' % node.uuid
        doc = self.fetcher.get_json('placement', path,
                                    microversion=TRAITS_MICROVERSION,
                                    host=node.hostname)
        return node, _parsed(parse.provider_traits, doc, 'placement ' + path,
                             host=node.hostname)

    def _got_traits(self, result):
        node, traits = result
        # NOTE: the node is this build's own until the model is published.
        node.traits = traits

    def _fetch_allocations(self, arg):
        uuid, hostname = arg
        path = '/resource_providers/%s/allocations' % uuid
        doc = self.fetcher.get_json('placement', path,
                                    microversion=PLACEMENT_MICROVERSION,
                                    host=hostname)
        return hostname, _parsed(parse.allocations, (doc, self.strings),
                                 'placement ' + path, host=hostname,
                                 star=True)

    def _got_allocations(self, result):
        hostname, consumers = result
        if self.all_listed or hostname in self.listed:
            self._apply_allocations(hostname, consumers)
        else:
            self.allocations[hostname] = consumers

    # -- step 3 --------------------------------------------------------------

    def _fetch_servers(self, arg):
        hostname, marker = arg
        params = {'all_tenants': 1, 'host': hostname,
                  'limit': self.settings.servers_page_size}
        if marker is not None:
            params['marker'] = marker
        doc = self.fetcher.get_json('compute', '/servers/detail', params,
                                    microversion=COMPUTE_MICROVERSION,
                                    host=hostname)
        instances, next_marker = _parsed(
            parse.servers, (doc, hostname, self.scope, self.strings),
            'compute /servers/detail', host=hostname, star=True)
        return hostname, instances, next_marker, \
            downstream.neutron_queries(doc['servers'])

    def _got_servers(self, result):
        hostname, instances, marker, neutron_queries = result
        self.neutron_queries += neutron_queries
        if marker is not None:
            self._add(self._fetch_servers, (hostname, marker),
                      self._got_servers)
        add = self.model.add_instance
        for inst in instances:
            add(inst)
        if marker is None and self.settings.usage_source == 'placement':
            consumers = self.allocations.pop(hostname, None)
            if consumers is None:
                self.listed.add(hostname)
            else:
                self._apply_allocations(hostname, consumers)

    # -- step 3, servers_listing = all_servers ------------------------------

    def _fetch_all_servers(self, marker):
        params = {'all_tenants': 1, 'limit': self.settings.servers_page_size}
        if marker is not None:
            params['marker'] = marker
        doc = self.fetcher.get_json('compute', '/servers/detail', params,
                                    microversion=COMPUTE_MICROVERSION)
        return doc, _parsed(parse.servers_marker, doc,
                            'compute /servers/detail')

    def _got_all_servers_page(self, result):
        # NOTE: the next page is asked for before this one is parsed: the
        # pages follow one another, the parsing need not hold them up.
        doc, marker = result
        self.pages_unparsed += 1
        self._add_first(self._parse_all_servers, doc, self._got_all_servers)
        if marker is not None:
            self._add_first(self._fetch_all_servers, marker,
                            self._got_all_servers_page)
        else:
            self.last_page_in = True

    def _parse_all_servers(self, doc):
        instances, _ = _parsed(
            parse.servers, (doc, None, self.scope, self.strings),
            'compute /servers/detail', star=True)
        return instances, downstream.neutron_queries(doc['servers'])

    def _got_all_servers(self, result):
        instances, neutron_queries = result
        self.pages_unparsed -= 1
        self.neutron_queries += neutron_queries
        model = self.model
        add = model.add_instance
        node_of = model.get_node_by_hostname
        scope = self.scope
        unplaced = self.unplaced
        for inst in instances:
            if node_of(inst.host) is not None:
                add(inst)
            elif scope is None or scope.host_by_name(inst.host):
                # NOTE: its node may still come (a later hypervisor page,
                # inventories on the wire, a scope waiting for step 1).
                unplaced.setdefault(inst.host, []).append(inst)
        if self.last_page_in and not self.pages_unparsed:
            self.all_listed = True
            waiting, self.allocations = self.allocations, {}
            for hostname, consumers in waiting.items():
                self._apply_allocations(hostname, consumers)

    # -- the end -------------------------------------------------------------

    def _finish(self):
        model = self.model
        if self.aggregates is None or self.services is None or self.held \
                or self.queue or self.running or self.allocations:
            raise ModelBuildError('internal error: the build ended with '
                                  'work left')
        members = collections.defaultdict(list)
        for name, hosts in self.aggregates:
            for host in hosts:
                members[host].append(name)
        for node in model.nodes.values():
            node.aggregates = tuple(members.get(node.hostname, ()))
            service = self.services.get(node.hostname)
            if service is not None:
                node.availability_zone = service[0]
        missing = [e for e in self.excluded.values()
                   if e['reason'] == elements.NO_RESOURCE_PROVIDER]
        if missing and not model.nodes:
            # NOTE: not one provider known: more likely a wrong Placement
            # endpoint than a cloud whose every node is still registering.
            raise ModelBuildError(
                'Placement has no resource provider for any of the %d '
                'hypervisor(s) (e.g. %s): check the [placement] endpoint'
                % (len(missing), missing[0]['uuid']))
        for entry in self.excluded.values():
            entry['aggregates'] = list(members.get(entry['hostname'], ()))
            service = self.services.get(entry['hostname'])
            entry['availability_zone'] = service[0] if service else None
        model.excluded = self.excluded
        model.usage_source = self.settings.usage_source
        model.index_groups(self.aggregates)
        model.aggregate_zones = self.aggregate_zones
        model.aggregate_uuids = self.aggregate_uuids
        model.default_zone = self.settings.default_zone
        self._check_default_zone(model, members)
        model.set_server_groups(self.server_groups.values())
        model.build_seconds = time.monotonic() - self.started
        model.built_at = time.time()
        model.requests = self.fetcher.requests
        model.requests_by_service = self.fetcher.requests_by_service
        model.neutron_queries_estimate = self.neutron_queries
        model.servers_listing = self.settings.servers_listing
        model.scope = self.scope
        # NOTE: the servers of hosts that never got a node (out of scope,
        # excluded, unknown to Placement) are not in the model.
        self.unplaced = {}
        by_service = model.requests_by_service
        LOG.info('Compute model built in %.2f s with %d requests (compute '
                 '%d, placement %d; servers listed %s, costing Nova an '
                 'estimated %d Neutron queries): %d nodes, %d instances, '
                 '%d hypervisors excluded, usage from %s%s',
                 model.build_seconds, model.requests,
                 by_service.get('compute', 0), by_service.get('placement', 0),
                 model.servers_listing, model.neutron_queries_estimate,
                 len(model.nodes), len(model.instances), len(model.excluded),
                 model.usage_source,
                 ' (scope %r)' % (self.scope,) if self.scope else '')
        return model

    def _check_default_zone(self, model, members):
        """Warn when Nova's zone of a host in no zone aggregate is not
        ``[collector] default_availability_zone``: the event-fed model
        would give such a host the option's zone after an aggregate
        change, unlike Nova and the next full build."""
        zoned = self.aggregate_zones
        for node in model.nodes.values():
            if node.availability_zone is None or any(
                    name in zoned for name in members.get(node.hostname, ())):
                continue
            if node.availability_zone != model.default_zone:
                LOG.warning(
                    'Nova puts host %s, in no zone aggregate, in zone %r, '
                    'but [collector] default_availability_zone is %r: set '
                    'it as Nova\'s [DEFAULT] default_availability_zone',
                    node.hostname, node.availability_zone,
                    model.default_zone)
                return

    def _apply_allocations(self, hostname, consumers):
        """Each instance of ``hostname`` gets what Placement holds for it
        there; what other consumers hold there (a migration's allocation
        on its source, instances out of scope) is the node's ``held``.

        Called once the host has both its allocations and its last page of
        servers.
        """
        # NOTE: at once rather than at the end of the build: a provider's
        # allocations (a uuid string and an entry per consumer) are then
        # kept only while the host's servers are still on the wire.
        model = self.model
        for inst in model.instances_on(hostname):
            inst.resources = consumers.pop(inst.uuid, {})
        held = {}
        for resources in consumers.values():
            for rc, amount in resources.items():
                held[rc] = held.get(rc, 0) + amount
        if held:
            # NOTE: otherwise the node keeps its shared empty held (one
            # dict, not one per host).
            model.get_node_by_hostname(hostname).held = held
            model.held_by[hostname] = consumers


def _parsed(fn, arg, endpoint, host=None, star=False):
    try:
        return fn(*arg) if star else fn(arg)
    except parse.BadDocument as exc:
        raise ModelBuildError('GET %s%s: unexpected response: %s' % (
            endpoint, ' for host %s' % host if host else '', exc),
            endpoint, host)
