"""From API JSON documents to model elements.

Every function raises :class:`BadDocument` naming the field that is missing
or has the wrong type; the builder turns it into a
:class:`~decision_engine.model.errors.ModelBuildError` naming the request.
"""

import sys

from decision_engine.model import allocation
from decision_engine.model import elements
from decision_engine.model import traits as traits_mod

_intern = sys.intern


class BadDocument(ValueError):
    """A response body does not have the expected shape."""


def _list(doc, key):
    value = doc.get(key)
    if not isinstance(value, list):
        raise BadDocument('%r is not a list in the response' % key)
    return value


def next_marker(doc, key, items, id_key='id'):
    """The marker of the next page, or None when this page is the last.

    Nova adds ``<key>_links`` with a ``next`` link whenever a page is full;
    the marker is the last item's id (what the link carries).
    """
    links = doc.get(key + '_links') or ()
    if not items or not any(isinstance(link, dict)
                            and link.get('rel') == 'next' for link in links):
        return None
    try:
        return items[-1][id_key]
    except (KeyError, TypeError):
        raise BadDocument('the last %s has no %r' % (key, id_key))


def servers_marker(doc):
    """The marker of the ``servers/detail`` page after ``doc``, or None
    (without parsing the servers)."""
    return next_marker(doc, 'servers', _list(doc, 'servers'))


def aggregates(doc):
    """``[(name, (hostnames...))]`` from ``os-aggregates``."""
    result = []
    for agg in _list(doc, 'aggregates'):
        try:
            name = agg['name']
            hosts = tuple(agg.get('hosts') or ())
        except (KeyError, TypeError, AttributeError):
            raise BadDocument('an aggregate has no name or hosts: %r'
                              % (agg,))
        if not isinstance(name, str) or not all(
                isinstance(h, str) for h in hosts):
            raise BadDocument('aggregate %r has a bad name or host list'
                              % (name,))
        result.append((name, hosts))
    return result


def aggregate_zones(doc):
    """``{aggregate name: zone}`` from ``os-aggregates``: the aggregates
    whose ``availability_zone`` (metadata) names a zone."""
    result = {}
    for agg in _list(doc, 'aggregates'):
        if not isinstance(agg, dict):
            raise BadDocument('an aggregate is not an object: %r' % (agg,))
        zone = agg.get('availability_zone')
        if zone is None:
            zone = (agg.get('metadata') or {}).get('availability_zone')
        if zone is None:
            continue
        if not isinstance(zone, str) or not zone:
            raise BadDocument('aggregate %r has a bad availability_zone'
                              % (agg.get('name'),))
        result[agg.get('name')] = zone
    return result


def aggregate_uuids(doc):
    """``{aggregate name: uuid}`` from ``os-aggregates`` (microversion
    2.41 and later; an aggregate without one is left out)."""
    return {agg['name']: agg['uuid'] for agg in _list(doc, 'aggregates')
            if isinstance(agg, dict) and isinstance(agg.get('uuid'), str)
            and isinstance(agg.get('name'), str)}


def compute_services(doc):
    """``{host: (zone, status, state, disabled_reason)}`` of the
    ``nova-compute`` services in ``os-services``."""
    result = {}
    for svc in _list(doc, 'services'):
        try:
            if svc.get('binary') != 'nova-compute':
                continue
            result[svc['host']] = (svc.get('zone'), svc['status'],
                                   svc['state'], svc.get('disabled_reason'))
        except (KeyError, TypeError, AttributeError):
            raise BadDocument('a service lacks host, status or state: %r'
                              % (svc,))
    return result


def hypervisors(doc):
    """``(hypervisors, next marker)``; each hypervisor is
    ``(uuid, hostname, status, state, disabled_reason, hypervisor_type)``.

    The hostname is the compute *service* host (``service.host``): the name
    instances (``OS-EXT-SRV-ATTR:host``), ``servers?host=``, aggregates and
    ``os-services`` use. It usually equals ``hypervisor_hostname`` (the
    node name), but not always (e.g. a short name against an FQDN).
    """
    items = _list(doc, 'hypervisors')
    result = []
    for hyp in items:
        try:
            service = hyp.get('service') or {}
            result.append((hyp['id'],
                           service.get('host') or hyp['hypervisor_hostname'],
                           hyp['status'], hyp['state'],
                           service.get('disabled_reason'),
                           hyp.get('hypervisor_type')))
        except (KeyError, TypeError, AttributeError):
            raise BadDocument('a hypervisor lacks id, hypervisor_hostname, '
                              'status or state: %r' % (hyp,))
        if not isinstance(result[-1][0], str) or \
                not isinstance(result[-1][1], str):
            raise BadDocument('hypervisor %r has no uuid id (microversion '
                              '>= 2.53 needed)' % (result[-1][1],))
    return result, next_marker(doc, 'hypervisors', items)


_INVENTORY_KEYS = (('VCPU', 'vcpus'), ('MEMORY_MB', 'memory_mb'),
                   ('DISK_GB', 'disk_gb'), ('PCPU', 'pcpus'))


def node(hypervisor, inventories_doc):
    """A :class:`ComputeNode` from a hypervisor tuple and its resource
    provider's inventories (aggregates and AZ are set later)."""
    uuid, hostname, status, state, reason = hypervisor[:5]
    inventories = inventories_doc.get('inventories')
    if not isinstance(inventories, dict):
        raise BadDocument("'inventories' is not an object")
    values = {}
    for rc, field in _INVENTORY_KEYS:
        inv = inventories.get(rc)
        if inv is None:
            # A provider without that class has no capacity of it.
            values[field] = 0
            values[field + '_reserved'] = 0
            values[field + '_ratio'] = 1.0
            continue
        try:
            values[field] = int(inv['total'])
            values[field + '_reserved'] = int(inv.get('reserved', 0))
            values[field + '_ratio'] = float(inv.get('allocation_ratio',
                                                     1.0))
        except (KeyError, TypeError, ValueError):
            raise BadDocument('%s inventory lacks a numeric total, reserved '
                              'or allocation_ratio: %r' % (rc, inv))
    return elements.ComputeNode(
        uuid=uuid, hostname=hostname, status=status, state=state,
        disabled_reason=reason,
        vcpus=values['vcpus'], vcpus_reserved=values['vcpus_reserved'],
        vcpu_allocation_ratio=values['vcpus_ratio'],
        memory_mb=values['memory_mb'],
        memory_mb_reserved=values['memory_mb_reserved'],
        memory_allocation_ratio=values['memory_mb_ratio'],
        disk_gb=values['disk_gb'],
        disk_gb_reserved=values['disk_gb_reserved'],
        disk_allocation_ratio=values['disk_gb_ratio'],
        pcpus=values['pcpus'], pcpus_reserved=values['pcpus_reserved'],
        pcpu_allocation_ratio=values['pcpus_ratio'])


def allocations(doc, strings=None):
    """``{consumer uuid: {resource class: amount}}`` from a provider's
    ``GET /resource_providers/{uuid}/allocations``.

    ``strings`` (the dict :func:`servers` shares strings through) makes
    equal ``{resource class: amount}`` dicts one dict, shared between
    consumers and across documents: treat them as read-only.
    """
    consumers = doc.get('allocations')
    if not isinstance(consumers, dict):
        raise BadDocument("'allocations' is not an object")
    result = {}
    for consumer, entry in consumers.items():
        try:
            resources = entry['resources']
            amounts = {rc: int(amount) for rc, amount in resources.items()
                       if amount}
        except (KeyError, TypeError, AttributeError, ValueError):
            raise BadDocument('the allocation of consumer %s lacks numeric '
                              'resources: %r' % (consumer, entry))
        if strings is not None:
            # NOTE: instances of one flavor hold equal allocations; one
            # dict (and its amounts) per distinct allocation instead of
            # one per instance keeps a placement-sourced model as small
            # as a flavor-derived one (a frozenset never equals the str
            # and tuple keys servers() puts in the same dict).
            amounts = strings.setdefault(frozenset(amounts.items()),
                                         amounts)
        result[consumer] = amounts
    return result


def servers(doc, hostname, scope, strings):
    """``(instances, next marker)`` of one ``servers/detail`` page.

    Only servers whose host is exactly ``hostname`` are kept (a server
    listed for another host is dropped: it belongs to that host's listing),
    or, with ``hostname`` None (a listing over all hosts), every server
    that has a host, and only those of projects in ``scope``. ``strings``
    is a dict used to share equal strings (project ids, states, hosts) and
    equal flavor-derived resource dicts between instances.

    A server whose ``image`` is empty (``""``) boots from a volume: Nova
    allocates no root disk for it.
    """
    items = _list(doc, 'servers')
    new = elements.Instance.__new__
    Instance = elements.Instance
    result = []
    for s in items:
        try:
            host = s['OS-EXT-SRV-ATTR:host']
            if hostname is not None:
                if host != hostname:
                    continue
                host = hostname     # one string per host, not per server
            elif host is None:
                continue            # never scheduled
            else:
                host = strings.setdefault(host, host)
            project = s['tenant_id']
            if scope is not None and not scope.project(project):
                continue
            flavor = s['flavor']
            inst = new(Instance)
            inst.uuid = s['id']
            inst.name = s['name']
            state = s['OS-EXT-STS:vm_state']
            inst.state = strings.setdefault(state, state)
            inst.project_id = strings.setdefault(project, project)
            inst.host = host
            inst.vcpus = flavor['vcpus']
            inst.memory_mb = flavor['ram']
            inst.disk_gb = flavor['disk']
            inst.ephemeral_gb = flavor.get('ephemeral') or 0
            inst.swap_mb = flavor.get('swap') or 0
            inst.metadata = s.get('metadata') or {}
            inst.locked = bool(s.get('locked', False))
            inst.created = s['created']
            inst.volume_backed = not s.get('image', True)
            # NOTE: microversion 2.96 shows the zone the instance is pinned
            # to (null: none); before it, the zone of its host, which is
            # the zone it was booted into (taken as pinned: never wrong
            # about what Nova allows, sometimes stricter).
            if 'pinned_availability_zone' in s:
                zone = s['pinned_availability_zone']
            else:
                zone = s.get('OS-EXT-AZ:availability_zone')
            inst.availability_zone = None if not zone \
                else strings.setdefault(zone, zone)
            extra_specs = flavor.get('extra_specs') or {}
        except (KeyError, TypeError, AttributeError) as exc:
            raise BadDocument('a server lacks %s (embedded flavor needs '
                              'microversion >= 2.47): id %r'
                              % (exc, s.get('id') if isinstance(s, dict)
                                 else s))
        if not isinstance(inst.vcpus, int) or \
                not isinstance(inst.memory_mb, int) or \
                not isinstance(inst.disk_gb, int) or \
                not isinstance(inst.ephemeral_gb, int) or \
                not isinstance(inst.swap_mb, int):
            raise BadDocument('server %s has a non-integer flavor amount'
                              % inst.uuid)
        if not isinstance(extra_specs, dict):
            raise BadDocument('server %s has flavor extra_specs that are '
                              'not an object' % inst.uuid)
        specs = tuple(sorted((k, str(v)) for k, v in extra_specs.items())) \
            if extra_specs else ()
        key = (inst.vcpus, inst.memory_mb, inst.disk_gb, inst.ephemeral_gb,
               inst.swap_mb, inst.volume_backed, specs)
        resources = strings.get(key)
        if resources is None:
            resources = strings.setdefault(key, allocation.flavor_resources(
                inst.vcpus, inst.memory_mb, inst.disk_gb, inst.ephemeral_gb,
                inst.swap_mb, extra_specs, inst.volume_backed))
        inst.resources = resources
        if specs:
            # NOTE: one pair of frozensets per distinct set of extra specs
            traits_key = ('traits', specs)
            found = strings.get(traits_key)
            if found is None:
                found = strings.setdefault(
                    traits_key, traits_mod.flavor_traits(extra_specs))
            inst.required_traits, inst.forbidden_traits = found
        else:
            inst.required_traits = inst.forbidden_traits = traits_mod.NONE
        result.append(inst)
    return result, next_marker(doc, 'servers', items)


def provider_traits(doc):
    """The frozenset of traits of a resource provider's
    ``GET /resource_providers/{uuid}/traits`` (microversion 1.6)."""
    try:
        return traits_mod.provider_traits(doc)
    except ValueError as exc:
        raise BadDocument(str(exc))


def server_groups(doc):
    """``[ServerGroup]`` of one ``os-server-groups`` page (microversion
    2.64: one ``policy`` and a ``rules`` object per group)."""
    result = []
    for g in _list(doc, 'server_groups'):
        try:
            uuid, policy = g['id'], g['policy']
            rules = g.get('rules') or {}
            members = g.get('members') or []
            name = g.get('name')
            project = g.get('project_id')
        except (KeyError, TypeError, AttributeError):
            raise BadDocument('a server group lacks id or policy (needs '
                              'microversion >= 2.64): %r' % (g,))
        if policy not in elements.POLICIES:
            raise BadDocument('server group %s has unknown policy %r'
                              % (uuid, policy))
        problem = elements.server_group_problem(rules, members)
        if problem:
            raise BadDocument('server group %s: %s' % (uuid, problem))
        result.append(elements.ServerGroup(uuid, name, policy, rules,
                                           members, project))
    return result
