"""Ground truth of the simulated cloud.

A :class:`Topology` is plain Python data (dataclasses, lists, dicts and
strings) that the simulator serves and that tests and the model builder
compare against.  Nothing in it refers to HTTP.

Structure::

    Topology
      hosts: list[Host]            # one per nova-compute service,
                                   # hypervisor, Placement resource
                                   # provider and Ironic node
      instances: list[Instance]    # each with its own Flavor copy
      aggregates: list[Aggregate]  # host aggregates; an aggregate with
                                   # availability_zone set defines that AZ
      availability_zones           # property: sorted AZ names used by hosts

Invariants (checked by :meth:`Topology.validate`, which :meth:`from_dict`
calls): hostnames, host uuids, node uuids, instance uuids and aggregate ids
are unique; every instance's host (when set) names a host; every aggregate
host names a host; a host whose ``availability_zone`` is not
``DEFAULT_AZ`` is in an aggregate of that zone, and every host of an AZ
aggregate has that zone.

As in real Nova, the hypervisor id (microversion >= 2.53) and the Placement
resource provider uuid are the same value, ``Host.uuid``, and the resource
provider name is the hostname.  ``Host.id`` is the legacy integer id
(microversion < 2.53).
"""

import dataclasses
import datetime
import itertools
import json
import math
import random
import uuid as uuid_lib

DEFAULT_AZ = 'nova'
INSTANCE_STATES = {
    # vm_state -> API status
    'active': 'ACTIVE',
    'stopped': 'SHUTOFF',
    'paused': 'PAUSED',
    'suspended': 'SUSPENDED',
    'error': 'ERROR',
    'building': 'BUILD',
    'shelved': 'SHELVED',
    'resized': 'VERIFY_RESIZE',
}
POWER_STATES = ('power on', 'power off')
# Deterministic ids for the simulator's own identities (the admin project
# owns some generated instances, so non all_tenants listings are not empty).
_NS = uuid_lib.UUID('6ba7b811-9dad-11d1-80b4-00c04fd430c8')
ADMIN_PROJECT_ID = uuid_lib.uuid5(_NS, 'decision-engine-sim/project/admin').hex
ADMIN_USER_ID = uuid_lib.uuid5(_NS, 'decision-engine-sim/user/admin').hex


class TopologyError(ValueError):
    """A topology document is invalid; the message names the bad field."""


@dataclasses.dataclass
class Flavor:
    """Flavor as embedded in a server (Nova microversion >= 2.47)."""
    name: str
    vcpus: int
    ram: int          # MiB
    disk: int         # GiB (root disk)
    ephemeral: int = 0
    swap: int = 0     # MiB
    extra_specs: dict = dataclasses.field(default_factory=dict)
    id: str = ''      # flavor id for microversion < 2.47 ({"id", "links"})


@dataclasses.dataclass
class Host:
    """One compute host: service, hypervisor, resource provider, node."""
    hostname: str
    uuid: str                       # hypervisor id (>= 2.53) == RP uuid
    id: int                         # legacy hypervisor/service id (< 2.53)
    vcpus: int
    memory_mb: int
    disk_gb: int
    vcpus_reserved: int = 0
    memory_mb_reserved: int = 512
    disk_gb_reserved: int = 0
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    status: str = 'enabled'         # nova-compute service: enabled|disabled
    state: str = 'up'               # nova-compute service: up|down
    disabled_reason: str | None = None
    availability_zone: str = DEFAULT_AZ
    service_uuid: str = ''          # os-services id (>= 2.53)
    host_ip: str = ''
    node_uuid: str = ''             # Ironic node uuid (node name = hostname)
    power_state: str = 'power on'   # Ironic: 'power on' | 'power off'
    provision_state: str = 'active'
    maintenance: bool = False
    driver: str = 'ipmi'


@dataclasses.dataclass
class Instance:
    """One server.  ``host`` is None for an unscheduled instance."""
    uuid: str
    name: str
    host: str | None
    project_id: str
    user_id: str
    vm_state: str
    flavor: Flavor
    created: str                    # ISO 8601, 'YYYY-MM-DDTHH:MM:SSZ'
    metadata: dict = dataclasses.field(default_factory=dict)
    locked: bool = False

    @property
    def status(self):
        return INSTANCE_STATES[self.vm_state]


@dataclasses.dataclass
class Aggregate:
    """A host aggregate; with availability_zone set it defines that AZ."""
    id: int
    uuid: str
    name: str
    hosts: list = dataclasses.field(default_factory=list)
    metadata: dict = dataclasses.field(default_factory=dict)
    availability_zone: str | None = None


# --- validation helpers ----------------------------------------------------

def _fail(where, msg):
    raise TopologyError('%s: %s' % (where, msg))


def _get(d, key, where, kind, required=True, default=None, check=None):
    """Fetch d[key] and type-check it; raise TopologyError naming it."""
    field = '%s.%s' % (where, key)
    if key not in d or (d[key] is None and not required):
        if required:
            _fail(field, 'is required')
        return default() if callable(default) else default
    value = d[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        _fail(field, 'expected an integer, got %r' % (value,))
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(field, 'expected a number, got %r' % (value,))
        value = float(value)
        if not math.isfinite(value):
            # NOTE: json.dumps would then serve Infinity/NaN: not JSON.
            _fail(field, 'expected a finite number, got %r' % (value,))
    if kind in (str, bool, dict, list) and not isinstance(value, kind):
        _fail(field, 'expected %s, got %r' % (kind.__name__, value))
    if check is not None:
        problem = check(value)
        if problem:
            _fail(field, problem)
    return value


def _non_negative(v):
    return None if v >= 0 else 'must be >= 0, got %r' % (v,)


def _positive(v):
    return None if v > 0 else 'must be > 0, got %r' % (v,)


def _one_of(choices):
    def check(v):
        if v not in choices:
            return 'must be one of %s, got %r' % (sorted(choices), v)
    return check


def _iso_time(v):
    try:
        datetime.datetime.strptime(v, '%Y-%m-%dT%H:%M:%SZ')
    except ValueError:
        return "expected 'YYYY-MM-DDTHH:MM:SSZ', got %r" % (v,)


def _str_dict(v):
    for k, val in v.items():
        if not isinstance(val, str):
            return 'values must be strings, got %r for %r' % (val, k)


def _flavor_from_dict(d, where):
    if not isinstance(d, dict):
        _fail(where, 'expected an object')
    return Flavor(
        name=_get(d, 'name', where, str),
        vcpus=_get(d, 'vcpus', where, int, check=_positive),
        ram=_get(d, 'ram', where, int, check=_positive),
        disk=_get(d, 'disk', where, int, check=_non_negative),
        ephemeral=_get(d, 'ephemeral', where, int, False, 0, _non_negative),
        swap=_get(d, 'swap', where, int, False, 0, _non_negative),
        extra_specs=_get(d, 'extra_specs', where, dict, False, dict,
                         _str_dict),
        id=_get(d, 'id', where, str, False, ''),
    )


def _host_from_dict(d, where, index):
    if not isinstance(d, dict):
        _fail(where, 'expected an object')
    hostname = _get(d, 'hostname', where, str,
                    check=lambda v: None if v else 'must not be empty')
    return Host(
        hostname=hostname,
        uuid=_get(d, 'uuid', where, str),
        id=_get(d, 'id', where, int, False, index + 1, _positive),
        vcpus=_get(d, 'vcpus', where, int, check=_positive),
        memory_mb=_get(d, 'memory_mb', where, int, check=_positive),
        disk_gb=_get(d, 'disk_gb', where, int, check=_positive),
        vcpus_reserved=_get(d, 'vcpus_reserved', where, int, False, 0,
                            _non_negative),
        memory_mb_reserved=_get(d, 'memory_mb_reserved', where, int, False,
                                512, _non_negative),
        disk_gb_reserved=_get(d, 'disk_gb_reserved', where, int, False, 0,
                              _non_negative),
        cpu_allocation_ratio=_get(d, 'cpu_allocation_ratio', where, float,
                                  False, 4.0, _positive),
        ram_allocation_ratio=_get(d, 'ram_allocation_ratio', where, float,
                                  False, 1.0, _positive),
        disk_allocation_ratio=_get(d, 'disk_allocation_ratio', where, float,
                                   False, 1.0, _positive),
        status=_get(d, 'status', where, str, False, 'enabled',
                    _one_of({'enabled', 'disabled'})),
        state=_get(d, 'state', where, str, False, 'up',
                   _one_of({'up', 'down'})),
        disabled_reason=_get(d, 'disabled_reason', where, str, False, None),
        availability_zone=_get(d, 'availability_zone', where, str, False,
                               DEFAULT_AZ),
        service_uuid=_get(d, 'service_uuid', where, str, False,
                          _derived_uuid('service', hostname)),
        host_ip=_get(d, 'host_ip', where, str, False,
                     '10.0.%d.%d' % (index // 250, index % 250 + 1)),
        node_uuid=_get(d, 'node_uuid', where, str, False,
                       _derived_uuid('node', hostname)),
        power_state=_get(d, 'power_state', where, str, False, 'power on',
                         _one_of(set(POWER_STATES))),
        provision_state=_get(d, 'provision_state', where, str, False,
                             'active'),
        maintenance=_get(d, 'maintenance', where, bool, False, False),
        driver=_get(d, 'driver', where, str, False, 'ipmi'),
    )


def _instance_from_dict(d, where):
    if not isinstance(d, dict):
        _fail(where, 'expected an object')
    return Instance(
        uuid=_get(d, 'uuid', where, str),
        name=_get(d, 'name', where, str),
        host=_get(d, 'host', where, str, False, None),
        project_id=_get(d, 'project_id', where, str),
        user_id=_get(d, 'user_id', where, str, False, ADMIN_USER_ID),
        vm_state=_get(d, 'vm_state', where, str, False, 'active',
                      _one_of(set(INSTANCE_STATES))),
        flavor=_flavor_from_dict(_get(d, 'flavor', where, dict),
                                 where + '.flavor'),
        created=_get(d, 'created', where, str, False,
                     '2024-01-01T00:00:00Z', _iso_time),
        metadata=_get(d, 'metadata', where, dict, False, dict, _str_dict),
        locked=_get(d, 'locked', where, bool, False, False),
    )


def _aggregate_from_dict(d, where, index):
    if not isinstance(d, dict):
        _fail(where, 'expected an object')
    name = _get(d, 'name', where, str)
    hosts = _get(d, 'hosts', where, list, False, list)
    for i, h in enumerate(hosts):
        if not isinstance(h, str):
            _fail('%s.hosts[%d]' % (where, i), 'expected a hostname string')
    return Aggregate(
        id=_get(d, 'id', where, int, False, index + 1, _positive),
        uuid=_get(d, 'uuid', where, str, False,
                  _derived_uuid('aggregate', name)),
        name=name,
        hosts=list(hosts),
        metadata=_get(d, 'metadata', where, dict, False, dict, _str_dict),
        availability_zone=_get(d, 'availability_zone', where, str, False,
                               None),
    )


def _derived_uuid(kind, name):
    return str(uuid_lib.uuid5(_NS, 'decision-engine-sim/%s/%s'
                              % (kind, name)))


def _rng_uuid(rng):
    return str(uuid_lib.UUID(int=rng.getrandbits(128), version=4))


_FLAVORS = (
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


@dataclasses.dataclass
class Topology:
    """The simulated cloud's ground truth.  See the module docstring."""
    hosts: list
    instances: list
    aggregates: list = dataclasses.field(default_factory=list)

    # -- derived views (computed on demand; the lists are the truth) -------

    @property
    def availability_zones(self):
        """Sorted names of the AZs that hosts are in."""
        return sorted({h.availability_zone for h in self.hosts})

    def host(self, hostname):
        for h in self.hosts:
            if h.hostname == hostname:
                return h
        raise KeyError(hostname)

    def instances_on(self, hostname):
        return [i for i in self.instances if i.host == hostname]

    def host_aggregates(self, hostname):
        """Names of the aggregates a host belongs to, in aggregate order."""
        return [a.name for a in self.aggregates if hostname in a.hosts]

    # -- construction ------------------------------------------------------

    @classmethod
    def generate(cls, hosts=10, instances=100, aggregates=2, azs=1, seed=0,
                 projects=5):
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
        """
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
                meta['optimize'] = rng.choice(('true', 'false'))
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
        topo = cls(hosts=host_list, instances=inst_list, aggregates=agg_list)
        topo.validate()
        return topo

    # -- (de)serialization -------------------------------------------------

    def to_dict(self):
        return {
            'version': 1,
            'hosts': [dataclasses.asdict(h) for h in self.hosts],
            'instances': [dataclasses.asdict(i) for i in self.instances],
            'aggregates': [dataclasses.asdict(a) for a in self.aggregates],
        }

    def to_json(self, indent=None):
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, doc):
        """Build and validate; raise TopologyError naming the bad field."""
        if not isinstance(doc, dict):
            _fail('topology', 'expected a JSON object')
        version = doc.get('version', 1)
        if version != 1:
            _fail('version', 'unsupported version %r (expected 1)'
                  % (version,))
        hosts = _get(doc, 'hosts', 'topology', list)
        instances = _get(doc, 'instances', 'topology', list, False, list)
        aggregates = _get(doc, 'aggregates', 'topology', list, False, list)
        topo = cls(
            hosts=[_host_from_dict(h, 'hosts[%d]' % i, i)
                   for i, h in enumerate(hosts)],
            instances=[_instance_from_dict(d, 'instances[%d]' % i)
                       for i, d in enumerate(instances)],
            aggregates=[_aggregate_from_dict(a, 'aggregates[%d]' % i, i)
                        for i, a in enumerate(aggregates)],
        )
        topo.validate()
        return topo

    @classmethod
    def from_json(cls, text):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise TopologyError('topology: not valid JSON: %s' % exc)
        return cls.from_dict(doc)

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding='utf-8') as f:
                text = f.read()
        except OSError as exc:
            raise TopologyError('%s: cannot read: %s' % (path,
                                                         exc.strerror))
        except UnicodeDecodeError as exc:
            raise TopologyError('%s: not UTF-8 text (byte %d)'
                                % (path, exc.start))
        return cls.from_json(text)

    def validate(self):
        """Check cross-references and uniqueness (see module docstring)."""
        def unique(items, where, key):
            seen = {}
            for i, item in enumerate(items):
                value = getattr(item, key)
                if value in seen:
                    _fail('%s[%d].%s' % (where, i, key),
                          'duplicate %r (also %s[%d])'
                          % (value, where, seen[value]))
                seen[value] = i
        unique(self.hosts, 'hosts', 'hostname')
        unique(self.hosts, 'hosts', 'uuid')
        unique(self.hosts, 'hosts', 'id')
        unique(self.hosts, 'hosts', 'node_uuid')
        unique(self.instances, 'instances', 'uuid')
        unique(self.aggregates, 'aggregates', 'id')
        unique(self.aggregates, 'aggregates', 'name')
        by_name = {h.hostname: h for h in self.hosts}
        for i, inst in enumerate(self.instances):
            if inst.host is not None and inst.host not in by_name:
                _fail('instances[%d].host' % i,
                      'unknown host %r' % (inst.host,))
        zones_of = {}
        for i, agg in enumerate(self.aggregates):
            for j, hostname in enumerate(agg.hosts):
                if hostname not in by_name:
                    _fail('aggregates[%d].hosts[%d]' % (i, j),
                          'unknown host %r' % (hostname,))
                if agg.availability_zone is not None:
                    host_az = by_name[hostname].availability_zone
                    if host_az != agg.availability_zone:
                        _fail('aggregates[%d].hosts[%d]' % (i, j),
                              'host %r is in availability zone %r, not %r'
                              % (hostname, host_az, agg.availability_zone))
                    zones_of.setdefault(hostname, set()).add(
                        agg.availability_zone)
        for i, host in enumerate(self.hosts):
            if (host.availability_zone != DEFAULT_AZ
                    and host.availability_zone not in zones_of.get(
                        host.hostname, ())):
                _fail('hosts[%d].availability_zone' % i,
                      '%r is not the zone of any aggregate holding %r'
                      % (host.availability_zone, host.hostname))
