"""What Nova allocates in Placement for one instance, from its flavor.

This follows Nova's own translation of a flavor into a resource request
(``nova.scheduler.utils.ResourceRequest``, used by
``resources_from_flavor``), as documented in Nova's admin guides for CPU
pinning and flavors and Placement's allocation reference:

1. ``resources[<group>]:<RESOURCE_CLASS>=<amount>`` extra specs request
   that amount (numbered or named groups are added together; an amount
   that is not a non-negative integer is ignored, as Nova ignores it);
2. ``hw:cpu_policy=dedicated`` asks for ``PCPU`` = the flavor's vcpus (one
   more with ``hw:emulator_threads_policy=isolate``) instead of ``VCPU``;
   ``hw:cpu_policy=mixed`` asks for as many ``PCPU`` as
   ``hw:cpu_dedicated_mask`` names and ``VCPU`` for the rest;
3. unless the request already names them: ``VCPU`` = vcpus (when neither
   VCPU nor PCPU is asked for), ``MEMORY_MB`` = ram, and ``DISK_GB`` =
   ephemeral + swap rounded up to whole GiB + the root disk, which is
   *not* counted for a volume-backed instance (its root disk is a Cinder
   volume);
4. zero amounts are dropped.

Not followed: CPU policies set on the image (``hw_cpu_policy``), which the
compute API does not show; with ``[collector] usage_source = placement``
the model reads the real allocations instead.

The returned dicts are shared between instances of equal flavors: treat
them as read-only.
"""

import re

VCPU = 'VCPU'
PCPU = 'PCPU'
MEMORY_MB = 'MEMORY_MB'
DISK_GB = 'DISK_GB'

_RESOURCES_KEY = re.compile(r'^resources([A-Za-z0-9_-]*):([A-Z0-9_]+)$')


def _amount(value):
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return None
    return amount if amount >= 0 else None


def cpu_set(spec):
    """The CPU numbers of a Nova CPU spec (``'0-3,^2,6'``)."""
    include, exclude = set(), set()
    for part in spec.split(','):
        part = part.strip()
        if not part:
            continue
        target = include
        if part.startswith('^'):
            target, part = exclude, part[1:]
        low, _, high = part.partition('-')
        low = int(low)
        high = int(high) if high else low
        target.update(range(low, high + 1))
    return include - exclude


def _dedicated_count(extra_specs, vcpus):
    """How many of a mixed-policy flavor's CPUs ``hw:cpu_dedicated_mask``
    dedicates (a mask of only ``^`` exclusions means "all but those")."""
    mask = extra_specs.get('hw:cpu_dedicated_mask', '')
    try:
        if mask.strip().startswith('^'):
            return len(set(range(vcpus)) - cpu_set(mask.strip()[1:]))
        return len(cpu_set(mask))
    except ValueError:
        return 0


def flavor_resources(vcpus, memory_mb, root_gb, ephemeral_gb=0, swap_mb=0,
                     extra_specs=None, volume_backed=False):
    """``{resource class: amount}`` Nova allocates for such an instance."""
    extra_specs = extra_specs or {}
    unnumbered = {}
    groups = [unnumbered]
    numbered = {}
    for key, value in extra_specs.items():
        match = _RESOURCES_KEY.match(key)
        if not match:
            continue
        amount = _amount(value)
        if amount is None:
            continue
        suffix, rc = match.groups()
        if suffix:
            group = numbered.get(suffix)
            if group is None:
                group = numbered[suffix] = {}
                groups.append(group)
            group[rc] = amount
        else:
            unnumbered[rc] = amount
    policy = extra_specs.get('hw:cpu_policy')
    if policy == 'dedicated':
        cpus = vcpus
        if extra_specs.get('hw:emulator_threads_policy') == 'isolate':
            cpus += 1
        unnumbered[PCPU] = cpus
    elif policy == 'mixed':
        pcpus = _dedicated_count(extra_specs, vcpus)
        unnumbered[PCPU] = pcpus
        unnumbered[VCPU] = vcpus - pcpus
    merged = {}
    for group in groups:
        for rc, amount in group.items():
            merged[rc] = merged.get(rc, 0) + amount
    if VCPU not in merged and PCPU not in merged:
        merged[VCPU] = vcpus
    if MEMORY_MB not in merged:
        merged[MEMORY_MB] = memory_mb
    if DISK_GB not in merged:
        merged[DISK_GB] = (ephemeral_gb + -(-swap_mb // 1024)
                           + (0 if volume_backed else root_gb))
    return {rc: amount for rc, amount in merged.items() if amount}
