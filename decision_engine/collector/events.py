"""From one Nova versioned notification to one change of the compute model.

Nova sends each notification as ``event_type``, ``payload`` and the
oslo.messaging ``metadata`` (``message_id``, ``timestamp``), with the
request context it was sent in (its ``request_id``); the payload is
an ovo envelope: ``{"nova_object.name": ..., "nova_object.data": {...}}``
(see Nova's ``doc/notification_samples`` and the versioned notifications
reference). :func:`parse` turns that into an :class:`Event`;
:func:`apply` changes a :class:`~decision_engine.model.elements.
ComputeModel` as Nova's state changed, and answers one of the outcomes
below.

Ordering without trusting delivery order
----------------------------------------
Every instance payload carries the whole instance (``InstancePayload``),
so applying one is an upsert, and a duplicate or an older event is simply
not applied: each element keeps the *version* of the event that last set
it, ``(payload updated_at, notification timestamp)``, and an event whose
version is not newer is dropped as stale. Whatever order the same events
arrive in, the newest wins. Nova's payload times are whole seconds: a
payload without ``updated_at`` is versioned by its timestamp cut to the
second (see :func:`_whole_second`), on the same scale.

The host of an instance is versioned apart from its other fields, and only
the events that put an instance on a host set it (create, the end of a
live migration on its destination, a rollback on its source, resize
confirm/revert/finish, rebuild/evacuate, unshelve, shelve offload):
``instance.update`` and the other action events may be sent by the source
compute from an object whose ``host`` is no longer current (the wrong
destinations Watcher users saw after a live migration), so they never move
an instance.
"""

import dataclasses
import datetime
import math
import re

from decision_engine.collector import holds
from decision_engine.model import elements

# Outcomes of apply().
APPLIED = 'applied'
STALE = 'stale'            # older than (or the same as) the element's state
IGNORED = 'ignored'        # a type or binary not kept in the model
NEEDS_FETCH = 'needs_fetch'  # about an instance or host the model lacks

#: The instance events that set the instance's host (see the module).
HOST_SETTING = frozenset((
    'instance.create.end',
    'instance.live_migration_post_dest.end',
    'instance.live_migration_rollback.end',
    'instance.resize_confirm.end',
    'instance.resize_revert.end',
    'instance.resize_finish.end',
    'instance.rebuild.end',
    'instance.evacuate',
    'instance.unshelve.end',
    'instance.shelve_offload.end',
))

#: Instance events that change only state, locks, flavor or metadata.
STATE_ONLY = frozenset((
    'instance.update',
    'instance.soft_delete.end',
    'instance.power_on.end', 'instance.power_off.end',
    'instance.shutdown.end',
    'instance.pause.end', 'instance.unpause.end',
    'instance.suspend.end', 'instance.resume.end',
    'instance.shelve.end',
    'instance.rescue.end', 'instance.unrescue.end',
    'instance.lock', 'instance.unlock',
    'instance.live_migration_rollback_dest.end',
    'instance.restore.end',
    'instance.reboot.end',
)) | holds.EXTRA_TYPES

INSTANCE_DELETE = frozenset(('instance.delete.end',))
SERVICE = frozenset(('service.create', 'service.update', 'service.delete'))
#: Nova's ``AggregatePayload`` events (the whole aggregate after the
#: change); a zone set, changed or removed on an aggregate comes as
#: ``update_metadata`` (``PUT /os-aggregates/{id}`` with an
#: ``availability_zone`` too), a new name as ``update_prop``.
AGGREGATE = frozenset(('aggregate.create.end', 'aggregate.delete.end',
                       'aggregate.add_host.end',
                       'aggregate.remove_host.end',
                       'aggregate.update_metadata.end',
                       'aggregate.update_prop.end'))
#: Nova's ServerGroupNotification (``ServerGroupPayload`` 1.1: ``policy``
#: and ``rules``; 1.0: ``policies``).
SERVER_GROUP = frozenset(('server_group.create', 'server_group.delete',
                          'server_group.add_member'))

#: seconds: Nova's default ``[DEFAULT] service_down_time``, how old a
#: service's last heartbeat may be for its API to show it up.
SERVICE_DOWN_TIME = 60

#: Nova's vm_state of a deleted instance.
DELETED = 'deleted'

HANDLED = HOST_SETTING | STATE_ONLY | INSTANCE_DELETE | SERVICE | \
    AGGREGATE | SERVER_GROUP


#: the largest flavor size taken (vCPUs, MiB, GiB); Nova's own limit on
#: flavors is smaller.
MAX_AMOUNT = 2 ** 31 - 1


class BadEvent(ValueError):
    """A notification of a handled type whose payload lacks a field."""


@dataclasses.dataclass(frozen=True)
class Event:
    event_type: str
    #: what the event is about, the unit of ordering: ``('instance',
    #: uuid)``, ``('host', hostname)``, ``('aggregate', name)`` or
    #: ``('server_group', uuid)``.
    key: tuple
    #: ``(payload updated_at or timestamp, notification timestamp)``,
    #: epoch seconds: the order of events about one element.
    version: tuple
    #: the notification's timestamp (epoch seconds), for the lag.
    timestamp: float
    #: the payload's ``nova_object.data``.
    data: dict
    message_id: str | None = None
    #: the ``request_id`` of the context Nova sent the notification in
    #: (``req-...``, as in Nova's logs), when it sent one.
    request_id: str | None = None
    #: the host of the service that sent it (``nova-compute:<host>``),
    #: or None.
    publisher: str | None = None


def parse_time(value):
    """Epoch seconds from Nova's ``2012-10-29T13:42:11Z`` or
    oslo.messaging's ``2026-12-01 19:40:00.123456`` (both UTC)."""
    if not isinstance(value, str):
        raise BadEvent('time %r is not a string' % (value,))
    text = value.strip().replace('Z', '+00:00')
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise BadEvent('time %r is not ISO 8601' % (value,))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _data(envelope, what='payload'):
    if not isinstance(envelope, dict) or \
            not isinstance(envelope.get('nova_object.data'), dict):
        raise BadEvent('%s is not a nova_object envelope' % what)
    return envelope['nova_object.data']


def _str(data, field):
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise BadEvent('payload field %r is missing or not a string'
                       % field)
    return value


#: what a request id kept from a notification's context may look like
#: (oslo.context's are ``req-<uuid>``); anything else is not kept, so a
#: message on the bus cannot put a line break or a page into our log.
_REQUEST_ID = re.compile(r'[A-Za-z0-9_.:-]{1,128}')


def request_id(context):
    """The ``request_id`` of a notification's context (a dict), or None
    when it has none or one not shaped like a request id."""
    value = context.get('request_id') if isinstance(context, dict) else None
    if isinstance(value, str) and _REQUEST_ID.fullmatch(value):
        return value
    return None


def publisher_host(publisher_id):
    """The host of ``nova-compute:<host>`` (None for another service or
    an id of another shape)."""
    if not isinstance(publisher_id, str):
        return None
    service, _, host = publisher_id.partition(':')
    return host or None if service == 'nova-compute' else None


def parse(event_type, payload, metadata, context=None, publisher_id=None):
    """The :class:`Event` of a handled notification, or None for a type
    not handled.

    :param context: the context the notification was sent in (a dict:
        oslo.messaging's ``ctxt``), for its ``request_id``.
    :param publisher_id: the sender (``nova-compute:<host>``), for the
        host a migration event comes from.

    :raises BadEvent: naming what is missing or malformed.
    """
    if event_type not in HANDLED:
        return None
    data = _data(payload)
    metadata = metadata or {}
    stamp = metadata.get('timestamp')
    timestamp = parse_time(stamp) if stamp is not None else None
    if event_type in SERVICE:
        key = ('host', _str(data, 'host'))
        _str(data, 'binary')
        _service_fields(data)
    elif event_type in AGGREGATE:
        key = ('aggregate', _str(data, 'name'))
        _aggregate_fields(data)
    elif event_type in SERVER_GROUP:
        key = ('server_group', _str(data, 'uuid'))
        _server_group(data)
    else:
        key = ('instance', _str(data, 'uuid'))
        if event_type not in INSTANCE_DELETE:
            _instance_fields(data)      # fail now, not at apply time
    updated = data.get('updated_at') or data.get('last_seen_up')
    updated = parse_time(updated) if updated else None
    if timestamp is None and updated is None:
        raise BadEvent('neither a notification timestamp nor a payload '
                       'updated_at')
    if timestamp is None:
        timestamp = updated
    version = (updated if updated is not None else _whole_second(timestamp),
               timestamp)
    return Event(event_type, key, version, timestamp, data,
                 metadata.get('message_id'), request_id(context),
                 publisher_host(publisher_id))


def _whole_second(moment):
    """``moment`` (epoch seconds) truncated to the whole second.

    Nova sends a payload's times to the second (oslo.versionedobjects
    writes ``%Y-%m-%dT%H:%M:%SZ``), the notification's timestamp to the
    microsecond. A payload without ``updated_at`` (the ``instance.update``
    nova-conductor sends for a server just created: it was never saved)
    is versioned by its timestamp cut to the second, so that its version
    is on the payloads' scale: kept to the microsecond, it was newer than
    the events the compute sent in the same second (their ``updated_at``
    cut to the second), and a boot finished within that second stayed
    ``building`` in the model.
    """
    return float(math.floor(moment)) if math.isfinite(moment) else moment


def _optional(data, field, kind, what):
    value = data.get(field)
    if value is not None and not isinstance(value, kind):
        raise BadEvent('payload field %r is not %s' % (field, what))
    return value


def _amount(flavor, field, required=True):
    """A flavor's size: a whole number, 0 or more (Nova's IntegerField)."""
    value = flavor.get(field)
    if value is None and not required:
        return 0
    if type(value) is not int or not 0 <= value <= MAX_AMOUNT:
        raise BadEvent('the flavor lacks a whole %s from 0 to %d'
                       % (field, MAX_AMOUNT))
    return value


def _str_map(data, field, what):
    value = data.get(field) or {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in value.items()):
        raise BadEvent('%s is not a mapping of strings' % what)
    return dict(value)


def _instance_fields(data):
    """The model's instance fields from an ``InstancePayload``.

    Every field is checked for Nova's type (an event of a wrong shape is
    dropped whole, never half applied).
    """
    flavor = _data(data.get('flavor'), 'the flavor')
    fields = dict(
        uuid=_str(data, 'uuid'),
        name=_optional(data, 'display_name', str, 'a string'),
        state=_str(data, 'state'),
        project_id=_str(data, 'tenant_id'),
        vcpus=_amount(flavor, 'vcpus'),
        memory_mb=_amount(flavor, 'memory_mb'),
        disk_gb=_amount(flavor, 'root_gb'),
        ephemeral_gb=_amount(flavor, 'ephemeral_gb', required=False),
        swap_mb=_amount(flavor, 'swap', required=False),
        metadata=_str_map(data, 'metadata', "payload field 'metadata'"),
        locked=bool(_optional(data, 'locked', bool, 'a boolean')),
        created=_optional(data, 'created_at', str, 'a string'),
        # NOTE: Nova's payload carries the instance's image_ref, empty
        # for a server booted from a volume, whose root disk Placement
        # does not hold (see decision_engine.model.allocation).
        volume_backed=not _optional(data, 'image_uuid', str, 'a string'),
        extra_specs=_str_map(flavor, 'extra_specs',
                             "the flavor's extra_specs"),
        # NOTE: the instance's zone as Nova records it (that of the host
        # it was scheduled to): taken as pinned, as the build does
        # before microversion 2.96.
        availability_zone=_optional(data, 'availability_zone', str,
                                    'a string') or None)
    host = data.get('host')
    if host is not None and (not isinstance(host, str) or not host):
        raise BadEvent("payload field 'host' is not a host name")
    return fields, host


def _server_group(data):
    """The :class:`~decision_engine.model.elements.ServerGroup` of a
    ``ServerGroupPayload``."""
    policy = data.get('policy')
    if policy is None:
        policies = data.get('policies') or []
        policy = policies[0] if isinstance(policies, list) and \
            len(policies) == 1 else None
    if policy not in elements.POLICIES:
        raise BadEvent('server group payload has no known policy: %r'
                       % (data.get('policy', data.get('policies')),))
    members = data.get('members') or []
    rules = data.get('rules') or {}
    problem = elements.server_group_problem(rules, members)
    if problem:
        raise BadEvent('server group payload: %s' % problem)
    return elements.ServerGroup(
        _str(data, 'uuid'), _optional(data, 'name', str, 'a string'),
        policy, rules, members,
        _optional(data, 'project_id', str, 'a string'))


def _service_fields(data):
    for field in ('disabled', 'forced_down'):
        _optional(data, field, bool, 'a boolean')
    _optional(data, 'disabled_reason', str, 'a string')


def _aggregate_fields(data):
    hosts = data.get('hosts') or []
    if not isinstance(hosts, list) or not all(
            isinstance(h, str) and h for h in hosts):
        raise BadEvent("payload field 'hosts' is not a list of host names")
    metadata = data.get('metadata') or {}
    if not isinstance(metadata, dict):
        raise BadEvent("payload field 'metadata' is not a mapping")
    zone = metadata.get('availability_zone')
    if zone is not None and (not isinstance(zone, str) or not zone):
        raise BadEvent('the availability_zone metadata is not a name')


#: deletions remembered across full builds, the newest kept.
MAX_DELETED = 100000


class Versions:
    """The version of the event that last set each element (see the
    module); none for elements only a full build set (any event is newer).
    """

    def __init__(self):
        self.state = {}         # instance uuid / ('host'|'aggregate', name)
        self.host = {}          # instance uuid -> version of its host
        self.deleted = {}       # instance uuid / aggregate -> version
        self.holds = {}         # instance uuid -> version (holds.py)

    def copy(self):
        other = Versions()
        other.state = dict(self.state)
        other.host = dict(self.host)
        other.deleted = dict(self.deleted)
        other.holds = dict(self.holds)
        return other

    def carried(self, model):
        """These versions for a full build that began after the events
        they come from, as ``model``: the build reflects those events, so
        a redelivered or late copy of one stays stale (the broker delivers
        again what was unacknowledged when a connection closed).
        """
        def present(key):
            if isinstance(key, tuple):
                kind, name = key
                if kind == 'server_group':
                    return name in model.server_groups
                return (model.get_node_by_hostname(name) is not None
                        if kind == 'host' else name in model.aggregates)
            return key in model.instances

        other = Versions()
        other.state = {k: v for k, v in self.state.items() if present(k)}
        other.host = {k: v for k, v in self.host.items()
                      if k in model.instances}
        deleted = self.deleted
        if len(deleted) > MAX_DELETED:
            deleted = dict(sorted(deleted.items(),
                                  key=lambda item: item[1])[-MAX_DELETED:])
        other.deleted = dict(deleted)
        other.holds = {k: v for k, v in self.holds.items()
                       if k in model.instances}
        return other

    def newer(self, table, key, version):
        current = table.get(key)
        return current is None or version > current


def apply(model, versions, event):
    """Change ``model`` as ``event`` says Nova's state changed.

    :returns: one of the outcomes APPLIED, STALE, IGNORED, or
        ``(NEEDS_FETCH, kind, name)`` with kind ``'instance'`` or
        ``'host'``: the model lacks the element; the caller fetches it and
        calls :func:`apply` again.
    """
    kind = event.key[0]
    if kind == 'instance':
        return _apply_instance(model, versions, event)
    if kind == 'host':
        return _apply_service(model, versions, event)
    if kind == 'server_group':
        return _apply_server_group(model, versions, event)
    return _apply_aggregate(model, versions, event)


def _apply_instance(model, versions, event):
    uuid = event.key[1]
    before = model.get_instance(uuid)
    outcome, after = _instance_change(model, versions, event, before)
    if isinstance(outcome, tuple) or model.usage_source != 'placement':
        if after is not None:
            model.add_instance(after)
        return APPLIED if outcome == DELETED else outcome
    # NOTE: with Placement's usage, what moves hold follows the events
    # (see decision_engine.collector.holds).
    if outcome == DELETED:
        holds.deleted(model, uuid)
        return APPLIED
    if outcome == STALE and event.event_type in INSTANCE_DELETE:
        holds.deleted(model, uuid)
    last = versions.holds.get(uuid)
    newer = last is None or event.version > last
    if after is not None:
        if before is None or after.host != before.host:
            holds.land(model, after)
        elif event.event_type != 'instance.resize_finish.end' and (
                before.resources or event.event_type !=
                'instance.live_migration_rollback.end'):
            # NOTE: Placement's amounts stay (those of the last full
            # build; none while a migration holds the instance's
            # allocation) until the allocation changes: a new flavor, or
            # a rollback giving the instance its allocation back.
            after.resources = before.resources
    holds.apply(model, event, before, after, newer)
    if newer and event.event_type in holds.TYPES:
        versions.holds[uuid] = event.version
    if after is not None:
        model.add_instance(after)
    return outcome


def _instance_change(model, versions, event, current):
    """``(outcome, instance to add or None)``; the outcome is DELETED for
    an applied deletion (APPLIED to the caller)."""
    uuid = event.key[1]
    version = event.version
    gone = versions.deleted.get(uuid)
    if gone is not None and version <= gone:
        return STALE, None
    if event.event_type in INSTANCE_DELETE or \
            event.data.get('state') == DELETED:
        # NOTE: Nova sends instance.update with state deleted, late
        # (seconds to minutes after instance.delete.end): a deleted
        # instance is gone whatever the event; one the model does not
        # know is not fetched (Nova would answer 404).
        if gone is None or version > gone:
            versions.deleted[uuid] = version
        if current is not None:
            model.remove_instance(uuid)
            return DELETED, None
        return STALE, None
    fields, host = _instance_fields(event.data)
    sets_host = event.event_type in HOST_SETTING
    newer_state = versions.newer(versions.state, uuid, version)
    newer_host = sets_host and versions.newer(versions.host, uuid, version)
    if current is None:
        if not sets_host:
            return (NEEDS_FETCH, 'instance', uuid), None
        if not newer_host:
            return STALE, None
        if host is None:
            # Not on a host (shelved offloaded): not in the model.
            versions.host[uuid] = version
            return STALE, None
    if not newer_state and not newer_host:
        return STALE, None
    new_host = host if newer_host else current.host
    if new_host is not None and \
            model.get_node_by_hostname(new_host) is None:
        return (NEEDS_FETCH, 'host', new_host), None
    if newer_state or current is None:
        instance = elements.Instance(host=new_host, **fields)
        if current is not None and 'availability_zone' not in event.data:
            instance.availability_zone = current.availability_zone
        versions.state[uuid] = version
    else:
        instance = current.copy()
        instance.host = new_host
    if newer_host:
        versions.host[uuid] = version
    if new_host is None:
        if current is not None:
            model.remove_instance(uuid)
        return APPLIED, None
    return APPLIED, instance


def _apply_service(model, versions, event):
    data = event.data
    if data.get('binary') != 'nova-compute':
        return IGNORED
    hostname = event.key[1]
    if not versions.newer(versions.state, event.key, event.version):
        return STALE
    node = model.get_node_by_hostname(hostname)
    if event.event_type == 'service.delete':
        versions.state[event.key] = event.version
        if node is None:
            return STALE
        for inst in model.instances_on(hostname):
            model.remove_instance(inst.uuid)
        model.remove_node(node.uuid)
        if hostname in model.held_by:
            model.held_by = {h: c for h, c in model.held_by.items()
                             if h != hostname}
        return APPLIED
    if node is None:
        return (NEEDS_FETCH, 'host', hostname)
    node = node.copy()
    node.status = 'disabled' if data.get('disabled') else 'enabled'
    node.disabled_reason = data.get('disabled_reason')
    if data.get('forced_down'):
        node.state = 'down'
    else:
        state = _service_state(data, event.timestamp)
        if state is not None:
            node.state = state
    versions.state[event.key] = event.version
    model.add_node(node)
    return APPLIED


def _service_state(data, now):
    """``'up'`` or ``'down'`` as Nova's API shows a service that is not
    forced down: up while its last heartbeat (``last_seen_up``) is at most
    Nova's ``service_down_time`` old; None when the payload has none."""
    seen = data.get('last_seen_up')
    if not seen:
        return None
    try:
        elapsed = now - parse_time(seen)
    except BadEvent:
        return None
    return 'up' if abs(elapsed) <= SERVICE_DOWN_TIME else 'down'


def _claim(versions, event):
    """Whether ``event`` is newer than what changed its element last and
    than the element's deletion; if so it becomes the element's version."""
    gone = versions.deleted.get(event.key)
    if gone is not None and event.version <= gone:
        return False
    if not versions.newer(versions.state, event.key, event.version):
        return False
    versions.state[event.key] = event.version
    return True


def _apply_server_group(model, versions, event):
    """A group created, deleted or given a member: the payload holds the
    whole group, which replaces the model's."""
    version = event.version
    if not _claim(versions, event):
        return STALE
    if event.event_type == 'server_group.delete':
        versions.deleted[event.key] = version
        model.remove_server_group(event.key[1])
    else:
        model.add_server_group(_server_group(event.data))
    return APPLIED


def _apply_aggregate(model, versions, event):
    """An aggregate created, deleted, given or losing a host, or its
    metadata or name changed: Nova's ``AggregatePayload`` holds the whole
    aggregate (hosts and metadata after the change), which replaces the
    model's; the zone of every host it touches follows, as Nova computes
    it (see :func:`host_zone`)."""
    name = event.key[1]
    version = event.version
    if not _claim(versions, event):
        return STALE
    deleted = event.event_type == 'aggregate.delete.end'
    if deleted:
        versions.deleted[event.key] = version
        hosts = ()
    else:
        hosts = tuple(event.data.get('hosts') or ())
    old = set(model.aggregates.get(name, ()))
    known = tuple(h for h in hosts
                  if model.get_node_by_hostname(h) is not None)
    uuids = dict(model.aggregate_uuids)
    uuid = event.data.get('uuid')
    renamed = next((other for other, known_uuid in uuids.items()
                    if known_uuid == uuid and other != name), None) \
        if isinstance(uuid, str) else None
    zones = dict(model.aggregate_zones)
    zones.pop(name, None)
    if renamed is not None:
        # NOTE: renamed (update_prop): in the old name's place, the order
        # a full build gives (Nova's, by id).
        old.update(model.aggregates.get(renamed, ()))
        aggregates = {name if a == renamed else a: members
                      for a, members in model.aggregates.items() if a != name}
        zones.pop(renamed, None)
        uuids.pop(renamed, None)
    else:
        aggregates = dict(model.aggregates)
    if deleted:
        aggregates.pop(name, None)
        uuids.pop(name, None)
    else:
        aggregates[name] = known
        zone = (event.data.get('metadata') or {}).get('availability_zone')
        if zone:
            zones[name] = zone
        if isinstance(uuid, str):
            uuids[name] = uuid
    model.aggregates = aggregates
    model.aggregate_zones = zones
    model.aggregate_uuids = uuids
    changed = False
    for hostname in sorted(old.union(known)):
        node = model.get_node_by_hostname(hostname)
        if node is None:
            continue
        # NOTE: in the order of the aggregates (Nova's, by id), as a full
        # build gives them.
        member_of = tuple(a for a, members in aggregates.items()
                          if hostname in members)
        zone = host_zone(model, member_of)
        if member_of == node.aggregates and zone == node.availability_zone:
            continue
        if zone != node.availability_zone:
            _instances_follow(model, hostname, zone)
        node = node.copy()
        node.aggregates = member_of
        node.availability_zone = zone
        model.add_node(node)
        changed = True
    if changed:
        rezone(model)
    return APPLIED


def _instances_follow(model, hostname, zone):
    """Nova's API shows an instance in the zone of its host now (before
    microversion 2.96, as the build reads it), so a host's instances
    follow it to its new zone."""
    for inst in model.instances_on(hostname):
        if inst.availability_zone != zone:
            inst = inst.copy()
            inst.availability_zone = zone
            model.add_instance(inst)


def host_zone(model, aggregate_names):
    """The zone Nova shows (``os-services``) for a compute host in these
    aggregates: that of its zone aggregates (Nova lets a host be in two
    only when they name the same zone), else the cloud's default zone."""
    zones = {model.aggregate_zones[a] for a in aggregate_names
             if a in model.aggregate_zones}
    return ','.join(sorted(zones)) if zones else model.default_zone


def rezone(model):
    """Recompute the zones' host lists from the nodes."""
    zones = {}
    for node in model.nodes.values():
        if node.availability_zone is not None:
            zones.setdefault(node.availability_zone, []).append(
                node.hostname)
    model.availability_zones = {z: tuple(sorted(h))
                                for z, h in zones.items()}


def lag_ms(event, now):
    """Milliseconds from Nova's timestamp to ``now`` (never negative)."""
    return max(0.0, (now - event.timestamp) * 1000.0) \
        if math.isfinite(event.timestamp) else 0.0
