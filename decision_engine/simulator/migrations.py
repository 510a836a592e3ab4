"""Nova's write side, as far as the applier needs it: server moves and
compute service changes.

Routes (under ``/compute/v2.1``), with Nova's request bodies and checks:

* ``POST /servers/{id}/action`` ``{"os-migrateLive": {"host",
  "block_migration"}}`` (``block_migration: "auto"`` from 2.25, ``force``
  2.30-2.67), ``{"migrate": {"host"}}`` (``host`` from 2.56),
  ``{"confirmResize": null}``; 202 with no body. A locked server is 409, a
  server in a task state (a second migration) is 409, a live migration of
  a server not ACTIVE/PAUSED is 409, an unknown, down, disabled or full
  destination (or the server's own host) is 400, and so is one Nova's
  server-group filters refuse (unless the live migration is forced):
  anti-affinity with ``max_server_per_host``, affinity (the group's hosts
  include the moving member's own), and the traits of the flavor
  (``trait:NAME=required`` the destination's resource provider must have,
  ``trait:NAME=forbidden`` it must not have: the Placement query Nova's
  scheduler makes).
* ``PUT /os-services/{id}`` (2.53+, ``id`` is the service uuid)
  ``{"status": "enabled"|"disabled", "disabled_reason"}``; 200 with the
  service.
* ``DELETE /servers/{id}``: 204 (tests delete servers behind a plan).

Notifications: a service change sends Nova's ``service.update`` (through
:attr:`ComputeWrites.notify`); moves send none yet.

State progression (on the simulator's clock, settled at every request,
so no thread runs per migration): a live migration is ``migrating``
(status MIGRATING) for ``duration_s`` (+/- ``jitter``), then the server is
ACTIVE on the destination. As Nova's ``max_concurrent_live_migrations``
(default 1), at most that many live migrations run per source compute;
the others wait (queued, still MIGRATING). A cold migration goes
``resize_prep`` -> ``resize_migrating`` -> ``resize_migrated`` ->
``resize_finish`` (status RESIZE) -> VERIFY_RESIZE on the destination;
``confirmResize`` makes it ACTIVE and frees the source. While a server
moves, both hosts count its resources (Placement usages, hypervisor
``*_used``), as Nova's migration allocations do.

Faults: ``fail_ratio`` of migrations (seeded), and every migration of a
server in ``fail_servers``, fail at their end: the server rolls back ACTIVE
on the source, the destination's allocation is dropped, and the
migration record says ``error`` with a fault message.

Every write is appended to :meth:`ComputeWrites.request_log` (method,
path, microversion, JSON body, time) and every migration to
:meth:`ComputeWrites.migrations` (server, source, destination, kind,
started, ended, outcome), for tests.
"""

import heapq
import itertools
import json
import random
import threading
import time
import uuid as uuid_mod

from decision_engine.simulator import identity
from decision_engine.simulator import notifier as notifier_mod
from decision_engine.simulator import nova_allocations
from decision_engine.simulator import placement as placement_mod
from decision_engine.simulator import routing
from decision_engine.simulator.routing import HTTPError, Route

LIVE_STATES = ('active', 'paused')
COLD_STATES = ('active', 'stopped')
_COLD_STEPS = ('resize_prep', 'resize_migrating', 'resize_migrated',
               'resize_finish')


class ComputeWrites:
    """See the module docstring. ``compute`` and ``placement`` are the
    simulator's read-side services, told of every change."""

    def __init__(self, topology, compute, placement, duration_s=1.0,
                 jitter=0.2, fail_ratio=0.0, seed=0,
                 max_concurrent_live_migrations=1, clock=time.monotonic):
        self.topology = topology
        self.compute = compute
        self.placement = placement
        self.clock = clock
        self._lock = threading.RLock()
        self._events = []
        self._seq = itertools.count()
        self._log = []
        self._migrations = []
        self._queued = {}      # source host -> [migration, ...]
        self._running_live = {}   # source host -> count
        self.fail_servers = set()
        #: ``(publisher, event_type, payload) -> None``: sends one of
        #: Nova's notifications (the simulator's, when it has a notifier).
        self.notify = lambda publisher, event_type, payload: None
        self.configure(duration_s=duration_s, jitter=jitter,
                       fail_ratio=fail_ratio, seed=seed,
                       max_concurrent_live_migrations=(
                           max_concurrent_live_migrations))
        self._hosts = {h.hostname: h for h in topology.hosts}
        # NOTE: usage per resource class as Placement holds it (the
        # allocations Nova writes: PCPU for dedicated CPUs, swap and no
        # root disk for a volume-backed server...), plus the hypervisor's
        # own (vcpus, ram, disk, count) view.
        self._used = {h.hostname: {} for h in topology.hosts}
        self._hyp = {h.hostname: [0, 0, 0, 0] for h in topology.hosts}
        for inst in topology.instances:
            if inst.host in self._used:
                self._add(inst.host, inst, 1)
        # NOTE: Placement's consumers per provider, as Nova moves them: a
        # move puts the instance's allocation on the source under the
        # migration's uuid and claims the destination under the
        # instance's; confirm (cold) or the end (live) deletes the
        # migration's, a failure gives it back to the instance.
        hostname_of = {h.uuid: h.hostname for h in topology.hosts}
        self._consumers = {h.hostname: {} for h in topology.hosts}
        for rp, consumers in nova_allocations.provider_allocations(
                topology).items():
            self._consumers[hostname_of[rp]] = {
                c: dict(r) for c, r in consumers.items()}
        for inst in topology.instances:
            source = inst.migration_source
            if source in self._used and inst.migration_uuid in \
                    self._consumers[source]:
                used = self._used[source]
                for name, amount in self._consumers[source][
                        inst.migration_uuid].items():
                    used[name] = used.get(name, 0) + amount
        self._generation = {h.hostname: 1 for h in topology.hosts}

    def configure(self, duration_s=None, jitter=None, fail_ratio=None,
                  seed=None, max_concurrent_live_migrations=None):
        """Change how migrations behave (for the ones requested next)."""
        with self._lock:
            if duration_s is not None:
                self.duration_s = _number(duration_s, 'duration_s', 0)
            if jitter is not None:
                self.jitter = _number(jitter, 'jitter', 0, 1)
            if fail_ratio is not None:
                self.fail_ratio = _number(fail_ratio, 'fail_ratio', 0, 1)
            if seed is not None:
                self._rng = random.Random(seed)
            if max_concurrent_live_migrations is not None:
                self.max_live = int(_number(
                    max_concurrent_live_migrations,
                    'max_concurrent_live_migrations', 1))

    def settings(self):
        return {'duration_s': self.duration_s, 'jitter': self.jitter,
                'fail_ratio': self.fail_ratio,
                'max_concurrent_live_migrations': self.max_live,
                'fail_servers': sorted(self.fail_servers)}

    def routes(self):
        return [
            Route('POST', r'/v2\.1/servers/(?P<id>[^/]+)/action',
                  '/compute/v2.1/servers/{id}/action', self.server_action),
            # NOTE: not /servers/detail, which stays GET only (405).
            Route('DELETE', r'/v2\.1/servers/(?P<id>(?!detail/?\Z)[^/]+)',
                  '/compute/v2.1/servers/{id}', self.server_delete),
            Route('PUT', r'/v2\.1/os-services/(?P<id>[^/]+)',
                  '/compute/v2.1/os-services/{id}', self.service_update,
                  policy='os_compute_api:os-services:update'),
        ]

    # -- what tests read ---------------------------------------------------

    def request_log(self):
        with self._lock:
            return [dict(entry) for entry in self._log]

    def migrations(self):
        self.settle()
        with self._lock:
            return [dict(m) for m in self._migrations]

    def reset_log(self):
        with self._lock:
            self._log = []

    # -- the clock ---------------------------------------------------------

    def settle(self):
        """Apply every state change due by now (called per request)."""
        now = self.clock()
        with self._lock:
            while self._events and self._events[0][0] <= now:
                due, _, fn = heapq.heappop(self._events)
                fn(due)

    def _at(self, when, fn):
        heapq.heappush(self._events, (when, next(self._seq), fn))

    # -- handlers ----------------------------------------------------------

    def _record(self, req, version, body):
        self._log.append({'method': req.method, 'path': req.path,
                          'microversion': '%d.%d' % version, 'body': body,
                          'at': self.clock()})

    def server_action(self, req):
        version = self.compute.microversion(req)
        body = req.json()
        with self._lock:
            self._record(req, version, body)
            if not isinstance(body, dict) or len(body) != 1:
                raise HTTPError(400, 'Invalid input for field/attribute '
                                'action: exactly one action is expected.')
            name, args = next(iter(body.items()))
            inst = self._server(req.params['id'], req.token)
            self._authorize(req.token, name, args)
            if name == 'os-migrateLive':
                self._live(inst, args, version)
            elif name == 'migrate':
                self._cold(inst, args, version)
            elif name == 'confirmResize':
                self._confirm(inst)
            else:
                raise HTTPError(400, 'There is no such action: %s' % name)
        return routing.Response(202, b'',
                                self.compute.response_headers(version))

    def server_delete(self, req):
        version = self.compute.microversion(req)
        with self._lock:
            self._record(req, version, None)
            inst = self._server(req.params['id'], req.token)
            if self.compute.task_states.get(inst.uuid) is not None:
                raise HTTPError(409, 'Cannot delete instance %s while it '
                                'is migrating (simulator)' % inst.uuid)
            if inst.host in self._used:
                self._add(inst.host, inst, -1)
                self._consumers[inst.host].pop(inst.uuid, None)
            # NOTE: Nova confirms a resize waiting for it before deleting.
            for record in self._migrations:
                if record['server'] == inst.uuid and \
                        record['outcome'] == 'finished':
                    self._confirmed(inst, record)
            self.compute.forget_server(inst.uuid)
            self.topology.instances.remove(inst)
            if inst.host in self._hosts:
                self._usage_changed(inst.host)
        return routing.Response(204, b'',
                                self.compute.response_headers(version))

    def service_update(self, req):
        version = self.compute.microversion(req)
        body = req.json()
        with self._lock:
            self._record(req, version, body)
            if version < (2, 53):
                raise HTTPError(404, 'The resource could not be found.')
            host = next((h for h in self.topology.hosts
                         if h.service_uuid == req.params['id']), None)
            if host is None:
                raise HTTPError(404, 'Service %s not found.'
                                % req.params['id'])
            if not isinstance(body, dict) or not body or set(body) - {
                    'status', 'disabled_reason', 'forced_down'}:
                raise HTTPError(400, 'Invalid input: expected status, '
                                'disabled_reason and/or forced_down.')
            status = body.get('status', host.status)
            if status not in ('enabled', 'disabled'):
                raise HTTPError(400, "Invalid input for field/attribute "
                                "status. Value: %r." % status)
            reason = body.get('disabled_reason')
            if reason is not None and status != 'disabled':
                raise HTTPError(400, 'Specifying a disabled reason is not '
                                'supported when the status is enabled.')
            before = (host.status, host.disabled_reason, host.state)
            host.status = status
            host.disabled_reason = reason if status == 'disabled' else None
            if 'forced_down' in body:
                host.state = 'down' if body['forced_down'] else 'up'
            self.compute.host_changed(host.hostname)
            if (host.status, host.disabled_reason, host.state) != before:
                # NOTE: as Nova, only a change of disabled,
                # disabled_reason or forced_down is notified.
                self.notify('nova-api:controller', 'service.update',
                            notifier_mod.service_payload(
                                host, notifier_mod.now()))
            service = {'id': host.service_uuid, 'binary': 'nova-compute',
                       'host': host.hostname, 'status': host.status,
                       'state': host.state,
                       'disabled_reason': host.disabled_reason,
                       'forced_down': host.state == 'down',
                       'zone': host.availability_zone,
                       'updated_at': '2024-01-01T00:00:00.000000'}
        return routing.json_response(
            {'service': service}, headers=self.compute.response_headers(
                version))

    # -- checks, as Nova's API and scheduler make them ---------------------

    def _server(self, uuid, scope):
        """The server, 404 when unknown or, for a non-admin, of another
        project (Nova looks servers up in the caller's project)."""
        inst = self.compute.server(uuid)
        if inst is None or not (identity.is_admin(scope)
                                or inst.project_id == scope['project_id']):
            raise HTTPError(404, 'Instance %s could not be found.' % uuid)
        return inst

    def _authorize(self, scope, action, args):
        """Nova's default rules of the moves: a project manager may move
        its own servers, only an admin may name the destination host
        (which the simulator, having no scheduler, always needs)."""
        rules = {'os-migrateLive': 'migrate_live', 'migrate': 'migrate'}
        if action not in rules or identity.is_admin(scope):
            return
        rule = 'os_compute_api:os-migrate-server:' + rules[action]
        if 'manager' not in scope['roles']:
            raise self.compute.forbidden(rule)
        if isinstance(args, dict) and args.get('host'):
            raise self.compute.forbidden(rule + ':host')

    def _check_movable(self, inst, action, allowed):
        if inst.locked:
            raise HTTPError(409, 'Instance %s is locked' % inst.uuid)
        task = self.compute.task_states.get(inst.uuid)
        if task is not None:
            raise HTTPError(409, "Cannot '%s' instance %s while it is in "
                            "task_state %s" % (action, inst.uuid, task))
        if inst.vm_state not in allowed:
            raise HTTPError(409, "Cannot '%s' instance %s while it is in "
                            "vm_state %s" % (action, inst.uuid,
                                             inst.vm_state))

    def _check_destination(self, inst, hostname, forced=False):
        host = self._hosts.get(hostname)
        if host is None:
            raise HTTPError(400, 'Compute host %s could not be found.'
                            % hostname)
        if hostname == inst.host:
            raise HTTPError(400, 'The requested host %s is the current '
                            'host of instance %s.' % (hostname, inst.uuid))
        if host.status != 'enabled' or host.state != 'up' \
                or host.power_state != 'power on':
            raise HTTPError(400, 'No valid host was found. Host %s is '
                            'not available (service %s, %s).'
                            % (hostname, host.status, host.state))
        used = self._used[hostname]
        inventories = self.placement.inventories_of(host)
        for name, want in sorted(self._resources(inst).items()):
            inv = inventories.get(name)
            limit = 0 if inv is None else \
                (inv['total'] - inv['reserved']) * inv['allocation_ratio']
            have = used.get(name, 0)
            if have + want > limit:
                raise HTTPError(400, 'No valid host was found. Host %s '
                                'has not enough %s (%s used + %s > %s).'
                                % (hostname, name, have, want, limit))
        if not forced:
            self._check_traits(inst, host)
            self._check_group(inst, hostname)
        return host

    def _check_traits(self, inst, host):
        """The flavor's required and forbidden traits against the
        destination provider's: Nova puts them in the Placement query of
        the move, which then returns no candidate for that host."""
        have = set(placement_mod.provider_traits(host))
        for key, value in sorted(inst.flavor.extra_specs.items()):
            if not key.startswith('trait:'):
                continue
            trait, value = key[len('trait:'):], str(value).lower()
            if value == 'required' and trait not in have:
                raise HTTPError(400, 'No valid host was found. Host %s '
                                'lacks trait %s that flavor %s requires.'
                                % (host.hostname, trait, inst.flavor.name))
            if value == 'forbidden' and trait in have:
                raise HTTPError(400, 'No valid host was found. Host %s has '
                                'trait %s that flavor %s forbids.'
                                % (host.hostname, trait, inst.flavor.name))

    def _check_group(self, inst, hostname):
        """Nova's ServerGroupAntiAffinityFilter and
        ServerGroupAffinityFilter on the requested host: the group's hosts
        are those of all its members, the moving one included."""
        group = self.topology.server_group_of(inst.uuid)
        if group is None:
            return
        hosts = {}
        for member in group.members:
            server = self.compute.server(member)
            if server is not None and server.host is not None:
                hosts[member] = server.host
        if group.policy == 'anti-affinity':
            limit = group.rules.get('max_server_per_host', 1)
            there = sum(1 for m, h in hosts.items()
                        if h == hostname and m != inst.uuid)
            if there >= limit:
                raise HTTPError(400, 'No valid host was found. Host %s runs '
                                '%d member(s) of anti-affinity server group '
                                '%s (ServerGroupAntiAffinityFilter).'
                                % (hostname, there, group.uuid))
        elif group.policy == 'affinity':
            if hostname not in set(hosts.values()):
                raise HTTPError(400, 'No valid host was found. Host %s runs '
                                'no member of affinity server group %s '
                                '(ServerGroupAffinityFilter).'
                                % (hostname, group.uuid))

    # -- moves -------------------------------------------------------------

    def _live(self, inst, args, version):
        if not isinstance(args, dict):
            raise HTTPError(400, 'Invalid input for os-migrateLive.')
        allowed = {'host', 'block_migration'}
        if version < (2, 25):
            allowed.add('disk_over_commit')
        if (2, 30) <= version < (2, 68):
            allowed.add('force')
        extra = set(args) - allowed
        if extra:
            raise HTTPError(400, "Invalid input for field/attribute "
                            "os-migrateLive. Additional properties are not "
                            "allowed (%s were unexpected)"
                            % ', '.join(repr(e) for e in sorted(extra)))
        block = args.get('block_migration')
        if block == 'auto' and version < (2, 25):
            raise HTTPError(400, "block_migration 'auto' needs "
                            "microversion 2.25")
        if 'block_migration' not in args:
            raise HTTPError(400, "'block_migration' is a required property")
        self._check_movable(inst, 'os-migrateLive', LIVE_STATES)
        if not args.get('host'):
            raise HTTPError(400, 'the simulator has no scheduler: a '
                            'destination host is required')
        self._check_destination(inst, args['host'],
                                forced=bool(args.get('force')))
        self._begin(inst, args['host'], 'live')

    def _cold(self, inst, args, version):
        if args is not None and not isinstance(args, dict):
            raise HTTPError(400, 'Invalid input for migrate.')
        args = args or {}
        if 'host' in args and version < (2, 56):
            raise HTTPError(400, "Invalid input for field/attribute "
                            "migrate. Additional properties are not allowed "
                            "('host' was unexpected)")
        self._check_movable(inst, 'migrate', COLD_STATES)
        if not args.get('host'):
            raise HTTPError(400, 'the simulator has no scheduler: a '
                            'destination host is required')
        self._check_destination(inst, args['host'])
        self._begin(inst, args['host'], 'cold')

    def _confirm(self, inst):
        if inst.vm_state != 'resized':
            raise HTTPError(409, "Cannot 'confirmResize' instance %s while "
                            "it is in vm_state %s" % (inst.uuid,
                                                      inst.vm_state))
        record = next(m for m in reversed(self._migrations)
                      if m['server'] == inst.uuid)
        inst.vm_state = record.pop('_vm_state', 'active')
        self._confirmed(inst, record)
        self.compute.server_changed(inst.uuid)

    def _confirmed(self, inst, record):
        self._add(record['source'], inst, -1)
        self._consumers[record['source']].pop(record['uuid'], None)
        record['outcome'] = 'confirmed'
        record['ended'] = self.clock()
        self._usage_changed(record['source'])

    def _begin(self, inst, dest, kind):
        record = {'server': inst.uuid, 'source': inst.host,
                  'destination': dest, 'kind': kind,
                  'uuid': str(uuid_mod.uuid4()),
                  'requested': self.clock(), 'started': None,
                  'ended': None, 'outcome': 'queued', 'fault': None,
                  '_vm_state': inst.vm_state}
        self._migrations.append(record)
        # NOTE: Nova claims resources on the destination before the move
        # starts, so a second move towards a full destination is refused
        # at once; the source's allocation is the migration's meanwhile.
        source = self._consumers[inst.host]
        source[record['uuid']] = source.pop(inst.uuid, None) or \
            self._resources(inst)
        self._add(dest, inst, 1)
        self._consumers[dest][inst.uuid] = self._resources(inst, dest)
        self._usage_changed(inst.host)
        self._usage_changed(dest)
        self.compute.task_states[inst.uuid] = \
            'migrating' if kind == 'live' else _COLD_STEPS[0]
        self.compute.server_changed(inst.uuid)
        if kind == 'live':
            self._queued.setdefault(inst.host, []).append((inst, record))
            self._start_queued(inst.host, self.clock())
        else:
            self._run(inst, record, self.clock())

    def _start_queued(self, source, now):
        queue = self._queued.get(source, [])
        while queue and self._running_live.get(source, 0) < self.max_live:
            inst, record = queue.pop(0)
            self._running_live[source] = \
                self._running_live.get(source, 0) + 1
            self._run(inst, record, now)

    def _run(self, inst, record, now):
        record['started'] = now
        record['outcome'] = 'running'
        span = self.duration_s * (1 + self.jitter * self._rng.uniform(-1, 1))
        fails = inst.uuid in self.fail_servers or (
            self.fail_ratio and self._rng.random() < self.fail_ratio)
        if record['kind'] == 'cold':
            for i, step in enumerate(_COLD_STEPS[1:], 1):
                self._at(now + span * i / len(_COLD_STEPS),
                         lambda due, step=step: self._step(inst, step))
        self._at(now + span, lambda due: self._finish(inst, record, due,
                                                      fails))

    def _step(self, inst, step):
        if self.compute.task_states.get(inst.uuid) is not None:
            self.compute.task_states[inst.uuid] = step
            self.compute.server_changed(inst.uuid)

    def _finish(self, inst, record, now, fails):
        source, dest = record['source'], record['destination']
        record['ended'] = now
        self.compute.task_states.pop(inst.uuid, None)
        if fails:
            record['outcome'] = 'error'
            record['fault'] = ('injected migration failure (simulator): '
                               'rolled back to %s' % source)
            inst.vm_state = record.pop('_vm_state')
            self._add(dest, inst, -1)
            self._consumers[dest].pop(inst.uuid, None)
            back = self._consumers[source].pop(record['uuid'], None)
            if back:
                self._consumers[source][inst.uuid] = back
            self._usage_changed(source)
            self._usage_changed(dest)
            self.compute.server_changed(inst.uuid)
        elif record['kind'] == 'live':
            record['outcome'] = 'completed'
            record.pop('_vm_state')
            inst.host = dest
            self._add(source, inst, -1)
            self._consumers[source].pop(record['uuid'], None)
            self.compute.server_changed(inst.uuid, old_host=source)
            self._usage_changed(source)
        else:
            record['outcome'] = 'finished'
            inst.host = dest
            inst.vm_state = 'resized'
            self.compute.server_changed(inst.uuid, old_host=source)
        self.compute.host_changed(source)
        self.compute.host_changed(dest)
        if record['kind'] == 'live':
            self._running_live[source] -= 1
            self._start_queued(source, now)

    # -- usage -------------------------------------------------------------

    def _resources(self, inst, hostname=None):
        if self._hosts[hostname or inst.host].is_ironic:
            return {nova_allocations.IRONIC_CLASS: 1}
        return nova_allocations.flavor_resources(inst.flavor,
                                                 inst.volume_backed)

    def _add(self, hostname, inst, sign):
        used = self._used[hostname]
        for name, amount in self._resources(inst, hostname).items():
            used[name] = used.get(name, 0) + sign * amount
        hyp = self._hyp[hostname]
        f = inst.flavor
        hyp[0] += sign * f.vcpus
        hyp[1] += sign * f.ram
        hyp[2] += sign * (f.disk + f.ephemeral)
        hyp[3] += sign

    def _usage_changed(self, hostname):
        host = self._hosts[hostname]
        self._generation[hostname] += 1
        self.compute.host_changed(hostname, usage=self._hyp[hostname])
        self.placement.set_usage(
            host.uuid, {k: v for k, v in self._used[hostname].items() if v},
            self._generation[hostname], self._consumers[hostname])

    def allocations(self, hostname):
        """``{consumer: {class: amount}}`` Placement holds on a host
        now."""
        self.settle()
        with self._lock:
            return {c: dict(r) for c, r in self._consumers[hostname].items()}

    def usage(self, hostname):
        """``(vcpus, ram, disk, count)`` counted on a host now (the
        hypervisor's view)."""
        self.settle()
        with self._lock:
            return tuple(self._hyp[hostname])

    # -- the admin endpoint ------------------------------------------------

    def admin(self, method, action, payload):
        """``/_sim/compute/...``: GET requests, GET migrations, PUT
        settings (the fields of :meth:`configure` and ``fail_servers``),
        POST reset. :returns: a Response, or None for another path."""
        if (method, action) == ('GET', '/compute/requests'):
            return routing.json_response({'requests': self.request_log()})
        if (method, action) == ('GET', '/compute/migrations'):
            return routing.json_response(
                {'migrations': [_public(m) for m in self.migrations()]})
        if (method, action) == ('GET', '/compute/settings'):
            return routing.json_response(self.settings())
        if (method, action) == ('PUT', '/compute/settings'):
            if not isinstance(payload, dict):
                raise TypeError('expected a JSON object of settings')
            payload = dict(payload)
            if 'fail_servers' in payload:
                self.fail_servers = set(payload.pop('fail_servers'))
            try:
                self.configure(**payload)
            except TypeError:
                raise TypeError('unknown setting(s): %s' % ', '.join(
                    sorted(payload)))
            return routing.json_response(self.settings())
        if (method, action) == ('POST', '/compute/reset'):
            self.reset_log()
            return routing.json_response({'reset': True})
        return None


def _public(record):
    return {k: v for k, v in record.items() if not k.startswith('_')}


def _number(value, name, minimum, maximum=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError('%s must be a number, not %s' % (
            name, json.dumps(value)))
    if value < minimum or (maximum is not None and value > maximum):
        raise TypeError('%s must be between %s and %s, not %s' % (
            name, minimum, maximum if maximum is not None else 'any',
            value))
    return value
