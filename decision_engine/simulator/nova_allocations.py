"""The Placement allocations Nova would have written for a topology.

Nova's scheduler turns a flavor into a resource request (Nova's
``ResourceRequest``, documented in its CPU pinning and flavor guides) and
claims it against the host's resource provider; this module applies the
same rules to the simulator's records, so its Placement holds what a real
one would:

* ``resources[N]:<CLASS>=<amount>`` extra specs ask for that amount
  (groups added together, bad amounts ignored);
* ``hw:cpu_policy=dedicated``: ``PCPU`` = vcpus (+1 with
  ``hw:emulator_threads_policy=isolate``) and no ``VCPU``;
* otherwise ``VCPU`` = vcpus, ``MEMORY_MB`` = ram, ``DISK_GB`` = ephemeral
  + ceil(swap MiB / 1024) + root, but no root for a volume-backed server;
* zero amounts are not written.

A move in progress (an instance with ``migration_source``) keeps the
instance's allocation on its source host under the migration's uuid, as
Nova does while a resize waits for confirmation.  An Ironic node's
provider holds ``CUSTOM_BAREMETAL=1`` per instance instead.

Written apart from the engine on purpose: the simulator imports nothing of
it, so the two are checked against each other and against Nova's docs.
"""

IRONIC_CLASS = 'CUSTOM_BAREMETAL'


def _int_or_none(value):
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return None
    return amount if amount >= 0 else None


def flavor_resources(flavor, volume_backed):
    """``{class: amount}`` Nova claims for a server of ``flavor``."""
    specs = flavor.extra_specs or {}
    groups = {}
    for key, value in specs.items():
        if not key.startswith('resources') or ':' not in key:
            continue
        prefix, rc = key.split(':', 1)
        amount = _int_or_none(value)
        if amount is None or not rc or rc != rc.upper():
            continue
        groups.setdefault(prefix[len('resources'):], {})[rc] = amount
    unnumbered = groups.setdefault('', {})
    if specs.get('hw:cpu_policy') == 'dedicated':
        unnumbered['PCPU'] = flavor.vcpus + (
            1 if specs.get('hw:emulator_threads_policy') == 'isolate'
            else 0)
    total = {}
    for group in groups.values():
        for rc, amount in group.items():
            total[rc] = total.get(rc, 0) + amount
    if 'VCPU' not in total and 'PCPU' not in total:
        total['VCPU'] = flavor.vcpus
    total.setdefault('MEMORY_MB', flavor.ram)
    if 'DISK_GB' not in total:
        swap_gb = (flavor.swap + 1023) // 1024
        total['DISK_GB'] = flavor.ephemeral + swap_gb + (
            0 if volume_backed else flavor.disk)
    return {rc: amount for rc, amount in total.items() if amount > 0}


def provider_allocations(topology):
    """``{provider uuid: {consumer uuid: {class: amount}}}`` for every
    host that has a resource provider."""
    hosts = {h.hostname: h for h in topology.hosts}
    result = {h.uuid: {} for h in topology.hosts if h.resource_provider}
    for inst in topology.instances:
        if inst.host is None:
            continue
        host = hosts[inst.host]
        if host.is_ironic:
            resources = {IRONIC_CLASS: 1}
        else:
            resources = flavor_resources(inst.flavor, inst.volume_backed)
        if host.uuid in result:
            result[host.uuid][inst.uuid] = resources
        source = hosts.get(inst.migration_source)
        if source is not None and source.uuid in result:
            result[source.uuid][inst.migration_uuid] = dict(resources)
    return result
