"""Seeded, deliberately awkward topologies (:meth:`Topology.generate`).

The same arguments always give the same cloud, so a test can name a seed
and a benchmark can name its size.
"""

import dataclasses
import datetime
import itertools
import random
from typing import Any
import uuid as uuid_lib

from decision_engine.simulator.records import ADMIN_PROJECT_ID
from decision_engine.simulator.records import ADMIN_USER_ID
from decision_engine.simulator.records import Aggregate
from decision_engine.simulator.records import DEFAULT_AZ
from decision_engine.simulator.records import Flavor
from decision_engine.simulator.records import Host
from decision_engine.simulator.records import Instance
from decision_engine.simulator.records import INSTANCE_STATES
from decision_engine.simulator.records import TopologyError


def _rng_uuid(rng):
    return str(uuid_lib.UUID(int=rng.getrandbits(128), version=4))


_FLAVORS: tuple[tuple[Any, ...], ...] = (
    # name, vcpus, ram, disk, ephemeral, swap, extra_specs, weight
    ('m1.tiny', 1, 512, 1, 0, 0, {}, 3),
    ('m1.small', 1, 2048, 20, 0, 0, {}, 6),
    ('m1.medium', 2, 4096, 40, 0, 0, {}, 6),
    ('m1.large', 4, 8192, 80, 0, 0, {}, 3),
    ('m1.xlarge', 8, 16384, 160, 0, 0, {}, 1),
    ('m1.small.eph', 1, 2048, 20, 10, 512, {}, 2),
    ('c1.dedicated', 4, 8192, 40, 20, 1024,
     {'hw:cpu_policy': 'dedicated'}, 1),
)
_HOST_SIZES = (
    # vcpus, memory_mb, disk_gb
    (32, 131072, 1000),
    (64, 262144, 2000),
    (96, 524288, 4000),
)


def generate(topology_cls, hosts=10, instances=100, aggregates=2, azs=1,
             seed=0, projects=5, volume_backed=0.08, providerless=0,
             ironic=0, opted_out=0.0):
    """A deterministic, deliberately awkward topology.

    Hostnames are ``compute-1``..``compute-N`` (so ``compute-1`` is a
    prefix of ``compute-10``); about 5% of hosts are empty (never
    ``compute-1`` or ``compute-10``), instances are spread unevenly
    (heavy-tailed weights), about 5% of hosts are disabled and 3% down
    (at least one of each from 4 hosts on).
    ``azs`` zones ``az-1``..``az-Z`` each get an AZ aggregate of the
    same name (azs=0 leaves every host in ``nova``); ``aggregates``
    plain aggregates ``agg-1``.. get random members.  The same
    arguments always give the same topology.

    As in a real Nova (see :func:`_as_nova_would`): a ``volume_backed``
    share of the servers boots from volumes, hosts holding dedicated-CPU
    servers have a PCPU inventory, a server waiting for its resize to be
    confirmed has a migration holding its allocation on another host;
    ``providerless`` more hosts ``compute-new-N`` have no Placement
    resource provider yet, and ``ironic`` bare metal nodes
    ``baremetal-N`` are hypervisors of type ironic, eight per service
    host ``ironic-compute-N``; an ``opted_out`` share of the servers have
    the metadata ``optimize=false`` (an operator's opt-out), the others
    ``optimize=true`` or no such key.
    """
    if not isinstance(volume_backed, (int, float)) or \
            isinstance(volume_backed, bool) or \
            not 0 <= volume_backed <= 1:
        raise TopologyError('volume_backed: must be a fraction in [0, 1], '
                            'got %r' % (volume_backed,))
    for name, value in (('providerless', providerless),
                        ('ironic', ironic)):
        if isinstance(value, bool) or not isinstance(value, int) \
                or value < 0:
            raise TopologyError('%s: must be an integer >= 0, got %r'
                                % (name, value))
    for name, value in (('hosts', hosts), ('instances', instances),
                        ('aggregates', aggregates), ('azs', azs),
                        ('projects', projects)):
        if isinstance(value, bool) or not isinstance(value, int) \
                or value < 0:
            raise TopologyError('%s: must be an integer >= 0, got %r'
                                % (name, value))
    if instances and not hosts:
        raise TopologyError('instances: need at least one host')
    rng = random.Random(seed)
    project_ids = [ADMIN_PROJECT_ID] + [
        uuid_lib.UUID(int=rng.getrandbits(128), version=4).hex
        for _ in range(max(projects, 1) - 1)]
    user_ids = [ADMIN_USER_ID] + [
        uuid_lib.UUID(int=rng.getrandbits(128), version=4).hex
        for _ in range(3)]
    zone_names = ['az-%d' % (i + 1) for i in range(azs)]

    host_list = []
    for i in range(hosts):
        hostname = 'compute-%d' % (i + 1)
        vcpus, mem, disk = rng.choice(_HOST_SIZES)
        host = Host(
            hostname=hostname, uuid=_rng_uuid(rng), id=i + 1,
            vcpus=vcpus, memory_mb=mem, disk_gb=disk,
            vcpus_reserved=rng.choice((0, 0, 2)),
            memory_mb_reserved=rng.choice((512, 2048, 4096)),
            disk_gb_reserved=rng.choice((0, 0, 10)),
            cpu_allocation_ratio=rng.choice((1.0, 4.0, 16.0)),
            ram_allocation_ratio=rng.choice((1.0, 1.5)),
            disk_allocation_ratio=1.0,
            availability_zone=(zone_names[i % azs] if azs
                               else DEFAULT_AZ),
            service_uuid=_rng_uuid(rng),
            host_ip='10.%d.%d.%d' % (i // 62500, (i // 250) % 250,
                                     i % 250 + 1),
            node_uuid=_rng_uuid(rng),
        )
        host_list.append(host)
    # Exact shares (not per-host rolls) so every topology of 4+ hosts
    # has at least one disabled and one down host.
    if hosts >= 4:
        odd = rng.sample(host_list, max(1, hosts // 20)
                         + max(1, hosts * 3 // 100))
        for k, host in enumerate(odd):
            if k < max(1, hosts // 20):
                host.status = 'disabled'
                host.disabled_reason = 'maintenance window'
            else:
                host.state = 'down'
                host.power_state = 'power off'

    # Heavy-tailed weights so some hosts are packed and others light.
    # Capped, so no host holds an absurd share (a real host tops out
    # at a few hundred instances, not thousands).
    weights = [min(rng.paretovariate(1.5), 12.0) for _ in host_list]
    protected = {'compute-1', 'compute-10'}
    candidates = [i for i, h in enumerate(host_list)
                  if h.hostname not in protected]
    n_empty = min(len(candidates), max(1, hosts // 20)) \
        if hosts >= 3 else 0
    for i in rng.sample(candidates, n_empty):
        weights[i] = 0.0
    if hosts and not any(weights):
        weights = [1.0] * hosts

    # Cumulative once: choices(weights=) would redo it per instance.
    cum_weights = list(itertools.accumulate(weights))
    flavors = [Flavor(name=f[0], vcpus=f[1], ram=f[2], disk=f[3],
                      ephemeral=f[4], swap=f[5], extra_specs=dict(f[6]),
                      id=str(k + 1))
               for k, f in enumerate(_FLAVORS)]
    flavor_weights = [f[7] for f in _FLAVORS]
    # Make sure the prefix-colliding hosts both hold instances.
    forced = [h for h in ('compute-1', 'compute-10')
              if hosts >= int(h.split('-')[1])]
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    states = list(INSTANCE_STATES)
    state_weights = [90, 5, 1, 1, 1, 0, 1, 1]
    inst_list = []
    for n in range(instances):
        if n < len(forced):
            hostname = forced[n]
        else:
            hostname = rng.choices(host_list,
                                   cum_weights=cum_weights)[0].hostname
        flavor = dataclasses.replace(
            rng.choices(flavors, flavor_weights)[0])
        flavor.extra_specs = dict(flavor.extra_specs)
        created = base + datetime.timedelta(
            seconds=rng.randrange(0, 365 * 86400))
        meta = {}
        if rng.random() < 0.3:
            # NOTE: the draw stays so a seed gives the topology it always
            # gave; opting out is chosen by ``opted_out`` (an engine
            # honours optimize=false: a share drawn here would keep most
            # hosts from ever being emptied).
            rng.choice(('true', 'false'))
            meta['optimize'] = 'true'
        if rng.random() < 0.1:
            meta['watcher-exclude'] = 'true'
        inst_list.append(Instance(
            uuid=_rng_uuid(rng), name='vm-%d' % (n + 1), host=hostname,
            project_id=rng.choice(project_ids),
            user_id=rng.choice(user_ids),
            vm_state=rng.choices(states, state_weights)[0],
            flavor=flavor,
            created=created.strftime('%Y-%m-%dT%H:%M:%SZ'),
            metadata=meta, locked=rng.random() < 0.05,
        ))

    agg_list = []
    for z, zone in enumerate(zone_names):
        agg_list.append(Aggregate(
            id=z + 1, uuid=_rng_uuid(rng), name=zone,
            hosts=[h.hostname for h in host_list
                   if h.availability_zone == zone],
            metadata={'availability_zone': zone},
            availability_zone=zone))
    for a in range(aggregates):
        members = [h.hostname for h in host_list if rng.random() < 0.3]
        agg_list.append(Aggregate(
            id=len(agg_list) + 1, uuid=_rng_uuid(rng),
            name='agg-%d' % (a + 1), hosts=members,
            metadata={'tier': rng.choice(('gold', 'silver', 'ssd'))}))
    # NOTE: a random stream of its own, so that these additions leave the
    # rest of a seed's topology as it always was.
    if opted_out:
        pick = random.Random('%s/opted-out' % (seed,))
        for inst in inst_list:
            if pick.random() < opted_out:
                inst.metadata = dict(inst.metadata, optimize='false')
    _as_nova_would(random.Random('%s/nova' % (seed,)), host_list, inst_list,
                   volume_backed, providerless, ironic)
    topo = topology_cls(hosts=host_list, instances=inst_list,
                        aggregates=agg_list)
    topo.validate()
    return topo


_IMAGES = tuple(str(uuid_lib.uuid5(uuid_lib.NAMESPACE_URL,
                                   'decision-engine-sim/image/%d' % i))
                for i in range(4))


def _as_nova_would(rng, host_list, inst_list, volume_backed, providerless,
                   ironic):
    """Make the generated cloud hold what a real Nova cloud holds."""
    dedicated = {}
    for inst in inst_list:
        inst.image_id = ('' if rng.random() < volume_backed
                         else rng.choice(_IMAGES))
        if inst.flavor.extra_specs.get('hw:cpu_policy') == 'dedicated':
            dedicated[inst.host] = dedicated.get(inst.host, 0) \
                + inst.flavor.vcpus
    for host in host_list:
        needed = dedicated.get(host.hostname, 0)
        if needed or rng.random() < 0.25:
            # [compute] cpu_dedicated_set: some cores set aside, with room
            # for more pinned servers than the host holds now.
            host.pcpus = -(-needed // 8) * 8 + 8
            host.pcpus_reserved = rng.choice((0, 0, 2))
            if host.pcpus_reserved + needed > host.pcpus:
                host.pcpus_reserved = 0
    if len(host_list) >= 2:
        for inst in inst_list:
            if inst.vm_state != 'resized' or inst.host is None:
                continue
            others = [h for h in host_list if h.hostname != inst.host]
            inst.migration_source = rng.choice(others).hostname
            inst.migration_uuid = _rng_uuid(rng)
    next_id = max((h.id for h in host_list), default=0) + 1
    for n in range(providerless):
        name = 'compute-new-%d' % (n + 1)
        vcpus, mem, disk = rng.choice(_HOST_SIZES)
        host_list.append(Host(
            hostname=name, uuid=_rng_uuid(rng), id=next_id, vcpus=vcpus,
            memory_mb=mem, disk_gb=disk, service_uuid=_rng_uuid(rng),
            host_ip='10.250.%d.%d' % (n // 250, n % 250 + 1),
            node_uuid=_rng_uuid(rng), resource_provider=False))
        next_id += 1
    for n in range(ironic):
        host_list.append(Host(
            hostname='baremetal-%d' % (n + 1), uuid=_rng_uuid(rng),
            id=next_id, vcpus=rng.choice((32, 64)), memory_mb=262144,
            disk_gb=1000, memory_mb_reserved=0, cpu_allocation_ratio=1.0,
            service_uuid=_rng_uuid(rng),
            host_ip='10.251.%d.%d' % (n // 250, n % 250 + 1),
            node_uuid=_rng_uuid(rng), hypervisor_type='ironic',
            service_host='ironic-compute-%d' % (n // 8 + 1)))
        next_id += 1
