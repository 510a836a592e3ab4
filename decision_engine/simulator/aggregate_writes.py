"""Nova's host aggregate write side, with the notifications Nova sends.

Routes (under ``/compute/v2.1``, admin only), with Nova's bodies, answers
and checks:

* ``POST /os-aggregates`` ``{"aggregate": {"name", "availability_zone"}}``;
  a name in use is 409;
* ``PUT /os-aggregates/{id}`` ``{"aggregate": {"name",
  "availability_zone"}}``;
* ``POST /os-aggregates/{id}/action`` ``{"add_host": {"host"}}``,
  ``{"remove_host": {"host"}}``, ``{"set_metadata": {"metadata": {...}}}``
  (a ``null`` value deletes the key); an unknown host is 404, a host
  already in (or not in) the aggregate 409 (404), a zone that would put a
  host in two zones 400;
* ``DELETE /os-aggregates/{id}``: an aggregate with hosts is 400.

A host's zone is Nova's (``os-services``, servers'
``OS-EXT-AZ:availability_zone``): that of the zone aggregates it is in,
else the default zone (Nova's ``[DEFAULT] default_availability_zone``).

Notifications (when the simulator has a notifier,
:attr:`~decision_engine.simulator.server.Simulator.notifier`): as Nova,
each change sends the ``AggregatePayload`` of the whole aggregate after the
change, publisher ``nova-api:<host>``: ``aggregate.create.end``,
``aggregate.delete.end``, ``aggregate.add_host.end``,
``aggregate.remove_host.end``, ``aggregate.update_metadata.end`` (metadata
set, or a zone given through ``PUT``) and ``aggregate.update_prop.end`` (a
new name through ``PUT``).
"""

import threading
import uuid as uuid_mod

from decision_engine.simulator import notifier as notifier_mod
from decision_engine.simulator import records
from decision_engine.simulator import routing
from decision_engine.simulator.routing import HTTPError, Route

PUBLISHER = 'nova-api:controller'
_POLICY = 'os_compute_api:os-aggregates:'


class AggregateWrites:
    """:param sim: the simulator (its topology, compute service and
    notifier, read at each request)."""

    def __init__(self, sim, default_zone=records.DEFAULT_AZ):
        self.sim = sim
        self.default_zone = default_zone
        self._lock = threading.Lock()

    def routes(self):
        return [
            Route('POST', r'/v2\.1/os-aggregates',
                  '/compute/v2.1/os-aggregates', self.create,
                  policy=_POLICY + 'create'),
            Route('POST', r'/v2\.1/os-aggregates/(?P<id>[^/]+)/action',
                  '/compute/v2.1/os-aggregates/{id}/action', self.action,
                  policy=_POLICY + 'action'),
            Route('PUT', r'/v2\.1/os-aggregates/(?P<id>[^/]+)',
                  '/compute/v2.1/os-aggregates/{id}', self.update,
                  policy=_POLICY + 'update'),
            Route('DELETE', r'/v2\.1/os-aggregates/(?P<id>[^/]+)',
                  '/compute/v2.1/os-aggregates/{id}', self.delete,
                  policy=_POLICY + 'delete'),
        ]

    # -- handlers ----------------------------------------------------------

    def create(self, req):
        body = _body(req, 'aggregate')
        name = _name(body.get('name'))
        zone = _zone(body.get('availability_zone'))
        with self._lock:
            aggs = self.sim.topology.aggregates
            if any(a.name == name for a in aggs):
                raise HTTPError(409, 'Aggregate %s already exists.' % name)
            agg = records.Aggregate(
                id=max((a.id for a in aggs), default=0) + 1,
                uuid=str(uuid_mod.uuid4()), name=name,
                metadata={'availability_zone': zone} if zone else {},
                availability_zone=zone)
            aggs.append(agg)
            return self._changed(req, agg, 'aggregate.create.end', ())

    def update(self, req):
        body = _body(req, 'aggregate')
        if not body or set(body) - {'name', 'availability_zone'}:
            raise HTTPError(400, 'Invalid input: expected name and/or '
                            'availability_zone.')
        with self._lock:
            agg = self._aggregate(req)
            sent = []
            if 'name' in body:
                name = _name(body['name'])
                if name != agg.name and any(
                        a.name == name for a in self.sim.topology.aggregates):
                    raise HTTPError(409, 'Aggregate %s already exists.'
                                    % name)
                agg.name = name
                sent.append('aggregate.update_prop.end')
            if 'availability_zone' in body:
                zone = _zone(body['availability_zone'])
                self._set_zone(agg, zone)
                sent.append('aggregate.update_metadata.end')
            return self._changed(req, agg, sent, agg.hosts)

    def action(self, req):
        body = req.json()
        if not isinstance(body, dict) or len(body) != 1:
            raise HTTPError(400, 'Invalid input: one action expected.')
        (name, args), = body.items()
        with self._lock:
            agg = self._aggregate(req)
            if name in ('add_host', 'remove_host'):
                host = args.get('host') if isinstance(args, dict) else None
                if not isinstance(host, str) or not host:
                    raise HTTPError(400, 'Invalid input: host expected.')
                if not any(h.compute_host == host
                           for h in self.sim.topology.hosts):
                    raise HTTPError(404, 'Compute host %s could not be '
                                    'found.' % host)
                if name == 'add_host':
                    if host in agg.hosts:
                        raise HTTPError(409, 'Aggregate %s already has host '
                                        '%s.' % (agg.id, host))
                    self._check_zone(host, agg.availability_zone, agg)
                    agg.hosts.append(host)
                elif host not in agg.hosts:
                    raise HTTPError(404, 'Cannot remove host %s in '
                                    'aggregate %s' % (host, agg.id))
                else:
                    agg.hosts.remove(host)
                return self._changed(req, agg, 'aggregate.%s.end' % name,
                                     (host,))
            if name == 'set_metadata':
                metadata = args.get('metadata') \
                    if isinstance(args, dict) else None
                if not isinstance(metadata, dict):
                    raise HTTPError(400, 'Invalid input: metadata expected.')
                if 'availability_zone' in metadata:
                    self._set_zone(agg, _zone(metadata['availability_zone']))
                for key, value in metadata.items():
                    if key == 'availability_zone':
                        continue
                    if value is None:
                        agg.metadata.pop(key, None)
                    else:
                        agg.metadata[key] = str(value)
                return self._changed(req, agg,
                                     'aggregate.update_metadata.end',
                                     agg.hosts)
            raise HTTPError(400, 'Invalid input: unknown action %r.'
                            % (name,))

    def delete(self, req):
        with self._lock:
            agg = self._aggregate(req)
            if agg.hosts:
                raise HTTPError(400, 'Cannot remove aggregate %s: it has '
                                'hosts.' % agg.id)
            self.sim.topology.aggregates.remove(agg)
            self._notify('aggregate.delete.end', agg)
        return routing.Response(200, b'', self._headers(req))

    # -- helpers -----------------------------------------------------------

    def _aggregate(self, req):
        key = req.params['id']
        for agg in self.sim.topology.aggregates:
            if str(agg.id) == key or agg.uuid == key:
                return agg
        raise HTTPError(404, 'Aggregate %s could not be found.' % key)

    def _check_zone(self, host, zone, agg):
        """Nova's rule: a host is in at most one zone."""
        if zone is None:
            return
        for other in self.sim.topology.aggregates:
            if other is not agg and host in other.hosts and \
                    other.availability_zone not in (None, zone):
                raise HTTPError(400, 'Cannot add host %s in aggregate %s: '
                                'it is in availability zone %s'
                                % (host, agg.id, other.availability_zone))

    def _set_zone(self, agg, zone):
        for host in agg.hosts:
            self._check_zone(host, zone, agg)
        agg.availability_zone = zone
        agg.metadata.pop('availability_zone', None)
        if zone:
            agg.metadata['availability_zone'] = zone

    def _host_zone(self, host):
        zones = sorted({a.availability_zone
                        for a in self.sim.topology.aggregates
                        if host in a.hosts and a.availability_zone})
        return ','.join(zones) if zones else self.default_zone

    def _changed(self, req, agg, sent, hosts):
        """Give ``hosts`` their zones, notify, answer the aggregate."""
        compute = self.sim.services[1]
        for record in self.sim.topology.hosts:
            if record.compute_host in hosts:
                zone = self._host_zone(record.compute_host)
                if zone != record.availability_zone:
                    record.availability_zone = zone
                    compute.host_changed(record.hostname)
        for event_type in [sent] if isinstance(sent, str) else sent:
            self._notify(event_type, agg)
        return routing.json_response({'aggregate': _view(agg)},
                                     headers=self._headers(req))

    def _notify(self, event_type, agg):
        if self.sim.notifier is not None:
            self.sim.notifier.send(PUBLISHER, event_type,
                                   notifier_mod.aggregate_payload(agg))

    def _headers(self, req):
        compute = self.sim.services[1]
        return compute.response_headers(compute.microversion(req))


def _body(req, key):
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise HTTPError(400, 'Invalid input: a %r object expected.' % key)
    return body[key]


def _name(value):
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise HTTPError(400, 'Invalid input for field/attribute name.')
    return value


def _zone(value):
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or \
            ':' in value or len(value) > 255:
        raise HTTPError(400, 'Invalid input for field/attribute '
                        'availability_zone.')
    return value


def _view(agg):
    return {'id': agg.id, 'uuid': agg.uuid, 'name': agg.name,
            'availability_zone': agg.availability_zone,
            'hosts': list(agg.hosts), 'metadata': dict(agg.metadata),
            'created_at': '2024-01-01T00:00:00.000000',
            'updated_at': None, 'deleted_at': None, 'deleted': False}
